//! Canned responses: reply texts technicians keep for questions that come up often.

use super::tickets::UserRef;
use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CannedResponse {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// `None` once the author's account is gone.
    pub created_by: Option<UserRef>,
    pub created_at: i64,
}

const SELECT: &str = "SELECT r.id, r.title, r.body, r.created_by, u.name, r.created_at
    FROM canned_responses r LEFT JOIN users u ON u.id = r.created_by";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CannedResponse> {
    let created_by = match (r.get::<_, Option<i64>>(3)?, r.get::<_, Option<String>>(4)?) {
        (Some(id), Some(name)) => Some(UserRef { id, name }),
        _ => None,
    };
    Ok(CannedResponse {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        created_by,
        created_at: r.get(5)?,
    })
}

pub fn count(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row("SELECT count(*) FROM canned_responses", [], |r| r.get(0))?)
}

pub fn insert(c: &Connection, title: &str, body: &str, by: i64, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO canned_responses (title, body, created_by, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![title, body, by, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<CannedResponse>> {
    optional(c.query_row(&format!("{SELECT} WHERE r.id = ?1"), [id], from_row))
}

/// Up to `limit` responses by title.
pub fn list(c: &Connection, limit: u32) -> DbResult<Vec<CannedResponse>> {
    let mut stmt = c.prepare_cached(&format!(
        "{SELECT} ORDER BY r.title COLLATE NOCASE, r.id LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM canned_responses WHERE id = ?1", [id])? == 1)
}
