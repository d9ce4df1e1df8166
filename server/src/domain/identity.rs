//! The stable identity of a machine, and the rule that matches a report to an asset.
//!
//! Identity comes from hardware and OS installation, never from the hostname or a MAC:
//! SMBIOS UUID (strongest), then vendor + serial number, then the OS machine id.
//! A weaker key only matches an asset whose stronger keys do not contradict the report,
//! so a cloned VM (same machine id, new SMBIOS UUID) becomes a new asset instead of
//! overwriting the original.

use steward_shared::Inventory;

/// Kinds of identity, strongest first.
pub const KINDS: [&str; 3] = ["uuid", "serial", "machine_id"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityKey {
    pub kind: &'static str,
    pub value: String,
}

impl IdentityKey {
    fn rank(&self) -> usize {
        KINDS
            .iter()
            .position(|k| *k == self.kind)
            .unwrap_or(KINDS.len())
    }
}

/// Values firmware vendors put in fields they did not fill.
pub fn is_junk(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    if v.is_empty() || v.len() < 3 {
        return true;
    }
    const JUNK: &[&str] = &[
        "to be filled by o.e.m.",
        "default string",
        "system serial number",
        "not specified",
        "not applicable",
        "none",
        "n/a",
        "unknown",
        "0123456789",
        "123456789",
        "chassis serial number",
        "system product name",
        "invalid",
    ];
    if JUNK.contains(&v.as_str()) {
        return true;
    }
    // All zeros, all F's, or all one character (UUIDs and serials alike).
    let core: Vec<char> = v.chars().filter(|c| *c != '-' && *c != ' ').collect();
    core.first()
        .is_some_and(|first| core.iter().all(|c| c == first))
}

/// The identity keys a report carries, strongest first. Junk values are dropped.
pub fn keys(inv: &Inventory) -> Vec<IdentityKey> {
    let hw = &inv.hardware;
    let mut out = Vec::new();
    if !is_junk(&hw.uuid) {
        out.push(IdentityKey {
            kind: "uuid",
            value: hw.uuid.trim().to_ascii_lowercase(),
        });
    }
    let serial = if !is_junk(&hw.serial) {
        &hw.serial
    } else {
        &hw.board_serial
    };
    if !is_junk(serial) {
        let vendor = if is_junk(&hw.vendor) {
            ""
        } else {
            hw.vendor.trim()
        };
        out.push(IdentityKey {
            kind: "serial",
            value: format!("{}:{}", vendor.to_ascii_lowercase(), serial.trim()),
        });
    }
    if !is_junk(&hw.machine_id) {
        out.push(IdentityKey {
            kind: "machine_id",
            value: hw.machine_id.trim().to_ascii_lowercase(),
        });
    }
    out
}

/// Picks the asset a report belongs to.
///
/// `lookup` says which asset (if any) holds a key; `asset_keys` lists an asset's keys.
/// Keys are tried strongest first; a candidate found through a weaker key is rejected when
/// it holds a stronger key of a kind the report also has, with a different value, and not
/// the report's value.
pub fn choose_asset(
    report: &[IdentityKey],
    mut lookup: impl FnMut(&IdentityKey) -> Option<i64>,
    mut asset_keys: impl FnMut(i64) -> Vec<IdentityKey>,
) -> Option<i64> {
    for key in report {
        let Some(candidate) = lookup(key) else {
            continue;
        };
        let held = asset_keys(candidate);
        let contradicted = report
            .iter()
            .filter(|k| k.rank() < key.rank())
            .any(|stronger| {
                let same_kind: Vec<&IdentityKey> =
                    held.iter().filter(|h| h.kind == stronger.kind).collect();
                !same_kind.is_empty() && !same_kind.iter().any(|h| h.value == stronger.value)
            });
        if !contradicted {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn inv(uuid: &str, serial: &str, machine_id: &str) -> Inventory {
        let mut i = Inventory::default();
        i.hardware.uuid = uuid.into();
        i.hardware.serial = serial.into();
        i.hardware.vendor = "Dell Inc.".into();
        i.hardware.machine_id = machine_id.into();
        i
    }

    struct Store(HashMap<(String, String), i64>);
    impl Store {
        fn add(&mut self, asset: i64, keys: &[IdentityKey]) {
            for k in keys {
                self.0.insert((k.kind.to_string(), k.value.clone()), asset);
            }
        }
        fn choose(&self, keys: &[IdentityKey]) -> Option<i64> {
            choose_asset(
                keys,
                |k| self.0.get(&(k.kind.to_string(), k.value.clone())).copied(),
                |a| {
                    self.0
                        .iter()
                        .filter(|(_, v)| **v == a)
                        .map(|((kind, value), _)| IdentityKey {
                            kind: KINDS.iter().copied().find(|x| x == kind).unwrap_or("uuid"),
                            value: value.clone(),
                        })
                        .collect()
                },
            )
        }
    }

    #[test]
    fn junk_values() {
        for j in [
            "",
            "To Be Filled By O.E.M.",
            "Default string",
            "00000000-0000-0000-0000-000000000000",
            "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
            "0",
            "None",
        ] {
            assert!(is_junk(j), "{j:?}");
        }
        for ok in [
            "4C4C4544-0042-3510-8052-B4C04F563532",
            "CZC1234XYZ",
            "5f1b0b3c9a8e4d7f",
        ] {
            assert!(!is_junk(ok), "{ok:?}");
        }
    }

    #[test]
    fn keys_in_priority_order_and_normalised() {
        let k = keys(&inv("ABC-123-DEF", "SN1", "MID1"));
        let kinds: Vec<_> = k.iter().map(|k| k.kind).collect();
        assert_eq!(kinds, ["uuid", "serial", "machine_id"]);
        assert_eq!(k[0].value, "abc-123-def");
        assert_eq!(k[1].value, "dell inc.:SN1");
        assert!(keys(&inv("", "", "")).is_empty());
        assert!(
            keys(&inv("U1", "0", "M1")).is_empty(),
            "values too short to identify anything"
        );
    }

    #[test]
    fn same_hardware_matches_even_with_new_machine_id() {
        let mut s = Store(HashMap::new());
        s.add(1, &keys(&inv("uuid-0001", "SN1", "machine-01")));
        // Reinstalled OS: new machine id, same board.
        assert_eq!(
            s.choose(&keys(&inv("uuid-0001", "SN1", "machine-02"))),
            Some(1)
        );
    }

    #[test]
    fn clone_with_same_machine_id_is_a_new_asset() {
        let mut s = Store(HashMap::new());
        s.add(1, &keys(&inv("uuid-0001", "", "machine-01")));
        assert_eq!(s.choose(&keys(&inv("uuid-0002", "", "machine-01"))), None);
    }

    #[test]
    fn machine_id_matches_when_no_stronger_key_contradicts() {
        let mut s = Store(HashMap::new());
        s.add(1, &keys(&inv("", "", "machine-01")));
        // Firmware now exposes a UUID (e.g. agent runs as root now): still the same asset.
        assert_eq!(
            s.choose(&keys(&inv("uuid-0009", "", "machine-01"))),
            Some(1)
        );
    }
}
