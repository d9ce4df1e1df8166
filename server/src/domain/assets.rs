//! Asset rules that need no database: custom field definitions and values, criticality,
//! lifecycle state kinds, dates, and straight-line depreciation.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// Custom fields per asset type; more is a design smell, not a need.
pub const MAX_FIELDS: usize = 50;
/// Longest text value of a custom field, in characters.
pub const MAX_TEXT: usize = 1000;

/// How important an asset is to keep running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Criticality {
    Low,
    Medium,
    High,
    Critical,
}

impl Criticality {
    pub fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
            Criticality::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Criticality {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Criticality::Low),
            "medium" => Ok(Criticality::Medium),
            "high" => Ok(Criticality::High),
            "critical" => Ok(Criticality::Critical),
            other => Err(format!(
                "criticality is low, medium, high or critical, not {other:?}"
            )),
        }
    }
}

/// What a lifecycle state means for the asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateKind {
    /// Ready to hand out (in stock).
    Deployable,
    /// In use by someone or somewhere.
    Deployed,
    /// Cannot be handed out (in repair, broken, lost).
    Undeployable,
    /// Gone from service (retired, disposed); kept for the record.
    Archived,
}

impl StateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Deployable => "deployable",
            StateKind::Deployed => "deployed",
            StateKind::Undeployable => "undeployable",
            StateKind::Archived => "archived",
        }
    }
}

impl std::str::FromStr for StateKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "deployable" => Ok(StateKind::Deployable),
            "deployed" => Ok(StateKind::Deployed),
            "undeployable" => Ok(StateKind::Undeployable),
            "archived" => Ok(StateKind::Archived),
            other => Err(format!(
                "a state kind is deployable, deployed, undeployable or archived, not {other:?}"
            )),
        }
    }
}

impl fmt::Display for StateKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The type of a custom field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Number,
    /// `YYYY-MM-DD`.
    Date,
    Bool,
    /// One of `options`.
    Select,
}

/// One custom field of an asset type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// The JSON key: lowercase letters, digits and `_`, starting with a letter.
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Searched and filtered on: gets an index.
    #[serde(default)]
    pub searchable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// Whether `key` may name a custom field (it also becomes part of an index name).
pub fn valid_key(key: &str) -> bool {
    (1..=40).contains(&key.len())
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks a type's field definitions: valid unique keys, labels, options for selects.
pub fn check_defs(defs: &[FieldDef]) -> Result<(), String> {
    if defs.len() > MAX_FIELDS {
        return Err(format!("an asset type has at most {MAX_FIELDS} fields"));
    }
    let mut seen = std::collections::HashSet::new();
    for d in defs {
        if !valid_key(&d.key) {
            return Err(format!(
                "field key {:?}: 1-40 lowercase letters, digits or _, starting with a letter",
                d.key
            ));
        }
        if !seen.insert(d.key.as_str()) {
            return Err(format!("field key {:?} appears twice", d.key));
        }
        if !(1..=80).contains(&d.label.trim().chars().count()) {
            return Err(format!(
                "field {:?}: the label needs 1 to 80 characters",
                d.key
            ));
        }
        match (d.field_type, d.options.is_empty()) {
            (FieldType::Select, true) => {
                return Err(format!("field {:?}: a select field needs options", d.key));
            }
            (FieldType::Select, false) => {
                if d.options.len() > 100 || d.options.iter().any(|o| o.is_empty() || o.len() > 100)
                {
                    return Err(format!(
                        "field {:?}: 1-100 options of 1-100 characters",
                        d.key
                    ));
                }
            }
            (_, false) => {
                return Err(format!(
                    "field {:?}: only select fields have options",
                    d.key
                ));
            }
            (_, true) => {}
        }
    }
    Ok(())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{s:?} is not a date like 2026-03-31"))
}

/// Checks custom field `values` against `defs` and returns them normalised: numbers as
/// numbers, dates as `YYYY-MM-DD`, booleans as booleans; empty strings and nulls dropped.
/// With `partial`, required fields may be missing (an update that keeps them).
pub fn check_values(
    defs: &[FieldDef],
    values: &Map<String, Value>,
    partial: bool,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (key, v) in values {
        let Some(d) = defs.iter().find(|d| &d.key == key) else {
            return Err(format!("this asset type has no field {key:?}"));
        };
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            continue;
        }
        let bad = |what: &str| Err(format!("field {:?} ({}): {what}", d.key, d.label));
        let normal = match d.field_type {
            FieldType::Text => match v {
                Value::String(s) if s.chars().count() <= MAX_TEXT => Value::String(s.trim().into()),
                Value::String(_) => return bad(&format!("at most {MAX_TEXT} characters")),
                Value::Number(n) => Value::String(n.to_string()),
                _ => return bad("must be text"),
            },
            FieldType::Number => {
                let n = match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    _ => None,
                };
                match n
                    .filter(|n| n.is_finite())
                    .and_then(serde_json::Number::from_f64)
                {
                    Some(n) => Value::Number(n),
                    None => return bad("must be a number"),
                }
            }
            FieldType::Date => match v.as_str().map(parse_date) {
                Some(Ok(d)) => Value::String(d.format("%Y-%m-%d").to_string()),
                _ => return bad("must be a date like 2026-03-31"),
            },
            FieldType::Bool => match v {
                Value::Bool(b) => Value::Bool(*b),
                Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => Value::Bool(true),
                    "false" | "no" | "0" => Value::Bool(false),
                    _ => return bad("must be true or false"),
                },
                _ => return bad("must be true or false"),
            },
            FieldType::Select => match v.as_str() {
                Some(s) if d.options.iter().any(|o| o == s.trim()) => {
                    Value::String(s.trim().into())
                }
                _ => return bad(&format!("must be one of {}", d.options.join(", "))),
            },
        };
        out.insert(key.clone(), normal);
    }
    if !partial {
        for d in defs.iter().filter(|d| d.required) {
            if !out.contains_key(&d.key) {
                return Err(format!("field {:?} ({}) is required", d.key, d.label));
            }
        }
    }
    Ok(out)
}

/// Whole months from `from` to `to` (0 when `to` is earlier).
pub fn months_between(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        return 0;
    }
    let mut m =
        i64::from(to.year() - from.year()) * 12 + i64::from(to.month()) - i64::from(from.month());
    if to.day() < from.day() {
        m -= 1;
    }
    m.max(0)
}

/// Straight-line depreciation: what an asset bought for `cost_cents` on `purchased` is
/// worth on `today` with a life of `life_months` (never below zero).
pub fn book_value_cents(
    cost_cents: i64,
    purchased: NaiveDate,
    life_months: i64,
    today: NaiveDate,
) -> i64 {
    if life_months <= 0 {
        return cost_cents;
    }
    let age = months_between(purchased, today).min(life_months);
    cost_cents - cost_cents * age / life_months
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<FieldDef> {
        serde_json::from_value(json!([
            {"key": "btu", "label": "Cooling (BTU/h)", "type": "number", "required": true, "searchable": true},
            {"key": "refrigerant", "label": "Refrigerant", "type": "select", "options": ["R-410A", "R-32"]},
            {"key": "last_service", "label": "Last service", "type": "date"},
            {"key": "rooftop", "label": "On the roof", "type": "bool"},
            {"key": "notes", "label": "Notes", "type": "text"}
        ]))
        .expect("definitions parse")
    }

    #[test]
    fn definitions_are_checked() {
        assert_eq!(check_defs(&defs()), Ok(()));
        let mut d = defs();
        d[1].options.clear();
        assert!(
            check_defs(&d)
                .expect_err("invalid")
                .contains("needs options")
        );
        let mut d = defs();
        d[0].key = "Bad Key".into();
        assert!(check_defs(&d).is_err());
        let mut d = defs();
        d.push(d[0].clone());
        assert!(check_defs(&d).expect_err("invalid").contains("twice"));
    }

    #[test]
    fn values_are_normalised_and_checked() {
        let v = json!({"btu": "12000", "refrigerant": "R-32", "last_service": "2026-03-01",
                       "rooftop": "yes", "notes": "  north side "});
        let out = check_values(&defs(), v.as_object().expect("object"), false).expect("valid");
        assert_eq!(
            Value::Object(out),
            json!({"btu": 12000.0, "refrigerant": "R-32", "last_service": "2026-03-01",
                   "rooftop": true, "notes": "north side"})
        );
        for (bad, why) in [
            (json!({"btu": "lots"}), "must be a number"),
            (json!({"btu": 1, "refrigerant": "freon"}), "must be one of"),
            (
                json!({"btu": 1, "last_service": "yesterday"}),
                "must be a date",
            ),
            (json!({"btu": 1, "colour": "red"}), "no field"),
            (json!({"refrigerant": "R-32"}), "is required"),
        ] {
            let e = check_values(&defs(), bad.as_object().expect("object"), false)
                .expect_err("invalid");
            assert!(e.contains(why), "{bad}: {e}");
        }
        // An update may leave required fields out.
        let partial = json!({"notes": "x"});
        assert!(check_values(&defs(), partial.as_object().expect("object"), true).is_ok());
    }

    #[test]
    fn straight_line_depreciation() {
        let d = |s| parse_date(s).expect("date");
        // 1,200.00 over 48 months: 25.00 a month.
        assert_eq!(
            book_value_cents(120_000, d("2024-01-15"), 48, d("2024-01-15")),
            120_000
        );
        assert_eq!(
            book_value_cents(120_000, d("2024-01-15"), 48, d("2025-01-14")),
            120_000 - 11 * 2_500
        );
        assert_eq!(
            book_value_cents(120_000, d("2024-01-15"), 48, d("2025-01-15")),
            90_000
        );
        assert_eq!(
            book_value_cents(120_000, d("2024-01-15"), 48, d("2030-01-01")),
            0
        );
        assert_eq!(
            book_value_cents(120_000, d("2024-01-15"), 48, d("2023-01-01")),
            120_000
        );
        assert_eq!(months_between(d("2024-01-31"), d("2024-02-29")), 0);
        assert_eq!(months_between(d("2024-01-31"), d("2024-03-31")), 2);
    }

    #[test]
    fn criticality_and_state_kinds_parse() {
        assert_eq!("High".parse::<Criticality>(), Ok(Criticality::High));
        assert!("urgent".parse::<Criticality>().is_err());
        assert_eq!("archived".parse::<StateKind>(), Ok(StateKind::Archived));
    }
}
