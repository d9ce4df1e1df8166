//! The check-in protocol: a per-agent chain of full reports, deltas and heartbeats.
//!
//! A report applies only on top of the digest the server stored for the agent; a
//! sequence number already applied is acknowledged and ignored (a retry after a lost
//! reply is never applied twice); a broken chain (restored backup, dropped spool, lost
//! agent state) is answered with `SendFullReport` and nothing is applied.

use super::query_row_cached;
use super::{DbResult, alerts, commands, inventory};
use crate::domain::alerts::{Thresholds, evaluate};
use rusqlite::{Connection, params};
use steward_shared::{AgentCommand, CheckinRequest, ReportKind};

/// What the server answers and did.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckinReply {
    pub asset_id: i64,
    pub commands: Vec<AgentCommand>,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied; `created` when a new asset was made.
    Applied { created: bool, changes: usize },
    /// A sequence number already applied: acknowledged, not applied again.
    Duplicate,
    /// The report does not build on what the server has; a full report was requested.
    FullRequested,
    /// The agent was revoked (by another process, or since its credential was checked):
    /// nothing was applied.
    Revoked,
}

struct Chain {
    revoked: bool,
    last_seq: u64,
    digest: String,
    asset_id: Option<i64>,
    enrolled_at: i64,
}

fn chain(c: &Connection, agent_id: &str) -> DbResult<Chain> {
    Ok(query_row_cached(
        c,
        "SELECT last_seq, inventory_digest, asset_id, enrolled_at, revoked_at IS NOT NULL FROM agents WHERE id = ?1",
        [agent_id],
        |r| {
            Ok(Chain {
                last_seq: r.get::<_, i64>(0)?.max(0) as u64,
                digest: r.get(1)?,
                asset_id: r.get(2)?,
                enrolled_at: r.get(3)?,
                revoked: r.get(4)?,
            })
        },
    )?)
}

/// A delta that changes software only: applied title by title, without loading the
/// machine's whole inventory (the most common delta: a package upgraded).
fn software_only(d: &steward_shared::InventoryDelta) -> bool {
    d.system.is_none() && d.disks.is_none() && d.network.is_none() && d.logged_in_users.is_none()
}

/// The [`super::packages::digest`] of a full report's software, worked out before the
/// report goes to the writer thread (it is a sort and a hash of ~500 keys), else `None`.
pub fn full_digest(req: &CheckinRequest) -> Option<String> {
    (req.kind == ReportKind::Full).then(|| super::packages::digest(&req.inventory.software))
}

/// Handles one check-in from an authenticated agent, inside the caller's transaction.
/// `digest`: [`full_digest`] of `req`, when the caller has it.
pub fn handle(
    c: &Connection,
    agent_id: &str,
    req: CheckinRequest,
    digest: Option<&str>,
    ip: &str,
    now: i64,
    thresholds: &Thresholds,
) -> DbResult<CheckinReply> {
    let chain = chain(c, agent_id)?;
    if chain.revoked {
        return Ok(CheckinReply {
            asset_id: chain.asset_id.unwrap_or(0),
            commands: Vec::new(),
            outcome: Outcome::Revoked,
        });
    }
    let pending = commands::take_pending(c, agent_id, now)?;
    if req.seq > 0 && req.seq <= chain.last_seq {
        return Ok(CheckinReply {
            asset_id: chain.asset_id.unwrap_or(0),
            commands: pending,
            outcome: Outcome::Duplicate,
        });
    }
    let builds_on_stored =
        |base: &str| chain.asset_id.is_some() && !chain.digest.is_empty() && base == chain.digest;
    let (asset_id, outcome) = match (req.kind, chain.asset_id) {
        (ReportKind::Full, _) => {
            let o = inventory::apply_with_digest(
                c,
                agent_id,
                chain.enrolled_at,
                &req.inventory,
                digest,
                &req.health,
                ip,
                now,
            )?;
            (
                o.asset_id,
                Outcome::Applied {
                    created: o.created,
                    changes: o.changes,
                },
            )
        }
        (ReportKind::Delta, Some(asset_id))
            if builds_on_stored(&req.base_digest)
                && req.delta.as_ref().is_some_and(software_only) =>
        {
            let delta = req.delta.as_ref().expect("checked by the guard");
            let o = inventory::apply_software_delta(
                c,
                agent_id,
                asset_id,
                delta,
                &req.health,
                ip,
                now,
            )?;
            (
                o.asset_id,
                Outcome::Applied {
                    created: o.created,
                    changes: o.changes,
                },
            )
        }
        (ReportKind::Delta, Some(asset_id)) if builds_on_stored(&req.base_digest) => {
            let mut inv = inventory::stored_inventory(c, asset_id)?;
            req.delta.clone().unwrap_or_default().apply_to(&mut inv);
            let o = inventory::apply(c, agent_id, chain.enrolled_at, &inv, &req.health, ip, now)?;
            (
                o.asset_id,
                Outcome::Applied {
                    created: o.created,
                    changes: o.changes,
                },
            )
        }
        (ReportKind::Heartbeat, Some(asset_id)) if builds_on_stored(&req.base_digest) => {
            inventory::store_health(c, asset_id, &req.health, now)?;
            c.prepare_cached("UPDATE agents SET last_seen_at = ?2, last_ip = ?3 WHERE id = ?1")?
                .execute(params![agent_id, now, ip])?;
            (
                asset_id,
                Outcome::Applied {
                    created: false,
                    changes: 0,
                },
            )
        }
        _ => {
            tracing::info!(
                agent_id,
                seq = req.seq,
                "report does not build on the stored state; asking for a full report"
            );
            let mut cmds = vec![AgentCommand::SendFullReport];
            cmds.extend(pending);
            return Ok(CheckinReply {
                asset_id: chain.asset_id.unwrap_or(0),
                commands: cmds,
                outcome: Outcome::FullRequested,
            });
        }
    };
    alerts::sync_health(c, asset_id, &evaluate(&req.health, thresholds), now)?;
    c.prepare_cached(
        "UPDATE agents SET last_seq = max(last_seq, ?2), inventory_digest = ?3 WHERE id = ?1",
    )?
    .execute(params![agent_id, req.seq as i64, req.digest])?;
    Ok(CheckinReply {
        asset_id,
        commands: pending,
        outcome,
    })
}
