//! Locations: sites > buildings > floors > rooms. A site carries the time zone; every
//! place below it uses its site's.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// Places in one site tree; a list is never paged beyond this.
pub const MAX_LOCATIONS: u32 = 10_000;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Location {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub kind: String,
    pub name: String,
    /// The site's time zone (inherited below the site).
    pub timezone: String,
    pub address: String,
    /// "HQ / Building A / Floor 2 / Room 201".
    pub path: String,
    pub created_at: i64,
}

/// The kind a child of `parent_kind` must have.
pub fn child_kind(parent_kind: &str) -> Option<&'static str> {
    match parent_kind {
        "site" => Some("building"),
        "building" => Some("floor"),
        "floor" => Some("room"),
        _ => None,
    }
}

/// Every location with its path and inherited time zone, walking up from each row.
const TREE: &str = "WITH RECURSIVE tree(id, parent_id, kind, name, timezone, address, path, created_at) AS (
        SELECT id, parent_id, kind, name, coalesce(timezone, 'UTC'), address, name, created_at
        FROM locations WHERE parent_id IS NULL
        UNION ALL
        SELECT l.id, l.parent_id, l.kind, l.name, t.timezone, l.address, t.path || ' / ' || l.name, l.created_at
        FROM locations l JOIN tree t ON l.parent_id = t.id
    )";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Location> {
    Ok(Location {
        id: r.get(0)?,
        parent_id: r.get(1)?,
        kind: r.get(2)?,
        name: r.get(3)?,
        timezone: r.get(4)?,
        address: r.get(5)?,
        path: r.get(6)?,
        created_at: r.get(7)?,
    })
}

/// All locations in path order, at most `limit`.
pub fn list(c: &Connection, limit: u32) -> DbResult<Vec<Location>> {
    let mut stmt = c.prepare_cached(&format!(
        "{TREE} SELECT id, parent_id, kind, name, timezone, address, path, created_at
         FROM tree ORDER BY path COLLATE NOCASE LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One location, its path and time zone found by walking up to its site.
pub fn get(c: &Connection, id: i64) -> DbResult<Option<Location>> {
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE up(id, parent_id, name, timezone, depth) AS (
            SELECT id, parent_id, name, timezone, 0 FROM locations WHERE id = ?1
            UNION ALL
            SELECT l.id, l.parent_id, l.name, l.timezone, up.depth + 1
            FROM locations l JOIN up ON l.id = up.parent_id
         )
         SELECT l.id, l.parent_id, l.kind, l.name,
                (SELECT coalesce(timezone, 'UTC') FROM up WHERE parent_id IS NULL),
                l.address,
                (SELECT group_concat(name, ' / ' ORDER BY depth DESC) FROM up),
                l.created_at
         FROM locations l WHERE l.id = ?1",
    )?;
    optional(stmt.query_row([id], from_row))
}

/// The id of `name` under `parent` (case-insensitive).
pub fn id_by_name(c: &Connection, parent: Option<i64>, name: &str) -> DbResult<Option<i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM locations WHERE coalesce(parent_id, 0) = ?1 AND name = ?2 COLLATE NOCASE",
    )?;
    optional(stmt.query_row(params![parent.unwrap_or(0), name], |r| r.get(0)))
}

pub fn insert(
    c: &Connection,
    parent: Option<i64>,
    kind: &str,
    name: &str,
    timezone: Option<&str>,
    address: &str,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO locations (parent_id, kind, name, timezone, address, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![parent, kind, name, timezone, address, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Renames a location and sets its address (and a site's time zone). False if missing.
pub fn update(
    c: &Connection,
    id: i64,
    name: Option<&str>,
    timezone: Option<&str>,
    address: Option<&str>,
) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE locations SET name = coalesce(?2, name),
             timezone = CASE WHEN kind = 'site' THEN coalesce(?3, timezone) ELSE NULL END,
             address = coalesce(?4, address)
         WHERE id = ?1",
        params![id, name, timezone, address],
    )? > 0)
}

/// What keeps a location from being deleted: (child places, assets, people).
pub fn usage(c: &Connection, id: i64) -> DbResult<(i64, i64, i64)> {
    Ok(c.query_row(
        "SELECT (SELECT count(*) FROM locations WHERE parent_id = ?1),
                (SELECT count(*) FROM assets WHERE location_id = ?1),
                (SELECT count(*) FROM users WHERE location_id = ?1)",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?)
}

pub fn delete(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM locations WHERE id = ?1", [id])? > 0)
}

/// `id` and every place below it.
pub fn subtree_ids(c: &Connection, id: i64) -> DbResult<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE sub(id) AS (
            SELECT ?1 UNION ALL SELECT l.id FROM locations l JOIN sub ON l.parent_id = sub.id
         ) SELECT id FROM sub",
    )?;
    let rows = stmt.query_map([id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
