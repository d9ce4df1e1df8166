//! Alerts: opened when a condition appears, updated while it lasts, resolved when it is gone.

use super::DbResult;
use crate::domain::alerts::{Condition, HEALTH_KINDS};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Alert {
    pub id: i64,
    pub asset_id: i64,
    pub asset_name: String,
    pub kind: String,
    pub key: String,
    pub severity: String,
    pub message: String,
    pub opened_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

/// Opens or refreshes the alert for `cond` on `asset_id`.
pub fn raise(c: &Connection, asset_id: i64, cond: &Condition, now: i64) -> DbResult<()> {
    c.prepare_cached(
        "INSERT INTO alerts (asset_id, kind, key, severity, message, opened_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (asset_id, kind, key) WHERE resolved_at IS NULL
         DO UPDATE SET severity = excluded.severity, message = excluded.message, updated_at = excluded.updated_at",
    )?
    .execute(params![asset_id, cond.kind, cond.key, cond.severity, cond.message, now])?;
    Ok(())
}

/// Resolves the open alerts of `kind` on `asset_id` whose key is not in `keep`.
fn resolve_except(
    c: &Connection,
    asset_id: i64,
    kind: &str,
    keep: &[&str],
    now: i64,
) -> DbResult<usize> {
    let mut stmt = c.prepare_cached(
        "SELECT id, key FROM alerts WHERE asset_id = ?1 AND kind = ?2 AND resolved_at IS NULL",
    )?;
    let open: Vec<(i64, String)> = stmt
        .query_map(params![asset_id, kind], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut n = 0;
    for (id, key) in open
        .into_iter()
        .filter(|(_, k)| !keep.contains(&k.as_str()))
    {
        c.prepare_cached("UPDATE alerts SET resolved_at = ?2, updated_at = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        tracing::info!(asset_id, kind, key, "alert resolved");
        n += 1;
    }
    Ok(n)
}

/// Makes the asset's health alerts match `conditions`: new ones open, gone ones resolve.
pub fn sync_health(
    c: &Connection,
    asset_id: i64,
    conditions: &[Condition],
    now: i64,
) -> DbResult<()> {
    for cond in conditions {
        raise(c, asset_id, cond, now)?;
    }
    for kind in HEALTH_KINDS {
        let keep: Vec<&str> = conditions
            .iter()
            .filter(|x| x.kind == kind)
            .map(|x| x.key.as_str())
            .collect();
        resolve_except(c, asset_id, kind, &keep, now)?;
    }
    // The agent just reported, so it is not silent.
    resolve_except(c, asset_id, "agent_silent", &[], now)?;
    Ok(())
}

/// Opens `agent_silent` alerts for assets whose agents all went quiet before `silent_before`.
/// Returns how many alerts are open for silence after the sweep.
pub fn sweep_silent(c: &Connection, silent_before: i64, now: i64) -> DbResult<usize> {
    let mut stmt = c.prepare_cached(
        "SELECT asset_id, max(last_seen_at) FROM agents
         WHERE revoked_at IS NULL AND asset_id IS NOT NULL AND last_seen_at IS NOT NULL
         GROUP BY asset_id HAVING max(last_seen_at) < ?1",
    )?;
    let silent: Vec<(i64, i64)> = stmt
        .query_map([silent_before], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (asset_id, last_seen) in &silent {
        let hours = (now - last_seen).max(0) / 3600;
        let cond = Condition {
            kind: "agent_silent",
            key: String::new(),
            severity: "warning",
            message: format!("no report from its agent for {hours} hours"),
        };
        raise(c, *asset_id, &cond, now)?;
    }
    Ok(silent.len())
}

const COLUMNS: &str = "al.id, al.asset_id, a.name, al.kind, al.key, al.severity, al.message, al.opened_at, al.updated_at, al.resolved_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        asset_id: r.get(1)?,
        asset_name: r.get(2)?,
        kind: r.get(3)?,
        key: r.get(4)?,
        severity: r.get(5)?,
        message: r.get(6)?,
        opened_at: r.get(7)?,
        updated_at: r.get(8)?,
        resolved_at: r.get(9)?,
    })
}

/// Alerts newest first: open ones (`open`) or resolved ones, optionally of one asset.
pub fn list(
    c: &Connection,
    open: bool,
    asset_id: Option<i64>,
    before: Option<i64>,
    limit: u32,
) -> DbResult<Vec<Alert>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts al JOIN assets a ON a.id = al.asset_id
         WHERE (al.resolved_at IS NULL) = ?1 AND (?2 IS NULL OR al.asset_id = ?2) AND al.id < ?3
         ORDER BY al.id DESC LIMIT ?4"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![open, asset_id, before.unwrap_or(i64::MAX), limit],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn open_count(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM alerts WHERE resolved_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}
