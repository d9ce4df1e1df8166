//! What a person (or a CSV row) says about an asset, checked against the database: the
//! type and its custom fields, state, location, unique tag, dates, money. Shared by
//! `POST/PATCH /api/v1/assets` and the CSV import, so a row imports exactly when the same
//! asset could be created through the API.

use super::AppError;
use crate::db::asset_records::{self, NewAsset, Record};
use crate::db::{self, DbResult};
use crate::domain::assets::{Criticality, check_values, parse_date};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// Distinguishes "absent" (`None`) from "null" (`Some(None)`) in a JSON body.
fn double<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An amount of money as JSON gives it: 1299.5 or "1,299.50" or "$1299".
#[derive(Debug, Clone, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Money {
    Number(f64),
    Text(String),
}

impl Money {
    /// Whole cents, or why not. Accepts a currency sign and thousands commas.
    pub fn cents(&self) -> Result<i64, String> {
        let v = match self {
            Money::Number(n) => *n,
            Money::Text(s) => {
                let kept: String = s
                    .trim()
                    .chars()
                    .filter(|c| c.is_ascii_digit() || ".,-".contains(*c))
                    .collect();
                decimal_point(&kept)
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| format!("{s:?} is not an amount like 1299.50"))?
            }
        };
        if !v.is_finite() || !(0.0..=1e12).contains(&v) {
            return Err("an amount is between 0 and 1,000,000,000,000".into());
        }
        Ok((v * 100.0).round() as i64)
    }
}

/// An amount written with thousands separators and a decimal point or comma ("1,299.50",
/// "1.299,50", "1 299,5", "1299") as plain "1299.50"; `None` when it is ambiguous junk.
fn decimal_point(t: &str) -> Option<String> {
    let last_sep = t.rfind([',', '.']);
    let decimal = match last_sep {
        None => None,
        Some(i) => {
            let sep = t[i..].chars().next()?;
            let digits_after = t.len() - i - 1;
            let only_one = t.matches(sep).count() == 1;
            // "1,299" and "1.299.000" group thousands; "12,5" and "1299.50" are decimals.
            (only_one && (digits_after != 3 || t.contains(if sep == ',' { '.' } else { ',' })))
                .then_some(i)
        }
    };
    let mut out = String::with_capacity(t.len());
    for (i, c) in t.char_indices() {
        match c {
            '.' | ',' if Some(i) == decimal => out.push('.'),
            '.' | ',' => {
                // A thousands separator is followed by exactly three digits.
                let group = t[i + 1..].chars().take_while(char::is_ascii_digit).count();
                if group != 3 {
                    return None;
                }
            }
            c => out.push(c),
        }
    }
    (!out.is_empty() && out != "-").then_some(out)
}

/// The fields of an asset anyone may give; absent fields are left alone (or defaulted on
/// create), `null` clears a field that may be empty.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    /// The asset type's key or name ("hvac", "HVAC unit"); required on create.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    #[serde(alias = "manufacturer")]
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub asset_tag: Option<Option<String>>,
    /// A lifecycle state by name ("In stock").
    pub state: Option<String>,
    pub state_id: Option<i64>,
    #[serde(default, deserialize_with = "double")]
    pub location_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double")]
    pub purchase_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub purchase_cost: Option<Option<Money>>,
    pub supplier: Option<String>,
    pub order_number: Option<String>,
    #[serde(default, deserialize_with = "double")]
    pub warranty_end: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    pub expected_life_months: Option<Option<i64>>,
    pub criticality: Option<String>,
    pub notes: Option<String>,
    pub custom_fields: Option<Map<String, Value>>,
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// Text of at most `max` characters, trimmed; only `notes` may hold line breaks and tabs.
fn text(v: &str, field: &'static str, max: usize) -> Result<String, AppError> {
    let t = v.trim();
    let allowed = |c: char| field == "notes" && matches!(c, '\n' | '\r' | '\t');
    if t.chars().count() > max || t.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(bad(
            "invalid_field",
            format!("{field} is at most {max} characters, without control characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A date field as `YYYY-MM-DD` (a trailing time, as spreadsheets write it, is dropped).
fn date(v: &str, field: &'static str) -> Result<String, AppError> {
    let day = v.trim().get(..10).unwrap_or(v.trim());
    parse_date(day)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|e| bad("invalid_date", format!("{field}: {e}")))
}

fn opt_date(v: &Option<String>, field: &'static str) -> Result<Option<String>, AppError> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| date(s, field))
        .transpose()
}

fn life(v: Option<i64>) -> Result<Option<i64>, AppError> {
    match v {
        Some(m) if !(1..=1200).contains(&m) => Err(bad(
            "invalid_field",
            "expected_life_months is between 1 and 1200",
        )),
        v => Ok(v),
    }
}

fn tag(
    c: &Connection,
    v: &Option<String>,
    own_id: Option<i64>,
) -> DbResult<Result<Option<String>, AppError>> {
    let Some(t) = v.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Ok(None));
    };
    if t.len() > 64 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Ok(Err(bad(
            "invalid_asset_tag",
            "an asset tag is 1-64 characters without spaces",
        )));
    }
    if let Some(other) = asset_records::id_by_tag(c, t)?
        && Some(other) != own_id
    {
        return Ok(Err(AppError::new(
            axum::http::StatusCode::CONFLICT,
            "asset_tag_taken",
            format!("asset {other} already has the tag {t:?}"),
        )));
    }
    Ok(Ok(Some(t.to_owned())))
}

/// The state named by `state_id` or `state`, as (id, name).
fn state(c: &Connection, input: &AssetInput) -> DbResult<Result<Option<(i64, String)>, AppError>> {
    let found = match (input.state_id, input.state.as_deref()) {
        (Some(id), _) => db::asset_types::state(c, id)?,
        (None, Some(name)) if !name.trim().is_empty() => db::asset_types::state_by_name(c, name)?,
        _ => return Ok(Ok(None)),
    };
    Ok(match found {
        Some(s) => Ok(Some((s.id, s.name))),
        None => Err(bad(
            "invalid_state",
            "no such state; GET /api/v1/asset-states lists them",
        )),
    })
}

fn location(c: &Connection, id: Option<i64>) -> DbResult<Result<Option<i64>, AppError>> {
    match id {
        Some(l) if db::locations::get(c, l)?.is_none() => Ok(Err(bad(
            "invalid_location",
            format!("there is no location {l}"),
        ))),
        v => Ok(Ok(v)),
    }
}

/// Checks a new asset; `Err` says what is wrong with it.
pub fn new_asset(c: &Connection, input: &AssetInput) -> DbResult<Result<NewAsset, AppError>> {
    Ok(build(c, input))
}

fn build(c: &Connection, input: &AssetInput) -> Result<NewAsset, AppError> {
    let db = |e: db::DbError| AppError::from(e);
    let kind = input
        .kind
        .as_deref()
        .filter(|k| !k.trim().is_empty())
        .ok_or_else(|| {
            bad(
                "invalid_type",
                "type is required: GET /api/v1/asset-types lists them",
            )
        })?;
    let t = db::asset_types::find(c, kind).map_err(db)?.ok_or_else(|| {
        bad(
            "invalid_type",
            format!("no asset type {kind:?}; GET /api/v1/asset-types lists them"),
        )
    })?;
    let name = text(input.name.as_deref().unwrap_or_default(), "name", 200)?;
    if name.is_empty() {
        return Err(bad("invalid_name", "name is required"));
    }
    let custom = check_values(
        &t.fields,
        &input.custom_fields.clone().unwrap_or_default(),
        false,
    )
    .map_err(|e| bad("invalid_custom_field", e))?;
    let state_id = match state(c, input).map_err(db)?? {
        Some((id, _)) => id,
        None => db::asset_types::first_state_of(c, crate::domain::assets::StateKind::Deployable)
            .map_err(db)?
            .map_or(1, |s| s.id),
    };
    Ok(NewAsset {
        kind: t.key,
        name,
        vendor: text(input.vendor.as_deref().unwrap_or_default(), "vendor", 200)?,
        model: text(input.model.as_deref().unwrap_or_default(), "model", 200)?,
        serial: text(input.serial.as_deref().unwrap_or_default(), "serial", 200)?,
        asset_tag: tag(c, &input.asset_tag.clone().flatten(), None).map_err(db)??,
        state_id,
        location_id: location(c, input.location_id.flatten()).map_err(db)??,
        purchase_date: opt_date(&input.purchase_date.clone().flatten(), "purchase_date")?,
        purchase_cost_cents: input
            .purchase_cost
            .clone()
            .flatten()
            .map(|m| m.cents())
            .transpose()
            .map_err(|e| bad("invalid_cost", format!("purchase_cost: {e}")))?,
        supplier: text(
            input.supplier.as_deref().unwrap_or_default(),
            "supplier",
            200,
        )?,
        order_number: text(
            input.order_number.as_deref().unwrap_or_default(),
            "order_number",
            100,
        )?,
        warranty_end: opt_date(&input.warranty_end.clone().flatten(), "warranty_end")?,
        expected_life_months: life(input.expected_life_months.flatten())?,
        criticality: match input
            .criticality
            .as_deref()
            .filter(|s| !s.trim().is_empty())
        {
            None => Criticality::Medium,
            Some(s) => s
                .parse()
                .map_err(|e: String| bad("invalid_criticality", e))?,
        }
        .as_str()
        .to_owned(),
        notes: text(input.notes.as_deref().unwrap_or_default(), "notes", 10_000)?,
        custom_fields: Value::Object(custom).to_string(),
        audit_due_at: None,
    })
}

/// Applies the fields present in `input` to asset `id` (its current `record`), one
/// history entry per change. Returns whether anything changed.
pub fn apply(
    c: &Connection,
    id: i64,
    kind: &str,
    current: &Record,
    input: &AssetInput,
    actor: &str,
    now: i64,
) -> DbResult<Result<bool, AppError>> {
    Ok(apply_inner(c, id, kind, current, input, actor, now))
}

fn apply_inner(
    c: &Connection,
    id: i64,
    kind: &str,
    current: &Record,
    input: &AssetInput,
    actor: &str,
    now: i64,
) -> Result<bool, AppError> {
    let db = |e: db::DbError| AppError::from(e);
    if let Some(k) = input.kind.as_deref()
        && db::asset_types::find(c, k)
            .map_err(db)?
            .map(|t| t.key)
            .as_deref()
            != Some(kind)
    {
        return Err(bad(
            "invalid_type",
            "an asset's type cannot change; create a new asset",
        ));
    }
    let mut sets: Vec<(&'static str, Sql, Option<String>)> = Vec::new();
    let mut put_text = |col: &'static str,
                        v: &Option<String>,
                        max: usize,
                        required: bool|
     -> Result<(), AppError> {
        if let Some(v) = v {
            let t = text(v, col, max)?;
            if required && t.is_empty() {
                return Err(bad("invalid_name", format!("{col} cannot be empty")));
            }
            sets.push((col, Sql::Text(t.clone()), Some(t)));
        }
        Ok(())
    };
    put_text("name", &input.name, 200, true)?;
    put_text("vendor", &input.vendor, 200, false)?;
    put_text("model", &input.model, 200, false)?;
    put_text("serial", &input.serial, 200, false)?;
    put_text("supplier", &input.supplier, 200, false)?;
    put_text("order_number", &input.order_number, 100, false)?;
    put_text("notes", &input.notes, 10_000, false)?;
    let opt = |v: Option<String>| v.map_or(Sql::Null, Sql::Text);
    if let Some(t) = &input.asset_tag {
        let t = tag(c, t, Some(id)).map_err(db)??;
        sets.push(("asset_tag", opt(t.clone()), t));
    }
    if let Some((sid, name)) = state(c, input).map_err(db)?? {
        sets.push(("state_id", Sql::Integer(sid), Some(name)));
    }
    if let Some(l) = input.location_id {
        let l = location(c, l).map_err(db)??;
        sets.push(("location_id", l.map_or(Sql::Null, Sql::Integer), None));
    }
    for (col, v) in [
        ("purchase_date", &input.purchase_date),
        ("warranty_end", &input.warranty_end),
    ] {
        if let Some(v) = v {
            let d = opt_date(v, col)?;
            sets.push((col, opt(d.clone()), d));
        }
    }
    if let Some(m) = &input.purchase_cost {
        let cents = m
            .as_ref()
            .map(Money::cents)
            .transpose()
            .map_err(|e| bad("invalid_cost", format!("purchase_cost: {e}")))?;
        sets.push((
            "purchase_cost_cents",
            cents.map_or(Sql::Null, Sql::Integer),
            cents.map(|c| c.to_string()),
        ));
    }
    if let Some(l) = input.expected_life_months {
        let l = life(l)?;
        sets.push((
            "expected_life_months",
            l.map_or(Sql::Null, Sql::Integer),
            l.map(|m| m.to_string()),
        ));
    }
    if let Some(cr) = input.criticality.as_deref() {
        let cr: Criticality = cr
            .parse()
            .map_err(|e: String| bad("invalid_criticality", e))?;
        sets.push((
            "criticality",
            Sql::Text(cr.as_str().into()),
            Some(cr.as_str().into()),
        ));
    }
    if let Some(fields) = &input.custom_fields {
        let t = db::asset_types::by_key(c, kind).map_err(db)?;
        let defs = t.map(|t| t.fields).unwrap_or_default();
        let mut merged = current
            .custom_fields
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (k, v) in fields {
            merged.insert(k.clone(), v.clone());
        }
        let checked =
            check_values(&defs, &merged, true).map_err(|e| bad("invalid_custom_field", e))?;
        let json = Value::Object(checked).to_string();
        sets.push(("custom_fields", Sql::Text(json.clone()), Some(json)));
    }
    let mut changed = false;
    for (col, value, shown) in sets {
        changed |=
            asset_records::set(c, id, col, value, shown.as_deref(), actor, now).map_err(db)?;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_the_ways_people_write_it() {
        assert_eq!(Money::Number(1299.5).cents(), Ok(129_950));
        assert_eq!(Money::Text("1,299.50".into()).cents(), Ok(129_950));
        assert_eq!(Money::Text("$ 20".into()).cents(), Ok(2_000));
        assert_eq!(Money::Text("1.299,50".into()).cents(), Ok(129_950));
        assert_eq!(Money::Text("12,5".into()).cents(), Ok(1_250));
        assert_eq!(Money::Text("1.299.000".into()).cents(), Ok(129_900_000));
        assert_eq!(Money::Text("1,299".into()).cents(), Ok(129_900));
        assert_eq!(Money::Text("€ 1 299,00".into()).cents(), Ok(129_900));
        assert!(Money::Text("a lot".into()).cents().is_err());
        assert!(Money::Text("1.2.3".into()).cents().is_err());
        assert!(Money::Number(-1.0).cents().is_err());
    }

    #[test]
    fn null_and_absent_differ() {
        let i: AssetInput = serde_json::from_str(r#"{"asset_tag": null}"#).expect("parses");
        assert_eq!(i.asset_tag, Some(None));
        let i: AssetInput = serde_json::from_str("{}").expect("parses");
        assert_eq!(i.asset_tag, None);
        assert!(serde_json::from_str::<AssetInput>(r#"{"colour": 1}"#).is_err());
    }
}
