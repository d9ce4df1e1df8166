//! Property tests of every search box over the real schema: whatever a person types into
//! ticket search, the asset list's `q=`, software, license or user search (quotes, `*`,
//! `-`, `NEAR`, parentheses, column filters, NUL, odd unicode, very long text), the query
//! runs without an SQLite error (which would be a 500), and a stored word is found.
#![allow(clippy::unwrap_used)]

use super::assets::{self, AssetFilter};
use super::tickets::{self, NewTicket, Sort, TicketFilter};
use super::{inventory, licenses, migrations, software, users};
use crate::domain::roles::Role;
use proptest::prelude::*;
use rusqlite::{Connection, params};
use std::sync::{LazyLock, Mutex, PoisonError};

/// One migrated database for all cases (migrating is the slow part); cases add rows.
static DB: LazyLock<Mutex<Connection>> = LazyLock::new(|| {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    users::insert(&c, "a@example.com", "Ann", Role::Admin, None, 0).unwrap();
    for (title, body) in [("Printer jam", "NEAR the door"), ("VPN \"down\"", "-x*")] {
        ticket(&c, title, body);
    }
    asset(&c, "srv-fs-02", "café.example");
    Mutex::new(c)
});

fn ticket(c: &Connection, title: &str, description: &str) -> i64 {
    let t = NewTicket {
        ticket_type: "incident".into(),
        title: title.into(),
        description: description.into(),
        requester_id: 1,
        impact: 2,
        urgency: 2,
        priority: 3,
        ..Default::default()
    };
    tickets::insert(c, &t, "test", 0).unwrap()
}

fn asset(c: &Connection, name: &str, hostname: &str) -> i64 {
    c.execute(
        "INSERT INTO assets (name, hostname, created_at, updated_at) VALUES (?1, ?2, 0, 0)",
        params![name, hostname],
    )
    .unwrap();
    let id = c.last_insert_rowid();
    inventory::update_search_index(c, id).unwrap();
    id
}

/// What FTS5's query language, LIKE and people make of a search box.
const PIECES: &[&str] = &[
    "\"",
    "\"\"",
    "*",
    "**",
    "-",
    "--",
    "+",
    "^",
    ":",
    "name:",
    "{name hostname}:",
    "(",
    ")",
    "()",
    "NEAR",
    "NEAR(",
    "NEAR/3",
    ",",
    "OR",
    "AND",
    "NOT",
    "%",
    "_",
    "'",
    "\\",
    "\u{0}",
    "é",
    "ß",
    "😀",
    "\u{301}",
    "\u{200b}",
    "\u{feff}",
    "ǅ",
    "٣",
    "printer",
    "pr",
    "x",
    "a.b",
    "srv-fs",
    " ",
    "\t",
    "\n",
];

fn search_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.concat()),
        2 => prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.join(" ")),
        2 => "(?s).{0,30}",
        1 => (prop::sample::select(PIECES), 1usize..3000).prop_map(|(p, n)| p.repeat(n)),
    ]
}

/// Every search over `c` for `q`; the first SQLite error, if any.
fn search_all(c: &Connection, q: &str) -> Result<(), String> {
    let err = |what: &'static str| move |e: super::DbError| format!("{what}: {e}");
    for (sort, requester, internal) in [
        (Sort::Newest, None, false),
        (Sort::Newest, None, true),
        (Sort::Priority, None, false),
        (Sort::Newest, Some(1), false),
        (Sort::Priority, Some(1), true),
    ] {
        let f = TicketFilter {
            q: Some(q.to_owned()),
            requester,
            search_internal: internal,
            ..Default::default()
        };
        tickets::list(c, &f, sort, None, 10).map_err(err("tickets"))?;
        tickets::list(c, &f, sort, Some((3, 2)), 10).map_err(err("tickets, page 2"))?;
    }
    let f = AssetFilter {
        q: Some(q.to_owned()),
        ..Default::default()
    };
    assets::list(c, &f, None, 10).map_err(err("assets"))?;
    assets::software(c, 1, Some(q), None, 10).map_err(err("asset software"))?;
    software::titles(c, Some(q), None, 10).map_err(err("software"))?;
    licenses::list(c, Some(q), None, None, 10).map_err(err("licenses"))?;
    users::list(c, Some(q), None, &[], 0, 10).map_err(err("users"))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_search_text_runs_without_an_sqlite_error(q in search_text()) {
        let c = DB.lock().unwrap_or_else(PoisonError::into_inner);
        let result = search_all(&c, &q);
        prop_assert!(result.is_ok(), "{:?} for {:?}", result, q);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A word in a ticket's title or an asset's name is found by itself, and by a prefix
    /// typed with `*`, among whatever other text is around it.
    #[test]
    fn a_stored_word_is_found(
        word in "[a-zA-Z0-9éüß][a-zA-Z0-9éüß_.:-]{0,11}",
        cut in 1usize..12,
        noise in "[a-z ,;!?()\"]{0,12}",
    ) {
        let c = DB.lock().unwrap_or_else(PoisonError::into_inner);
        let t = ticket(&c, &format!("{noise} {word} {noise}"), &noise);
        let a = asset(&c, &format!("{noise} {word}"), "");
        let prefix: String = word.chars().take(cut).collect();
        let tickets_for = |q: &str| {
            let f = TicketFilter { q: Some(q.to_owned()), ..Default::default() };
            tickets::list(&c, &f, Sort::Newest, None, 1000).unwrap().iter().map(|t| t.id).collect::<Vec<_>>()
        };
        prop_assert!(tickets_for(&word).contains(&t), "ticket not found by {:?}", word);
        prop_assert!(tickets_for(&format!("{prefix}*")).contains(&t), "ticket not found by {:?}*", prefix);
        let f = AssetFilter { q: Some(prefix.clone()), ..Default::default() };
        let ids: Vec<i64> = assets::list(&c, &f, None, 1000).unwrap().iter().map(|a| a.id).collect();
        prop_assert!(ids.contains(&a), "asset not found by {:?}", prefix);
    }
}
