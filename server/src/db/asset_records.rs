//! The asset's own record beyond what agents report: tag, type, state, location,
//! purchase and warranty, criticality, custom fields. Creating assets that no agent
//! reports (monitors, HVAC units), and changing fields with a history entry each.

use super::{DbResult, optional};
use rusqlite::{Connection, params, types::Value};
use serde::Serialize;

/// An asset's record fields as the API shows them.
#[derive(Debug, Clone, Serialize, Default, schemars::JsonSchema)]
pub struct Record {
    pub asset_tag: Option<String>,
    pub state_id: Option<i64>,
    pub state: Option<String>,
    pub state_kind: Option<String>,
    pub location_id: Option<i64>,
    pub purchase_date: Option<String>,
    pub purchase_cost_cents: Option<i64>,
    pub supplier: String,
    pub order_number: String,
    pub warranty_end: Option<String>,
    pub expected_life_months: Option<i64>,
    pub criticality: String,
    pub notes: String,
    pub custom_fields: serde_json::Value,
    pub checked_out_kind: Option<String>,
    pub checked_out_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    pub audit_due_at: Option<i64>,
    pub last_audit_at: Option<i64>,
}

pub fn record(c: &Connection, id: i64) -> DbResult<Option<Record>> {
    optional(c.query_row(
        "SELECT a.asset_tag, a.state_id, s.name, s.kind, a.location_id, a.purchase_date,
                a.purchase_cost_cents, a.supplier, a.order_number, a.warranty_end,
                coalesce(a.expected_life_months, t.expected_life_months), a.criticality, a.notes,
                a.custom_fields, a.checked_out_kind, a.checked_out_id, a.assigned_user_id,
                a.audit_due_at, a.last_audit_at
         FROM assets a LEFT JOIN asset_states s ON s.id = a.state_id
              LEFT JOIN asset_types t ON t.key = a.kind
         WHERE a.id = ?1",
        [id],
        |r| {
            let custom: String = r.get(13)?;
            Ok(Record {
                asset_tag: r.get(0)?,
                state_id: r.get(1)?,
                state: r.get(2)?,
                state_kind: r.get(3)?,
                location_id: r.get(4)?,
                purchase_date: r.get(5)?,
                purchase_cost_cents: r.get(6)?,
                supplier: r.get(7)?,
                order_number: r.get(8)?,
                warranty_end: r.get(9)?,
                expected_life_months: r.get(10)?,
                criticality: r.get(11)?,
                notes: r.get(12)?,
                custom_fields: serde_json::from_str(&custom)
                    .unwrap_or_else(|_| serde_json::json!({})),
                checked_out_kind: r.get(14)?,
                checked_out_id: r.get(15)?,
                assigned_user_id: r.get(16)?,
                audit_due_at: r.get(17)?,
                last_audit_at: r.get(18)?,
            })
        },
    ))
}

/// A new asset that no agent reports; everything checked by the caller.
#[derive(Debug, Clone, Default)]
pub struct NewAsset {
    pub kind: String,
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub asset_tag: Option<String>,
    pub state_id: i64,
    pub location_id: Option<i64>,
    pub purchase_date: Option<String>,
    pub purchase_cost_cents: Option<i64>,
    pub supplier: String,
    pub order_number: String,
    pub warranty_end: Option<String>,
    pub expected_life_months: Option<i64>,
    pub criticality: String,
    pub notes: String,
    /// A JSON object, already checked against the type's fields.
    pub custom_fields: String,
    pub audit_due_at: Option<i64>,
}

/// Inserts the asset, indexes it for search and records its creation; returns its id.
pub fn create(c: &Connection, a: &NewAsset, actor: &str, now: i64) -> DbResult<i64> {
    c.prepare_cached(
        "INSERT INTO assets (kind, name, vendor, model, serial, asset_tag, state_id, location_id,
             purchase_date, purchase_cost_cents, supplier, order_number, warranty_end,
             expected_life_months, criticality, notes, custom_fields, audit_due_at, public_token,
             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?20)",
    )?
    .execute(params![
        a.kind,
        a.name,
        a.vendor,
        a.model,
        a.serial,
        a.asset_tag,
        a.state_id,
        a.location_id,
        a.purchase_date,
        a.purchase_cost_cents,
        a.supplier,
        a.order_number,
        a.warranty_end,
        a.expected_life_months,
        a.criticality,
        a.notes,
        a.custom_fields,
        a.audit_due_at,
        crate::crypto::random_hex(16),
        now
    ])?;
    let id = c.last_insert_rowid();
    super::inventory::update_search_index(c, id)?;
    history(c, id, now, actor, "created", "", None, Some(&a.name))?;
    Ok(id)
}

/// Columns `set` may change; anything else is refused.
const SETTABLE: &[&str] = &[
    "name",
    "vendor",
    "model",
    "serial",
    "asset_tag",
    "state_id",
    "location_id",
    "purchase_date",
    "purchase_cost_cents",
    "supplier",
    "order_number",
    "warranty_end",
    "expected_life_months",
    "criticality",
    "notes",
    "custom_fields",
    "audit_due_at",
    "last_audit_at",
    "checked_out_kind",
    "checked_out_id",
    "assigned_user_id",
];

/// Sets one column and records the change (`shown` is the new value as people read it);
/// false when the value was already that. Columns outside `SETTABLE` are an error.
pub fn set(
    c: &Connection,
    id: i64,
    column: &'static str,
    value: Value,
    shown: Option<&str>,
    actor: &str,
    now: i64,
) -> DbResult<bool> {
    if !SETTABLE.contains(&column) {
        return Err(super::DbError::Corrupt(format!(
            "column {column} is not settable"
        )));
    }
    let Some(old_text) = super::replace_column(c, "assets", id, column, &value, now)? else {
        return Ok(false);
    };
    history(
        c,
        id,
        now,
        actor,
        "field",
        column,
        old_text.as_deref(),
        shown,
    )?;
    if ["name", "vendor", "model", "serial"].contains(&column) {
        super::inventory::update_search_index(c, id)?;
    }
    Ok(true)
}

/// Another asset with this tag, if any.
pub fn id_by_tag(c: &Connection, tag: &str) -> DbResult<Option<i64>> {
    let mut stmt = c.prepare_cached("SELECT id FROM assets WHERE asset_tag = ?1 COLLATE NOCASE")?;
    optional(stmt.query_row([tag.trim()], |r| r.get(0)))
}

/// An asset by the token in its QR label's URL.
pub fn id_by_public_token(c: &Connection, token: &str) -> DbResult<Option<i64>> {
    optional(c.query_row(
        "SELECT id FROM assets WHERE public_token = ?1",
        [token],
        |r| r.get(0),
    ))
}

/// The token in the asset's QR label URL (every asset gets one when created).
pub fn public_token(c: &Connection, id: i64) -> DbResult<Option<String>> {
    Ok(optional(
        c.query_row("SELECT public_token FROM assets WHERE id = ?1", [id], |r| {
            r.get::<_, Option<String>>(0)
        }),
    )?
    .flatten())
}

/// One line of an asset's history.
#[allow(clippy::too_many_arguments)]
pub fn history(
    c: &Connection,
    asset_id: i64,
    at: i64,
    actor: &str,
    kind: &str,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> DbResult<()> {
    c.prepare_cached(
        "INSERT INTO asset_history (asset_id, at, actor, kind, field, old_value, new_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![asset_id, at, actor, kind, field, old, new])?;
    Ok(())
}
