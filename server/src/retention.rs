//! Retention: deletes health samples, asset history and resolved alerts older than
//! `[retention]` allows, so the database does not grow without bound. The sweeper runs a
//! pass about once an hour.
//!
//! A pass deletes [`CHUNK_ROWS`] rows per write transaction, in the bulk lane, so agents'
//! reports wait at most one chunk behind it and people's changes go first. Health samples
//! are looked up on a read connection (a seek per asset, even when none is old) and only
//! deleted, by key, on the writer. When the bulk
//! lane is full the pass stops; the next one picks up where it left off.

use crate::AppState;
use crate::config::RetentionSection;
use crate::db::retention::{Table, delete_health_keys, old_health_keys, prune_chunk};
use crate::db::{DbError, DbResult, Lane};

/// Rows deleted per write transaction.
pub const CHUNK_ROWS: usize = 5_000;

/// What one pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub health_samples: usize,
    pub asset_history: usize,
    pub resolved_alerts: usize,
    /// The bulk lane was full, so the pass stopped early; the rest waits for the next one.
    pub interrupted: bool,
}

impl PruneReport {
    pub fn total(&self) -> usize {
        self.health_samples + self.asset_history + self.resolved_alerts
    }

    fn count_mut(&mut self, table: Table) -> &mut usize {
        match table {
            Table::HealthSamples => &mut self.health_samples,
            Table::AssetHistory => &mut self.asset_history,
            Table::ResolvedAlerts => &mut self.resolved_alerts,
        }
    }
}

/// One pass at `now`: for each table with a retention period, deletes chunks of rows
/// older than it until a chunk comes back short. Logs a summary when it deleted anything.
pub async fn prune(state: &AppState, now: i64) -> DbResult<PruneReport> {
    let mut report = PruneReport::default();
    let result = prune_into(state, now, &mut report).await;
    if report.total() > 0 {
        tracing::info!(
            health_samples = report.health_samples,
            asset_history = report.asset_history,
            resolved_alerts = report.resolved_alerts,
            interrupted = report.interrupted,
            "retention deleted old rows"
        );
    } else if report.interrupted {
        tracing::info!("retention waits for the next pass: the writer is busy with reports");
    }
    result.map(|()| report)
}

async fn prune_into(state: &AppState, now: i64, report: &mut PruneReport) -> DbResult<()> {
    let policy = &state.config.retention;
    for table in Table::ALL {
        let days = match table {
            Table::HealthSamples => policy.health_days,
            Table::AssetHistory => policy.history_days,
            Table::ResolvedAlerts => policy.resolved_alerts_days,
        };
        let Some(before) = RetentionSection::cutoff(days, now) else {
            continue;
        };
        if table == Table::HealthSamples {
            // Found on a reader (a seek per asset), deleted by key on the writer.
            let mut from_asset = i64::MIN;
            loop {
                let keys = state
                    .db
                    .read(move |c| old_health_keys(c, before, from_asset, CHUNK_ROWS))
                    .await?;
                let Some(&(last, _)) = keys.last() else { break };
                let full = keys.len() == CHUNK_ROWS;
                let deleted = state
                    .db
                    .write_in(Lane::Bulk, move |tx| delete_health_keys(tx, &keys))
                    .await;
                match deleted {
                    Ok(n) => *report.count_mut(table) += n,
                    Err(DbError::Busy { .. }) => {
                        report.interrupted = true;
                        return Ok(());
                    }
                    Err(e) => return Err(e),
                }
                if !full {
                    break;
                }
                from_asset = last;
            }
            continue;
        }
        loop {
            let deleted = state
                .db
                .write_in(Lane::Bulk, move |tx| {
                    prune_chunk(tx, table, before, CHUNK_ROWS)
                })
                .await;
            match deleted {
                Ok(n) => {
                    *report.count_mut(table) += n;
                    if n < CHUNK_ROWS {
                        break;
                    }
                }
                Err(DbError::Busy { .. }) => {
                    report.interrupted = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// [`prune`] for the sweeper loop: logs instead of returning.
pub async fn prune_logged(state: &AppState, now: i64) {
    if let Err(e) = prune(state, now).await {
        tracing::error!(error = %e, "retention pass failed; the next one tries again");
    }
}
