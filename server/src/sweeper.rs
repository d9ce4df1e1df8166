//! Background work on a timer: raising alerts for agents that went silent (and their
//! tickets, when alerts open tickets), reporting SLA breaches (`events::sla`), and
//! deleting rows past their retention (`crate::retention`).

use crate::AppState;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One sweep at `now`: opens `agent_silent` alerts. Returns how many assets are silent.
pub async fn sweep_once(state: &AppState, now: i64) -> Result<usize, crate::db::DbError> {
    let silent_before = now - (state.config.alerts.agent_silent_hours as i64) * 3600;
    let (open_tickets, desk) = (state.config.alerts.open_tickets, state.desk.clone());
    state
        .db
        .write(move |tx| {
            let silent = crate::db::alerts::sweep_silent(tx, silent_before, now)?;
            if open_tickets {
                crate::service_desk::tickets_for_alerts(tx, &desk, None, now)?;
            }
            Ok(silent)
        })
        .await
}

/// The first retention pass runs this long after start, then every [`RETENTION_EVERY`].
const RETENTION_FIRST: Duration = Duration::from_secs(60);
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Sweeps every `alerts.sweep_interval_secs`, and prunes old rows hourly, until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(state.config.alerts.sweep_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut retention = tokio::time::interval_at(
        tokio::time::Instant::now() + RETENTION_FIRST,
        RETENTION_EVERY,
    );
    retention.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {
                match sweep_once(&state, crate::clock::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(silent_assets = n, "agents silent"),
                    Err(e) => tracing::error!(error = %e, "silent-agent sweep failed"),
                }
                crate::events::sla::sweep_logged(&state, crate::clock::now()).await;
            }
            _ = retention.tick() => {
                // The first pass over a large, old database can take minutes; shutdown
                // does not wait for it (every chunk it finished is committed).
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = crate::retention::prune_logged(&state, crate::clock::now()) => {}
                }
            }
        }
    }
}
