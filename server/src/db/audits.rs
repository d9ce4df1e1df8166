//! Physical audits: walk a room, scan what is there, compare with what should be.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Audit {
    pub id: i64,
    pub location_id: i64,
    pub started_by: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Audit>> {
    optional(c.query_row(
        "SELECT id, location_id, started_by, started_at, finished_at FROM audits WHERE id = ?1",
        [id],
        |r| {
            Ok(Audit {
                id: r.get(0)?,
                location_id: r.get(1)?,
                started_by: r.get(2)?,
                started_at: r.get(3)?,
                finished_at: r.get(4)?,
            })
        },
    ))
}

pub fn start(c: &Connection, location_id: i64, by: &str, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO audits (location_id, started_by, started_at) VALUES (?1, ?2, ?3)",
        params![location_id, by, now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Records a scanned code (and the asset it names, if any); scanning twice is one scan.
pub fn scan(
    c: &Connection,
    audit_id: i64,
    code: &str,
    asset_id: Option<i64>,
    now: i64,
) -> DbResult<()> {
    c.execute(
        "INSERT INTO audit_scans (audit_id, code, asset_id, scanned_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (audit_id, code) DO NOTHING",
        params![audit_id, code, asset_id, now],
    )?;
    Ok(())
}

/// An asset in an audit report.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct AuditItem {
    pub asset_id: i64,
    pub name: String,
    pub asset_tag: Option<String>,
    /// Where the records say it is.
    pub location_id: Option<i64>,
}

/// What the audit found: expected here and scanned, expected and not scanned, scanned but
/// recorded elsewhere, and codes that name no asset.
#[derive(Debug, Clone, Serialize, Default, schemars::JsonSchema)]
pub struct AuditReport {
    pub found: Vec<AuditItem>,
    pub missing: Vec<AuditItem>,
    pub misplaced: Vec<AuditItem>,
    pub unknown: Vec<String>,
}

fn item(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditItem> {
    Ok(AuditItem {
        asset_id: r.get(0)?,
        name: r.get(1)?,
        asset_tag: r.get(2)?,
        location_id: r.get(3)?,
    })
}

/// The report of audit `a` (its location's own assets, archived ones left out).
pub fn report(c: &Connection, a: &Audit) -> DbResult<AuditReport> {
    let expected = "SELECT id FROM assets WHERE location_id = ?2
        AND coalesce(state_id, 0) NOT IN (SELECT id FROM asset_states WHERE kind = 'archived')";
    let query = |sql: &str| -> DbResult<Vec<AuditItem>> {
        let mut stmt = c.prepare_cached(sql)?;
        let rows = stmt.query_map(params![a.id, a.location_id], item)?;
        Ok(rows.collect::<Result<_, _>>()?)
    };
    let found = query(&format!(
        "SELECT x.id, x.name, x.asset_tag, x.location_id FROM assets x
         WHERE x.id IN ({expected}) AND x.id IN (SELECT asset_id FROM audit_scans WHERE audit_id = ?1)
         ORDER BY x.name, x.id"
    ))?;
    let missing = query(&format!(
        "SELECT x.id, x.name, x.asset_tag, x.location_id FROM assets x
         WHERE x.id IN ({expected})
           AND x.id NOT IN (SELECT asset_id FROM audit_scans WHERE audit_id = ?1 AND asset_id IS NOT NULL)
         ORDER BY x.name, x.id"
    ))?;
    let misplaced = query(&format!(
        "SELECT x.id, x.name, x.asset_tag, x.location_id FROM assets x
         WHERE x.id IN (SELECT asset_id FROM audit_scans WHERE audit_id = ?1) AND x.id NOT IN ({expected})
         ORDER BY x.name, x.id"
    ))?;
    let mut stmt = c.prepare_cached(
        "SELECT code FROM audit_scans WHERE audit_id = ?1 AND asset_id IS NULL ORDER BY scanned_at, code",
    )?;
    let unknown = stmt
        .query_map([a.id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(AuditReport {
        found,
        missing,
        misplaced,
        unknown,
    })
}

pub fn finish(c: &Connection, id: i64, now: i64) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE audits SET finished_at = ?2 WHERE id = ?1 AND finished_at IS NULL",
        params![id, now],
    )? > 0)
}

/// Months between audits for an asset's type (12 when the type does not say).
pub fn audit_every_months(c: &Connection, asset_id: i64) -> DbResult<i64> {
    Ok(optional(c.query_row(
        "SELECT t.audit_every_months FROM assets a JOIN asset_types t ON t.key = a.kind WHERE a.id = ?1",
        [asset_id],
        |r| r.get::<_, Option<i64>>(0),
    ))?
    .flatten()
    .unwrap_or(12))
}
