//! Software licenses: the titles each covers, its seats and who holds them (machines or
//! people), with the installs of its titles from the catalog counts.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// A license as stored, with its counts.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct License {
    pub id: i64,
    pub name: String,
    /// Software titles it covers, exact names as agents report them.
    pub titles: Vec<String>,
    pub seats: i64,
    /// Seats assigned to machines or people.
    pub assigned: i64,
    /// Machines with each covered title, added up over the titles.
    pub installs: i64,
    /// `YYYY-MM-DD`.
    pub expires_on: Option<String>,
    pub cost_cents: Option<i64>,
    pub notes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The fields of a new license (checked by the caller).
#[derive(Debug, Clone, Default)]
pub struct NewLicense {
    pub name: String,
    pub titles: Vec<String>,
    pub seats: i64,
    pub expires_on: Option<String>,
    pub cost_cents: Option<i64>,
    pub notes: String,
}

/// A change to a license: `None` leaves a field as it is; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct LicensePatch {
    pub name: Option<String>,
    pub titles: Option<Vec<String>>,
    pub seats: Option<i64>,
    pub expires_on: Option<Option<String>>,
    pub cost_cents: Option<Option<i64>>,
    pub notes: Option<String>,
}

/// Who holds a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    Asset(i64),
    User(i64),
}

/// One assigned seat.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Seat {
    pub id: i64,
    pub license_id: i64,
    pub asset_id: Option<i64>,
    pub asset_name: Option<String>,
    pub user_id: Option<i64>,
    pub user_name: Option<String>,
    pub assigned_at: i64,
    pub assigned_by: String,
}

const COLUMNS: &str = "l.id, l.name, l.seats, l.assigned, l.expires_on, l.cost_cents, l.notes, l.created_at, l.updated_at,
    (SELECT coalesce(sum(t.installs), 0) FROM license_titles lt JOIN software_titles t ON t.name = lt.name
     WHERE lt.license_id = l.id)";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<License> {
    Ok(License {
        id: r.get(0)?,
        name: r.get(1)?,
        titles: Vec::new(),
        seats: r.get(2)?,
        assigned: r.get(3)?,
        expires_on: r.get(4)?,
        cost_cents: r.get(5)?,
        notes: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        installs: r.get(9)?,
    })
}

fn with_titles(c: &Connection, mut l: License) -> DbResult<License> {
    let mut stmt =
        c.prepare_cached("SELECT name FROM license_titles WHERE license_id = ?1 ORDER BY name")?;
    l.titles = stmt
        .query_map([l.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(l)
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<License>> {
    let found = optional(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM licenses l WHERE l.id = ?1"))?
            .query_row([id], row),
    )?;
    found.map(|l| with_titles(c, l)).transpose()
}

/// Licenses by id after `after`: those whose name contains `q` (case-insensitive) and
/// those covering `title`, when given.
pub fn list(
    c: &Connection,
    q: Option<&str>,
    title: Option<&str>,
    after: Option<i64>,
    limit: u32,
) -> DbResult<Vec<License>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM licenses l
         WHERE l.id > ?1 AND (?2 IS NULL OR instr(lower(l.name), lower(?2)) > 0)
           AND (?3 IS NULL OR l.id IN (SELECT license_id FROM license_titles WHERE name = ?3))
         ORDER BY l.id LIMIT ?4"
    ))?;
    let rows = stmt.query_map(params![after.unwrap_or(0), q, title, limit], row)?;
    let list: Vec<License> = rows.collect::<Result<_, _>>()?;
    list.into_iter().map(|l| with_titles(c, l)).collect()
}

fn set_titles(c: &Connection, id: i64, titles: &[String]) -> DbResult<()> {
    c.prepare_cached("DELETE FROM license_titles WHERE license_id = ?1")?
        .execute([id])?;
    let mut stmt = c.prepare_cached(
        "INSERT OR IGNORE INTO license_titles (license_id, name) VALUES (?1, ?2)",
    )?;
    for t in titles {
        stmt.execute(params![id, t])?;
    }
    Ok(())
}

pub fn insert(c: &Connection, l: &NewLicense, now: i64) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO licenses (name, seats, expires_on, cost_cents, notes, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
    )?
    .execute(params![
        l.name,
        l.seats,
        l.expires_on,
        l.cost_cents,
        l.notes,
        now
    ])?;
    let id = c.last_insert_rowid();
    set_titles(c, id, &l.titles)?;
    Ok(id)
}

/// Applies `p`; false when there is no such license.
pub fn update(c: &Connection, id: i64, p: &LicensePatch, now: i64) -> DbResult<bool> {
    let changed = c
        .prepare_cached(
            "UPDATE licenses SET
                name = coalesce(?2, name),
                seats = coalesce(?3, seats),
                expires_on = CASE WHEN ?4 THEN ?5 ELSE expires_on END,
                cost_cents = CASE WHEN ?6 THEN ?7 ELSE cost_cents END,
                notes = coalesce(?8, notes),
                updated_at = ?9
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            p.name,
            p.seats,
            p.expires_on.is_some(),
            p.expires_on.clone().flatten(),
            p.cost_cents.is_some(),
            p.cost_cents.flatten(),
            p.notes,
            now
        ])?;
    if changed == 0 {
        return Ok(false);
    }
    if let Some(titles) = &p.titles {
        set_titles(c, id, titles)?;
    }
    Ok(true)
}

/// Deletes a license and its seats, noting the release in each machine's history.
pub fn delete(c: &Connection, id: i64, actor: &str, now: i64) -> DbResult<bool> {
    c.prepare_cached(
        "INSERT INTO asset_history (asset_id, at, actor, kind, field, old_value, new_value)
         SELECT s.asset_id, ?2, ?3, 'license_unassigned', 'license', l.name, NULL
         FROM license_seats s JOIN licenses l ON l.id = s.license_id
         WHERE s.license_id = ?1 AND s.asset_id IS NOT NULL",
    )?
    .execute(params![id, now, actor])?;
    Ok(c.prepare_cached("DELETE FROM licenses WHERE id = ?1")?
        .execute([id])?
        > 0)
}

const SEAT: &str = "s.id, s.license_id, s.asset_id, a.name, s.user_id, u.name, s.assigned_at, s.assigned_by
    FROM license_seats s LEFT JOIN assets a ON a.id = s.asset_id LEFT JOIN users u ON u.id = s.user_id";

fn seat_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Seat> {
    Ok(Seat {
        id: r.get(0)?,
        license_id: r.get(1)?,
        asset_id: r.get(2)?,
        asset_name: r.get(3)?,
        user_id: r.get(4)?,
        user_name: r.get(5)?,
        assigned_at: r.get(6)?,
        assigned_by: r.get(7)?,
    })
}

/// A license's seats by id, after `after`.
pub fn seats(
    c: &Connection,
    license_id: i64,
    after: Option<i64>,
    limit: u32,
) -> DbResult<Vec<Seat>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SEAT} WHERE s.license_id = ?1 AND s.id > ?2 ORDER BY s.id LIMIT ?3"
    ))?;
    let rows = stmt.query_map(params![license_id, after.unwrap_or(0), limit], seat_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn seat(c: &Connection, license_id: i64, seat_id: i64) -> DbResult<Option<Seat>> {
    optional(
        c.prepare_cached(&format!(
            "SELECT {SEAT} WHERE s.license_id = ?1 AND s.id = ?2"
        ))?
        .query_row(params![license_id, seat_id], seat_row),
    )
}

/// Whether `holder` already has a seat of the license.
pub fn holds(c: &Connection, license_id: i64, holder: Holder) -> DbResult<bool> {
    let (sql, id) = match holder {
        Holder::Asset(a) => (
            "SELECT 1 FROM license_seats WHERE license_id = ?1 AND asset_id = ?2",
            a,
        ),
        Holder::User(u) => (
            "SELECT 1 FROM license_seats WHERE license_id = ?1 AND user_id = ?2",
            u,
        ),
    };
    Ok(optional(
        c.prepare_cached(sql)?
            .query_row(params![license_id, id], |_| Ok(())),
    )?
    .is_some())
}

fn split(h: Holder) -> (Option<i64>, Option<i64>) {
    match h {
        Holder::Asset(a) => (Some(a), None),
        Holder::User(u) => (None, Some(u)),
    }
}

/// Assigns a seat (the caller checked the holder exists and a seat is free); a machine's
/// history notes it. Returns the seat id.
pub fn assign(
    c: &Connection,
    license_id: i64,
    holder: Holder,
    actor: &str,
    now: i64,
) -> DbResult<i64> {
    let (asset, user) = split(holder);
    c.prepare_cached(
        "INSERT INTO license_seats (license_id, asset_id, user_id, assigned_at, assigned_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![license_id, asset, user, now, actor])?;
    let id = c.last_insert_rowid();
    if let Some(asset_id) = asset {
        c.prepare_cached(
            "INSERT INTO asset_history (asset_id, at, actor, kind, field, old_value, new_value)
             SELECT ?1, ?2, ?3, 'license_assigned', 'license', NULL, name FROM licenses WHERE id = ?4",
        )?
        .execute(params![asset_id, now, actor, license_id])?;
    }
    Ok(id)
}

/// Frees a seat; false when the license has no such seat.
pub fn unassign(
    c: &Connection,
    license_id: i64,
    seat_id: i64,
    actor: &str,
    now: i64,
) -> DbResult<bool> {
    let Some(s) = seat(c, license_id, seat_id)? else {
        return Ok(false);
    };
    c.prepare_cached("DELETE FROM license_seats WHERE id = ?1")?
        .execute([seat_id])?;
    if let Some(asset_id) = s.asset_id {
        c.prepare_cached(
            "INSERT INTO asset_history (asset_id, at, actor, kind, field, old_value, new_value)
             SELECT ?1, ?2, ?3, 'license_unassigned', 'license', name, NULL FROM licenses WHERE id = ?4",
        )?
        .execute(params![asset_id, now, actor, license_id])?;
    }
    Ok(true)
}
