//! Which column of a CSV says what about an asset. Our own export's column names and
//! Snipe-IT's asset export headers are recognised as they are; a caller's mapping
//! (column -> field) overrides.

use super::snipe::SNIPE_IGNORED;
use serde_json::{Map, Value};

/// What a column holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The asset type, by key or name, or a Snipe-IT category ("Laptops").
    Type,
    Name,
    Vendor,
    Model,
    Serial,
    AssetTag,
    /// A lifecycle state by name, or a Snipe-IT status label ("Ready to Deploy").
    State,
    StateId,
    /// A location path ("HQ / Building A / Room 201") or a unique name.
    Location,
    LocationId,
    /// Used when the location cell is empty (Snipe-IT's "Default Location").
    DefaultLocation,
    PurchaseDate,
    PurchaseCost,
    Supplier,
    OrderNumber,
    WarrantyEnd,
    /// Warranty length; with a purchase date it gives the warranty end when that is empty.
    WarrantyMonths,
    ExpectedLifeMonths,
    Criticality,
    Notes,
    /// A custom field of the asset's type, by key.
    Custom(String),
}

impl Field {
    /// The name a mapping uses for this field.
    pub fn name(&self) -> String {
        let s = match self {
            Field::Type => "type",
            Field::Name => "name",
            Field::Vendor => "manufacturer",
            Field::Model => "model",
            Field::Serial => "serial",
            Field::AssetTag => "asset_tag",
            Field::State => "state",
            Field::StateId => "state_id",
            Field::Location => "location",
            Field::LocationId => "location_id",
            Field::DefaultLocation => "default_location",
            Field::PurchaseDate => "purchase_date",
            Field::PurchaseCost => "purchase_cost",
            Field::Supplier => "supplier",
            Field::OrderNumber => "order_number",
            Field::WarrantyEnd => "warranty_end",
            Field::WarrantyMonths => "warranty_months",
            Field::ExpectedLifeMonths => "expected_life_months",
            Field::Criticality => "criticality",
            Field::Notes => "notes",
            Field::Custom(key) => return format!("custom:{key}"),
        };
        s.to_owned()
    }

    /// A field by the name a mapping gives (`custom:<key>` for custom fields).
    pub fn from_name(name: &str) -> Option<Field> {
        if let Some(key) = name.strip_prefix("custom:") {
            return crate::domain::assets::valid_key(key).then(|| Field::Custom(key.to_owned()));
        }
        Some(match name {
            "type" | "category" => Field::Type,
            "name" => Field::Name,
            "manufacturer" | "vendor" => Field::Vendor,
            "model" => Field::Model,
            "serial" => Field::Serial,
            "asset_tag" => Field::AssetTag,
            "state" | "status" => Field::State,
            "state_id" => Field::StateId,
            "location" => Field::Location,
            "location_id" => Field::LocationId,
            "default_location" => Field::DefaultLocation,
            "purchase_date" => Field::PurchaseDate,
            "purchase_cost" => Field::PurchaseCost,
            "supplier" => Field::Supplier,
            "order_number" => Field::OrderNumber,
            "warranty_end" => Field::WarrantyEnd,
            "warranty_months" => Field::WarrantyMonths,
            "expected_life_months" => Field::ExpectedLifeMonths,
            "criticality" => Field::Criticality,
            "notes" => Field::Notes,
            _ => return None,
        })
    }
}

/// What the importer does with a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Field(Field),
    /// Known and deliberately not imported (Snipe-IT's company, who holds it, ...).
    Ignored,
    /// Not recognised: used as a custom field when the row's type has a field with this
    /// key or label, otherwise ignored.
    Unmatched,
}

/// How each column of a file is read, in column order.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub columns: Vec<(String, Target)>,
}

/// A mapping that cannot be used; the API answers 400 with `invalid_mapping` or
/// `missing_column`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MappingError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Missing(String),
}

impl MappingError {
    pub fn code(&self) -> &'static str {
        match self {
            MappingError::Invalid(_) => "invalid_mapping",
            MappingError::Missing(_) => "missing_column",
        }
    }
}

/// A header as compared: lower case, `_` as a space, single spaces.
pub fn normalize(header: &str) -> String {
    header
        .to_lowercase()
        .replace('_', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The field a header names by default, Snipe-IT's headers included.
fn default_target(header: &str) -> Target {
    if let Some(key) = header.trim().strip_prefix("custom:") {
        return match Field::from_name(&format!("custom:{}", key.trim())) {
            Some(f) => Target::Field(f),
            None => Target::Unmatched,
        };
    }
    let h = normalize(header);
    let field = match h.as_str() {
        "type" | "asset type" | "category" => Field::Type,
        "name" | "asset name" | "item name" => Field::Name,
        "manufacturer" | "vendor" => Field::Vendor,
        "model" | "model name" => Field::Model,
        "serial" | "serial number" => Field::Serial,
        "asset tag" => Field::AssetTag,
        "state" | "status" | "status label" => Field::State,
        "state id" => Field::StateId,
        "location" => Field::Location,
        "location id" => Field::LocationId,
        "default location" => Field::DefaultLocation,
        "purchase date" | "purchased" => Field::PurchaseDate,
        "purchase cost" | "cost" => Field::PurchaseCost,
        "supplier" => Field::Supplier,
        "order number" => Field::OrderNumber,
        "warranty end" | "warranty expires" => Field::WarrantyEnd,
        "warranty" | "warranty months" => Field::WarrantyMonths,
        "expected life months" => Field::ExpectedLifeMonths,
        "criticality" => Field::Criticality,
        "notes" | "asset notes" => Field::Notes,
        _ if SNIPE_IGNORED.contains(&h.as_str()) || h.starts_with("checked out to:") => {
            return Target::Ignored;
        }
        _ => return Target::Unmatched,
    };
    Target::Field(field)
}

impl Mapping {
    /// The default reading of `headers`, then `overrides` (column -> field name, or
    /// `null`/`""`/`"ignore"` to skip a column). A column named in `overrides` must be in
    /// the file (exactly, or case-insensitively when that is unambiguous).
    pub fn new(
        headers: &[String],
        overrides: Option<&Map<String, Value>>,
    ) -> Result<Mapping, MappingError> {
        let mut columns: Vec<(String, Target)> = headers
            .iter()
            .map(|h| (h.clone(), default_target(h)))
            .collect();
        // Snipe-IT's custom report has a "Type" column after "Checked Out": whom the
        // asset is checked out to (user, location, asset). With a "Category" column
        // present, "Type" is that, not the asset type.
        if headers.iter().any(|h| normalize(h) == "category") {
            for (h, t) in &mut columns {
                if normalize(h) == "type" {
                    *t = Target::Ignored;
                }
            }
        }
        for (column, value) in overrides.into_iter().flatten() {
            let index = match headers.iter().position(|h| h == column) {
                Some(i) => i,
                None => {
                    let lower = column.to_lowercase();
                    let found: Vec<usize> = (0..headers.len())
                        .filter(|&i| headers[i].to_lowercase() == lower)
                        .collect();
                    match found.as_slice() {
                        [i] => *i,
                        _ => {
                            return Err(MappingError::Invalid(format!(
                                "the mapping names the column {column:?}, which the file does not have"
                            )));
                        }
                    }
                }
            };
            let target = match value {
                Value::Null => Target::Ignored,
                Value::String(s) if s.is_empty() || s == "ignore" => Target::Ignored,
                Value::String(s) => Target::Field(Field::from_name(s).ok_or_else(|| {
                    MappingError::Invalid(format!(
                        "the mapping maps {column:?} to {s:?}, which is not a field; fields are {}, custom:<key> or ignore",
                        FIELD_NAMES.join(", ")
                    ))
                })?),
                other => {
                    return Err(MappingError::Invalid(format!(
                        "the mapping of {column:?} must be a field name, not {other}"
                    )));
                }
            };
            columns[index].1 = target;
        }
        Ok(Mapping { columns })
    }

    /// The columns that hold `field`, in column order.
    pub fn columns_of(&self, field: &Field) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, (_, t))| *t == Target::Field(field.clone()))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn has(&self, field: &Field) -> bool {
        !self.columns_of(field).is_empty()
    }
}

/// Field names a mapping may use (besides `custom:<key>` and `ignore`).
pub const FIELD_NAMES: &[&str] = &[
    "type",
    "name",
    "manufacturer",
    "model",
    "serial",
    "asset_tag",
    "state",
    "state_id",
    "location",
    "location_id",
    "default_location",
    "purchase_date",
    "purchase_cost",
    "supplier",
    "order_number",
    "warranty_end",
    "warranty_months",
    "expected_life_months",
    "criticality",
    "notes",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn snipe_it_export_headers_map_as_they_are() {
        let h = headers(&[
            "ID",
            "Company",
            "Asset Name",
            "Asset Tag",
            "Model",
            "Model No.",
            "Category",
            "Manufacturer",
            "Serial",
            "Purchased",
            "Cost",
            "Warranty",
            "Warranty Expires",
            "Order Number",
            "Supplier",
            "Location",
            "Default Location",
            "Checked Out",
            "Type",
            "Status",
            "Notes",
            "MAC Address",
        ]);
        let m = Mapping::new(&h, None).expect("maps");
        let t = |name: &str| {
            m.columns
                .iter()
                .find(|(c, _)| c == name)
                .map(|(_, t)| t.clone())
        };
        assert_eq!(t("Asset Name"), Some(Target::Field(Field::Name)));
        assert_eq!(t("Category"), Some(Target::Field(Field::Type)));
        assert_eq!(
            t("Type"),
            Some(Target::Ignored),
            "the check-out target type"
        );
        assert_eq!(t("Purchased"), Some(Target::Field(Field::PurchaseDate)));
        assert_eq!(t("Cost"), Some(Target::Field(Field::PurchaseCost)));
        assert_eq!(t("Warranty"), Some(Target::Field(Field::WarrantyMonths)));
        assert_eq!(
            t("Warranty Expires"),
            Some(Target::Field(Field::WarrantyEnd))
        );
        assert_eq!(t("Status"), Some(Target::Field(Field::State)));
        assert_eq!(t("Company"), Some(Target::Ignored));
        assert_eq!(t("MAC Address"), Some(Target::Unmatched));
    }

    #[test]
    fn our_export_headers_map_too() {
        let h = headers(&[
            "id",
            "asset_tag",
            "type",
            "state",
            "custom:btu",
            "last_seen",
        ]);
        let m = Mapping::new(&h, None).expect("maps");
        assert_eq!(m.columns[1].1, Target::Field(Field::AssetTag));
        assert_eq!(m.columns[2].1, Target::Field(Field::Type));
        assert_eq!(m.columns[4].1, Target::Field(Field::Custom("btu".into())));
        assert_eq!(m.columns[5].1, Target::Ignored);
    }

    #[test]
    fn overrides_win_and_are_checked() {
        let h = headers(&["Gerät", "Inventarnummer", "Company"]);
        let o: Map<String, Value> = serde_json::from_str(
            r#"{"Gerät": "name", "inventarnummer": "asset_tag", "Company": "custom:owner"}"#,
        )
        .expect("json");
        let m = Mapping::new(&h, Some(&o)).expect("maps");
        assert_eq!(m.columns_of(&Field::Name), [0]);
        assert_eq!(m.columns_of(&Field::AssetTag), [1]);
        assert_eq!(m.columns[2].1, Target::Field(Field::Custom("owner".into())));
        let bad: Map<String, Value> = serde_json::from_str(r#"{"Gerät": "colour"}"#).expect("json");
        assert!(matches!(
            Mapping::new(&h, Some(&bad)),
            Err(MappingError::Invalid(_))
        ));
        let missing: Map<String, Value> =
            serde_json::from_str(r#"{"Nope": "name"}"#).expect("json");
        assert!(Mapping::new(&h, Some(&missing)).is_err());
    }
}
