//! Background work on a timer: raising alerts for agents that went silent (and their
//! tickets, when alerts open tickets), and reporting SLA breaches (`events::sla`).

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

/// Sweeps every `alerts.sweep_interval_secs` until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(state.config.alerts.sweep_interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
        }
    }
}
