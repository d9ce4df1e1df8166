//! The event log: append, read after a cursor, and the cursors and contacts that its
//! consumers (the mailer) keep.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// One entry of the log, as the feed and webhooks show it.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub at: i64,
    pub ticket_id: Option<i64>,
    pub asset_id: Option<i64>,
    pub actor: String,
    pub payload: serde_json::Value,
}

/// Appends an event. The asset is the ticket's first linked asset, if any.
pub fn insert(
    c: &Connection,
    kind: &str,
    ticket_id: Option<i64>,
    actor: &str,
    payload: &serde_json::Value,
    now: i64,
) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO events (at, kind, ticket_id, asset_id, actor, payload)
         VALUES (?1, ?2, ?3, (SELECT min(asset_id) FROM ticket_assets WHERE ticket_id = ?3), ?4, ?5)",
    )?
    .execute(params![now, kind, ticket_id, actor, payload.to_string()])?;
    Ok(c.last_insert_rowid())
}

const COLUMNS: &str = "id, kind, at, ticket_id, asset_id, actor, payload";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    let payload: String = r.get(6)?;
    Ok(Event {
        id: r.get(0)?,
        kind: r.get(1)?,
        at: r.get(2)?,
        ticket_id: r.get(3)?,
        asset_id: r.get(4)?,
        actor: r.get(5)?,
        // Written by `insert` from a `Value`, so it parses; keep the raw text otherwise.
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
    })
}

/// Events with an id above `after`, oldest first; only `kinds` when not empty.
pub fn after(c: &Connection, after: i64, kinds: &[String], limit: u32) -> DbResult<Vec<Event>> {
    let filter = serde_json::to_string(kinds).unwrap_or_else(|_| "[]".into());
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM events
         WHERE id > ?1 AND (?2 = '[]' OR kind IN (SELECT value FROM json_each(?2)))
         ORDER BY id LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![after, filter, limit], row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A page of [`after`] and the newest event id, seen in one snapshot: when the page is not
/// full, no event up to that id is left to read for these kinds.
pub fn page_after(
    c: &Connection,
    from: i64,
    kinds: &[String],
    limit: u32,
) -> DbResult<(Vec<Event>, i64)> {
    let tx = c.unchecked_transaction()?;
    let items = after(&tx, from, kinds, limit)?;
    let last = last_id(&tx)?;
    tx.finish()?;
    Ok((items, last))
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Event>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM events WHERE id = ?1"),
        [id],
        row,
    ))
}

/// The newest event's id (0 when the log is empty).
pub fn last_id(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?)
}

/// Where `consumer` has got to in the log (0: nowhere yet).
pub fn cursor(c: &Connection, consumer: &str) -> DbResult<i64> {
    Ok(optional(c.query_row(
        "SELECT event_id FROM event_cursors WHERE consumer = ?1",
        [consumer],
        |r| r.get(0),
    ))?
    .unwrap_or(0))
}

pub fn set_cursor(c: &Connection, consumer: &str, event_id: i64) -> DbResult<()> {
    c.execute(
        "INSERT INTO event_cursors (consumer, event_id) VALUES (?1, ?2)
         ON CONFLICT (consumer) DO UPDATE SET event_id = max(event_id, excluded.event_id)",
        params![consumer, event_id],
    )?;
    Ok(())
}

/// Someone to write to about an event.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Contact {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// A technician or admin (may read internal notes).
    pub staff: bool,
}

fn contact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    let role: String = r.get(3)?;
    Ok(Contact {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        staff: role != "employee",
    })
}

/// The user if enabled (disabled accounts get no mail).
pub fn contact(c: &Connection, user_id: i64) -> DbResult<Option<Contact>> {
    optional(c.query_row(
        "SELECT id, email, name, role FROM users WHERE id = ?1 AND disabled = 0",
        [user_id],
        contact_row,
    ))
}

/// Enabled admins.
pub fn admin_contacts(c: &Connection) -> DbResult<Vec<Contact>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, email, name, role FROM users WHERE role = 'admin' AND disabled = 0 ORDER BY id",
    )?;
    let rows = stmt.query_map([], contact_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// A comment, as events describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRef {
    pub id: i64,
    pub internal: bool,
    pub author_id: Option<i64>,
    pub body: String,
}

fn comment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CommentRef> {
    Ok(CommentRef {
        id: r.get(0)?,
        internal: r.get(1)?,
        author_id: r.get(2)?,
        body: r.get(3)?,
    })
}

/// The newest comment on a ticket.
pub fn newest_comment(c: &Connection, ticket_id: i64) -> DbResult<Option<CommentRef>> {
    optional(c.query_row(
        "SELECT id, internal, author_id, body FROM ticket_comments WHERE ticket_id = ?1
         ORDER BY id DESC LIMIT 1",
        [ticket_id],
        comment_row,
    ))
}

/// One comment by id.
pub fn comment(c: &Connection, id: i64) -> DbResult<Option<CommentRef>> {
    optional(c.query_row(
        "SELECT id, internal, author_id, body FROM ticket_comments WHERE id = ?1",
        [id],
        comment_row,
    ))
}

/// A ticket whose SLA breach has not been reported yet.
#[derive(Debug, Clone, PartialEq)]
pub struct BreachCandidate {
    pub ticket_id: i64,
    pub response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    pub breached_at: Option<i64>,
}

/// Unreported breaches at `now`: open work already marked breached (by a change after
/// the deadline), and new or open tickets past a due time. Oldest first, at most `limit`.
pub fn breach_candidates(c: &Connection, now: i64, limit: u32) -> DbResult<Vec<BreachCandidate>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, response_due_at, resolution_due_at, breached_at FROM tickets
         WHERE sla_breach_notified_at IS NULL AND status IN ('new', 'open', 'pending')
           AND (breached_at IS NOT NULL
                OR (status IN ('new', 'open') AND (response_due_at < ?1 OR resolution_due_at < ?1)))
         ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, limit], |r| {
            Ok(BreachCandidate {
                ticket_id: r.get(0)?,
                response_due_at: r.get(1)?,
                resolution_due_at: r.get(2)?,
                breached_at: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Records the breach (keeping an earlier `breached_at`) and that it was reported.
pub fn mark_breach_reported(
    c: &Connection,
    ticket_id: i64,
    breached_at: i64,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "UPDATE tickets SET breached_at = coalesce(breached_at, ?2), sla_breach_notified_at = ?3
         WHERE id = ?1",
        params![ticket_id, breached_at, now],
    )?;
    Ok(())
}

/// Whether a group exists.
pub fn group_exists(c: &Connection, group_id: i64) -> DbResult<bool> {
    Ok(
        optional(c.query_row("SELECT 1 FROM groups WHERE id = ?1", [group_id], |_| Ok(())))?
            .is_some(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        super::super::migrations::migrate(&mut c).expect("migrate");
        c
    }

    #[test]
    fn append_read_after_and_filter() {
        let c = db();
        let a = insert(
            &c,
            "ticket.created",
            None,
            "user:1",
            &serde_json::json!({"x": 1}),
            10,
        )
        .expect("a");
        let b = insert(
            &c,
            "ticket.updated",
            None,
            "user:1",
            &serde_json::json!({}),
            11,
        )
        .expect("b");
        assert!(b > a);
        let all = after(&c, 0, &[], 10).expect("all");
        assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), [a, b]);
        assert_eq!(all[0].payload["x"], 1);
        assert_eq!(after(&c, a, &[], 10).expect("after").len(), 1);
        let only = after(&c, 0, &["ticket.updated".into()], 10).expect("only");
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].kind, "ticket.updated");
        assert_eq!(last_id(&c).expect("last"), b);
    }

    #[test]
    fn the_log_is_append_only() {
        let c = db();
        insert(
            &c,
            "ticket.created",
            None,
            "user:1",
            &serde_json::json!({}),
            10,
        )
        .expect("insert");
        assert!(c.execute("UPDATE events SET kind = 'x'", []).is_err());
        assert!(c.execute("DELETE FROM events", []).is_err());
    }

    #[test]
    fn cursors_only_move_forward() {
        let c = db();
        assert_eq!(cursor(&c, "mail").expect("none"), 0);
        set_cursor(&c, "mail", 5).expect("set");
        set_cursor(&c, "mail", 3).expect("set");
        assert_eq!(cursor(&c, "mail").expect("cursor"), 5);
    }
}
