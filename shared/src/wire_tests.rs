//! Property tests of the wire types: a check-in of any shape survives JSON both ways, and
//! applying any delta to any inventory keeps the software list sorted with one item per
//! identity.
#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

/// Text as agents send it, hostile included: any character (controls, NUL, quotes,
/// backslashes, astral planes), mostly short.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "(?s).{0,12}",
        1 => Just(String::new()),
        1 => "[\"\\\\\u{0}\u{7f}\u{feff}\u{1F600}é]{1,6}",
    ]
}

/// A few values, so that software identities collide.
fn few(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(values).prop_map(str::to_owned)
}

fn software() -> impl Strategy<Value = Software> {
    (
        few(&["curl", "vim", "bash", "ünï\u{0}"]),
        few(&["1", "2", "1.0~rc1"]),
        few(&["amd64", ""]),
        text(),
        any::<i64>(),
        few(&["dpkg", "rpm"]),
    )
        .prop_map(
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

fn disk() -> impl Strategy<Value = Disk> {
    (text(), text(), text(), any::<u64>(), any::<bool>()).prop_map(
        |(device, mount_point, filesystem, total_bytes, removable)| Disk {
            device,
            mount_point,
            filesystem,
            total_bytes,
            removable,
        },
    )
}

fn nic() -> impl Strategy<Value = NetInterface> {
    (text(), text(), prop::collection::vec(text(), 0..3))
        .prop_map(|(name, mac, ips)| NetInterface { name, mac, ips })
}

fn system() -> impl Strategy<Value = SystemSection> {
    (
        text(),
        (text(), text(), text(), text(), text()),
        (text(), text(), text(), text(), text()),
        (text(), any::<u32>(), any::<u32>(), any::<u64>()),
        (any::<u64>(), any::<u64>()),
    )
        .prop_map(|(hostname, os, hw, cpu, mem)| SystemSection {
            hostname,
            os: OsInfo {
                family: os.0,
                name: os.1,
                version: os.2,
                kernel: os.3,
                arch: os.4,
            },
            hardware: Hardware {
                vendor: hw.0,
                model: hw.1,
                serial: hw.2,
                uuid: hw.3,
                machine_id: hw.4,
                ..Default::default()
            },
            cpu: Cpu {
                model: cpu.0,
                physical_cores: cpu.1,
                logical_cores: cpu.2,
                frequency_mhz: cpu.3,
                ..Default::default()
            },
            memory: Memory {
                total_bytes: mem.0,
                swap_total_bytes: mem.1,
            },
        })
}

fn inventory() -> impl Strategy<Value = Inventory> {
    (
        any::<i64>(),
        text(),
        system(),
        prop::collection::vec(disk(), 0..3),
        prop::collection::vec(nic(), 0..3),
        prop::collection::vec(text(), 0..3),
        prop::collection::vec(software(), 0..12),
        prop::collection::vec((text(), text()), 0..2),
    )
        .prop_map(
            |(collected_at, agent_version, sys, disks, network, users, software, errors)| {
                let mut inv = Inventory {
                    collected_at,
                    agent_version,
                    disks,
                    network,
                    logged_in_users: users,
                    software,
                    errors: errors
                        .into_iter()
                        .map(|(section, message)| CollectError { section, message })
                        .collect(),
                    ..Default::default()
                };
                sys.apply_to(&mut inv);
                inv
            },
        )
}

fn delta() -> impl Strategy<Value = InventoryDelta> {
    (
        any::<i64>(),
        text(),
        prop::option::of(system()),
        prop::option::of(prop::collection::vec(disk(), 0..3)),
        prop::option::of(prop::collection::vec(nic(), 0..3)),
        prop::option::of(prop::collection::vec(text(), 0..3)),
        prop::collection::vec(software(), 0..8),
        prop::collection::vec(software(), 0..8),
    )
        .prop_map(
            |(collected_at, agent_version, system, d, n, u, added, removed)| InventoryDelta {
                collected_at,
                agent_version,
                system,
                disks: d,
                network: n,
                logged_in_users: u,
                software_added: added,
                software_removed: removed,
            },
        )
}

/// A finite number that JSON carries exactly (serde_json parses decimals with few digits
/// exactly; arbitrary `f64`s only with its `float_roundtrip` feature).
fn reading() -> impl Strategy<Value = f64> {
    (-100_000i64..100_000).prop_map(|n| n as f64 / 100.0)
}

fn health() -> impl Strategy<Value = Health> {
    (
        (any::<i64>(), reading(), reading(), reading()),
        (any::<u64>(), any::<u64>(), any::<u64>()),
        prop::collection::vec(
            (text(), any::<u64>(), any::<u64>(), any::<Option<u64>>()),
            0..3,
        ),
        prop::option::of(reading()),
        prop::collection::vec((text(), reading(), prop::option::of(reading())), 0..3),
        any::<Option<bool>>(),
        prop::collection::vec(text(), 0..3),
    )
        .prop_map(|(l, m, fs, cpu, temps, reboot, failed)| Health {
            taken_at: l.0,
            load_1: l.1,
            load_5: l.2,
            load_15: l.3,
            memory_used_bytes: m.0,
            memory_total_bytes: m.1,
            uptime_secs: m.2,
            filesystems: fs
                .into_iter()
                .map(
                    |(mount_point, total_bytes, used_bytes, available_bytes)| FsUsage {
                        mount_point,
                        total_bytes,
                        used_bytes,
                        available_bytes,
                    },
                )
                .collect(),
            cpu_percent: cpu,
            temperatures: temps
                .into_iter()
                .map(|(label, celsius, critical_celsius)| Temperature {
                    label,
                    celsius,
                    critical_celsius,
                })
                .collect(),
            pending_reboot: reboot,
            failed_services: failed,
            ..Default::default()
        })
}

fn checkin() -> impl Strategy<Value = CheckinRequest> {
    (
        prop::sample::select(&[ReportKind::Full, ReportKind::Delta, ReportKind::Heartbeat][..]),
        any::<u64>(),
        text(),
        text(),
        inventory(),
        prop::option::of(delta()),
        health(),
    )
        .prop_map(
            |(kind, seq, base_digest, digest, inventory, delta, health)| CheckinRequest {
                kind,
                seq,
                base_digest,
                digest,
                inventory,
                delta,
                health,
                update: None,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever an agent puts in a check-in, the server reads the same thing back.
    #[test]
    fn checkins_survive_json_both_ways(req in checkin()) {
        let json = serde_json::to_vec(&req).unwrap();
        let back: CheckinRequest = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back, req);
    }

    /// Any delta on any inventory: sections it carries replace the inventory's, software
    /// it removes is gone unless it adds the same identity, what it adds is there, and the
    /// list stays sorted with one item per identity.
    #[test]
    fn applying_any_delta_keeps_software_sorted_and_unique(
        inv in inventory(),
        d in delta(),
    ) {
        let mut after = inv.clone();
        d.clone().apply_to(&mut after);
        let sw = &after.software;
        prop_assert!(sw.windows(2).all(|w| w[0] <= w[1]), "not sorted: {:?}", sw);
        let keys: HashSet<_> = sw.iter().map(Software::key).collect();
        prop_assert_eq!(keys.len(), sw.len(), "duplicate identities: {:?}", sw);
        for s in &d.software_added {
            prop_assert!(keys.contains(&s.key()), "added {:?} is missing", s);
        }
        let added: HashSet<_> = d.software_added.iter().map(Software::key).collect();
        for s in &d.software_removed {
            prop_assert!(added.contains(&s.key()) || !keys.contains(&s.key()), "removed {:?} is still there", s);
        }
        // Items neither removed nor added by identity stay (one per identity).
        for s in &inv.software {
            let touched = added.contains(&s.key())
                || d.software_removed.iter().any(|r| r.key() == s.key());
            prop_assert!(touched || keys.contains(&s.key()), "{:?} was lost", s);
        }
        prop_assert_eq!(after.collected_at, d.collected_at);
        prop_assert_eq!(&after.errors, &inv.errors);
        match &d.system {
            Some(s) => prop_assert_eq!(&SystemSection::of(&after), s),
            None => prop_assert_eq!(SystemSection::of(&after), SystemSection::of(&inv)),
        }
        prop_assert_eq!(&after.disks, d.disks.as_ref().unwrap_or(&inv.disks));
        prop_assert_eq!(&after.network, d.network.as_ref().unwrap_or(&inv.network));
        prop_assert_eq!(
            &after.logged_in_users,
            d.logged_in_users.as_ref().unwrap_or(&inv.logged_in_users)
        );
    }
}
