//! Property test of the assets CSV round trip: assets with any text in them, exported
//! with the export's own code and imported again (a dry run), read back as the same
//! assets, field for field.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::db::{locations, migrations};
use crate::http::asset_input::{AssetInput, Money, new_asset};
use crate::imports::{self, Options, resolve::Lookups, row};
use proptest::prelude::*;
use std::sync::{LazyLock, Mutex, PoisonError};

static DB: LazyLock<Mutex<Connection>> = LazyLock::new(|| {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    let hq = locations::insert(&c, None, "site", "HQ", Some("Europe/Berlin"), "", 0).unwrap();
    locations::insert(&c, Some(hq), "building", "Building A", None, "", 0).unwrap();
    Mutex::new(c)
});

/// Text a spreadsheet would mangle: separators, quotes, formula starts and the
/// apostrophe that guards them, unicode.
fn text(max: usize) -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["", "'", "=", "+", "-", "@", "'=", "''-", "\"", " "][..]),
        prop::string::string_regex(&format!("[a-zA-Z0-9 ,;\"'=+@é😀-]{{0,{max}}}")).unwrap(),
    )
        .prop_map(|(start, rest)| format!("{start}{rest}"))
}

fn date() -> impl Strategy<Value = Option<String>> {
    prop::option::of((0i64..40_000).prop_map(|d| {
        (chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap() + chrono::Duration::days(d))
            .format("%Y-%m-%d")
            .to_string()
    }))
}

fn input() -> impl Strategy<Value = AssetInput> {
    (
        (
            prop::sample::select(&["computer", "Printer", "hvac"][..]),
            text(20),
            text(12),
            text(12),
            text(12),
            prop::option::of("[A-Za-z0-9'=+@-]{1,8}"),
        ),
        (
            prop::sample::select(&["In stock", "Deployed", "In repair"][..]),
            0i64..3,
            date(),
            date(),
            prop::option::of(0i64..1_000_000_000),
            prop::option::of(1i64..=1200),
        ),
        (
            prop::option::of(prop::sample::select(
                &["low", "medium", "high", "critical"][..],
            )),
            text(12),
            text(12),
            (
                text(10),
                prop::sample::select(&["", "\n", "\r\n", "\t"][..]),
                text(10),
            ),
        ),
    )
        .prop_map(|(a, b, c)| AssetInput {
            kind: Some(a.0.to_owned()),
            name: Some(a.1),
            vendor: Some(a.2),
            model: Some(a.3),
            serial: Some(a.4),
            asset_tag: Some(a.5),
            state: Some(b.0.to_owned()),
            // 0: nowhere; 1: HQ; 2: HQ / Building A.
            location_id: Some((b.1 > 0).then_some(b.1)),
            purchase_date: Some(b.2),
            warranty_end: Some(b.3),
            purchase_cost: Some(b.4.map(|c| Money::Text(format!("{}.{:02}", c / 100, c % 100)))),
            expected_life_months: Some(b.5),
            criticality: c.0.map(str::to_owned),
            supplier: Some(c.1),
            order_number: Some(c.2),
            notes: Some(format!("{}{}{}", c.3.0, c.3.1, c.3.2)),
            ..AssetInput::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn exported_assets_import_as_they_were(inputs in prop::collection::vec(input(), 1..5)) {
        let c = DB.lock().unwrap_or_else(PoisonError::into_inner);
        // The assets as the API would store them (tags made unique; invalid ones left out).
        let mut assets = Vec::new();
        for (i, mut input) in inputs.into_iter().enumerate() {
            if let Some(Some(t)) = &mut input.asset_tag {
                t.push_str(&format!("x{i}"));
            }
            if let Ok(a) = new_asset(&c, &input).unwrap() {
                assets.push(a);
            }
        }
        let tx = c.unchecked_transaction().unwrap();
        for a in &assets {
            db::asset_records::create(&tx, a, "test", 0).unwrap();
        }
        let cols = AssetColumns::load(&tx, None).unwrap();
        let mut csv = Vec::new();
        cols.header(&mut csv);
        let next = asset_chunk(&tx, &AssetFilter::default(), None, &cols, &mut csv).unwrap();
        prop_assert_eq!(next, None);
        drop(tx);

        let opts = Options { dry_run: true, ..Options::default() };
        let p = imports::prepare(&csv, &opts).unwrap();
        prop_assert_eq!(p.table.rows.len(), assets.len());
        let mut lk = Lookups::load(&c).unwrap();
        let cx = row::Context { mapping: &p.mapping, default_type: None, create_locations: false };
        for (r, want) in p.table.rows.iter().zip(&assets) {
            let parsed = row::input(r, &cx, &mut lk).map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            let got = new_asset(&c, &parsed.input).unwrap().map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
            prop_assert_eq!(format!("{got:?}"), format!("{want:?}"));
        }
        let report = imports::run(&c, &p, &opts, "test", 0, &mut |_, _| {}).unwrap().unwrap();
        prop_assert_eq!(report.valid, assets.len(), "{:?}", report.errors);
    }
}
