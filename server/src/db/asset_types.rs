//! Asset types with their custom field definitions, and lifecycle states.

use super::{DbResult, optional};
use crate::domain::assets::{FieldDef, StateKind, valid_key};
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssetType {
    pub id: i64,
    /// What `assets.kind` holds, e.g. "hvac".
    pub key: String,
    pub name: String,
    /// "it", "facility" or "other".
    pub category: String,
    pub fields: Vec<FieldDef>,
    pub expected_life_months: Option<i64>,
    pub audit_every_months: Option<i64>,
}

const COLUMNS: &str = "id, key, name, category, fields, expected_life_months, audit_every_months";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssetType> {
    let fields: String = r.get(4)?;
    Ok(AssetType {
        id: r.get(0)?,
        key: r.get(1)?,
        name: r.get(2)?,
        category: r.get(3)?,
        // Written only through `insert`/`update`, which check the definitions.
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        expected_life_months: r.get(5)?,
        audit_every_months: r.get(6)?,
    })
}

pub fn list(c: &Connection) -> DbResult<Vec<AssetType>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {COLUMNS} FROM asset_types ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn by_key(c: &Connection, key: &str) -> DbResult<Option<AssetType>> {
    let mut stmt =
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM asset_types WHERE key = ?1"))?;
    optional(stmt.query_row([key], from_row))
}

/// A type by its key or, case-insensitively, its name ("HVAC unit").
pub fn find(c: &Connection, key_or_name: &str) -> DbResult<Option<AssetType>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM asset_types WHERE key = ?1 OR name = ?1 COLLATE NOCASE
         ORDER BY key = ?1 DESC LIMIT 1"
    ))?;
    optional(stmt.query_row([key_or_name.trim()], from_row))
}

/// Creates a type; `t.key` and the fields must have been checked.
pub fn insert(c: &Connection, t: &AssetType, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO asset_types (key, name, category, fields, expected_life_months, audit_every_months, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            t.key,
            t.name,
            t.category,
            serde_json::to_string(&t.fields).unwrap_or_else(|_| "[]".into()),
            t.expected_life_months,
            t.audit_every_months,
            now
        ],
    )?;
    let id = c.last_insert_rowid();
    index_searchable(c, id, &t.key, &t.fields)?;
    Ok(id)
}

/// Replaces a type's name, fields and defaults (the key never changes).
pub fn update(c: &Connection, t: &AssetType) -> DbResult<bool> {
    let n = c.execute(
        "UPDATE asset_types SET name = ?2, category = ?3, fields = ?4, expected_life_months = ?5,
             audit_every_months = ?6 WHERE id = ?1",
        params![
            t.id,
            t.name,
            t.category,
            serde_json::to_string(&t.fields).unwrap_or_else(|_| "[]".into()),
            t.expected_life_months,
            t.audit_every_months
        ],
    )?;
    if n > 0 {
        index_searchable(c, t.id, &t.key, &t.fields)?;
    }
    Ok(n > 0)
}

/// One expression index per searchable custom field, over the JSON value for assets of
/// this type: searching a field never scans, and adding one never alters a table.
fn index_searchable(c: &Connection, type_id: i64, key: &str, fields: &[FieldDef]) -> DbResult<()> {
    // Keys are checked by the callers; an index name or SQL literal never carries
    // anything else.
    if !valid_key(key) {
        return Ok(());
    }
    for f in fields.iter().filter(|f| f.searchable && valid_key(&f.key)) {
        c.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS asset_field_{type_id}_{field}
             ON assets(json_extract(custom_fields, '$.{field}')) WHERE kind = '{key}'",
            field = f.key
        ))?;
    }
    Ok(())
}

/// A lifecycle state.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct AssetState {
    pub id: i64,
    pub name: String,
    pub kind: StateKind,
}

fn state_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AssetState> {
    let kind: String = r.get(2)?;
    Ok(AssetState {
        id: r.get(0)?,
        name: r.get(1)?,
        // The CHECK constraint keeps this to the four kinds.
        kind: kind.parse().unwrap_or(StateKind::Undeployable),
    })
}

pub fn states(c: &Connection) -> DbResult<Vec<AssetState>> {
    let mut stmt = c.prepare_cached("SELECT id, name, kind FROM asset_states ORDER BY id")?;
    let rows = stmt.query_map([], state_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn state(c: &Connection, id: i64) -> DbResult<Option<AssetState>> {
    let mut stmt = c.prepare_cached("SELECT id, name, kind FROM asset_states WHERE id = ?1")?;
    optional(stmt.query_row([id], state_row))
}

/// A state by name, case-insensitively.
pub fn state_by_name(c: &Connection, name: &str) -> DbResult<Option<AssetState>> {
    let mut stmt =
        c.prepare_cached("SELECT id, name, kind FROM asset_states WHERE name = ?1 COLLATE NOCASE")?;
    optional(stmt.query_row([name.trim()], state_row))
}

/// The first state of `kind` (lowest id): where check-out and check-in move an asset.
pub fn first_state_of(c: &Connection, kind: StateKind) -> DbResult<Option<AssetState>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, name, kind FROM asset_states WHERE kind = ?1 ORDER BY id LIMIT 1",
    )?;
    optional(stmt.query_row([kind.as_str()], state_row))
}

pub fn insert_state(c: &Connection, name: &str, kind: StateKind, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO asset_states (name, kind, created_at) VALUES (?1, ?2, ?3)",
        params![name, kind.as_str(), now],
    )?;
    Ok(c.last_insert_rowid())
}

/// Renames a state and/or changes its kind; false when it does not exist.
pub fn update_state(
    c: &Connection,
    id: i64,
    name: Option<&str>,
    kind: Option<StateKind>,
) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE asset_states SET name = coalesce(?2, name), kind = coalesce(?3, kind) WHERE id = ?1",
        params![id, name, kind.map(StateKind::as_str)],
    )? > 0)
}

/// Assets in a state.
pub fn assets_in_state(c: &Connection, id: i64) -> DbResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM assets WHERE state_id = ?1",
        [id],
        |r| r.get(0),
    )?)
}

/// States of a kind.
pub fn states_of(c: &Connection, kind: StateKind) -> DbResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM asset_states WHERE kind = ?1",
        [kind.as_str()],
        |r| r.get(0),
    )?)
}

pub fn delete_state(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM asset_states WHERE id = ?1", [id])? > 0)
}
