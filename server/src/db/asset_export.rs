//! The record columns a CSV export of assets adds to the list's rows, fetched for one
//! chunk of ids at a time.

use super::DbResult;
use rusqlite::Connection;

/// An asset's record as the export writes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportRecord {
    pub id: i64,
    pub asset_tag: Option<String>,
    pub state_id: Option<i64>,
    pub location_id: Option<i64>,
    pub purchase_date: Option<String>,
    pub purchase_cost_cents: Option<i64>,
    pub supplier: String,
    pub order_number: String,
    pub warranty_end: Option<String>,
    /// The asset's own value (not its type's default).
    pub expected_life_months: Option<i64>,
    pub criticality: String,
    pub notes: String,
    /// A JSON object.
    pub custom_fields: String,
}

/// The records of `ids`, ordered by id (ids that no longer exist are missing).
pub fn records(c: &Connection, ids: &[i64]) -> DbResult<Vec<ExportRecord>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = format!(
        "[{}]",
        ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
    );
    let mut stmt = c.prepare_cached(
        "SELECT id, asset_tag, state_id, location_id, purchase_date, purchase_cost_cents,
                supplier, order_number, warranty_end, expected_life_months, criticality, notes,
                custom_fields
         FROM assets WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    )?;
    let rows = stmt.query_map([list], |r| {
        Ok(ExportRecord {
            id: r.get(0)?,
            asset_tag: r.get(1)?,
            state_id: r.get(2)?,
            location_id: r.get(3)?,
            purchase_date: r.get(4)?,
            purchase_cost_cents: r.get(5)?,
            supplier: r.get(6)?,
            order_number: r.get(7)?,
            warranty_end: r.get(8)?,
            expected_life_months: r.get(9)?,
            criticality: r.get(10)?,
            notes: r.get(11)?,
            custom_fields: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
