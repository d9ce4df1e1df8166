//! What changed between two inventories, as an [`InventoryDelta`].
//!
//! A section is sent whole when its digest changed. Software is compared item by item on
//! every field, so a new version, publisher or install date is the old item removed and
//! the new one added. Inventories are [`normalize`]d first, so that
//! `delta(base, new).apply_to(base)` gives back `new` exactly (but for `errors`, which no
//! delta carries: see [`super::digest`]), which is what the server does with it.

use super::digest::SectionDigests;
use std::collections::BTreeSet;
use steward_shared::{Inventory, InventoryDelta, Software, SystemSection};

/// Put the software list in the order [`InventoryDelta::apply_to`] leaves it (sorted on
/// every field), keeping one item per identity ([`Software::key`]).
pub fn normalize(inv: &mut Inventory) {
    let software = &mut inv.software;
    // Group each identity together (dedup only removes neighbours), then restore the
    // order `apply_to` sorts into. Both orders are total (items that compare equal are
    // equal), so an unstable sort gives the same result, without a scratch copy.
    software.sort_unstable_by(|a, b| a.key().cmp(&b.key()).then_with(|| a.cmp(b)));
    software.dedup_by(|a, b| a.key() == b.key());
    software.sort_unstable();
}

/// What changed from `base` to `new`, both [`normalize`]d.
pub fn build(base: &Inventory, new: &Inventory) -> InventoryDelta {
    let before = SectionDigests::of(base);
    let after = SectionDigests::of(new);
    let changed = |a: &str, b: &str| a != b;
    let (software_added, software_removed) = if changed(&before.software, &after.software) {
        software_changes(&base.software, &new.software)
    } else {
        (Vec::new(), Vec::new())
    };
    InventoryDelta {
        collected_at: new.collected_at,
        agent_version: new.agent_version.clone(),
        system: changed(&before.system, &after.system).then(|| SystemSection::of(new)),
        disks: changed(&before.disks, &after.disks).then(|| new.disks.clone()),
        network: changed(&before.network, &after.network).then(|| new.network.clone()),
        logged_in_users: changed(&before.users, &after.users).then(|| new.logged_in_users.clone()),
        software_added,
        software_removed,
    }
}

/// Items only in `new` (added) and only in `old` (removed), each sorted.
fn software_changes(old: &[Software], new: &[Software]) -> (Vec<Software>, Vec<Software>) {
    let old: BTreeSet<&Software> = old.iter().collect();
    let new: BTreeSet<&Software> = new.iter().collect();
    let added = new.difference(&old).map(|s| (*s).clone()).collect();
    let removed = old.difference(&new).map(|s| (*s).clone()).collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::{Disk, NetInterface};

    fn sw(name: &str, version: &str) -> Software {
        Software {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            publisher: "Debian".into(),
            install_date: 1_700_000_000,
            source: "dpkg".into(),
        }
    }

    fn base() -> Inventory {
        let mut inv = Inventory {
            collected_at: 100,
            agent_version: "1.0.0".into(),
            hostname: "pc1".into(),
            disks: vec![Disk {
                device: "/dev/sda1".into(),
                mount_point: "/".into(),
                total_bytes: 100,
                ..Default::default()
            }],
            network: vec![NetInterface {
                name: "eth0".into(),
                mac: "aa:bb:cc:dd:ee:ff".into(),
                ips: vec!["10.0.0.2".into()],
            }],
            logged_in_users: vec!["alice".into()],
            software: vec![sw("vim", "9"), sw("curl", "8"), sw("bash", "5")],
            ..Default::default()
        };
        normalize(&mut inv);
        inv
    }

    /// `apply_to(base, delta(base, new)) == new`, as the server will do it.
    fn assert_roundtrip(base: &Inventory, new: &Inventory) -> InventoryDelta {
        let delta = build(base, new);
        let mut applied = base.clone();
        delta.clone().apply_to(&mut applied);
        assert_eq!(&applied, new, "delta {delta:?}");
        delta
    }

    #[test]
    fn nothing_changed_is_an_empty_delta() {
        let later = Inventory {
            collected_at: 200,
            ..base()
        };
        let d = assert_roundtrip(&base(), &later);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.collected_at, 200);
        assert_eq!(d.agent_version, "1.0.0");
    }

    #[test]
    fn each_section_is_sent_only_when_it_changed() {
        let mut new = base();
        new.hostname = "pc2".into();
        let d = assert_roundtrip(&base(), &new);
        assert_eq!(d.system.as_ref().map(|s| s.hostname.as_str()), Some("pc2"));
        assert!(d.disks.is_none() && d.network.is_none() && d.logged_in_users.is_none());
        assert!(d.software_added.is_empty() && d.software_removed.is_empty());

        let mut new = base();
        new.memory.total_bytes = 1 << 30;
        let d = assert_roundtrip(&base(), &new);
        assert!(d.system.is_some() && d.disks.is_none());

        let mut new = base();
        new.disks[0].total_bytes = 200;
        let d = assert_roundtrip(&base(), &new);
        assert!(d.system.is_none() && d.disks.is_some() && d.network.is_none());

        let mut new = base();
        new.network[0].ips.push("fe80::1".into());
        let d = assert_roundtrip(&base(), &new);
        assert!(d.network.is_some() && d.disks.is_none() && d.logged_in_users.is_none());

        let mut new = base();
        new.logged_in_users.clear();
        let d = assert_roundtrip(&base(), &new);
        assert_eq!(d.logged_in_users, Some(vec![]));
        assert!(d.system.is_none() && d.network.is_none());
    }

    #[test]
    fn software_added_removed_and_changed() {
        let mut new = base();
        new.software.push(sw("htop", "3"));
        new.software.retain(|s| s.name != "bash");
        normalize(&mut new);
        let d = assert_roundtrip(&base(), &new);
        assert_eq!(d.software_added, vec![sw("htop", "3")]);
        assert_eq!(d.software_removed, vec![sw("bash", "5")]);
        assert!(d.system.is_none());

        // A new version: the old item goes, the new one comes.
        let mut new = base();
        new.software.iter_mut().for_each(|s| {
            if s.name == "curl" {
                s.version = "8.1".into();
            }
        });
        normalize(&mut new);
        let d = assert_roundtrip(&base(), &new);
        assert_eq!(d.software_added, vec![sw("curl", "8.1")]);
        assert_eq!(d.software_removed, vec![sw("curl", "8")]);

        // Same identity, other publisher and install date: also replaced.
        let mut new = base();
        new.software[0].publisher = "Someone else".into();
        new.software[0].install_date += 1;
        normalize(&mut new);
        let d = assert_roundtrip(&base(), &new);
        assert_eq!(d.software_added.len(), 1);
        assert_eq!(d.software_removed.len(), 1);
        assert_eq!(d.software_added[0].key(), d.software_removed[0].key());
    }

    #[test]
    fn normalize_keeps_one_item_per_identity_in_apply_order() {
        let mut inv = Inventory {
            software: vec![
                sw("zsh", "5"),
                Software {
                    publisher: "B".into(),
                    ..sw("a", "1")
                },
                Software {
                    source: "rpm".into(),
                    ..sw("a", "1")
                },
                Software {
                    publisher: "A".into(),
                    ..sw("a", "1")
                },
            ],
            ..Default::default()
        };
        normalize(&mut inv);
        let shown: Vec<_> = inv
            .software
            .iter()
            .map(|s| format!("{}/{}/{}", s.name, s.publisher, s.source))
            .collect();
        assert_eq!(shown, ["a/A/dpkg", "a/Debian/rpm", "zsh/Debian/dpkg"]);
        // Normalized is a fixed point of what the server's apply does.
        let mut applied = inv.clone();
        InventoryDelta {
            collected_at: inv.collected_at,
            ..Default::default()
        }
        .apply_to(&mut applied);
        assert_eq!(applied, inv);
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
        fn pick(&mut self, from: &[&str]) -> String {
            from[self.below(from.len() as u64) as usize].to_string()
        }
    }

    fn random_software(rng: &mut Rng) -> Software {
        Software {
            name: format!("pkg{}", rng.below(40)),
            version: format!("{}.{}", rng.below(3), rng.below(3)),
            arch: rng.pick(&["amd64", "i386", "all"]),
            publisher: rng.pick(&["Debian", "Ubuntu", ""]),
            install_date: i64::try_from(rng.below(3)).unwrap_or(0),
            source: rng.pick(&["dpkg", "rpm", "flatpak"]),
        }
    }

    /// Random edits of every kind: apply(delta(base, new)) == new, always.
    #[test]
    fn applying_the_delta_gives_the_new_inventory() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        for _ in 0..300 {
            let mut old = base();
            old.software = (0..rng.below(30))
                .map(|_| random_software(&mut rng))
                .collect();
            normalize(&mut old);
            let mut new = old.clone();
            new.collected_at += 1800;
            for _ in 0..rng.below(8) {
                match rng.below(9) {
                    0 => new.hostname = rng.pick(&["pc1", "pc2", "laptop"]),
                    1 => new.os.version = rng.pick(&["12", "13"]),
                    2 => new.disks.push(Disk {
                        mount_point: rng.pick(&["/home", "/srv"]),
                        ..Default::default()
                    }),
                    3 => new.network.retain(|_| rng.below(2) == 0),
                    4 => new.logged_in_users = vec![rng.pick(&["alice", "bob"])],
                    5 => new.software.push(random_software(&mut rng)),
                    6 if !new.software.is_empty() => {
                        let i = rng.below(new.software.len() as u64) as usize;
                        new.software.remove(i);
                    }
                    7 if !new.software.is_empty() => {
                        let i = rng.below(new.software.len() as u64) as usize;
                        let fresh = random_software(&mut rng);
                        let item = &mut new.software[i];
                        match rng.below(3) {
                            0 => item.version = fresh.version,
                            1 => item.publisher = fresh.publisher,
                            _ => item.install_date = fresh.install_date,
                        }
                    }
                    _ => new.agent_version = rng.pick(&["1.0.0", "1.1.0"]),
                }
            }
            normalize(&mut new);
            let delta = assert_roundtrip(&old, &new);
            let same = crate::report::digest::inventory_digest(&old)
                == crate::report::digest::inventory_digest(&new);
            assert_eq!(delta.is_empty(), same, "{delta:?}");
        }
    }
}

#[cfg(test)]
#[path = "delta_props.rs"]
mod props;
