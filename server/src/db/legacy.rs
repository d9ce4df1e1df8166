//! Storing what legacy agents report: each device gets an agents row of its kind (keyed
//! "<kind>:<device id>", no secret), then the inventory takes the same path as our own
//! agent's full reports: the same asset matching, software, history and health.

use super::{DbResult, alerts, inventory, optional};
use crate::domain::alerts::{Thresholds, evaluate};
use crate::legacy::report::{LegacyReport, Section};
use rusqlite::{Connection, params};
use steward_shared::inventory::Inventory;

/// Which legacy agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    FusionInventory,
    Ocs,
    Glpi,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::FusionInventory => "fusioninventory",
            Kind::Ocs => "ocs",
            Kind::Glpi => "glpi",
        }
    }

    /// From the agent name the parsers give ("FusionInventory 2.6", "OCS 2.10",
    /// "GLPI Agent 1.7"); XML documents default to OCS.
    pub fn of(agent: &str, json: bool) -> Kind {
        let a = agent.to_ascii_lowercase();
        if json || a.starts_with("glpi") {
            Kind::Glpi
        } else if a.contains("fusion") {
            Kind::FusionInventory
        } else {
            Kind::Ocs
        }
    }
}

/// What storing a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Applied {
        asset_id: i64,
        created: bool,
    },
    /// An admin revoked this device: its reports are refused.
    Revoked,
}

/// What a read says of a device making contact: known and not revoked, seen since
/// `since` (`Some(true)`: answer without writing), revoked (`Some(false)`), or anything
/// else (`None`: record the contact with [`contact`]).
pub fn contact_from_read(
    c: &Connection,
    kind: Kind,
    device_id: &str,
    since: i64,
) -> DbResult<Option<bool>> {
    let row: Option<(Option<i64>, Option<i64>)> = optional(
        c.prepare_cached("SELECT revoked_at, last_seen_at FROM agents WHERE id = ?1")?
            .query_row([format!("{}:{device_id}", kind.as_str())], |r| {
                Ok((r.get(0)?, r.get(1)?))
            }),
    )?;
    Ok(match row {
        Some((Some(_), _)) => Some(false),
        Some((None, Some(seen))) if seen >= since => Some(true),
        _ => None,
    })
}

/// Records that a device made contact (PROLOG, CONTACT) without an inventory. Returns
/// false when the device is revoked.
pub fn contact(
    c: &Connection,
    kind: Kind,
    device_id: &str,
    agent: &str,
    ip: &str,
    now: i64,
) -> DbResult<bool> {
    let id = ensure(c, kind, device_id, agent, now)?;
    let revoked: Option<i64> =
        c.query_row("SELECT revoked_at FROM agents WHERE id = ?1", [&id], |r| {
            r.get(0)
        })?;
    if revoked.is_some() {
        return Ok(false);
    }
    c.prepare_cached(
        "UPDATE agents SET last_seen_at = ?2, last_ip = ?3, agent_version = ?4 WHERE id = ?1",
    )?
    .execute(params![id, now, ip, agent])?;
    Ok(true)
}

fn ensure(c: &Connection, kind: Kind, device_id: &str, agent: &str, now: i64) -> DbResult<String> {
    let id = format!("{}:{device_id}", kind.as_str());
    c.prepare_cached(
        "INSERT OR IGNORE INTO agents (id, secret_hash, agent_version, enrolled_at, kind)
         VALUES (?1, '', ?2, ?3, ?4)",
    )?
    .execute(params![id, agent, now, kind.as_str()])?;
    Ok(id)
}

/// Stores an inventory. A partial one (GLPI Agent) replaces only the sections it carries.
/// When our own agent reported the same machine within `fresh_secs`, the asset keeps its
/// inventory and the legacy agent is only recorded as seen.
pub fn store(
    c: &Connection,
    kind: Kind,
    report: &LegacyReport,
    ip: &str,
    thresholds: &Thresholds,
    fresh_secs: i64,
    now: i64,
) -> DbResult<Stored> {
    let id = ensure(c, kind, &report.device_id, &report.agent, now)?;
    let (enrolled_at, revoked, asset): (i64, Option<i64>, Option<i64>) = c.query_row(
        "SELECT enrolled_at, revoked_at, asset_id FROM agents WHERE id = ?1",
        [&id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if revoked.is_some() {
        return Ok(Stored::Revoked);
    }
    let keys = crate::domain::identity::keys(&report.inventory);
    let mut asset = asset;
    if asset.is_none()
        && keys.is_empty()
        && let Some(found) = same_machine(c, &report.inventory)?
    {
        // No hardware identity in the document (no SMBIOS, as in containers and some
        // VMs): the asset with the same hostname and one of its MAC addresses is this
        // machine, typically already reported by our own agent.
        c.prepare_cached("UPDATE agents SET asset_id = ?2 WHERE id = ?1")?
            .execute(params![id, found])?;
        asset = Some(found);
    }
    // Where our own agent reports this machine, its richer inventory stays: the legacy
    // report only says the device is alive (no flapping between two agents' views).
    let target = match asset {
        Some(a) => Some(a),
        None => inventory::match_asset(c, &keys)?,
    };
    if let Some(asset_id) = target
        && steward_agent_active(c, asset_id, now - fresh_secs)?
    {
        super::agents::mark_seen(
            c,
            &id,
            asset_id,
            &report.inventory.hostname,
            &report.agent,
            ip,
            now,
        )?;
        return Ok(Stored::Applied {
            asset_id,
            created: false,
        });
    }
    let mut inv = match (&report.partial, asset) {
        (Some(sections), Some(asset_id)) => {
            let mut stored = inventory::stored_inventory(c, asset_id)?;
            overlay(&mut stored, &report.inventory, sections);
            stored
        }
        _ => report.inventory.clone(),
    };
    inv.agent_version = report.agent.clone();
    let o = inventory::apply(c, &id, enrolled_at, &inv, &report.health, ip, now)?;
    alerts::sync_health(c, o.asset_id, &evaluate(&report.health, thresholds), now)?;
    Ok(Stored::Applied {
        asset_id: o.asset_id,
        created: o.created,
    })
}

/// Whether a Steward agent, not revoked, reported `asset_id` since `since`.
fn steward_agent_active(c: &Connection, asset_id: i64, since: i64) -> DbResult<bool> {
    Ok(optional(
        c.prepare_cached(
            "SELECT 1 FROM agents WHERE asset_id = ?1 AND kind = 'steward' AND revoked_at IS NULL
             AND last_seen_at >= ?2 LIMIT 1",
        )?
        .query_row(params![asset_id, since], |_| Ok(())),
    )?
    .is_some())
}

/// The asset with this inventory's hostname whose primary MAC address is one of its
/// interfaces' (hostname and MAC together; never either alone).
fn same_machine(c: &Connection, inv: &Inventory) -> DbResult<Option<i64>> {
    if inv.hostname.trim().is_empty() {
        return Ok(None);
    }
    let mut stmt = c.prepare_cached(
        "SELECT id FROM assets WHERE hostname = ?1 COLLATE NOCASE AND primary_mac = ?2 COLLATE NOCASE
         ORDER BY last_seen_at DESC LIMIT 1",
    )?;
    for n in &inv.network {
        if n.mac.is_empty() || n.mac.chars().all(|ch| ch == '0' || ch == ':') {
            continue;
        }
        if let Some(id) = optional(stmt.query_row(params![inv.hostname, n.mac], |r| r.get(0)))? {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Copies the sections a partial inventory carries onto the stored one.
pub fn overlay(stored: &mut Inventory, partial: &Inventory, sections: &[Section]) {
    for s in sections {
        match s {
            Section::Hardware => {
                stored.hardware = partial.hardware.clone();
                if !partial.hostname.is_empty() {
                    stored.hostname = partial.hostname.clone();
                }
            }
            Section::Os => stored.os = partial.os.clone(),
            Section::Cpu => stored.cpu = partial.cpu.clone(),
            Section::Memory => stored.memory = partial.memory.clone(),
            Section::Disks => stored.disks = partial.disks.clone(),
            Section::Network => stored.network = partial.network.clone(),
            Section::Users => stored.logged_in_users = partial.logged_in_users.clone(),
            Section::Software => stored.software = partial.software.clone(),
        }
    }
    stored.collected_at = partial.collected_at.max(stored.collected_at);
}

/// Who reported an asset, newest first: (kind, agent name and version, last seen).
pub fn reporters(c: &Connection, asset_id: i64) -> DbResult<Vec<(String, String, Option<i64>)>> {
    let mut stmt = c.prepare_cached(
        "SELECT kind, agent_version, last_seen_at FROM agents
         WHERE asset_id = ?1 AND revoked_at IS NULL ORDER BY last_seen_at DESC",
    )?;
    let rows = stmt.query_map([asset_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Whether a legacy device exists (for tests and the admin UI).
pub fn exists(c: &Connection, kind: Kind, device_id: &str) -> DbResult<bool> {
    Ok(optional(c.query_row(
        "SELECT 1 FROM agents WHERE id = ?1",
        [format!("{}:{device_id}", kind.as_str())],
        |_| Ok(()),
    ))?
    .is_some())
}
