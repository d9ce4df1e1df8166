//! Property test of an import over the real schema: for any file, the whole file is
//! refused with a code and a message, or every data row is either valid (and a real run
//! imports exactly those) or reported once, with its row number and a reason; never an
//! SQLite error.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::db::{locations, migrations};
use proptest::prelude::*;
use std::sync::{LazyLock, Mutex, PoisonError};

/// One migrated database (seeded types and states, a few places); each case's writes
/// are rolled back.
static DB: LazyLock<Mutex<Connection>> = LazyLock::new(|| {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    let hq = locations::insert(&c, None, "site", "HQ", Some("Europe/Berlin"), "", 0).unwrap();
    locations::insert(&c, Some(hq), "building", "Building A", None, "", 0).unwrap();
    Mutex::new(c)
});

/// Our export's columns, Snipe-IT's, ones nobody knows, and custom fields.
const HEADERS: &[&str] = &[
    "name",
    "type",
    "state",
    "state_id",
    "asset_tag",
    "location",
    "location_id",
    "default_location",
    "purchase_date",
    "purchase_cost",
    "warranty",
    "warranty_end",
    "expected_life_months",
    "criticality",
    "notes",
    "serial",
    "manufacturer",
    "Category",
    "Asset Name",
    "Status",
    "custom:btu",
    "custom:",
    "MAC Address",
    "id",
    " name ",
    "",
];

/// Cells that are valid, nearly valid and hostile.
const CELLS: &[&str] = &[
    "",
    " ",
    "Laptop 7",
    "computer",
    "Computer",
    "HVAC unit",
    "Laptops",
    "nope",
    "In stock",
    "Deployed",
    "Ready to Deploy",
    "1",
    "0",
    "-1",
    "99999999999999999999",
    "HQ",
    "HQ / Building A",
    "HQ / Nowhere",
    "2024-01-15",
    "2024-02-30",
    "15/01/2024",
    "2024-01-15 10:00:00",
    "1.299,50",
    "$20",
    "1e400",
    "NaN",
    "36",
    "36 months",
    "1200",
    "1201",
    "high",
    "HIGH",
    "TAG-1",
    "tag-1",
    "tag 1",
    "=cmd|' /C calc'!A0",
    "'=1+1",
    "@SUM(A1)",
    "\u{0}",
    "a\u{7}b",
    "é😀",
    "\u{feff}x",
    "line\nbreak",
    "a,b",
    "a;b",
    "\"q\"",
];

fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(CELLS).prop_map(str::to_owned),
        1 => "(?s).{0,12}",
        1 => (1usize..400).prop_map(|n| "x".repeat(n)),
    ]
}

fn csv() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(prop::sample::select(HEADERS), 1..7),
        prop::sample::select(&[",", ";", "\t"][..]),
    )
        .prop_flat_map(|(headers, sep)| {
            let width = headers.len();
            (
                Just(headers),
                Just(sep),
                prop::collection::vec(prop::collection::vec(cell(), 0..width + 2), 0..8),
            )
        })
        .prop_map(|(headers, sep, rows)| {
            let mut out = Vec::new();
            if sep == "," {
                table::write_row(&mut out, headers.iter().copied());
                for r in &rows {
                    table::write_row(&mut out, r.iter().map(String::as_str));
                }
            } else {
                // As a spreadsheet in another locale writes it, quoting only when needed.
                let line = |cells: Vec<&str>| {
                    cells
                        .iter()
                        .map(|c| {
                            if c.contains([sep.as_bytes()[0] as char, '"', '\n', '\r']) {
                                format!("\"{}\"", c.replace('"', "\"\""))
                            } else {
                                (*c).to_owned()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(sep)
                        + "\r\n"
                };
                out.extend(line(headers.clone()).into_bytes());
                for r in &rows {
                    out.extend(line(r.iter().map(String::as_str).collect()).into_bytes());
                }
            }
            out
        })
}

fn options() -> impl Strategy<Value = Options> {
    (
        prop::option::of(prop::sample::select(
            &["computer", "Printer", "bogus", " "][..],
        )),
        any::<bool>(),
        0usize..3,
    )
        .prop_map(|(default_type, create_locations, max_errors)| Options {
            dry_run: true,
            mapping: None,
            default_type: default_type.map(str::to_owned),
            create_locations,
            max_errors,
        })
}

fn check_report(r: &Report, p: &Prepared, opts: &Options) -> Result<(), TestCaseError> {
    let rows = p.table.rows.len();
    prop_assert_eq!(r.rows, rows);
    prop_assert_eq!(r.valid + r.invalid, rows);
    if opts.max_errors == 0 {
        prop_assert_eq!(r.errors.len(), r.invalid);
    } else {
        prop_assert_eq!(r.errors.len() + r.errors_omitted, r.invalid);
        prop_assert!(r.errors.len() <= opts.max_errors);
    }
    let mut last = 1;
    for e in &r.errors {
        prop_assert!(
            e.row > last && e.row <= rows + 1,
            "row {} of {}",
            e.row,
            rows
        );
        last = e.row;
        prop_assert!(
            !e.code.is_empty() && !e.message.trim().is_empty(),
            "{:?}",
            e
        );
        if let Some(col) = &e.column {
            prop_assert!(p.table.headers.contains(col), "{:?}", e);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_row_is_imported_or_reported_with_its_number(
        bytes in csv(),
        opts in options(),
    ) {
        let p = match prepare(&bytes, &opts) {
            Ok(p) => p,
            Err(e) => {
                prop_assert!(!e.code.is_empty() && !e.message.trim().is_empty(), "{:?}", e);
                return Ok(());
            }
        };
        let c = DB.lock().unwrap_or_else(PoisonError::into_inner);
        let dry = match run(&c, &p, &opts, "test", 0, &mut |_, _| {}).unwrap() {
            Ok(r) => r,
            Err(e) => {
                prop_assert!(!e.code.is_empty() && !e.message.trim().is_empty(), "{:?}", e);
                return Ok(());
            }
        };
        check_report(&dry, &p, &opts)?;
        prop_assert_eq!(dry.imported, 0);

        let real_opts = Options { dry_run: false, ..opts.clone() };
        let tx = c.unchecked_transaction().unwrap();
        let real = run(&tx, &p, &real_opts, "test", 0, &mut |_, _| {}).unwrap().unwrap();
        drop(tx);
        check_report(&real, &p, &real_opts)?;
        prop_assert_eq!(real.valid, dry.valid);
        prop_assert_eq!(real.imported, real.valid);
        prop_assert_eq!(&real.errors, &dry.errors);
        prop_assert_eq!(real.locations_created, dry.locations_created);
    }
}
