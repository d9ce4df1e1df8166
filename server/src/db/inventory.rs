//! Applying a whole inventory: match it to an asset by hardware identity (flagging
//! clones), create or update the asset, store software and health, and record what
//! changed in history.

use super::asset_records::history;
use super::{DbResult, optional};
use super::{execute_cached, query_row_cached};
use crate::domain::changes::{self, SoftwareChange};
use crate::domain::identity::{self, IdentityKey};
use rusqlite::{Connection, params};
use steward_shared::{Health, Inventory, Software};

/// Most software history rows written for one report; the rest is summarised.
const MAX_SOFTWARE_HISTORY: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct CheckinOutcome {
    pub asset_id: i64,
    pub created: bool,
    /// History rows written.
    pub changes: usize,
}

/// Applies a whole inventory reported by `agent_id` (enrolled at `enrolled_at`).
/// Runs inside the caller's write transaction.
pub fn apply(
    c: &Connection,
    agent_id: &str,
    enrolled_at: i64,
    inv: &Inventory,
    health: &Health,
    ip: &str,
    now: i64,
) -> DbResult<CheckinOutcome> {
    apply_with_digest(c, agent_id, enrolled_at, inv, None, health, ip, now)
}

/// [`apply`], with `digest` the [`super::packages::digest`] of `inv.software` when the
/// caller worked it out already (off the writer thread).
#[allow(clippy::too_many_arguments)]
pub fn apply_with_digest(
    c: &Connection,
    agent_id: &str,
    enrolled_at: i64,
    inv: &Inventory,
    digest: Option<&str>,
    health: &Health,
    ip: &str,
    now: i64,
) -> DbResult<CheckinOutcome> {
    let keys = identity::keys(inv);
    let previous: Option<i64> = optional(query_row_cached(
        c,
        "SELECT asset_id FROM agents WHERE id = ?1",
        [agent_id],
        |r| r.get(0),
    ))?
    .flatten();
    let matched = match_asset(c, &keys)?.or(if keys.is_empty() { previous } else { None });
    let clone_of = match matched {
        Some(m) => live_agent_elsewhere(c, m, agent_id, enrolled_at)?.map(|other| (m, other)),
        None => None,
    };
    // A clone keeps (or gets) an asset of its own instead of taking over the original.
    let target = match clone_of {
        Some((m, _)) => previous.filter(|p| *p != m),
        None => matched,
    };
    let actor = format!("agent:{agent_id}");
    let outcome = match target {
        Some(asset_id) => update_asset_with(c, asset_id, inv, None, digest, &actor, now)?,
        None => create_asset(c, inv, digest, &actor, now)?,
    };
    if let Some((original, other_agent)) = clone_of {
        flag_clone(c, outcome.asset_id, original, &other_agent, &actor, now)?;
    }
    for key in &keys {
        c.prepare_cached(
            "INSERT OR IGNORE INTO asset_identities (kind, value, asset_id) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![key.kind, key.value, outcome.asset_id])?;
    }
    store_health(c, outcome.asset_id, health, now)?;
    update_search_index(c, outcome.asset_id)?;
    super::agents::mark_seen(
        c,
        agent_id,
        outcome.asset_id,
        &inv.hostname,
        &inv.agent_version,
        ip,
        now,
    )?;
    Ok(outcome)
}

/// Another agent of the same kind, not revoked, bound to `asset_id` and heard from after
/// `enrolled_at` (so both run at the same time): the report is from a clone, not a
/// re-enrollment. (Our agent and a FusionInventory agent on one machine are not clones.)
fn live_agent_elsewhere(
    c: &Connection,
    asset_id: i64,
    agent_id: &str,
    enrolled_at: i64,
) -> DbResult<Option<String>> {
    optional(query_row_cached(c,
        "SELECT id FROM agents WHERE asset_id = ?1 AND id <> ?2 AND revoked_at IS NULL AND last_seen_at > ?3
             AND kind = (SELECT kind FROM agents WHERE id = ?2)
         ORDER BY last_seen_at DESC LIMIT 1",
        params![asset_id, agent_id, enrolled_at],
        |r| r.get(0),
    ))
}

fn flag_clone(
    c: &Connection,
    asset_id: i64,
    original: i64,
    other_agent: &str,
    actor: &str,
    now: i64,
) -> DbResult<()> {
    let already: Option<i64> = query_row_cached(
        c,
        "SELECT clone_of FROM assets WHERE id = ?1",
        [asset_id],
        |r| r.get(0),
    )?;
    if already == Some(original) {
        return Ok(());
    }
    execute_cached(
        c,
        "UPDATE assets SET clone_of = ?2 WHERE id = ?1",
        params![asset_id, original],
    )?;
    tracing::warn!(
        asset_id,
        original,
        other_agent,
        "possible clone: two agents report one hardware identity"
    );
    let text = format!(
        "shares its hardware identity with asset {original}, whose agent {other_agent} is still reporting"
    );
    history(
        c,
        asset_id,
        now,
        actor,
        "clone_suspected",
        "identity",
        None,
        Some(&text),
    )?;
    let text = format!("asset {asset_id} reports the same hardware identity (possible clone)");
    history(
        c,
        original,
        now,
        actor,
        "clone_suspected",
        "identity",
        None,
        Some(&text),
    )?;
    Ok(())
}

/// The stored inventory of an asset, software included: the base a delta applies to.
pub fn stored_inventory(c: &Connection, asset_id: i64) -> DbResult<Inventory> {
    let mut inv = stored_without_software(c, asset_id)?;
    inv.software = super::packages::load(c, asset_id)?;
    Ok(inv)
}

/// The stored inventory of an asset without its software (`assets.inventory_json`).
fn stored_without_software(c: &Connection, asset_id: i64) -> DbResult<Inventory> {
    let json: Option<String> = query_row_cached(
        c,
        "SELECT inventory_json FROM assets WHERE id = ?1",
        [asset_id],
        |r| r.get(0),
    )?;
    match json {
        Some(j) => serde_json::from_str(&j).map_err(|e| super::DbError::Corrupt(e.to_string())),
        None => Ok(Inventory::default()),
    }
}

pub(crate) fn match_asset(c: &Connection, keys: &[IdentityKey]) -> DbResult<Option<i64>> {
    let err = std::cell::RefCell::new(None);
    let keep = |r: DbResult<Option<i64>>| {
        r.unwrap_or_else(|e| {
            err.borrow_mut().get_or_insert(e);
            None
        })
    };
    let found = identity::choose_asset(
        keys,
        |k| {
            keep(optional(query_row_cached(
                c,
                "SELECT asset_id FROM asset_identities WHERE kind = ?1 AND value = ?2",
                params![k.kind, k.value],
                |r| r.get(0),
            )))
        },
        |asset| {
            held_keys(c, asset).unwrap_or_else(|e| {
                err.borrow_mut().get_or_insert(e);
                Vec::new()
            })
        },
    );
    match err.into_inner() {
        Some(e) => Err(e),
        None => Ok(found),
    }
}

fn held_keys(c: &Connection, asset_id: i64) -> DbResult<Vec<IdentityKey>> {
    let mut stmt =
        c.prepare_cached("SELECT kind, value FROM asset_identities WHERE asset_id = ?1")?;
    let rows = stmt.query_map([asset_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (kind, value) = row?;
        if let Some(kind) = identity::KINDS.iter().copied().find(|k| *k == kind) {
            out.push(IdentityKey { kind, value });
        }
    }
    Ok(out)
}

/// The summary columns of an asset, derived from a report.
struct Columns {
    ip: String,
    mac: String,
}

fn columns(inv: &Inventory) -> Columns {
    let nic = inv
        .network
        .iter()
        .find(|n| !n.mac.is_empty() && n.ips.iter().any(|ip| ip.contains('.')))
        .or_else(|| inv.network.iter().find(|n| !n.mac.is_empty()));
    Columns {
        ip: nic
            .and_then(|n| n.ips.iter().find(|ip| ip.contains('.')).or(n.ips.first()))
            .cloned()
            .unwrap_or_default(),
        mac: nic.map(|n| n.mac.clone()).unwrap_or_default(),
    }
}

/// Writes the asset's columns from `inv`; with `software` `Some`, its software changed:
/// its count is taken again and its digest set (`None` inside: unknown).
fn write_columns(
    c: &Connection,
    asset_id: i64,
    inv: &Inventory,
    name: &str,
    software: Option<Option<&str>>,
    now: i64,
) -> DbResult<()> {
    let cols = columns(inv);
    let stored = inv.without_software();
    let json =
        serde_json::to_string(&stored).map_err(|e| super::DbError::Corrupt(e.to_string()))?;
    c.prepare_cached(
        "UPDATE assets SET name = ?2, hostname = ?3, vendor = ?4, model = ?5, serial = ?6, os_name = ?7,
            os_version = ?8, kernel = ?9, cpu_model = ?10, cpu_cores = ?11, memory_bytes = ?12,
            primary_ip = ?13, primary_mac = ?14, inventory_json = ?15, last_seen_at = ?16, updated_at = ?16,
            software_count = CASE WHEN ?17 THEN (SELECT count(*) FROM asset_packages WHERE asset_id = ?1)
                                  ELSE software_count END,
            software_digest = CASE WHEN ?17 THEN ?18 ELSE software_digest END
         WHERE id = ?1",
    )?
    .execute(params![
        asset_id,
        name,
        inv.hostname,
        inv.hardware.vendor,
        inv.hardware.model,
        inv.hardware.serial,
        inv.os.name,
        inv.os.version,
        inv.os.kernel,
        inv.cpu.model,
        inv.cpu.logical_cores,
        inv.memory.total_bytes as i64,
        cols.ip,
        cols.mac,
        json,
        now,
        software.is_some(),
        software.flatten()
    ])?;
    Ok(())
}

fn create_asset(
    c: &Connection,
    inv: &Inventory,
    digest: Option<&str>,
    actor: &str,
    now: i64,
) -> DbResult<CheckinOutcome> {
    let name = if inv.hostname.is_empty() {
        "unnamed computer"
    } else {
        inv.hostname.as_str()
    };
    execute_cached(
        c,
        "INSERT INTO assets (kind, name, state_id, first_seen_at, created_at, updated_at) VALUES ('computer', ?1, 2, ?2, ?2, ?2)",
        params![name, now],
    )?;
    let asset_id = c.last_insert_rowid();
    super::packages::store(c, asset_id, &[], &inv.software)?;
    let digest = digest.map_or_else(|| super::packages::digest(&inv.software), str::to_owned);
    write_columns(c, asset_id, inv, name, Some(Some(&digest)), now)?;
    history(
        c,
        asset_id,
        now,
        actor,
        "created",
        "",
        None,
        Some(&format!(
            "first report from {} ({} software packages)",
            inv.hostname,
            inv.software.len()
        )),
    )?;
    Ok(CheckinOutcome {
        asset_id,
        created: true,
        changes: 1,
    })
}

/// Applies `inv` to asset `asset_id`. With `old_titles`, `inv.software` holds only some
/// titles (every stored row of each, changed) and `old_titles` their stored rows: the
/// other titles are left alone instead of loaded and compared. `digest`: as for
/// [`apply_with_digest`].
fn update_asset_with(
    c: &Connection,
    asset_id: i64,
    inv: &Inventory,
    old_titles: Option<Vec<Software>>,
    digest: Option<&str>,
    actor: &str,
    now: i64,
) -> DbResult<CheckinOutcome> {
    let (name, old_json, old_digest): (String, Option<String>, Option<String>) = query_row_cached(
        c,
        "SELECT name, inventory_json, software_digest FROM assets WHERE id = ?1",
        [asset_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let old: Inventory = old_json
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let mut written = 0;
    for ch in changes::inventory_changes(&old, inv) {
        history(
            c,
            asset_id,
            now,
            actor,
            "changed",
            ch.field,
            Some(&ch.old),
            Some(&ch.new),
        )?;
        written += 1;
    }
    // A full report whose software digest is the stored one changes no row.
    let new_digest = old_titles
        .is_none()
        .then(|| digest.map_or_else(|| super::packages::digest(&inv.software), str::to_owned));
    let unchanged = new_digest.is_some() && new_digest == old_digest;
    let old_software = match old_titles {
        Some(rows) => rows,
        None if unchanged => Vec::new(),
        None => super::packages::load(c, asset_id)?,
    };
    let sw_changes = if unchanged {
        Vec::new()
    } else {
        changes::software_changes(&old_software, &inv.software)
    };
    if !sw_changes.is_empty() {
        super::packages::store(c, asset_id, &old_software, &inv.software)?;
        super::software::record_report(c, &old_software, &inv.software, now)?;
    }
    let software = (!unchanged).then_some(new_digest.as_deref());
    for ch in sw_changes.iter().take(MAX_SOFTWARE_HISTORY) {
        let (field, old, new) = match ch {
            SoftwareChange::Installed { name, version } => (name, None, Some(version.as_str())),
            SoftwareChange::Removed { name, version } => (name, Some(version.as_str()), None),
            SoftwareChange::Updated { name, old, new } => {
                (name, Some(old.as_str()), Some(new.as_str()))
            }
        };
        history(c, asset_id, now, actor, ch.kind(), field, old, new)?;
        written += 1;
    }
    if sw_changes.len() > MAX_SOFTWARE_HISTORY {
        let more = (sw_changes.len() - MAX_SOFTWARE_HISTORY).to_string();
        history(
            c,
            asset_id,
            now,
            actor,
            "software_changes_truncated",
            "",
            None,
            Some(&more),
        )?;
        written += 1;
    }
    // Keep a name someone typed; follow the hostname otherwise.
    let new_name = if name == old.hostname && !inv.hostname.is_empty() {
        inv.hostname.clone()
    } else {
        name
    };
    write_columns(c, asset_id, inv, &new_name, software, now)?;
    Ok(CheckinOutcome {
        asset_id,
        created: false,
        changes: written,
    })
}

/// Applies a delta that changes only software (and health) to `asset_id`, the asset its
/// agent's chain is bound to: loads the stored rows of the titles it touches, not the
/// whole machine, and leaves the search index alone (no searchable column changes).
/// History, the catalog's counts and the daily counts come out as for a full report,
/// because every software diff is made per title and each touched title is compared whole.
#[allow(clippy::too_many_arguments)]
pub fn apply_software_delta(
    c: &Connection,
    agent_id: &str,
    asset_id: i64,
    delta: &steward_shared::InventoryDelta,
    health: &Health,
    ip: &str,
    now: i64,
) -> DbResult<CheckinOutcome> {
    let mut inv = stored_without_software(c, asset_id)?;
    let mut names: Vec<&str> = delta
        .software_added
        .iter()
        .chain(&delta.software_removed)
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let old_titles = super::packages::load_titles(c, asset_id, &names)?;
    inv.software = old_titles.clone();
    delta.clone().apply_to(&mut inv);
    let actor = format!("agent:{agent_id}");
    let outcome = update_asset_with(c, asset_id, &inv, Some(old_titles), None, &actor, now)?;
    store_health(c, asset_id, health, now)?;
    super::agents::mark_seen(
        c,
        agent_id,
        asset_id,
        &inv.hostname,
        &inv.agent_version,
        ip,
        now,
    )?;
    Ok(outcome)
}

pub fn store_health(c: &Connection, asset_id: i64, h: &Health, now: i64) -> DbResult<()> {
    let json = serde_json::to_string(h).map_err(|e| super::DbError::Corrupt(e.to_string()))?;
    c.prepare_cached("UPDATE assets SET health_json = ?2 WHERE id = ?1")?
        .execute(params![asset_id, json])?;
    let mem = if h.memory_total_bytes == 0 {
        0.0
    } else {
        h.memory_used_bytes as f64 * 100.0 / h.memory_total_bytes as f64
    };
    let max_fs = h
        .filesystems
        .iter()
        .map(|f| f.used_percent())
        .fold(0.0, f64::max);
    let taken_at = if h.taken_at > 0 {
        h.taken_at.min(now)
    } else {
        now
    };
    c.prepare_cached(
        "INSERT OR REPLACE INTO health_samples (asset_id, taken_at, load_1, mem_used_percent, max_fs_used_percent, uptime_secs)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![asset_id, taken_at, h.load_1, mem, max_fs, h.uptime_secs as i64])?;
    Ok(())
}

/// Rewrites the asset's row in the full-text index from its current columns.
/// Nothing is written when the row already holds them (most reports change none).
pub fn update_search_index(c: &Connection, asset_id: i64) -> DbResult<()> {
    let current = super::optional(
        c.prepare_cached(
            "SELECT 1 FROM assets a JOIN assets_fts f ON f.rowid = a.id
             WHERE a.id = ?1 AND f.name IS a.name AND f.hostname IS a.hostname
               AND f.serial IS a.serial AND f.vendor IS a.vendor AND f.model IS a.model
               AND f.os IS a.os_name || ' ' || a.os_version
               AND f.network IS a.primary_ip || ' ' || a.primary_mac",
        )?
        .query_row([asset_id], |_| Ok(())),
    )?;
    if current.is_some() {
        return Ok(());
    }
    c.prepare_cached("DELETE FROM assets_fts WHERE rowid = ?1")?
        .execute([asset_id])?;
    c.prepare_cached(
        "INSERT INTO assets_fts (rowid, name, hostname, serial, vendor, model, os, network)
         SELECT id, name, hostname, serial, vendor, model, os_name || ' ' || os_version, primary_ip || ' ' || primary_mac
         FROM assets WHERE id = ?1",
    )?
    .execute([asset_id])?;
    Ok(())
}
