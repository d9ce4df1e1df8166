//! CSV import of assets, shared by `POST /api/v1/imports/assets` and
//! `steward-server import-assets`. A file is parsed and its columns mapped first
//! ([`prepare`]); then every row becomes the [`AssetInput`] the API would be sent and goes
//! through the same check (`asset_input::new_asset`) and insert (`asset_records::create`,
//! which writes the history entry). A dry run checks on a read connection and writes
//! nothing; a real run imports every valid row in one write transaction and skips the
//! others. Each invalid row is reported once, with the first problem found in it.
//!
//! [`AssetInput`]: crate::http::asset_input::AssetInput

pub mod mapping;
pub mod resolve;
pub mod row;
pub mod snipe;
pub mod table;

use crate::db::{self, Db, DbResult};
use crate::http::asset_input::new_asset;
use mapping::{Field, Mapping, MappingError, Target};
use resolve::Lookups;
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use table::{Table, TableError};

/// How to read the file and what to do with it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Check every row and import nothing.
    pub dry_run: bool,
    /// Column -> field overrides of the default mapping.
    pub mapping: Option<Map<String, Value>>,
    /// The type (key or name) for rows whose type or category is empty or unknown.
    pub default_type: Option<String>,
    /// Create locations the file names that do not exist yet.
    pub create_locations: bool,
    /// Report at most this many row errors (0: all); the rest are counted.
    pub max_errors: usize,
}

/// Why a whole file is refused (the API answers 400 with `code`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ImportError {
    pub code: &'static str,
    pub message: String,
}

impl From<TableError> for ImportError {
    fn from(e: TableError) -> Self {
        ImportError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<MappingError> for ImportError {
    fn from(e: MappingError) -> Self {
        ImportError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// One bad row.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RowError {
    /// The row number a spreadsheet shows (the header is row 1).
    pub row: usize,
    /// The column's header, when one column is at fault.
    pub column: Option<String>,
    pub code: &'static str,
    pub message: String,
}

/// How a column was read.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ColumnUse {
    pub column: String,
    /// A field name, `custom_by_label` (a custom field of the row's type with this key
    /// or label, if it has one), or `null`: ignored.
    pub field: Option<String>,
}

/// What an import found and did.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Assets created (0 in a dry run).
    pub imported: usize,
    /// Locations created (in a dry run: that would be created).
    pub locations_created: usize,
    pub columns: Vec<ColumnUse>,
    pub errors: Vec<RowError>,
    /// Row errors left out of `errors` by the limit.
    pub errors_omitted: usize,
}

/// A file read and mapped, ready to check against the database.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub table: Table,
    pub mapping: Mapping,
}

/// Parses `bytes` and maps its columns; no database needed.
pub fn prepare(bytes: &[u8], opts: &Options) -> Result<Prepared, ImportError> {
    let table = table::parse(bytes)?;
    let mapping = Mapping::new(&table.headers, opts.mapping.as_ref())?;
    if !mapping.has(&Field::Name) {
        return Err(MappingError::Missing(
            "no column holds the asset's name: call it \"name\" or \"Asset Name\", or map one, e.g. mapping={\"Device\": \"name\"}".into(),
        )
        .into());
    }
    if !mapping.has(&Field::Type) && opts.default_type.is_none() {
        return Err(MappingError::Missing(
            "no column holds the asset type: call it \"type\" or \"Category\", map one, or give default_type".into(),
        )
        .into());
    }
    Ok(Prepared { table, mapping })
}

fn column_uses(m: &Mapping) -> Vec<ColumnUse> {
    m.columns
        .iter()
        .map(|(column, t)| ColumnUse {
            column: column.clone(),
            field: match t {
                Target::Field(f) => Some(f.name()),
                Target::Unmatched => Some("custom_by_label".into()),
                Target::Ignored => None,
            },
        })
        .collect()
}

/// Checks the options that need the database: the default type and the custom fields
/// the mapping names. Returns the default type's key.
fn check_options(
    lk: &Lookups,
    p: &Prepared,
    opts: &Options,
) -> Result<Option<String>, ImportError> {
    let default_type = match opts
        .default_type
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        None => None,
        Some(t) => Some(
            lk.type_named(t)
                .ok_or_else(|| ImportError {
                    code: "invalid_default_type",
                    message: format!(
                        "there is no asset type {t:?}; GET /api/v1/asset-types lists them"
                    ),
                })?
                .key
                .clone(),
        ),
    };
    for (column, t) in &p.mapping.columns {
        if let Target::Field(Field::Custom(key)) = t
            && !lk
                .types
                .iter()
                .any(|ty| ty.fields.iter().any(|f| &f.key == key))
        {
            return Err(MappingError::Invalid(format!(
                "column {column:?} maps to custom:{key}, but no asset type has a custom field {key:?}"
            ))
            .into());
        }
    }
    Ok(default_type)
}

/// How often `progress` hears about it.
const PROGRESS_EVERY: usize = 500;

/// Checks (and unless `opts.dry_run`, imports) every row of `p`. `c` is a read
/// connection for a dry run and the write transaction otherwise. `progress(done, total)`
/// is called every few hundred rows and at the end.
pub fn run(
    c: &Connection,
    p: &Prepared,
    opts: &Options,
    actor: &str,
    now: i64,
    progress: &mut dyn FnMut(usize, usize),
) -> DbResult<Result<Report, ImportError>> {
    let mut lk = Lookups::load(c)?;
    let default_type = match check_options(&lk, p, opts) {
        Ok(t) => t,
        Err(e) => return Ok(Err(e)),
    };
    let cx = row::Context {
        mapping: &p.mapping,
        default_type: default_type.as_deref(),
        create_locations: opts.create_locations,
    };
    let total = p.table.rows.len();
    let mut report = Report {
        dry_run: opts.dry_run,
        rows: total,
        valid: 0,
        invalid: 0,
        imported: 0,
        locations_created: 0,
        columns: column_uses(&p.mapping),
        errors: Vec::new(),
        errors_omitted: 0,
    };
    // Tags of the valid rows so far (lower case, as the unique index compares them).
    let mut tags: HashMap<String, usize> = HashMap::new();
    for (done, r) in p.table.rows.iter().enumerate() {
        if done % PROGRESS_EVERY == 0 {
            progress(done, total);
        }
        let failure = match check_row(c, r, &cx, &mut lk, &mut tags)? {
            Ok((mut asset, new_place)) => {
                report.valid += 1;
                let writer = (!opts.dry_run).then_some(c);
                if let Some(i) = new_place {
                    asset.location_id = lk.create(i, writer, now)?;
                }
                if let Some(c) = writer {
                    db::asset_records::create(c, &asset, actor, now)?;
                    report.imported += 1;
                }
                continue;
            }
            Err(e) => e,
        };
        report.invalid += 1;
        if opts.max_errors == 0 || report.errors.len() < opts.max_errors {
            report.errors.push(failure);
        } else {
            report.errors_omitted += 1;
        }
    }
    report.locations_created = lk.places_created;
    progress(total, total);
    Ok(Ok(report))
}

/// One row checked: the asset to insert (and the planned place to put it in), or what
/// is wrong.
fn check_row(
    c: &Connection,
    r: &table::Row,
    cx: &row::Context<'_>,
    lk: &mut Lookups,
    tags: &mut HashMap<String, usize>,
) -> DbResult<Result<(db::asset_records::NewAsset, Option<usize>), RowError>> {
    let m = cx.mapping;
    let fail = |column: Option<usize>, code: &'static str, message: String| RowError {
        row: r.number,
        column: column.map(|i| m.columns[i].0.clone()),
        code,
        message,
    };
    let row::Parsed {
        input,
        new_place,
        custom_columns,
    } = match row::input(r, cx, lk) {
        Ok(p) => p,
        Err(p) => return Ok(Err(fail(p.column, p.code, p.message))),
    };
    let tag = input
        .asset_tag
        .clone()
        .flatten()
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty());
    if let Some(t) = &tag
        && let Some(first) = tags.get(t)
    {
        let (col, shown) = row::value(r, m, &Field::AssetTag).unzip();
        return Ok(Err(fail(
            col,
            "duplicate_tag",
            format!(
                "the asset tag {:?} is already on row {first} of this file",
                shown.unwrap_or(t)
            ),
        )));
    }
    match new_asset(c, &input)? {
        Ok(asset) => {
            if let Some(t) = tag {
                tags.insert(t, r.number);
            }
            Ok(Ok((asset, new_place)))
        }
        Err(e) => {
            let col = row::column_of(e.code, &e.message, r, m, &custom_columns);
            // The state check does not repeat the value it refused.
            let message = match (e.code, col) {
                ("invalid_state", Some(i)) => format!("{:?}: {}", r.cells[i].trim(), e.message),
                _ => e.message,
            };
            Ok(Err(fail(col, e.code, message)))
        }
    }
}

/// Prepares and runs an import on `db` from a blocking thread (the CLI, or the API's
/// blocking task): a dry run on a read connection, a real one in one write transaction.
pub fn import_blocking(
    db: &Db,
    bytes: &[u8],
    opts: &Options,
    actor: &str,
    now: i64,
    progress: &mut dyn FnMut(usize, usize),
) -> DbResult<Result<Report, ImportError>> {
    let p = match prepare(bytes, opts) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    if opts.dry_run {
        db.read_blocking(|c| run(c, &p, opts, actor, now, progress))
    } else {
        db.write_blocking(|tx| run(tx, &p, opts, actor, now, progress))
    }
}

#[cfg(test)]
mod import_tests;
