//! Property test of [`super::build`]: for any two inventories A and B, the delta from A to
//! B applied to A gives B (but for `errors`, which no delta carries).
#![allow(clippy::unwrap_used)]

use super::{build, normalize};
use proptest::prelude::*;
use steward_shared::{Disk, Inventory, NetInterface, Software};

/// Short text with hostile characters; a small alphabet so that values often collide.
fn text() -> impl Strategy<Value = String> {
    "[ab\"\\\\\u{0}é😀]{0,3}"
}

fn software() -> impl Strategy<Value = Software> {
    (text(), text(), text(), text(), 0i64..3, text()).prop_map(
        |(name, version, arch, publisher, install_date, source)| Software {
            name,
            version,
            arch,
            publisher,
            install_date,
            source,
        },
    )
}

fn inventory() -> impl Strategy<Value = Inventory> {
    (
        any::<i64>(),
        // Agents always report their version; an empty one would not replace the old.
        "[0-9.]{1,5}",
        (text(), text(), text(), any::<u64>()),
        prop::collection::vec((text(), any::<u64>()), 0..3),
        prop::collection::vec((text(), prop::collection::vec(text(), 0..2)), 0..3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(software(), 0..16),
    )
        .prop_map(
            |(collected_at, agent_version, sys, disks, nics, users, software)| {
                let mut inv = Inventory {
                    collected_at,
                    agent_version,
                    hostname: sys.0,
                    logged_in_users: users,
                    software,
                    disks: disks
                        .into_iter()
                        .map(|(mount_point, total_bytes)| Disk {
                            mount_point,
                            total_bytes,
                            ..Default::default()
                        })
                        .collect(),
                    network: nics
                        .into_iter()
                        .map(|(name, ips)| NetInterface {
                            name,
                            ips,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                };
                inv.os.version = sys.1;
                inv.hardware.serial = sys.2;
                inv.memory.total_bytes = sys.3;
                normalize(&mut inv);
                inv
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn the_delta_from_a_to_b_applied_to_a_gives_b(a in inventory(), b in inventory()) {
        let delta = build(&a, &b);
        let mut applied = a.clone();
        delta.clone().apply_to(&mut applied);
        applied.errors = b.errors.clone();
        prop_assert_eq!(&applied, &b, "delta {:?}", delta);
        // And from B to itself: nothing to send.
        prop_assert!(build(&b, &b).is_empty());
    }
}
