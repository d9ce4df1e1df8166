//! Enrolled agents: an id and a hashed secret per machine; revocable.

use super::{DbResult, optional};
use super::{execute_cached, query_row_cached};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Agent {
    pub id: String,
    pub asset_id: Option<i64>,
    pub hostname: String,
    pub agent_version: String,
    pub enrolled_at: i64,
    pub last_seen_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The last report applied (0 before delta reporting).
    pub last_seq: i64,
    /// `os/arch` as the agent reports it (agents that self-update).
    pub platform: String,
    /// Why the agent's last self-update failed or was rolled back.
    pub update_error: Option<String>,
}

/// Why an agent credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentRefusal {
    Unknown,
    Revoked,
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: r.get(0)?,
        asset_id: r.get(1)?,
        hostname: r.get(2)?,
        agent_version: r.get(3)?,
        enrolled_at: r.get(4)?,
        last_seen_at: r.get(5)?,
        revoked_at: r.get(6)?,
        last_seq: r.get(7)?,
        platform: r.get(8)?,
        update_error: r.get(9)?,
    })
}

pub fn insert(
    c: &Connection,
    id: &str,
    secret: &str,
    enrollment_token_id: i64,
    hostname: &str,
    agent_version: &str,
    now: i64,
) -> DbResult<()> {
    execute_cached(c,
        "INSERT INTO agents (id, secret_hash, enrollment_token_id, hostname, agent_version, enrolled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, crate::crypto::token_hash(secret), enrollment_token_id, hostname, agent_version, now],
    )?;
    Ok(())
}

/// Checks an agent's `id.secret` credential.
pub fn authenticate(c: &Connection, id: &str, secret: &str) -> DbResult<Result<(), AgentRefusal>> {
    let row: Option<(String, Option<i64>)> = optional(query_row_cached(
        c,
        "SELECT secret_hash, revoked_at FROM agents WHERE id = ?1",
        [id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    Ok(match row {
        None => Err(AgentRefusal::Unknown),
        Some((hash, _))
            if !crate::crypto::constant_time_eq(&hash, &crate::crypto::token_hash(secret)) =>
        {
            Err(AgentRefusal::Unknown)
        }
        Some((_, Some(_))) => Err(AgentRefusal::Revoked),
        Some((_, None)) => Ok(()),
    })
}

pub fn revoke(c: &Connection, id: &str, now: i64) -> DbResult<bool> {
    Ok(execute_cached(
        c,
        "UPDATE agents SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id, now],
    )? == 1)
}

pub fn by_asset(c: &Connection, asset_id: i64) -> DbResult<Vec<Agent>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, asset_id, hostname, agent_version, enrolled_at, last_seen_at, revoked_at, last_seq, platform, update_error
         FROM agents WHERE asset_id = ?1 ORDER BY enrolled_at",
    )?;
    let rows = stmt.query_map([asset_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Connection, id: &str) -> DbResult<Option<Agent>> {
    optional(query_row_cached(
        c,
        "SELECT id, asset_id, hostname, agent_version, enrolled_at, last_seen_at, revoked_at, last_seq, platform, update_error FROM agents WHERE id = ?1",
        [id],
        from_row,
    ))
}

pub fn mark_seen(
    c: &Connection,
    id: &str,
    asset_id: i64,
    hostname: &str,
    version: &str,
    ip: &str,
    now: i64,
) -> DbResult<()> {
    execute_cached(
        c,
        "UPDATE agents SET asset_id = ?2, hostname = ?3, agent_version = ?4, last_ip = ?5, last_seen_at = ?6 WHERE id = ?1",
        params![id, asset_id, hostname, version, ip, now],
    )?;
    Ok(())
}

/// Agents ordered by id, after `after`.
pub fn list(c: &Connection, after: Option<&str>, limit: u32) -> DbResult<Vec<Agent>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, asset_id, hostname, agent_version, enrolled_at, last_seen_at, revoked_at, last_seq, platform, update_error
         FROM agents WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after.unwrap_or(""), limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
