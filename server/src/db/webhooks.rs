//! Webhooks and their delivery attempts. Each webhook keeps its own position in the event
//! log (`last_event_id`); every attempt is a row in `webhook_deliveries`.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// A webhook as stored, secret included (the HTTP layer shows only a prefix).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub secret: String,
    /// `None`: every kind.
    pub kinds: Option<Vec<String>>,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
    pub last_event_id: i64,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event_id: i64,
    /// The event's kind (None if the event is unknown).
    pub kind: Option<String>,
    pub attempt: i64,
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

const COLUMNS: &str = "id, url, secret, kinds, active, created_at, created_by, last_event_id";

fn webhook(r: &rusqlite::Row<'_>) -> rusqlite::Result<Webhook> {
    let kinds: String = r.get(3)?;
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        secret: r.get(2)?,
        // Anything but a JSON list (normally '*') means every kind.
        kinds: serde_json::from_str(&kinds).ok(),
        active: r.get(4)?,
        created_at: r.get(5)?,
        created_by: r.get(6)?,
        last_event_id: r.get(7)?,
    })
}

/// Adds a webhook that receives events from now on (not the log's history).
pub fn insert(
    c: &Connection,
    url: &str,
    secret: &str,
    kinds: Option<&[String]>,
    created_by: &str,
    now: i64,
) -> DbResult<i64> {
    let kinds = match kinds {
        Some(k) => serde_json::to_string(k).unwrap_or_else(|_| "*".into()),
        None => "*".into(),
    };
    c.execute(
        "INSERT INTO webhooks (url, secret, kinds, active, created_at, created_by, last_event_id)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, (SELECT coalesce(max(id), 0) FROM events))",
        params![url, secret, kinds, now, created_by],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Webhook>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"),
        [id],
        webhook,
    ))
}

/// All webhooks, oldest first; only active ones when `active_only`.
pub fn list(c: &Connection, active_only: bool) -> DbResult<Vec<Webhook>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhooks WHERE (?1 = 0 OR active = 1) ORDER BY id"
    ))?;
    let rows = stmt
        .query_map([active_only], webhook)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Deletes a webhook and its delivery history. False when there was none.
pub fn delete(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

/// Marks every event up to `event_id` done for the webhook.
pub fn advance(c: &Connection, webhook_id: i64, event_id: i64) -> DbResult<()> {
    c.execute(
        "UPDATE webhooks SET last_event_id = max(last_event_id, ?2) WHERE id = ?1",
        params![webhook_id, event_id],
    )?;
    Ok(())
}

const DELIVERY: &str = "d.id, d.webhook_id, d.event_id, e.kind, d.attempt, d.attempted_at,
    d.status_code, d.error, d.next_attempt_at, d.delivered_at
    FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id";

fn delivery(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        event_id: r.get(2)?,
        kind: r.get(3)?,
        attempt: r.get(4)?,
        attempted_at: r.get(5)?,
        status_code: r.get(6)?,
        error: r.get(7)?,
        next_attempt_at: r.get(8)?,
        delivered_at: r.get(9)?,
    })
}

/// The newest attempt to deliver `event_id` to the webhook.
pub fn last_attempt(c: &Connection, webhook_id: i64, event_id: i64) -> DbResult<Option<Delivery>> {
    optional(c.query_row(
        &format!(
            "SELECT {DELIVERY} WHERE d.webhook_id = ?1 AND d.event_id = ?2
             ORDER BY d.attempt DESC LIMIT 1"
        ),
        params![webhook_id, event_id],
        delivery,
    ))
}

/// Records the start of an attempt; `retry_at` stands in case the result is never
/// recorded (the process stopped mid-request). `None` when that attempt already exists.
pub fn start_attempt(
    c: &Connection,
    webhook_id: i64,
    event_id: i64,
    attempt: i64,
    now: i64,
    retry_at: Option<i64>,
) -> DbResult<Option<i64>> {
    let n = c.execute(
        "INSERT OR IGNORE INTO webhook_deliveries
            (webhook_id, event_id, attempt, attempted_at, error, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, 'interrupted before a response', ?5)",
        params![webhook_id, event_id, attempt, now, retry_at],
    )?;
    Ok((n > 0).then(|| c.last_insert_rowid()))
}

/// What came of an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

pub fn finish_attempt(c: &Connection, delivery_id: i64, o: &Outcome) -> DbResult<()> {
    c.execute(
        "UPDATE webhook_deliveries SET status_code = ?2, error = ?3, next_attempt_at = ?4, delivered_at = ?5
         WHERE id = ?1",
        params![
            delivery_id,
            o.status_code,
            o.error,
            o.next_attempt_at,
            o.delivered_at
        ],
    )?;
    Ok(())
}

/// A page of a webhook's attempts, newest first, before the delivery id `before`.
pub fn deliveries(
    c: &Connection,
    webhook_id: i64,
    before: Option<i64>,
    limit: u32,
) -> DbResult<Vec<Delivery>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {DELIVERY} WHERE d.webhook_id = ?1 AND (?2 IS NULL OR d.id < ?2)
         ORDER BY d.id DESC LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![webhook_id, before, limit], delivery)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_start_at_the_end_of_the_log_and_attempts_are_claimed_once() {
        let mut c = Connection::open_in_memory().expect("open");
        super::super::migrations::migrate(&mut c).expect("migrate");
        let e = super::super::events::insert(
            &c,
            "ticket.created",
            None,
            "user:1",
            &serde_json::json!({}),
            1,
        )
        .expect("event");
        let id =
            insert(&c, "http://example.test/hook", "s3cret", None, "user:1", 2).expect("insert");
        let w = get(&c, id).expect("get").expect("found");
        assert_eq!(w.last_event_id, e);
        assert_eq!(w.kinds, None);
        let kinds = vec!["sla.breached".to_owned()];
        let id2 =
            insert(&c, "http://example.test/2", "s", Some(&kinds), "user:1", 2).expect("insert");
        assert_eq!(
            get(&c, id2).expect("get").expect("found").kinds,
            Some(kinds)
        );

        let d = start_attempt(&c, id, e, 1, 3, Some(13)).expect("start");
        assert!(d.is_some());
        assert_eq!(
            start_attempt(&c, id, e, 1, 3, Some(13)).expect("again"),
            None
        );
        let last = last_attempt(&c, id, e).expect("last").expect("row");
        assert_eq!(last.kind.as_deref(), Some("ticket.created"));
        assert_eq!(last.next_attempt_at, Some(13));
        assert_eq!(deliveries(&c, id, None, 10).expect("list").len(), 1);
        assert!(delete(&c, id).expect("delete"));
        assert!(deliveries(&c, id, None, 10).expect("list").is_empty());
    }
}
