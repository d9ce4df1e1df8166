//! A ticket's conversation: public replies and internal notes.

use super::DbResult;
use super::tickets::UserRef;
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Comment {
    pub id: i64,
    pub ticket_id: i64,
    pub author: Option<UserRef>,
    pub internal: bool,
    pub body: String,
    pub created_at: i64,
}

pub fn insert(
    c: &Connection,
    ticket_id: i64,
    author_id: Option<i64>,
    internal: bool,
    body: &str,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO ticket_comments (ticket_id, author_id, internal, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![ticket_id, author_id, internal, body, now],
    )?;
    let id = c.last_insert_rowid();
    // The ticket id is the rowid's high half, the comment id its low half (migration 0008).
    c.execute(
        "INSERT INTO ticket_search (rowid, ticket_id, internal, text) VALUES ((?2 << 32) | ?1, ?2, ?3, ?4)",
        params![id, ticket_id, internal, body],
    )?;
    c.execute(
        "UPDATE tickets SET updated_at = ?2 WHERE id = ?1",
        params![ticket_id, now],
    )?;
    Ok(id)
}

/// Oldest first; internal notes only when `with_internal`.
pub fn list(c: &Connection, ticket_id: i64, with_internal: bool) -> DbResult<Vec<Comment>> {
    let mut stmt = c.prepare_cached(
        "SELECT m.id, m.ticket_id, m.author_id, u.name, m.internal, m.body, m.created_at
         FROM ticket_comments m LEFT JOIN users u ON u.id = m.author_id
         WHERE m.ticket_id = ?1 AND (?2 OR m.internal = 0) ORDER BY m.id",
    )?;
    let rows = stmt.query_map(params![ticket_id, with_internal], |r| {
        let author = match (r.get::<_, Option<i64>>(2)?, r.get::<_, Option<String>>(3)?) {
            (Some(id), Some(name)) => Some(UserRef { id, name }),
            _ => None,
        };
        Ok(Comment {
            id: r.get(0)?,
            ticket_id: r.get(1)?,
            author,
            internal: r.get(4)?,
            body: r.get(5)?,
            created_at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
