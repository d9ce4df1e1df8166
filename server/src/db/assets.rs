//! Asset queries: keyset-paginated lists with search and filters, detail, software, history.

use super::{DbResult, optional};
use rusqlite::{Connection, params_from_iter, types::Value};
use serde::Serialize;

/// A row of the asset list.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssetSummary {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub hostname: String,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub os_name: String,
    pub primary_ip: String,
    pub software_count: i64,
    pub last_seen_at: Option<i64>,
    /// Set when this asset looks like a clone of that one (same hardware identity,
    /// both agents reporting).
    pub clone_of: Option<i64>,
}

/// Everything about one asset.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssetDetail {
    #[serde(flatten)]
    pub summary: AssetSummary,
    pub os_version: String,
    pub kernel: String,
    pub cpu_model: String,
    pub cpu_cores: i64,
    pub memory_bytes: i64,
    pub primary_mac: String,
    pub first_seen_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub inventory: Option<serde_json::Value>,
    pub health: Option<serde_json::Value>,
    /// The agents that report this asset, most recent first: ours and legacy ones.
    pub reported_by: Vec<Reporter>,
}

/// An agent reporting an asset.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Reporter {
    /// steward, fusioninventory, ocs or glpi.
    pub kind: String,
    /// "Steward 0.1.0", "FusionInventory 2.6", "OCS 2.10", "GLPI Agent 1.7".
    pub agent: String,
    pub last_seen_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Free text, matched by prefix on name, hostname, serial, vendor, model, OS and network.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub vendor: Option<String>,
    pub os: Option<String>,
    /// In any of these locations (empty: anywhere).
    pub locations: Vec<i64>,
    /// Leave out archived assets (retired, disposed).
    pub active_only: bool,
    pub state_id: Option<i64>,
    pub criticality: Option<String>,
    pub asset_tag: Option<String>,
    /// Checked out to this person.
    pub user_id: Option<i64>,
    /// Audit due before this time.
    pub audit_due_before: Option<i64>,
    /// Warranty ending on or before this date (`YYYY-MM-DD`).
    pub warranty_before: Option<String>,
    /// A custom field equal to a value, for assets of `kind` (the key is checked).
    pub field: Option<(String, String)>,
}

const SUMMARY: &str = "a.id, a.kind, a.name, a.hostname, a.vendor, a.model, a.serial, a.os_name, a.primary_ip, a.software_count, a.last_seen_at, a.clone_of";

fn summary(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssetSummary> {
    Ok(AssetSummary {
        id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        hostname: r.get(3)?,
        vendor: r.get(4)?,
        model: r.get(5)?,
        serial: r.get(6)?,
        os_name: r.get(7)?,
        primary_ip: r.get(8)?,
        software_count: r.get(9)?,
        last_seen_at: r.get(10)?,
        clone_of: r.get(11)?,
    })
}

/// Turns what a person typed into an FTS5 query: every word must match as a prefix.
/// Returns `None` when nothing searchable is left.
pub fn fts_query(q: &str) -> Option<String> {
    let cleaned: String = q
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.:".contains(c) {
                c
            } else {
                ' '
            }
        })
        .collect();
    let terms: Vec<String> = cleaned
        .split_whitespace()
        .take(16)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" "))
    }
}

/// Assets ordered by id, after `after` (the cursor), at most `limit`.
pub fn list(
    c: &Connection,
    f: &AssetFilter,
    after: Option<i64>,
    limit: u32,
) -> DbResult<Vec<AssetSummary>> {
    let mut sql = format!("SELECT {SUMMARY} FROM assets a WHERE a.id > ?1");
    let mut args: Vec<Value> = vec![Value::Integer(after.unwrap_or(0))];
    if let Some(q) = f.q.as_deref().and_then(fts_query) {
        args.push(Value::Text(q));
        sql += &format!(
            " AND a.id IN (SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?{})",
            args.len()
        );
    }
    for (col, val) in [
        ("a.kind", &f.kind),
        ("a.vendor", &f.vendor),
        ("a.os_name", &f.os),
        ("a.criticality", &f.criticality),
        ("a.asset_tag", &f.asset_tag),
    ] {
        if let Some(v) = val {
            args.push(Value::Text(v.clone()));
            sql += &format!(" AND {col} = ?{} COLLATE NOCASE", args.len());
        }
    }
    if !f.locations.is_empty() {
        let ids: Vec<String> = f.locations.iter().map(i64::to_string).collect();
        args.push(Value::Text(format!("[{}]", ids.join(","))));
        sql += &format!(
            " AND a.location_id IN (SELECT value FROM json_each(?{}))",
            args.len()
        );
    }
    if f.active_only {
        sql += " AND coalesce(a.state_id, 0) NOT IN (SELECT id FROM asset_states WHERE kind = 'archived')";
    }
    for (cond, val) in [
        ("a.state_id = ", f.state_id),
        (
            "a.checked_out_kind = 'user' AND a.checked_out_id = ",
            f.user_id,
        ),
        ("a.audit_due_at < ", f.audit_due_before),
    ] {
        if let Some(v) = val {
            args.push(Value::Integer(v));
            sql += &format!(" AND {cond}?{}", args.len());
        }
    }
    if let Some(d) = &f.warranty_before {
        args.push(Value::Text(d.clone()));
        sql += &format!(" AND a.warranty_end <= ?{}", args.len());
    }
    if let Some((key, value)) = &f.field
        && crate::domain::assets::valid_key(key)
    {
        // Matches the expression index a searchable field gets (db::asset_types). A
        // number field holds JSON numbers: "12000" must find 12000.0 too.
        args.push(Value::Text(value.clone()));
        let text = args.len();
        let number = value.trim().parse::<f64>().unwrap_or(f64::NAN);
        args.push(if number.is_finite() {
            Value::Real(number)
        } else {
            Value::Null
        });
        sql += &format!(
            " AND json_extract(a.custom_fields, '$.{key}') IN (?{text}, ?{})",
            args.len()
        );
    }
    args.push(Value::Integer(i64::from(limit)));
    sql += &format!(" ORDER BY a.id LIMIT ?{}", args.len());
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), summary)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<AssetDetail>> {
    optional(c.query_row(
        &format!(
            "SELECT {SUMMARY}, a.os_version, a.kernel, a.cpu_model, a.cpu_cores, a.memory_bytes, a.primary_mac,
                    a.first_seen_at, a.created_at, a.updated_at, a.inventory_json, a.health_json
             FROM assets a WHERE a.id = ?1"
        ),
        [id],
        |r| {
            let json = |i: usize| -> rusqlite::Result<Option<serde_json::Value>> {
                Ok(r.get::<_, Option<String>>(i)?.and_then(|s| serde_json::from_str(&s).ok()))
            };
            Ok(AssetDetail {
                summary: summary(r)?,
                os_version: r.get(12)?,
                kernel: r.get(13)?,
                cpu_model: r.get(14)?,
                cpu_cores: r.get(15)?,
                memory_bytes: r.get(16)?,
                primary_mac: r.get(17)?,
                first_seen_at: r.get(18)?,
                created_at: r.get(19)?,
                updated_at: r.get(20)?,
                inventory: json(21)?,
                health: json(22)?,
                reported_by: Vec::new(),
            })
        },
    ))?
    .map(|mut a| -> DbResult<AssetDetail> {
        a.reported_by = super::legacy::reporters(c, id)?
            .into_iter()
            .map(|(kind, version, last_seen_at)| Reporter {
                agent: if kind == "steward" {
                    format!("Steward {version}").trim().to_owned()
                } else {
                    version
                },
                kind,
                last_seen_at,
            })
            .collect();
        Ok(a)
    })
    .transpose()
}

pub fn exists(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(optional(c.query_row("SELECT 1 FROM assets WHERE id = ?1", [id], |_| Ok(())))?.is_some())
}

pub fn count(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row("SELECT count(*) FROM assets", [], |r| r.get(0))?)
}

/// One installed package on an asset.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct InstalledSoftware {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub publisher: String,
    pub install_date: i64,
    pub source: String,
}

/// Software sorted by (name, arch, version, source); `after` is the last row's key.
pub fn software(
    c: &Connection,
    asset_id: i64,
    q: Option<&str>,
    after: Option<&[String; 4]>,
    limit: u32,
) -> DbResult<Vec<InstalledSoftware>> {
    let mut stmt = c.prepare_cached(
        "SELECT name, version, arch, publisher, install_date, source FROM asset_software
         WHERE asset_id = ?1
           AND (?2 IS NULL OR (name, arch, version, source) > (?2, ?3, ?4, ?5))
           AND (?6 IS NULL OR instr(lower(name), lower(?6)) > 0)
         ORDER BY name, arch, version, source LIMIT ?7",
    )?;
    let k = |i: usize| after.map(|a| a[i].clone());
    let rows = stmt.query_map(
        rusqlite::params![asset_id, k(0), k(1), k(2), k(3), q, limit],
        |r| {
            Ok(InstalledSoftware {
                name: r.get(0)?,
                version: r.get(1)?,
                arch: r.get(2)?,
                publisher: r.get(3)?,
                install_date: r.get(4)?,
                source: r.get(5)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One entry of an asset's history.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct HistoryEntry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// Newest first; `before` is the last id seen.
pub fn history(
    c: &Connection,
    asset_id: i64,
    before: Option<i64>,
    limit: u32,
) -> DbResult<Vec<HistoryEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, at, actor, kind, field, old_value, new_value FROM asset_history
         WHERE asset_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        rusqlite::params![asset_id, before.unwrap_or(i64::MAX), limit],
        |r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                kind: r.get(3)?,
                field: r.get(4)?,
                old_value: r.get(5)?,
                new_value: r.get(6)?,
            })
        },
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn search_terms_become_prefix_queries() {
        assert_eq!(fts_query("dell lat").as_deref(), Some("\"dell\"* \"lat\"*"));
        assert_eq!(fts_query("a\"b").as_deref(), Some("\"a\"* \"b\"*"));
        assert_eq!(
            fts_query("NEAR(x* OR").as_deref(),
            Some("\"NEAR\"* \"x\"* \"OR\"*")
        );
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("\"\""), None);
    }
}
