//! The fleet's software catalog: titles and versions with install counts (kept by
//! db::packages), the machines that have a title in given versions, and
//! installs and removals per title and day.

use super::{DbResult, optional};
use crate::domain::versions::{self, TitleChange};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::HashMap;
use steward_shared::Software;

/// Seconds in a day; history is kept per UTC day.
pub const DAY: i64 = 86_400;

/// A title across the fleet.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Title {
    pub name: String,
    /// Machines with any version of it.
    pub installs: i64,
    /// Distinct versions installed somewhere.
    pub versions: i64,
}

/// One version of a title and the machines that have it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VersionCount {
    pub version: String,
    pub installs: i64,
}

/// A machine that has a title, in one version.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Holder {
    pub asset_id: i64,
    pub name: String,
    pub hostname: String,
    pub version: String,
}

/// Installs and removals of a title on one UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct DayCounts {
    /// Days since 1970-01-01.
    pub day: i64,
    pub installed: i64,
    pub removed: i64,
    pub upgraded: i64,
    pub downgraded: i64,
}

fn title_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Title> {
    Ok(Title {
        name: r.get(0)?,
        installs: r.get(1)?,
        versions: r.get(2)?,
    })
}

/// Titles by name after `after`, those containing `q` (case-insensitive) if given.
pub fn titles(
    c: &Connection,
    q: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> DbResult<Vec<Title>> {
    let mut stmt = c.prepare_cached(
        "SELECT name, installs, versions FROM software_titles
         WHERE (?1 IS NULL OR name > ?1) AND (?2 IS NULL OR instr(lower(name), lower(?2)) > 0)
         ORDER BY name LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![after, q, limit], title_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn title(c: &Connection, name: &str) -> DbResult<Option<Title>> {
    optional(
        c.prepare_cached("SELECT name, installs, versions FROM software_titles WHERE name = ?1")?
            .query_row([name], title_row),
    )
}

/// Whether the catalog knows `name`: installed somewhere now, or in its history.
pub fn known(c: &Connection, name: &str) -> DbResult<bool> {
    Ok(title(c, name)?.is_some()
        || optional(
            c.prepare_cached("SELECT 1 FROM software_daily WHERE name = ?1 LIMIT 1")?
                .query_row([name], |_| Ok(())),
        )?
        .is_some())
}

/// Every installed version of a title, newest first by [`versions::compare`].
pub fn versions(c: &Connection, name: &str) -> DbResult<Vec<VersionCount>> {
    let mut stmt =
        c.prepare_cached("SELECT version, installs FROM software_versions WHERE name = ?1")?;
    let rows = stmt.query_map([name], |r| {
        Ok(VersionCount {
            version: r.get(0)?,
            installs: r.get(1)?,
        })
    })?;
    let mut out: Vec<VersionCount> = rows.collect::<Result<_, _>>()?;
    out.sort_by(|a, b| versions::compare_total(&b.version, &a.version));
    Ok(out)
}

/// Machines that have title `name` in one of `versions`, ordered by (asset id, version),
/// after `after`; at most `limit`. The versions' packages are read from the cursor on,
/// block of assets by block ([`super::packages::holders`]), until a page is full.
pub fn holders(
    c: &Connection,
    name: &str,
    versions: &[String],
    after: Option<(i64, &str)>,
    limit: u32,
) -> DbResult<Vec<Holder>> {
    let limit = limit as usize;
    let (from_asset, after_version) = match after {
        Some((a, v)) => (a, Some(v)),
        None => (i64::MIN, None),
    };
    let mut packages =
        c.prepare_cached("SELECT id FROM software_packages WHERE name = ?1 AND version = ?2")?;
    let mut version_of: HashMap<i64, &str> = HashMap::new();
    for v in versions {
        for id in packages.query_map(params![name, v], |r| r.get::<_, i64>(0))? {
            version_of.insert(id?, v.as_str());
        }
    }
    let ids: Vec<i64> = version_of.keys().copied().collect();
    let mut keys: Vec<(i64, &str)> = Vec::new();
    super::packages::holders(c, &ids, from_asset, |rows| {
        for (asset, package) in rows {
            let v = version_of[package];
            let skip = *asset == from_asset && after_version.is_some_and(|av| v <= av);
            if !skip {
                keys.push((*asset, v));
            }
        }
        // A machine with the version in two architectures is listed once.
        keys.sort_unstable();
        keys.dedup();
        keys.len() < limit
    })?;
    keys.truncate(limit);
    let mut asset = c.prepare_cached("SELECT name, hostname FROM assets WHERE id = ?1")?;
    let mut out = Vec::with_capacity(keys.len());
    for (asset_id, version) in keys {
        let found = optional(asset.query_row([asset_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        }))?;
        if let Some((name, hostname)) = found {
            out.push(Holder {
                asset_id,
                name,
                hostname,
                version: version.to_owned(),
            });
        }
    }
    Ok(out)
}

/// A title's counts for each day in `from_day..=to_day`, oldest first, days without
/// changes included as zeros.
pub fn history(c: &Connection, name: &str, from_day: i64, to_day: i64) -> DbResult<Vec<DayCounts>> {
    let mut stmt = c.prepare_cached(
        "SELECT day, installed, removed, upgraded, downgraded FROM software_daily
         WHERE name = ?1 AND day BETWEEN ?2 AND ?3",
    )?;
    let rows = stmt.query_map(params![name, from_day, to_day], |r| {
        Ok(DayCounts {
            day: r.get(0)?,
            installed: r.get(1)?,
            removed: r.get(2)?,
            upgraded: r.get(3)?,
            downgraded: r.get(4)?,
        })
    })?;
    let mut by_day: HashMap<i64, DayCounts> = HashMap::new();
    for row in rows {
        let row = row?;
        by_day.insert(row.day, row);
    }
    Ok((from_day..=to_day)
        .map(|day| {
            by_day.get(&day).copied().unwrap_or(DayCounts {
                day,
                ..Default::default()
            })
        })
        .collect())
}

/// Records what one report of a known machine did to each title (`old` was stored, `new`
/// replaces it) in the day's counts. Runs in the check-in's transaction.
pub fn record_report(c: &Connection, old: &[Software], new: &[Software], now: i64) -> DbResult<()> {
    fn pairs(l: &[Software]) -> impl Iterator<Item = (&str, &str)> {
        l.iter().map(|s| (s.name.as_str(), s.version.as_str()))
    }
    let changes = versions::title_changes(pairs(old), pairs(new));
    if changes.is_empty() {
        return Ok(());
    }
    let day = now.div_euclid(DAY);
    let mut stmt = c.prepare_cached(
        "INSERT INTO software_daily (name, day, installed, removed, upgraded, downgraded)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name, day) DO UPDATE SET installed = installed + excluded.installed,
             removed = removed + excluded.removed, upgraded = upgraded + excluded.upgraded,
             downgraded = downgraded + excluded.downgraded",
    )?;
    for (name, change) in changes {
        let one = |k: TitleChange| i64::from(change == k);
        stmt.execute(params![
            name,
            day,
            one(TitleChange::Installed),
            one(TitleChange::Removed),
            one(TitleChange::Upgraded),
            one(TitleChange::Downgraded)
        ])?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "software_tests.rs"]
mod tests;
