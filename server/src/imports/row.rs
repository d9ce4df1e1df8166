//! One CSV row as an [`AssetInput`]: what `POST /api/v1/assets` would be sent for it.
//! Categories, status labels and location paths are resolved here; everything else is
//! left to the same checks the API runs.

use super::mapping::{Field, Mapping, Target, normalize};
use super::resolve::{Located, Lookups};
use super::table::Row;
use crate::http::asset_input::{AssetInput, Money};
use chrono::Months;
use serde_json::{Map, Value};

/// What is wrong with a row before the asset checks run.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The column at fault, if one is.
    pub column: Option<usize>,
    pub code: &'static str,
    pub message: String,
}

fn problem(column: Option<usize>, code: &'static str, message: String) -> Problem {
    Problem {
        column,
        code,
        message,
    }
}

/// The first non-empty cell among the columns for `field`, with its column.
pub fn value<'r>(row: &'r Row, m: &Mapping, field: &Field) -> Option<(usize, &'r str)> {
    m.columns_of(field)
        .into_iter()
        .map(|i| (i, row.cells[i].trim()))
        .find(|(_, v)| !v.is_empty())
}

/// An amount as people write it, with a decimal comma ("1.299,50", "12,5") turned into
/// a point; "1,299.50" stays as it is.
pub fn money_text(s: &str) -> String {
    let t = s.trim();
    if let Some(i) = t.rfind(',') {
        let cents = &t[i + 1..];
        if (1..=2).contains(&cents.len()) && cents.chars().all(|c| c.is_ascii_digit()) {
            let whole: String = t[..i].chars().filter(|c| *c != '.').collect();
            return format!("{whole}.{cents}");
        }
    }
    t.to_owned()
}

/// Whole months from "36" or "36 months".
fn months(s: &str) -> Option<u32> {
    let digits: String = s.trim().chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// How rows are read.
pub struct Context<'a> {
    pub mapping: &'a Mapping,
    /// The default type's key.
    pub default_type: Option<&'a str>,
    pub create_locations: bool,
}

/// A row as the API would be sent it, and the new location it needs, if any.
pub struct Parsed {
    pub input: AssetInput,
    /// A planned place ([`Lookups::create`]) to put the asset in once it is valid.
    pub new_place: Option<usize>,
    /// The column of each custom field of the row's type (to name it in errors).
    pub custom_columns: Vec<(String, usize)>,
}

/// The input for `row`, or the first problem found in it.
pub fn input(row: &Row, cx: &Context<'_>, lk: &mut Lookups) -> Result<Parsed, Problem> {
    let m = cx.mapping;
    if row.extra > 0 {
        return Err(problem(
            None,
            "invalid_row",
            format!(
                "the row has {} more cells than the header has columns ({})",
                row.extra,
                m.columns.len()
            ),
        ));
    }
    let text = |f: Field| value(row, m, &f).map(|(_, v)| v.to_owned());
    let mut input = AssetInput {
        name: text(Field::Name),
        vendor: text(Field::Vendor),
        model: text(Field::Model),
        serial: text(Field::Serial),
        supplier: text(Field::Supplier),
        order_number: text(Field::OrderNumber),
        criticality: text(Field::Criticality),
        notes: text(Field::Notes),
        asset_tag: text(Field::AssetTag).map(Some),
        purchase_date: text(Field::PurchaseDate).map(Some),
        warranty_end: text(Field::WarrantyEnd).map(Some),
        purchase_cost: text(Field::PurchaseCost).map(|c| Some(Money::Text(money_text(&c)))),
        ..AssetInput::default()
    };

    input.kind = match value(row, m, &Field::Type) {
        None => cx.default_type.map(str::to_owned),
        Some((col, v)) => match lk.type_key(v) {
            Some(key) => Some(key),
            None if cx.default_type.is_some() => cx.default_type.map(str::to_owned),
            None if normalize(&m.columns[col].0) == "category" => {
                return Err(problem(
                    Some(col),
                    "unknown_category",
                    format!(
                        "no asset type matches the category {v:?}; create the type, map the category column, or import with default_type"
                    ),
                ));
            }
            // The asset check says the type does not exist, as the API would.
            None => Some(v.to_owned()),
        },
    };

    if let Some((_, v)) = value(row, m, &Field::State) {
        input.state = Some(lk.state_name(v));
    }
    if let Some((col, v)) = value(row, m, &Field::StateId) {
        match v.parse::<i64>() {
            Ok(id) => input.state_id = Some(id),
            Err(_) => {
                return Err(problem(
                    Some(col),
                    "invalid_state",
                    format!("state_id {v:?} is not a number"),
                ));
            }
        }
    }
    let place = value(row, m, &Field::Location).or_else(|| value(row, m, &Field::DefaultLocation));
    let mut new_place = None;
    if let Some((col, v)) = place {
        match lk.location(v, cx.create_locations) {
            Ok(Some(Located::At(id))) => input.location_id = Some(Some(id)),
            Ok(Some(Located::New(i))) => new_place = Some(i),
            Ok(None) => {}
            Err(e) => return Err(problem(Some(col), e.code, e.message)),
        }
    }
    if let Some((col, v)) = value(row, m, &Field::LocationId) {
        match v.parse::<i64>() {
            Ok(id) => input.location_id = Some(Some(id)),
            Err(_) => {
                return Err(problem(
                    Some(col),
                    "invalid_location",
                    format!("location_id {v:?} is not a number"),
                ));
            }
        }
    }
    if let Some((col, v)) = value(row, m, &Field::ExpectedLifeMonths) {
        match v.parse::<i64>() {
            Ok(n) => input.expected_life_months = Some(Some(n)),
            Err(_) => {
                return Err(problem(
                    Some(col),
                    "invalid_field",
                    format!("expected_life_months {v:?} is not a whole number of months"),
                ));
            }
        }
    }
    if input.warranty_end.is_none()
        && let Some((col, v)) = value(row, m, &Field::WarrantyMonths)
    {
        let Some(n) = months(v) else {
            return Err(problem(
                Some(col),
                "invalid_field",
                format!("warranty {v:?} is not a number of months"),
            ));
        };
        // Without a valid purchase date there is nothing to count from; the date's own
        // check reports a bad one.
        let start = input
            .purchase_date
            .clone()
            .flatten()
            .and_then(|d| crate::domain::assets::parse_date(d.get(..10).unwrap_or(&d)).ok());
        if let (Some(start), true) = (start, n > 0) {
            input.warranty_end = start
                .checked_add_months(Months::new(n))
                .map(|d| Some(d.format("%Y-%m-%d").to_string()));
        }
    }

    let mut custom = Map::new();
    let mut custom_columns: Vec<(String, usize)> = Vec::new();
    for (i, (_, target)) in m.columns.iter().enumerate() {
        if let Target::Field(Field::Custom(key)) = target {
            let v = row.cells[i].trim();
            if !custom_columns.iter().any(|(k, _)| k == key) {
                custom_columns.push((key.clone(), i));
            }
            if !v.is_empty() && !custom.contains_key(key) {
                custom.insert(key.clone(), Value::String(v.to_owned()));
            }
        }
    }
    // Columns nobody mapped fill the custom fields of the row's type they name by key
    // or label ("MAC Address").
    if let Some(t) = input.kind.as_deref().and_then(|k| lk.type_named(k)) {
        for (i, (header, target)) in m.columns.iter().enumerate() {
            if *target != Target::Unmatched {
                continue;
            }
            let h = normalize(header);
            let Some(f) = t
                .fields
                .iter()
                .find(|f| f.key == h.replace(' ', "_") || normalize(&f.label) == h)
            else {
                continue;
            };
            if custom_columns.iter().any(|(k, _)| *k == f.key) {
                continue;
            }
            custom_columns.push((f.key.clone(), i));
            let v = row.cells[i].trim();
            if !v.is_empty() {
                custom.insert(f.key.clone(), Value::String(v.to_owned()));
            }
        }
    }
    if !custom.is_empty() {
        input.custom_fields = Some(custom);
    }
    Ok(Parsed {
        input,
        new_place,
        custom_columns,
    })
}

/// The column an asset check's error is about, found from its code and message.
pub fn column_of(
    code: &str,
    message: &str,
    row: &Row,
    m: &Mapping,
    custom_columns: &[(String, usize)],
) -> Option<usize> {
    let first = |fields: &[Field]| {
        fields
            .iter()
            .find_map(|f| value(row, m, f).map(|(i, _)| i))
            .or_else(|| fields.iter().find_map(|f| m.columns_of(f).first().copied()))
    };
    let by_name = |name: &str| Field::from_name(name).and_then(|f| first(&[f]));
    match code {
        "invalid_type" => first(&[Field::Type]),
        "invalid_name" => first(&[Field::Name]),
        "invalid_asset_tag" | "asset_tag_taken" => first(&[Field::AssetTag]),
        "invalid_state" => first(&[Field::StateId, Field::State]),
        "invalid_location" => first(&[Field::LocationId, Field::Location]),
        "invalid_cost" => first(&[Field::PurchaseCost]),
        "invalid_criticality" => first(&[Field::Criticality]),
        "invalid_date" => match message.split(':').next() {
            Some("warranty_end") => first(&[Field::WarrantyEnd, Field::WarrantyMonths]),
            Some(f) => by_name(f),
            None => None,
        },
        "invalid_field" => message.split_whitespace().next().and_then(by_name),
        "invalid_custom_field" => {
            // Messages name the field as `field "key"` or `no field "key"`.
            let key = message.split('"').nth(1)?;
            custom_columns
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, i)| *i)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_commas_become_points() {
        assert_eq!(money_text("1.299,50"), "1299.50");
        assert_eq!(money_text("12,5"), "12.5");
        assert_eq!(money_text("1,299.50"), "1,299.50");
        assert_eq!(money_text("1,299"), "1,299");
        assert_eq!(money_text(" $20 "), "$20");
    }

    #[test]
    fn warranty_months_read_like_snipe_it_writes_them() {
        assert_eq!(months("36"), Some(36));
        assert_eq!(months("36 months"), Some(36));
        assert_eq!(months("three"), None);
    }
}
