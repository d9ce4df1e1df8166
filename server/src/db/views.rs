//! Saved views: a user's named ticket queries (the query string of a ticket list).

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The query string of a `/api/v1/tickets` list, e.g. `status=open&priority=high`.
    pub query: String,
    pub created_at: i64,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedView> {
    Ok(SavedView {
        id: r.get(0)?,
        name: r.get(1)?,
        query: r.get(2)?,
        created_at: r.get(3)?,
    })
}

pub fn count(c: &Connection, user_id: i64) -> DbResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM saved_views WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )?)
}

/// Whether `user_id` already has a view called `name` (case-insensitive).
pub fn name_taken(c: &Connection, user_id: i64, name: &str) -> DbResult<bool> {
    Ok(optional(c.query_row(
        "SELECT 1 FROM saved_views WHERE user_id = ?1 AND name = ?2",
        params![user_id, name],
        |_| Ok(()),
    ))?
    .is_some())
}

pub fn insert(c: &Connection, user_id: i64, name: &str, query: &str, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO saved_views (user_id, name, query, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![user_id, name, query, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// One of `user_id`'s views; others' views are not found.
pub fn get(c: &Connection, id: i64, user_id: i64) -> DbResult<Option<SavedView>> {
    optional(c.query_row(
        "SELECT id, name, query, created_at FROM saved_views WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
        from_row,
    ))
}

/// `user_id`'s views by name.
pub fn list(c: &Connection, user_id: i64, limit: u32) -> DbResult<Vec<SavedView>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, name, query, created_at FROM saved_views WHERE user_id = ?1
         ORDER BY name, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![user_id, limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes one of `user_id`'s views; false when it is not theirs or not there.
pub fn delete(c: &Connection, id: i64, user_id: i64) -> DbResult<bool> {
    Ok(c.execute(
        "DELETE FROM saved_views WHERE id = ?1 AND user_id = ?2",
        params![id, user_id],
    )? == 1)
}
