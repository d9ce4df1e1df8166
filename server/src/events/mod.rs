//! The event log's front door: the kinds of events, [`emit`] (called inside the write
//! transaction of the change it records, so an event exists exactly when the change
//! committed), and helpers that turn ticket changes into events.
//!
//! Consumers read the log after a cursor: the `/api/v1/events` feed, webhooks and the
//! mailer (`crate::notify`). Events are for staff: a payload may name internal notes, but
//! never carries their text.

pub mod sla;

use crate::db::{self, DbResult, tickets::Ticket};
use rusqlite::Connection;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;
use tokio::sync::watch;

pub const TICKET_CREATED: &str = "ticket.created";
pub const TICKET_UPDATED: &str = "ticket.updated";
pub const TICKET_ASSIGNED: &str = "ticket.assigned";
pub const TICKET_COMMENTED: &str = "ticket.commented";
pub const TICKET_RESOLVED: &str = "ticket.resolved";
pub const TICKET_CLOSED: &str = "ticket.closed";
pub const TICKET_ATTACHMENT_ADDED: &str = "ticket.attachment_added";
pub const SLA_BREACHED: &str = "sla.breached";
pub const MAINTENANCE_MISSED: &str = "maintenance.missed";
pub const MAINTENANCE_OVERDUE: &str = "maintenance.overdue";

/// Every kind of event, for validating filters.
pub const KINDS: &[&str] = &[
    TICKET_CREATED,
    TICKET_UPDATED,
    TICKET_ASSIGNED,
    TICKET_COMMENTED,
    TICKET_RESOLVED,
    TICKET_CLOSED,
    TICKET_ATTACHMENT_ADDED,
    SLA_BREACHED,
    MAINTENANCE_MISSED,
    MAINTENANCE_OVERDUE,
];

/// Checks a list of kinds; `*` anywhere means every kind (`None`).
pub fn parse_kinds(kinds: &[String]) -> Result<Option<Vec<String>>, String> {
    if kinds.iter().any(|k| k == "*") {
        return Ok(None);
    }
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        let k = k.trim();
        if !KINDS.contains(&k) {
            return Err(format!(
                "unknown event kind {k:?}; kinds are {} (or \"*\")",
                KINDS.join(", ")
            ));
        }
        if !out.iter().any(|o| o == k) {
            out.push(k.to_owned());
        }
    }
    if out.is_empty() {
        return Err("name at least one event kind, or \"*\"".into());
    }
    Ok(Some(out))
}

/// Bumped on every emit, so workers can wake up early. A wake-up may come before the
/// emitting transaction commits: workers wait a moment, and poll anyway.
static EMITTED: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// A receiver that changes whenever an event is emitted (anywhere in the process).
pub fn subscribe() -> watch::Receiver<u64> {
    EMITTED.subscribe()
}

/// Appends an event inside the caller's transaction. Returns its id.
pub fn emit(
    c: &Connection,
    kind: &str,
    ticket_id: Option<i64>,
    actor: &str,
    payload: Value,
    now: i64,
) -> DbResult<i64> {
    let id = db::events::insert(c, kind, ticket_id, actor, &payload, now)?;
    EMITTED.send_modify(|n| *n = n.wrapping_add(1));
    Ok(id)
}

/// `ticket.created` for a ticket just filed.
pub fn ticket_created(c: &Connection, ticket_id: i64, actor: &str, now: i64) -> DbResult<()> {
    let Some(t) = db::tickets::get(c, ticket_id)? else {
        return Ok(());
    };
    let s = &t.summary;
    let payload = json!({
        "title": s.title,
        "type": s.ticket_type,
        "status": s.status,
        "priority": s.priority,
        "requester_id": s.requester.id,
        "assignee_id": s.assignee.as_ref().map(|a| a.id),
        "group_id": s.group_id,
        "category": s.category,
        "source": t.source,
        "asset_ids": t.asset_ids,
    });
    emit(c, TICKET_CREATED, Some(ticket_id), actor, payload, now)?;
    Ok(())
}

/// `ticket.commented` for the newest comment on the ticket (call right after adding it).
/// The text is included for public replies only.
pub fn ticket_commented(c: &Connection, ticket_id: i64, actor: &str, now: i64) -> DbResult<()> {
    let Some(m) = db::events::newest_comment(c, ticket_id)? else {
        return Ok(());
    };
    let mut payload = json!({"comment_id": m.id, "internal": m.internal, "author_id": m.author_id});
    if !m.internal {
        payload["body"] = Value::String(m.body);
    }
    emit(c, TICKET_COMMENTED, Some(ticket_id), actor, payload, now)?;
    Ok(())
}

/// The fields of a ticket that `ticket.updated` reports on.
fn fields(t: &Ticket) -> Map<String, Value> {
    let s = &t.summary;
    let mut m = Map::new();
    m.insert("status".into(), json!(s.status));
    m.insert("type".into(), json!(s.ticket_type));
    m.insert("title".into(), json!(s.title));
    m.insert("priority".into(), json!(s.priority));
    m.insert("impact".into(), json!(t.impact));
    m.insert("urgency".into(), json!(t.urgency));
    m.insert(
        "assignee_id".into(),
        json!(s.assignee.as_ref().map(|a| a.id)),
    );
    m.insert("group_id".into(), json!(s.group_id));
    m.insert("category".into(), json!(s.category));
    m.insert("location".into(), json!(t.location));
    m.insert("tags".into(), json!(t.tags));
    m.insert("asset_ids".into(), json!(t.asset_ids));
    m.insert("satisfaction".into(), json!(t.satisfaction));
    m
}

/// The changes between two states of a ticket: `(fields, {field: {from, to}})`.
pub fn diff(before: &Ticket, after: &Ticket) -> (Vec<String>, Map<String, Value>) {
    let (old, new) = (fields(before), fields(after));
    let mut names = Vec::new();
    let mut changes = Map::new();
    for (k, to) in new {
        let from = old.get(&k).cloned().unwrap_or(Value::Null);
        if from != to {
            names.push(k.clone());
            changes.insert(k, json!({"from": from, "to": to}));
        }
    }
    (names, changes)
}

/// Compares the ticket now with `before` (as read at the start of the change) and emits
/// `ticket.updated` listing what changed, plus `ticket.assigned`, `ticket.resolved` and
/// `ticket.closed` when those happened. Nothing when nothing changed.
pub fn ticket_changed(c: &Connection, before: &Ticket, actor: &str, now: i64) -> DbResult<()> {
    let id = before.summary.id;
    let Some(after) = db::tickets::get(c, id)? else {
        return Ok(());
    };
    let (names, changes) = diff(before, &after);
    if names.is_empty() {
        return Ok(());
    }
    let payload = json!({"fields": names, "changes": changes});
    emit(c, TICKET_UPDATED, Some(id), actor, payload, now)?;
    let (was, is) = (&before.summary, &after.summary);
    let assignee = |s: &db::tickets::TicketSummary| s.assignee.as_ref().map(|a| a.id);
    if assignee(was) != assignee(is) {
        let payload = json!({
            "assignee_id": assignee(is),
            "previous_assignee_id": assignee(was),
            "group_id": is.group_id,
        });
        emit(c, TICKET_ASSIGNED, Some(id), actor, payload, now)?;
    }
    if was.status != is.status {
        match is.status.as_str() {
            "resolved" => {
                emit(
                    c,
                    TICKET_RESOLVED,
                    Some(id),
                    actor,
                    json!({"from": was.status}),
                    now,
                )?;
            }
            "closed" => {
                let payload = json!({"from": was.status, "satisfaction": after.satisfaction});
                emit(c, TICKET_CLOSED, Some(id), actor, payload, now)?;
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked() {
        assert_eq!(parse_kinds(&["*".into()]), Ok(None));
        assert_eq!(
            parse_kinds(&["sla.breached".into(), "sla.breached".into()]),
            Ok(Some(vec!["sla.breached".into()]))
        );
        assert!(parse_kinds(&["ticket.deleted".into()]).is_err());
        assert!(parse_kinds(&[]).is_err());
    }
}
