//! Agent releases (signed binaries and their rollout) and what agents report about
//! their own version and last self-update.

use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::Serialize;

/// A release as the API shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct AgentRelease {
    pub id: i64,
    pub version: String,
    pub os: String,
    pub arch: String,
    /// SHA-256 of the binary, lowercase hex.
    pub sha256: String,
    pub size: i64,
    /// Ed25519 signature of the release message, base64.
    pub signature: String,
    /// Share of agents (0-100, stable by agent id) offered this release.
    pub percentage: u8,
    pub paused: bool,
    /// Locations whose assets (and the places below) are offered it whatever the share.
    pub location_ids: Vec<i64>,
    /// Agents offered it whatever the share.
    pub agent_ids: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A release to record (its binary already stored).
#[derive(Debug, Clone, Default)]
pub struct NewRelease {
    pub version: String,
    pub os: String,
    pub arch: String,
    pub sha256: String,
    pub size: i64,
    pub signature: String,
    pub percentage: u8,
    pub paused: bool,
    pub location_ids: Vec<i64>,
    pub agent_ids: Vec<String>,
}

/// Changes to a release's rollout; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct RolloutChange {
    pub percentage: Option<u8>,
    pub paused: Option<bool>,
    pub location_ids: Option<Vec<i64>>,
    pub agent_ids: Option<Vec<String>>,
}

const COLUMNS: &str = "id, version, os, arch, sha256, size, signature, percentage, paused, \
                       location_ids, agent_ids, created_at, updated_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgentRelease> {
    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(AgentRelease {
        id: r.get(0)?,
        version: r.get(1)?,
        os: r.get(2)?,
        arch: r.get(3)?,
        sha256: r.get(4)?,
        size: r.get(5)?,
        signature: r.get(6)?,
        percentage: r.get(7)?,
        paused: r.get(8)?,
        location_ids: serde_json::from_str(&json(9)?).unwrap_or_default(),
        agent_ids: serde_json::from_str(&json(10)?).unwrap_or_default(),
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Records a release; `None` when one for that platform and version exists.
pub fn insert(c: &Connection, r: &NewRelease, now: i64) -> DbResult<Option<i64>> {
    let n = c.execute(
        "INSERT OR IGNORE INTO agent_releases (version, os, arch, sha256, size, signature,
             percentage, paused, location_ids, agent_ids, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
        params![
            r.version,
            r.os,
            r.arch,
            r.sha256,
            r.size,
            r.signature,
            r.percentage,
            r.paused,
            to_json(&r.location_ids),
            to_json(&r.agent_ids),
            now
        ],
    )?;
    Ok((n == 1).then(|| c.last_insert_rowid()))
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<AgentRelease>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM agent_releases WHERE id = ?1"),
        [id],
        from_row,
    ))
}

/// Every release, newest first.
pub fn list(c: &Connection) -> DbResult<Vec<AgentRelease>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM agent_releases ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Releases for a platform that are not paused (the candidates for an offer).
pub fn live_for(c: &Connection, os: &str, arch: &str) -> DbResult<Vec<AgentRelease>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM agent_releases WHERE os = ?1 AND arch = ?2 AND paused = 0"
    ))?;
    let rows = stmt.query_map([os, arch], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Applies `change`; the release after it, or `None` when there is no such release.
pub fn change(
    c: &Connection,
    id: i64,
    change: &RolloutChange,
    now: i64,
) -> DbResult<Option<AgentRelease>> {
    let Some(mut r) = get(c, id)? else {
        return Ok(None);
    };
    if let Some(p) = change.percentage {
        r.percentage = p;
    }
    if let Some(p) = change.paused {
        r.paused = p;
    }
    if let Some(l) = &change.location_ids {
        r.location_ids = l.clone();
    }
    if let Some(a) = &change.agent_ids {
        r.agent_ids = a.clone();
    }
    r.updated_at = now;
    c.execute(
        "UPDATE agent_releases SET percentage = ?2, paused = ?3, location_ids = ?4,
             agent_ids = ?5, updated_at = ?6 WHERE id = ?1",
        params![
            id,
            r.percentage,
            r.paused,
            to_json(&r.location_ids),
            to_json(&r.agent_ids),
            now
        ],
    )?;
    Ok(Some(r))
}

/// Records what an agent said about its running version, platform and last update
/// (written only when something changed).
pub fn record_status(
    c: &Connection,
    agent_id: &str,
    version: &str,
    platform: &str,
    error: Option<&str>,
) -> DbResult<()> {
    c.prepare_cached(
        "UPDATE agents SET agent_version = ?2, platform = ?3, update_error = ?4
         WHERE id = ?1
           AND (agent_version IS NOT ?2 OR platform IS NOT ?3 OR update_error IS NOT ?4)",
    )?
    .execute(params![agent_id, version, platform, error])?;
    Ok(())
}

/// The agent's asset's location and every place above it.
pub fn agent_locations(c: &Connection, agent_id: &str) -> DbResult<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE up(id) AS (
             SELECT assets.location_id FROM agents JOIN assets ON assets.id = agents.asset_id
             WHERE agents.id = ?1 AND assets.location_id IS NOT NULL
             UNION SELECT locations.parent_id FROM locations JOIN up ON locations.id = up.id
             WHERE locations.parent_id IS NOT NULL)
         SELECT id FROM up",
    )?;
    let rows = stmt.query_map([agent_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many active (not revoked) agents run each version on each platform, most first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCount {
    pub version: String,
    /// `os/arch`; empty when the agent never said (agents older than self-update).
    pub platform: String,
    pub agents: i64,
}

pub fn fleet_versions(c: &Connection) -> DbResult<Vec<VersionCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT coalesce(agent_version, ''), coalesce(platform, ''), count(*) AS n
         FROM agents WHERE revoked_at IS NULL
         GROUP BY 1, 2 ORDER BY n DESC, 1 DESC, 2",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(VersionCount {
            version: r.get(0)?,
            platform: r.get(1)?,
            agents: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// An active agent whose last self-update failed (or was rolled back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateProblem {
    pub agent_id: String,
    pub hostname: String,
    pub asset_id: Option<i64>,
    pub version: String,
    pub error: String,
    pub last_seen_at: Option<i64>,
}

/// Active agents reporting an update error, most recently seen first; `asset_id` limits
/// them to one asset's agents.
pub fn update_problems(
    c: &Connection,
    asset_id: Option<i64>,
    limit: i64,
) -> DbResult<Vec<UpdateProblem>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, hostname, asset_id, coalesce(agent_version, ''), update_error, last_seen_at
         FROM agents
         WHERE revoked_at IS NULL AND update_error IS NOT NULL
           AND (?1 IS NULL OR asset_id = ?1)
         ORDER BY last_seen_at DESC, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![asset_id, limit], |r| {
        Ok(UpdateProblem {
            agent_id: r.get(0)?,
            hostname: r.get(1)?,
            asset_id: r.get(2)?,
            version: r.get(3)?,
            error: r.get(4)?,
            last_seen_at: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
