//! The dashboard's counts kept on write (migration 0024) against a scan of the rows they
//! count, after random sequences of the changes the desk makes.
#![allow(clippy::unwrap_used)]

use super::dashboard::{self, Count};
use super::migrations;
use proptest::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const DAY: i64 = 86_400;
/// 2026-11-26 12:00 UTC.
const NOW: i64 = 1_795_694_400;
const MODELS: [&str; 4] = ["", "Latitude 5440", "X1 Carbon", "OptiPlex 7010"];
const DATES: [&str; 4] = ["2019-03-01", "2024-06-30", "2026-01-15", "not a date"];
const STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];

/// Locations 1-4 are site A's chain (site, building, floor, room), 5-8 site B's, 9 is a
/// site with nothing in it. Returns each location's site.
fn places(c: &Connection) -> HashMap<i64, i64> {
    let mut site_of = HashMap::new();
    for (first, site) in [(1, "A"), (5, "B")] {
        let kinds = ["site", "building", "floor", "room"];
        for (i, kind) in kinds.iter().enumerate() {
            let id = first + i as i64;
            let parent = (i > 0).then(|| id - 1);
            c.execute(
                "INSERT INTO locations (id, parent_id, kind, name, created_at) VALUES (?1, ?2, ?3, ?4, 0)",
                params![id, parent, kind, format!("{site} {kind}")],
            )
            .unwrap();
            site_of.insert(id, first);
        }
    }
    c.execute(
        "INSERT INTO locations (id, kind, name, created_at) VALUES (9, 'site', 'C', 0)",
        [],
    )
    .unwrap();
    site_of.insert(9, 9);
    site_of
}

fn db() -> (Connection, HashMap<i64, i64>) {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    c.execute(
        "INSERT INTO users (id, email, name, role, created_at) VALUES (1, 'a@example.test', 'A', 'employee', 0)",
        [],
    )
    .unwrap();
    let site_of = places(&c);
    (c, site_of)
}

#[derive(Debug, Clone)]
enum Op {
    AddAsset {
        model: usize,
        location: Option<i64>,
        state: Option<i64>,
        date: Option<usize>,
    },
    SetModel(usize, usize),
    Move(usize, Option<i64>),
    SetState(usize, Option<i64>),
    SetDate(usize, Option<usize>),
    DeleteAsset(usize),
    AddTicket {
        status: usize,
        priority: i64,
        breached: bool,
        days_ago: i64,
    },
    EditTicket {
        ticket: usize,
        status: usize,
        priority: i64,
        breached: bool,
    },
    DeleteTicket(usize),
    Link(usize, usize),
    Unlink(usize, usize),
    /// Replace a ticket's links, as editing a ticket does (http::ticket_changes).
    Relink(usize, Vec<usize>),
}

fn op() -> impl Strategy<Value = Op> {
    let location = prop::option::of(1i64..=9);
    let state = prop::option::of(1i64..=5);
    let date = prop::option::of(0..DATES.len());
    prop_oneof![
        3 => (0..MODELS.len(), location.clone(), state.clone(), date.clone()).prop_map(
            |(model, location, state, date)| Op::AddAsset { model, location, state, date }
        ),
        1 => (any::<usize>(), 0..MODELS.len()).prop_map(|(a, m)| Op::SetModel(a, m)),
        1 => (any::<usize>(), location).prop_map(|(a, l)| Op::Move(a, l)),
        1 => (any::<usize>(), state).prop_map(|(a, s)| Op::SetState(a, s)),
        1 => (any::<usize>(), date).prop_map(|(a, d)| Op::SetDate(a, d)),
        1 => any::<usize>().prop_map(Op::DeleteAsset),
        3 => (0..STATUSES.len(), 1i64..=5, any::<bool>(), 0i64..120).prop_map(
            |(status, priority, breached, days_ago)| Op::AddTicket { status, priority, breached, days_ago }
        ),
        2 => (any::<usize>(), 0..STATUSES.len(), 1i64..=5, any::<bool>()).prop_map(
            |(ticket, status, priority, breached)| Op::EditTicket { ticket, status, priority, breached }
        ),
        1 => any::<usize>().prop_map(Op::DeleteTicket),
        4 => (any::<usize>(), any::<usize>()).prop_map(|(t, a)| Op::Link(t, a)),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(t, a)| Op::Unlink(t, a)),
        1 => (any::<usize>(), prop::collection::vec(any::<usize>(), 0..4))
            .prop_map(|(t, a)| Op::Relink(t, a)),
    ]
}

/// The `i`th row of `table` (wrapping), if it has any.
fn nth(c: &Connection, table: &str, i: usize) -> Option<i64> {
    let n: i64 = c
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap();
    if n == 0 {
        return None;
    }
    let offset = (i as i64).rem_euclid(n);
    c.query_row(
        &format!("SELECT id FROM {table} ORDER BY id LIMIT 1 OFFSET ?1"),
        [offset],
        |r| r.get(0),
    )
    .optional()
    .unwrap()
}

/// Where a link is counted: the ticket's day, and the asset's model and site as they were
/// when the link was made.
type Attribution = (i64, Option<String>, Option<i64>);

struct Desk {
    c: Connection,
    site_of: HashMap<i64, i64>,
    /// What each link should record, kept by the test as the links are made.
    links: BTreeMap<(i64, i64), Attribution>,
}

impl Desk {
    fn link(&mut self, ticket: i64, asset: i64) {
        let added = self
            .c
            .execute(
                "INSERT OR IGNORE INTO ticket_assets (ticket_id, asset_id) VALUES (?1, ?2)",
                [ticket, asset],
            )
            .unwrap();
        if added == 0 {
            return;
        }
        let (created, model, location): (i64, String, Option<i64>) = self
            .c
            .query_row(
                "SELECT t.created_at, a.model, a.location_id FROM tickets t, assets a
                 WHERE t.id = ?1 AND a.id = ?2",
                [ticket, asset],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let model = (!model.is_empty()).then_some(model);
        let site = location.and_then(|l| self.site_of.get(&l).copied());
        self.links
            .insert((ticket, asset), (created.div_euclid(DAY), model, site));
    }

    fn apply(&mut self, op: &Op) {
        let c = &self.c;
        let asset = |i: &usize| nth(c, "assets", *i);
        let ticket = |i: &usize| nth(c, "tickets", *i);
        match op {
            Op::AddAsset {
                model,
                location,
                state,
                date,
            } => {
                c.execute(
                    "INSERT INTO assets (name, model, location_id, state_id, purchase_date, created_at, updated_at)
                     VALUES ('PC', ?1, ?2, ?3, ?4, 0, 0)",
                    params![MODELS[*model], location, state, date.map(|d| DATES[d])],
                )
                .unwrap();
            }
            Op::SetModel(a, m) => {
                if let Some(a) = asset(a) {
                    c.execute(
                        "UPDATE assets SET model = ?2 WHERE id = ?1",
                        params![a, MODELS[*m]],
                    )
                    .unwrap();
                }
            }
            Op::Move(a, l) => {
                if let Some(a) = asset(a) {
                    c.execute(
                        "UPDATE assets SET location_id = ?2 WHERE id = ?1",
                        params![a, l],
                    )
                    .unwrap();
                }
            }
            Op::SetState(a, s) => {
                if let Some(a) = asset(a) {
                    c.execute(
                        "UPDATE assets SET state_id = ?2 WHERE id = ?1",
                        params![a, s],
                    )
                    .unwrap();
                }
            }
            Op::SetDate(a, d) => {
                if let Some(a) = asset(a) {
                    c.execute(
                        "UPDATE assets SET purchase_date = ?2 WHERE id = ?1",
                        params![a, d.map(|d| DATES[d])],
                    )
                    .unwrap();
                }
            }
            Op::DeleteAsset(a) => {
                if let Some(a) = asset(a) {
                    c.execute("DELETE FROM assets WHERE id = ?1", [a]).unwrap();
                    self.links.retain(|k, _| k.1 != a);
                }
            }
            Op::AddTicket {
                status,
                priority,
                breached,
                days_ago,
            } => {
                let created = NOW - days_ago * DAY - 3600;
                c.execute(
                    "INSERT INTO tickets (type, status, title, requester_id, priority, created_at,
                                          updated_at, breached_at)
                     VALUES ('incident', ?1, 'T', 1, ?2, ?3, ?3, ?4)",
                    params![
                        STATUSES[*status],
                        priority,
                        created,
                        breached.then_some(created + 60)
                    ],
                )
                .unwrap();
            }
            Op::EditTicket {
                ticket: t,
                status,
                priority,
                breached,
            } => {
                if let Some(t) = ticket(t) {
                    c.execute(
                        "UPDATE tickets SET status = ?2, priority = ?3,
                                breached_at = CASE WHEN ?4 THEN coalesce(breached_at, ?5) END
                         WHERE id = ?1",
                        params![t, STATUSES[*status], priority, breached, NOW],
                    )
                    .unwrap();
                }
            }
            Op::DeleteTicket(t) => {
                if let Some(t) = ticket(t) {
                    c.execute("DELETE FROM tickets WHERE id = ?1", [t]).unwrap();
                    self.links.retain(|k, _| k.0 != t);
                }
            }
            Op::Link(t, a) => {
                if let (Some(t), Some(a)) = (ticket(t), asset(a)) {
                    self.link(t, a);
                }
            }
            Op::Unlink(t, a) => {
                if let (Some(t), Some(a)) = (ticket(t), asset(a)) {
                    c.execute(
                        "DELETE FROM ticket_assets WHERE ticket_id = ?1 AND asset_id = ?2",
                        [t, a],
                    )
                    .unwrap();
                    self.links.remove(&(t, a));
                }
            }
            Op::Relink(t, assets) => {
                if let Some(t) = ticket(t) {
                    let ids: Vec<i64> = assets.iter().filter_map(asset).collect();
                    c.execute("DELETE FROM ticket_assets WHERE ticket_id = ?1", [t])
                        .unwrap();
                    self.links.retain(|k, _| k.0 != t);
                    for a in ids {
                        self.link(t, a);
                    }
                }
            }
        }
    }
}

/// A two-column query's rows, zero counts left out.
fn rows(c: &Connection, sql: &str) -> BTreeSet<(String, i64)> {
    let mut stmt = c.prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((
            format!("{:?}", r.get::<_, rusqlite::types::Value>(0)?),
            r.get(1)?,
        ))
    })
    .unwrap()
    .map(Result::unwrap)
    .filter(|(_, n)| *n != 0)
    .collect()
}

/// Every count kept on write equals a scan of what it counts.
fn check(desk: &Desk) {
    let c = &desk.c;
    let pairs = [
        (
            "SELECT key, n FROM ticket_counts WHERE key LIKE 'priority:%' OR key = 'breached'",
            "SELECT 'priority:' || priority, count(*) FROM tickets
             WHERE status IN ('new', 'open', 'pending') GROUP BY priority
             UNION ALL SELECT 'breached', count(*) FROM tickets
             WHERE status IN ('new', 'open', 'pending') AND breached_at IS NOT NULL",
        ),
        (
            "SELECT day || ' ' || model, tickets FROM ticket_link_models",
            "SELECT day || ' ' || model, count(DISTINCT ticket_id) FROM ticket_assets
             WHERE model IS NOT NULL GROUP BY day, model",
        ),
        (
            "SELECT day || ' ' || site_id, tickets FROM ticket_link_sites",
            "SELECT day || ' ' || site_id, count(DISTINCT ticket_id) FROM ticket_assets
             WHERE site_id IS NOT NULL GROUP BY day, site_id",
        ),
        (
            "SELECT model, n FROM asset_model_counts",
            "SELECT model, count(*) FROM assets WHERE model <> '' GROUP BY model",
        ),
        (
            "SELECT location_id, n FROM asset_location_counts",
            "SELECT location_id, count(*) FROM assets WHERE location_id IS NOT NULL
             GROUP BY location_id",
        ),
        (
            "SELECT state_id || ' ' || purchase_date, n FROM asset_age_counts",
            "SELECT coalesce(state_id, 0) || ' ' || coalesce(purchase_date, ''), count(*)
             FROM assets GROUP BY 1",
        ),
    ];
    for (kept, scanned) in pairs {
        assert_eq!(rows(c, kept), rows(c, scanned), "{kept}");
    }
    let mut stmt = c
        .prepare("SELECT ticket_id, asset_id, day, model, site_id FROM ticket_assets")
        .unwrap();
    let recorded: BTreeMap<(i64, i64), Attribution> = stmt
        .query_map([], |r| {
            Ok(((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?)))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(recorded, desk.links, "each link records where it happened");

    // The figures read from the counts match the queries they replaced.
    let d = dashboard::staff(c, NOW).unwrap();
    let scanned = |sql: &str| -> Vec<Count> {
        let mut stmt = c.prepare(sql).unwrap();
        stmt.query_map([NOW], |r| {
            Ok(Count {
                label: r.get(0)?,
                value: r.get(1)?,
            })
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    assert_eq!(
        d.by_status,
        scanned(
            "SELECT status, count(*) FROM tickets WHERE status IN ('new', 'open', 'pending')
               AND ?1 = ?1 GROUP BY status
             ORDER BY CASE status WHEN 'new' THEN 0 WHEN 'open' THEN 1 ELSE 2 END"
        )
    );
    assert_eq!(
        d.by_priority,
        scanned(
            "SELECT 'P' || priority, count(*) FROM tickets
             WHERE status IN ('new', 'open', 'pending') AND ?1 = ?1
             GROUP BY priority ORDER BY priority"
        )
    );
    assert_eq!(
        d.by_state,
        scanned(
            "SELECT coalesce(s.name, 'No state'), count(*) FROM assets a
             LEFT JOIN asset_states s ON s.id = a.state_id WHERE ?1 = ?1
             GROUP BY a.state_id ORDER BY coalesce(a.state_id, 1e9)"
        )
    );
    let ages: Vec<i64> = d.by_age.iter().map(|a| a.value).collect();
    let scanned_ages: (i64, i64, i64, i64, i64) = c
        .query_row(
            "SELECT coalesce(sum(age < 1), 0), coalesce(sum(age >= 1 AND age < 3), 0),
                    coalesce(sum(age >= 3 AND age < 5), 0), coalesce(sum(age >= 5), 0),
                    coalesce(sum(age IS NULL), 0)
             FROM (SELECT (julianday(?1, 'unixepoch') - julianday(a.purchase_date)) / 365.25 AS age
                   FROM assets a LEFT JOIN asset_states s ON s.id = a.state_id
                   WHERE s.kind IS NOT 'archived')",
            [NOW],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    let (a, b, cc, dd, e) = scanned_ages;
    assert_eq!(ages, vec![a, b, cc, dd, e]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn counts_kept_on_write_match_a_scan(ops in prop::collection::vec(op(), 1..80)) {
        let (c, site_of) = db();
        let mut desk = Desk { c, site_of, links: BTreeMap::new() };
        for (i, op) in ops.iter().enumerate() {
            desk.apply(op);
            if i % 10 == 9 {
                check(&desk);
            }
        }
        check(&desk);
    }
}

/// A laptop moved to another site after its ticket leaves the ticket where it happened;
/// the devices count where they are now. Tickets older than the window are left out.
#[test]
fn tickets_stay_where_their_device_was() {
    let (c, site_of) = db();
    let mut desk = Desk {
        c,
        site_of,
        links: BTreeMap::new(),
    };
    for _ in 0..6 {
        desk.apply(&Op::AddAsset {
            model: 1,
            location: Some(4),
            state: Some(2),
            date: None,
        });
    }
    for _ in 0..5 {
        desk.apply(&Op::AddAsset {
            model: 2,
            location: Some(7),
            state: Some(2),
            date: None,
        });
    }
    for days_ago in [1, 2, 100] {
        desk.apply(&Op::AddTicket {
            status: 0,
            priority: 2,
            breached: false,
            days_ago,
        });
    }
    // Two of the first laptop's tickets, and the old one; the second ticket also names a
    // second laptop of the same model and site (still one ticket for both).
    desk.apply(&Op::Link(0, 0));
    desk.apply(&Op::Link(1, 0));
    desk.apply(&Op::Link(1, 1));
    desk.apply(&Op::Link(2, 0));
    desk.apply(&Op::Move(0, Some(8)));
    check(&desk);
    let d = dashboard::staff(&desk.c, NOW).unwrap();
    let rates: Vec<(String, i64, i64)> = d
        .per_site
        .iter()
        .map(|r| (r.label.clone(), r.tickets, r.devices))
        .collect();
    assert_eq!(
        rates,
        vec![("A site".to_owned(), 2, 5)],
        "B site has 6 devices now and no tickets in the window"
    );
    let models: Vec<(String, i64, i64)> = d
        .per_model
        .iter()
        .map(|r| (r.label.clone(), r.tickets, r.devices))
        .collect();
    assert_eq!(models, vec![("Latitude 5440".to_owned(), 2, 6)]);
}
