//! Reporting SLA breaches: a sweep that finds open tickets past a due time, records the
//! breach, emits `sla.breached` once per ticket, and escalates to the configured group
//! (`[service_desk] escalate_to_group`).

use super::{SLA_BREACHED, emit, ticket_changed};
use crate::AppState;
use crate::db::{self, DbResult};
use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use serde_json::json;

/// Who the log names as the actor of breaches and escalations.
pub const ACTOR: &str = "system:sla";

/// Tickets handled per pass; the next pass takes the rest.
const BATCH: u32 = 500;

/// One pass at `now`, inside the caller's transaction. Returns the tickets reported.
pub fn breach_pass(c: &Connection, escalate_to_group: Option<i64>, now: i64) -> DbResult<Vec<i64>> {
    let escalate_to = match escalate_to_group {
        Some(g) if db::events::group_exists(c, g)? => Some(g),
        Some(g) => {
            tracing::warn!(
                group_id = g,
                "service_desk.escalate_to_group names no group; not escalating"
            );
            None
        }
        None => None,
    };
    let mut reported = Vec::new();
    for cand in db::events::breach_candidates(c, now, BATCH)? {
        let Some(before) = db::tickets::get(c, cand.ticket_id)? else {
            continue;
        };
        let passed = |due: Option<i64>| due.filter(|d| *d < now);
        let mut targets = Vec::new();
        if passed(cand.response_due_at).is_some() {
            targets.push("first_response");
        }
        if passed(cand.resolution_due_at).is_some() {
            targets.push("resolution");
        }
        let breached_at = cand
            .breached_at
            .or_else(|| {
                [passed(cand.response_due_at), passed(cand.resolution_due_at)]
                    .into_iter()
                    .flatten()
                    .min()
            })
            .unwrap_or(now);
        db::events::mark_breach_reported(c, cand.ticket_id, breached_at, now)?;
        let escalated = match escalate_to {
            Some(g) if before.summary.group_id != Some(g) => {
                db::tickets::set_field(
                    c,
                    cand.ticket_id,
                    "group_id",
                    SqlValue::Integer(g),
                    None,
                    ACTOR,
                    now,
                )?;
                Some(g)
            }
            _ => None,
        };
        let payload = json!({
            "targets": targets,
            "breached_at": breached_at,
            "first_response_due_at": cand.response_due_at,
            "resolution_due_at": cand.resolution_due_at,
            "priority": before.summary.priority,
            "assignee_id": before.summary.assignee.as_ref().map(|a| a.id),
            "escalated_to_group": escalated,
        });
        emit(c, SLA_BREACHED, Some(cand.ticket_id), ACTOR, payload, now)?;
        if escalated.is_some() {
            // An unassigned ticket goes to someone in the group, by the group's rule.
            db::groups::auto_assign(c, cand.ticket_id, ACTOR, now)?;
            ticket_changed(c, &before, ACTOR, now)?;
        }
        reported.push(cand.ticket_id);
    }
    Ok(reported)
}

/// One pass with the configured escalation. Returns how many breaches were reported.
pub async fn sweep_breaches(state: &AppState, now: i64) -> DbResult<usize> {
    let group = state.config.service_desk.escalate_to_group;
    let escalate = (group != 0).then(|| i64::try_from(group).unwrap_or(i64::MAX));
    let reported = state
        .db
        .write(move |tx| breach_pass(tx, escalate, now))
        .await?;
    Ok(reported.len())
}

/// [`sweep_breaches`] for the sweeper loop: logs instead of returning.
pub async fn sweep_logged(state: &AppState, now: i64) {
    match sweep_breaches(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(tickets = n, "SLA breaches reported"),
        Err(e) => tracing::error!(error = %e, "SLA breach sweep failed"),
    }
}
