//! Digests of an inventory and of its sections: how the agent and the server tell, by
//! comparing strings, whether they hold the same inventory.
//!
//! Each section digest is the SHA-256 (lower-case hex) of the section's `serde_json`
//! encoding; software is digested as the list sorted by every field. The inventory's
//! digest is the SHA-256 of
//! `"system:{d}\ndisks:{d}\nnetwork:{d}\nusers:{d}\nsoftware:{d}"`. `collected_at` and
//! `agent_version` are in no digest: a new collection of an unchanged machine has the
//! same digest. The server never recomputes a digest, so these only need to be
//! deterministic.
//!
//! `errors` (the collectors that failed this time) are in no digest either, and no
//! delta carries them: they describe one collection, not the machine, and a collector
//! that fails now and then would otherwise turn heartbeats into deltas. The server sees
//! them in full reports, and stores them with the rest of a full report's inventory;
//! the inventory it rebuilds from deltas keeps the errors of the last full report. What
//! a failed software source left out is taken from the previous inventory
//! ([`super::carry`]), so a failure does not look like packages removed either.

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use steward_shared::{Inventory, Software, SystemSection};

/// The digest of each section of an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDigests {
    /// Hostname, OS, hardware, CPU and memory ([`SystemSection`]).
    pub system: String,
    pub disks: String,
    pub network: String,
    pub users: String,
    pub software: String,
}

impl SectionDigests {
    pub fn of(inv: &Inventory) -> SectionDigests {
        SectionDigests {
            system: json_digest(&SystemSection::of(inv)),
            disks: json_digest(&inv.disks),
            network: json_digest(&inv.network),
            users: json_digest(&inv.logged_in_users),
            software: software_digest(&inv.software),
        }
    }

    /// The digest of the whole inventory.
    pub fn overall(&self) -> String {
        let text = format!(
            "system:{}\ndisks:{}\nnetwork:{}\nusers:{}\nsoftware:{}",
            self.system, self.disks, self.network, self.users, self.software
        );
        sha256_hex(text.as_bytes())
    }
}

/// The digest of a whole inventory.
pub fn inventory_digest(inv: &Inventory) -> String {
    SectionDigests::of(inv).overall()
}

/// The digest of a software list, whatever its order.
pub fn software_digest(software: &[Software]) -> String {
    let mut sorted: Vec<&Software> = software.iter().collect();
    sorted.sort();
    json_digest(&sorted)
}

/// SHA-256 of `value`'s JSON encoding.
pub fn json_digest<T: Serialize + ?Sized>(value: &T) -> String {
    // The encoding goes straight into the hash, never into memory as a whole (the
    // software list is ~100 KB of JSON). Serializing these plain structs cannot fail (no
    // maps with non-string keys); if it did, the digest is that of the bytes until then.
    let mut hasher = HashWriter(Sha256::new());
    let mut out = std::io::BufWriter::new(&mut hasher);
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.flush();
    drop(out);
    hex(hasher.0.finalize().as_slice())
}

/// Feeds what is written into a hash.
struct HashWriter(Sha256);

impl std::io::Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// SHA-256 of `bytes`, as 64 lower-case hex digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(Sha256::digest(bytes).as_slice())
}

fn hex(hash: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for b in hash {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::{Disk, Hardware};

    fn inv() -> Inventory {
        Inventory {
            collected_at: 100,
            agent_version: "1.0.0".into(),
            hostname: "pc1".into(),
            hardware: Hardware {
                uuid: "u-1".into(),
                ..Default::default()
            },
            disks: vec![Disk {
                device: "/dev/sda1".into(),
                mount_point: "/".into(),
                ..Default::default()
            }],
            logged_in_users: vec!["alice".into()],
            software: vec![
                Software {
                    name: "vim".into(),
                    version: "9".into(),
                    source: "dpkg".into(),
                    ..Default::default()
                },
                Software {
                    name: "curl".into(),
                    version: "8".into(),
                    source: "dpkg".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn sha256_of_known_input() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// Hashed as it is encoded, the digest is that of the whole encoding (so the digests
    /// in state files written before stay valid).
    #[test]
    fn streamed_digest_is_the_digest_of_the_encoding() {
        let mut big = inv();
        big.software = (0..2000)
            .map(|i| Software {
                name: format!("package-{i}"),
                version: "1.0".into(),
                ..Default::default()
            })
            .collect();
        for value in [inv(), big] {
            let json = serde_json::to_vec(&value).expect("json");
            assert_eq!(json_digest(&value), sha256_hex(&json));
        }
    }

    #[test]
    fn deterministic_and_blind_to_collection_time_and_version() {
        let a = inv();
        assert_eq!(inventory_digest(&a), inventory_digest(&a.clone()));
        let later = Inventory {
            collected_at: 999,
            agent_version: "2.0.0".into(),
            ..a.clone()
        };
        assert_eq!(inventory_digest(&a), inventory_digest(&later));
        // Software order does not matter.
        let mut reordered = a.clone();
        reordered.software.reverse();
        assert_eq!(inventory_digest(&a), inventory_digest(&reordered));
        assert_eq!(inventory_digest(&a).len(), 64);
    }

    #[test]
    fn collection_errors_are_in_no_digest() {
        let a = inv();
        let mut b = a.clone();
        b.errors.push(steward_shared::CollectError {
            section: "software.rpm".into(),
            message: "timed out after 15 s".into(),
        });
        assert_eq!(SectionDigests::of(&a), SectionDigests::of(&b));
    }

    #[test]
    fn each_section_changes_its_own_digest_only() {
        let a = inv();
        let base = SectionDigests::of(&a);
        let changed = |f: &dyn Fn(&mut Inventory)| {
            let mut b = a.clone();
            f(&mut b);
            let d = SectionDigests::of(&b);
            assert_ne!(d.overall(), base.overall());
            [
                d.system != base.system,
                d.disks != base.disks,
                d.network != base.network,
                d.users != base.users,
                d.software != base.software,
            ]
        };
        let hw = |b: &mut Inventory| b.hardware.serial = "S".into();
        assert_eq!(changed(&hw), [true, false, false, false, false]);
        assert_eq!(
            changed(&|b| b.disks.clear()),
            [false, true, false, false, false]
        );
        assert_eq!(
            changed(&|b| b.network.push(Default::default())),
            [false, false, true, false, false]
        );
        assert_eq!(
            changed(&|b| b.logged_in_users.clear()),
            [false, false, false, true, false]
        );
        assert_eq!(
            changed(&|b| b.software[0].publisher = "x".into()),
            [false, false, false, false, true]
        );
    }
}
