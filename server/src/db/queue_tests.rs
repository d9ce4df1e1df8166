//! Property test of the ticket queues' status filters newest first: whichever way
//! `tickets::list` finds them (walking the newest tickets when the statuses are common,
//! `tickets_status` when they are rare), every page holds the tickets a plain filter and
//! sort would, and paging by cursor goes through all of them once.
#![allow(clippy::unwrap_used)]

use super::tickets::{self, NewTicket, Sort, TicketFilter};
use super::{migrations, users};
use crate::domain::roles::Role;
use proptest::prelude::*;
use rusqlite::{Connection, params};

const STATUSES: [&str; 5] = ["new", "open", "pending", "resolved", "closed"];

/// A migrated database with one ticket per entry of `statuses` (indexes into
/// [`STATUSES`]), ids in that order.
fn desk(statuses: &[usize]) -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    users::insert(&c, "a@example.com", "Ann", Role::Admin, None, 0).unwrap();
    for (i, s) in statuses.iter().enumerate() {
        let t = NewTicket {
            ticket_type: "incident".into(),
            title: format!("ticket {i}"),
            requester_id: 1,
            impact: 2,
            urgency: 2,
            priority: 3,
            ..Default::default()
        };
        let id = tickets::insert(&c, &t, "test", i as i64).unwrap();
        // An UPDATE, so the triggers keep `ticket_counts` as the server's changes do.
        c.execute(
            "UPDATE tickets SET status = ?2 WHERE id = ?1",
            params![id, STATUSES[*s]],
        )
        .unwrap();
    }
    c
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn status_filters_list_every_match_newest_first(
        // Mostly closed, as a desk is: the rare statuses go through the index, the
        // common ones through the walk.
        statuses in prop::collection::vec(prop_oneof![6 => Just(4usize), 1 => 0usize..4], 1..150),
        wanted in prop::collection::btree_set(0usize..5, 1..4),
        limit in 1u32..30,
    ) {
        let c = desk(&statuses);
        let filter = TicketFilter {
            statuses: wanted.iter().map(|&s| STATUSES[s].to_owned()).collect(),
            ..TicketFilter::default()
        };
        let expected: Vec<i64> = (1..=statuses.len() as i64)
            .rev()
            .filter(|id| wanted.contains(&statuses[*id as usize - 1]))
            .collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = tickets::list(&c, &filter, Sort::Newest, after, limit).unwrap();
            prop_assert!(page.len() <= limit as usize);
            seen.extend(page.iter().map(|t| t.id));
            match page.last() {
                Some(last) if page.len() == limit as usize => after = Some((0, last.id)),
                _ => break,
            }
        }
        prop_assert_eq!(seen, expected);
    }
}
