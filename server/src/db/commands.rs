//! Commands queued for an agent by staff, delivered in its next check-in reply.

use super::DbResult;
use rusqlite::{Connection, params};
use steward_shared::AgentCommand;

pub fn queue(
    c: &Connection,
    agent_id: &str,
    command: &AgentCommand,
    by: Option<i64>,
    now: i64,
) -> DbResult<i64> {
    let json =
        serde_json::to_string(command).map_err(|e| super::DbError::Corrupt(e.to_string()))?;
    c.execute(
        "INSERT INTO agent_commands (agent_id, command, created_at, created_by) VALUES (?1, ?2, ?3, ?4)",
        params![agent_id, json, now, by],
    )?;
    Ok(c.last_insert_rowid())
}

/// Pending commands for `agent_id`, oldest first, marked delivered.
pub fn take_pending(c: &Connection, agent_id: &str, now: i64) -> DbResult<Vec<AgentCommand>> {
    let mut stmt = c.prepare_cached(
        "UPDATE agent_commands SET delivered_at = ?2 WHERE agent_id = ?1 AND delivered_at IS NULL RETURNING id, command",
    )?;
    let mut rows: Vec<(i64, String)> = stmt
        .query_map(params![agent_id, now], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    rows.sort_by_key(|r| r.0);
    Ok(rows
        .into_iter()
        .filter_map(|(_, json)| serde_json::from_str(&json).ok())
        .collect())
}
