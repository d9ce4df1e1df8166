//! Check-out and check-in: who or what holds an asset, since when, and whether the
//! person accepted it. One open check-out per asset (a unique index guarantees it).

use super::asset_records::{history, set};
use super::{DbResult, optional};
use rusqlite::{Connection, params, types::Value};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Checkout {
    pub id: i64,
    pub asset_id: i64,
    /// "user", "location" or "asset".
    pub target_kind: String,
    pub target_id: i64,
    pub checked_out_at: i64,
    pub checked_out_by: String,
    pub expected_back: Option<String>,
    pub note: String,
    pub accepted_at: Option<i64>,
    pub declined_at: Option<i64>,
    pub checked_in_at: Option<i64>,
    pub checked_in_by: Option<String>,
}

const COLUMNS: &str = "id, asset_id, target_kind, target_id, checked_out_at, checked_out_by,
    expected_back, note, accepted_at, declined_at, checked_in_at, checked_in_by";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Checkout> {
    Ok(Checkout {
        id: r.get(0)?,
        asset_id: r.get(1)?,
        target_kind: r.get(2)?,
        target_id: r.get(3)?,
        checked_out_at: r.get(4)?,
        checked_out_by: r.get(5)?,
        expected_back: r.get(6)?,
        note: r.get(7)?,
        accepted_at: r.get(8)?,
        declined_at: r.get(9)?,
        checked_in_at: r.get(10)?,
        checked_in_by: r.get(11)?,
    })
}

/// The asset's open check-out.
pub fn open(c: &Connection, asset_id: i64) -> DbResult<Option<Checkout>> {
    optional(c.query_row(
        &format!(
            "SELECT {COLUMNS} FROM asset_checkouts WHERE asset_id = ?1 AND checked_in_at IS NULL"
        ),
        [asset_id],
        from_row,
    ))
}

/// Check-outs to a person waiting for their answer.
pub fn pending_for(c: &Connection, user_id: i64) -> DbResult<Vec<Checkout>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM asset_checkouts WHERE target_kind = 'user' AND target_id = ?1
           AND accepted_at IS NULL AND declined_at IS NULL AND checked_in_at IS NULL
         ORDER BY id"
    ))?;
    let rows = stmt.query_map([user_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The asset's check-outs, newest first.
pub fn for_asset(c: &Connection, asset_id: i64, limit: u32) -> DbResult<Vec<Checkout>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM asset_checkouts WHERE asset_id = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![asset_id, limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// What a check-out records; the caller has checked the target and the asset's state.
pub struct NewCheckout<'a> {
    pub asset_id: i64,
    pub target_kind: &'a str,
    pub target_id: i64,
    /// How the target reads in the history, e.g. "ann@example.com".
    pub target_label: &'a str,
    pub expected_back: Option<&'a str>,
    pub note: &'a str,
    /// The deployed state the asset moves to.
    pub state_id: i64,
    pub state_name: &'a str,
    /// Where the asset now is: the location checked out to, or the person's.
    pub location_id: Option<i64>,
}

pub fn check_out(c: &Connection, n: &NewCheckout<'_>, actor: &str, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO asset_checkouts (asset_id, target_kind, target_id, checked_out_at, checked_out_by,
             expected_back, note)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![n.asset_id, n.target_kind, n.target_id, now, actor, n.expected_back, n.note],
    )?;
    let id = c.last_insert_rowid();
    let a = n.asset_id;
    set(
        c,
        a,
        "checked_out_kind",
        Value::Text(n.target_kind.into()),
        Some(n.target_kind),
        actor,
        now,
    )?;
    set(
        c,
        a,
        "checked_out_id",
        Value::Integer(n.target_id),
        Some(n.target_label),
        actor,
        now,
    )?;
    let user = (n.target_kind == "user").then_some(n.target_id);
    set(
        c,
        a,
        "assigned_user_id",
        user.map_or(Value::Null, Value::Integer),
        user.map(|_| n.target_label),
        actor,
        now,
    )?;
    set(
        c,
        a,
        "state_id",
        Value::Integer(n.state_id),
        Some(n.state_name),
        actor,
        now,
    )?;
    if let Some(l) = n.location_id {
        set(c, a, "location_id", Value::Integer(l), None, actor, now)?;
    }
    history(
        c,
        a,
        now,
        actor,
        "checkout",
        n.target_kind,
        None,
        Some(n.target_label),
    )?;
    Ok(id)
}

/// Closes the open check-out and moves the asset to `state`; false when there was none.
pub fn check_in(
    c: &Connection,
    asset_id: i64,
    state_id: i64,
    state_name: &str,
    note: &str,
    actor: &str,
    now: i64,
) -> DbResult<bool> {
    let Some(open) = open(c, asset_id)? else {
        return Ok(false);
    };
    c.execute(
        "UPDATE asset_checkouts SET checked_in_at = ?2, checked_in_by = ?3,
             note = CASE WHEN ?4 = '' THEN note WHEN note = '' THEN ?4 ELSE note || char(10) || ?4 END
         WHERE id = ?1",
        params![open.id, now, actor, note],
    )?;
    for col in ["checked_out_kind", "checked_out_id", "assigned_user_id"] {
        set(c, asset_id, col, Value::Null, None, actor, now)?;
    }
    set(
        c,
        asset_id,
        "state_id",
        Value::Integer(state_id),
        Some(state_name),
        actor,
        now,
    )?;
    history(
        c,
        asset_id,
        now,
        actor,
        "checkin",
        &open.target_kind,
        None,
        None,
    )?;
    Ok(true)
}

/// Records the person's answer to a check-out waiting for it; false when none waits.
pub fn answer(
    c: &Connection,
    asset_id: i64,
    user_id: i64,
    accept: bool,
    actor: &str,
    now: i64,
) -> DbResult<bool> {
    let column = if accept { "accepted_at" } else { "declined_at" };
    let n = c.execute(
        &format!(
            "UPDATE asset_checkouts SET {column} = ?3 WHERE asset_id = ?1 AND target_kind = 'user'
               AND target_id = ?2 AND checked_in_at IS NULL AND accepted_at IS NULL AND declined_at IS NULL"
        ),
        params![asset_id, user_id, now],
    )?;
    if n > 0 {
        let kind = if accept { "accepted" } else { "declined" };
        history(c, asset_id, now, actor, kind, "checkout", None, None)?;
    }
    Ok(n > 0)
}
