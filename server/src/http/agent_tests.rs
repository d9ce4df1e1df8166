//! Property tests of the check-in body: any bytes, any JSON and any mangled check-in are
//! read or refused with a 4xx error saying why, never a panic; a valid check-in reads back
//! as sent, plain or gzipped; the size limit holds after inflating.
#![allow(clippy::unwrap_used)]

use super::*;
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::io::Write;
use steward_shared::{Health, InventoryDelta, SystemSection};

const LIMIT: usize = 16 * 1024;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// A refusal a client can act on: 4xx, a code and a message.
fn assert_clear(e: &AppError) -> Result<(), TestCaseError> {
    prop_assert!(e.status.is_client_error(), "{:?}", e);
    prop_assert!(
        !e.code.is_empty() && !e.message.trim().is_empty(),
        "{:?}",
        e
    );
    Ok(())
}

/// Decodes and validates as the check-in route does: `Some` only for a report it would
/// apply; a refusal must be clear.
fn check(encoding: Option<&str>, body: &[u8]) -> Result<Option<CheckinRequest>, TestCaseError> {
    match decode_checkin(encoding, body, LIMIT) {
        Err(e) => {
            assert_clear(&e)?;
            Ok(None)
        }
        Ok(req) => match validate_request(&req) {
            Ok(()) => Ok(Some(req)),
            Err(m) => {
                prop_assert!(!m.trim().is_empty());
                Ok(None)
            }
        },
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["(?s).{0,10}", "[\"\\\\\u{0}\u{7f}\u{2028}\u{feff}😀é]{1,6}",]
}

fn software() -> impl Strategy<Value = Software> {
    ("[a-z\u{0}😀]{1,8}", text(), text(), any::<i64>()).prop_map(
        |(name, version, publisher, install_date)| Software {
            name,
            version,
            publisher,
            install_date,
            source: "dpkg".into(),
            ..Default::default()
        },
    )
}

/// A check-in the server accepts, of any kind.
fn valid_checkin() -> impl Strategy<Value = CheckinRequest> {
    (
        0u8..3,
        0..=i64::MAX as u64,
        "[0-9a-f]{0,64}",
        text(),
        prop::collection::vec(software(), 0..6),
        prop::collection::vec(text(), 0..3),
        (-10_000i64..10_000, any::<u64>()),
    )
        .prop_map(
            |(kind, seq, digest, hostname, software, users, (load, uptime))| {
                let inventory = Inventory {
                    hostname: hostname.clone(),
                    software: software.clone(),
                    logged_in_users: users.clone(),
                    ..Default::default()
                };
                let kind =
                    [ReportKind::Full, ReportKind::Delta, ReportKind::Heartbeat][usize::from(kind)];
                let delta = (kind == ReportKind::Delta).then(|| InventoryDelta {
                    system: Some(SystemSection::of(&inventory)),
                    logged_in_users: Some(users),
                    software_added: software.clone(),
                    software_removed: software,
                    ..Default::default()
                });
                CheckinRequest {
                    kind,
                    seq,
                    base_digest: digest.clone(),
                    digest,
                    inventory: if kind == ReportKind::Full {
                        inventory
                    } else {
                        Inventory::default()
                    },
                    delta,
                    health: Health {
                        load_1: load as f64 / 100.0,
                        uptime_secs: uptime,
                        cpu_percent: Some(load as f64 / 10.0),
                        ..Default::default()
                    },
                    update: None,
                }
            },
        )
}

/// Names the check-in uses, so random JSON often lands on real fields.
const KEYS: &[&str] = &[
    "kind",
    "seq",
    "base_digest",
    "digest",
    "inventory",
    "delta",
    "health",
    "hostname",
    "software",
    "name",
    "version",
    "source",
    "disks",
    "network",
    "logged_in_users",
    "ips",
    "software_added",
    "software_removed",
    "system",
    "load_1",
    "cpu_percent",
    "temperatures",
    "filesystems",
    "errors",
    "collected_at",
    "full",
    "heartbeat",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
        prop::sample::select(&["full", "delta", "heartbeat"][..]).prop_map(Value::from),
    ];
    let key = prop_oneof![prop::sample::select(KEYS).prop_map(str::to_owned), text()];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Where a mutation lands in a check-in's JSON.
const PATHS: &[&str] = &[
    "/kind",
    "/seq",
    "/digest",
    "/inventory",
    "/inventory/hostname",
    "/inventory/software",
    "/inventory/software/0",
    "/inventory/software/0/name",
    "/inventory/logged_in_users",
    "/delta",
    "/delta/software_added",
    "/delta/system/hostname",
    "/health",
    "/health/load_1",
    "/health/cpu_percent",
    "/health/uptime_secs",
];

/// What a mutation puts there, as JSON text: wrong types, out-of-range numbers, NaN-like
/// words, huge strings and lists, deep nesting, NUL and odd unicode; `None` removes it.
fn replacement() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        prop::sample::select(
            &[
                "null",
                "true",
                "-1",
                "0",
                "1.5",
                "1e400",
                "-1e400",
                "18446744073709551616",
                "9223372036854775808",
                "NaN",
                "Infinity",
                "\"NaN\"",
                "{}",
                "[]",
                "[null]",
                "\"\\u0000\"",
                "\"\\ud800\"",
                "\"\\udfff\\ud800\"",
                "\"delta\"",
                "\"FULL\"",
                "[{}]",
                "[{\"name\": \"\"}]",
                "{\"kind\": \"heartbeat\"}",
                "\"\"",
            ][..]
        )
        .prop_map(|s| Some(s.to_owned())),
        (1usize..5000).prop_map(|n| Some(format!("{}{}", "[".repeat(n), "]".repeat(n)))),
        (1usize..300_000).prop_map(|n| Some(format!("\"{}\"", "x".repeat(n)))),
        (1usize..60_000)
            .prop_map(|n| { Some(format!("[{}]", vec!["{\"name\":\"p\"}"; n].join(","))) }),
        text().prop_map(|s| Some(serde_json::to_string(&s).unwrap())),
    ]
}

/// `req` as JSON with the value at `path` replaced by the raw text `with` (or removed).
fn mutate(req: &CheckinRequest, path: &str, with: Option<&str>) -> Vec<u8> {
    const MARK: &str = "\u{1}replacement\u{1}";
    let mut v = serde_json::to_value(req).unwrap();
    let (parent, last) = path.rsplit_once('/').unwrap();
    match v.pointer_mut(parent) {
        Some(Value::Object(m)) => match with {
            None => drop(m.remove(last)),
            Some(_) => drop(m.insert(last.to_owned(), Value::from(MARK))),
        },
        Some(Value::Array(a)) => {
            if let Ok(i) = last.parse::<usize>()
                && i < a.len()
            {
                match with {
                    None => drop(a.remove(i)),
                    Some(_) => a[i] = Value::from(MARK),
                }
            }
        }
        _ => {}
    }
    let text = serde_json::to_string(&v).unwrap();
    let quoted = serde_json::to_string(MARK).unwrap();
    text.replace(&quoted, with.unwrap_or("null")).into_bytes()
}

fn encoding() -> impl Strategy<Value = Option<&'static str>> {
    prop::sample::select(&[None, Some("identity"), Some("gzip"), Some("br"), Some("")][..])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_are_refused_clearly(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        enc in encoding(),
        zipped in any::<bool>(),
    ) {
        let body = if zipped { gzip(&bytes) } else { bytes };
        check(enc, &body)?;
    }

    #[test]
    fn random_json_is_read_or_refused_clearly(v in json(), zipped in any::<bool>()) {
        let text = serde_json::to_vec(&v).unwrap();
        if zipped {
            check(Some("gzip"), &gzip(&text))?;
        } else {
            check(None, &text)?;
        }
    }

    #[test]
    fn valid_checkins_read_back_as_sent(req in valid_checkin(), zipped in any::<bool>()) {
        let json = serde_json::to_vec(&req).unwrap();
        let got = if zipped {
            decode_checkin(Some("gzip"), &gzip(&json), LIMIT)
        } else {
            decode_checkin(None, &json, LIMIT)
        };
        let got = got.map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
        prop_assert_eq!(&got, &req);
        prop_assert_eq!(validate_request(&got), Ok(()));
    }

    /// The limit holds on the inflated body: a report padded past it is refused as too
    /// large (413), whatever its compressed size.
    #[test]
    fn the_size_limit_holds_after_inflating(req in valid_checkin(), pad in 0usize..2 * LIMIT) {
        let mut json = serde_json::to_vec(&req).unwrap();
        json.extend(std::iter::repeat_n(b' ', pad));
        match decode_checkin(Some("gzip"), &gzip(&json), LIMIT) {
            Ok(got) => {
                prop_assert!(json.len() <= LIMIT);
                prop_assert_eq!(got, req);
            }
            Err(e) => {
                prop_assert!(json.len() > LIMIT, "{:?}", e);
                prop_assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A valid check-in with a field removed, its type swapped, or made huge, deep or odd
    /// is read or refused clearly; a report the server would apply still keeps its limits.
    #[test]
    fn mangled_checkins_are_read_or_refused_clearly(
        req in valid_checkin(),
        path in prop::sample::select(PATHS),
        with in replacement(),
    ) {
        let body = mutate(&req, path, with.as_deref());
        if let Some(got) = check(None, &body)? {
            // What the server applies: the inventory of a full report, the delta of a
            // delta (a delta's `inventory` is never read).
            match (got.kind, &got.delta) {
                (ReportKind::Full, _) => {
                    prop_assert!(got.inventory.hostname.len() <= 255);
                    prop_assert!(got.inventory.software.len() <= 50_000);
                    prop_assert!(got.inventory.software.iter().all(|s| !s.name.is_empty()));
                }
                (ReportKind::Delta, Some(d)) => {
                    let host = d.system.as_ref().map_or(0, |s| s.hostname.len());
                    prop_assert!(host <= 255);
                    prop_assert!(d.software_added.len() <= 50_000);
                    prop_assert!(d.software_added.iter().all(|s| !s.name.is_empty()));
                }
                (ReportKind::Delta, None) => prop_assert!(false, "a delta without a delta"),
                (ReportKind::Heartbeat, _) => {}
            }
        }
    }
}

#[test]
fn unknown_encodings_and_corrupt_gzip_are_refused() {
    let e = decode_checkin(Some("br"), b"{}", LIMIT).unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_encoding")
    );
    let e = decode_checkin(Some("gzip"), b"{}", LIMIT).unwrap_err();
    assert_eq!(
        (e.status, e.code),
        (StatusCode::BAD_REQUEST, "invalid_body")
    );
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let e = decode_checkin(None, deep.as_bytes(), usize::MAX).unwrap_err();
    assert_eq!(e.code, "invalid_body");
}
