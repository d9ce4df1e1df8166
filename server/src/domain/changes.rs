//! What changed between two reports of the same machine, in words for the asset's history.

use std::collections::BTreeMap;
use steward_shared::{Inventory, Software};

/// One field that changed: `field` was `old` and is now `new`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: &'static str,
    pub old: String,
    pub new: String,
}

/// A change to the installed software.
#[derive(Debug, Clone, PartialEq)]
pub enum SoftwareChange {
    Installed {
        name: String,
        version: String,
    },
    Removed {
        name: String,
        version: String,
    },
    Updated {
        name: String,
        old: String,
        new: String,
    },
}

impl SoftwareChange {
    pub fn kind(&self) -> &'static str {
        match self {
            SoftwareChange::Installed { .. } => "software_installed",
            SoftwareChange::Removed { .. } => "software_removed",
            SoftwareChange::Updated { .. } => "software_updated",
        }
    }
}

/// Formats a byte count for people: "15.6 GiB".
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Hardware and OS fields that differ between `old` and `new` (software excluded).
pub fn inventory_changes(old: &Inventory, new: &Inventory) -> Vec<Change> {
    let mut out = Vec::new();
    let mut cmp = |field: &'static str, a: String, b: String| {
        if a != b {
            out.push(Change {
                field,
                old: a,
                new: b,
            });
        }
    };
    cmp("hostname", old.hostname.clone(), new.hostname.clone());
    cmp("os", old.os.name.clone(), new.os.name.clone());
    cmp("os_version", old.os.version.clone(), new.os.version.clone());
    cmp("kernel", old.os.kernel.clone(), new.os.kernel.clone());
    cmp(
        "vendor",
        old.hardware.vendor.clone(),
        new.hardware.vendor.clone(),
    );
    cmp(
        "model",
        old.hardware.model.clone(),
        new.hardware.model.clone(),
    );
    cmp(
        "serial",
        old.hardware.serial.clone(),
        new.hardware.serial.clone(),
    );
    cmp(
        "bios_version",
        old.hardware.bios_version.clone(),
        new.hardware.bios_version.clone(),
    );
    cmp("cpu", old.cpu.model.clone(), new.cpu.model.clone());
    cmp(
        "cpu_cores",
        old.cpu.logical_cores.to_string(),
        new.cpu.logical_cores.to_string(),
    );
    cmp(
        "memory",
        human_bytes(old.memory.total_bytes),
        human_bytes(new.memory.total_bytes),
    );
    cmp("disks", disks(old), disks(new));
    cmp("network", network(old), network(new));
    out
}

fn disks(inv: &Inventory) -> String {
    let mut v: Vec<String> = inv
        .disks
        .iter()
        .map(|d| format!("{} {}", d.mount_point, human_bytes(d.total_bytes)))
        .collect();
    v.sort();
    v.join(", ")
}

fn network(inv: &Inventory) -> String {
    let mut v: Vec<String> = inv
        .network
        .iter()
        .map(|n| {
            let mut ips = n.ips.clone();
            ips.sort();
            format!("{} {} {}", n.name, n.mac, ips.join(" "))
                .trim_end()
                .to_owned()
        })
        .collect();
    v.sort();
    v.join("; ")
}

/// Installed, removed and updated packages, keyed by (source, name, arch).
/// When several versions of one package are installed (kernels), each version counts.
pub fn software_changes(old: &[Software], new: &[Software]) -> Vec<SoftwareChange> {
    type Key<'a> = (&'a str, &'a str, &'a str);
    fn group(list: &[Software]) -> BTreeMap<Key<'_>, Vec<&str>> {
        let mut m: BTreeMap<Key<'_>, Vec<&str>> = BTreeMap::new();
        for s in list {
            m.entry((s.source.as_str(), s.name.as_str(), s.arch.as_str()))
                .or_default()
                .push(s.version.as_str());
        }
        for versions in m.values_mut() {
            versions.sort_unstable();
            versions.dedup();
        }
        m
    }
    let (old_map, new_map) = (group(old), group(new));
    let mut out = Vec::new();
    for (key, new_versions) in &new_map {
        match old_map.get(key) {
            None => out.extend(new_versions.iter().map(|v| SoftwareChange::Installed {
                name: key.1.to_owned(),
                version: (*v).to_owned(),
            })),
            Some(old_versions) if old_versions != new_versions => {
                if old_versions.len() == 1 && new_versions.len() == 1 {
                    out.push(SoftwareChange::Updated {
                        name: key.1.to_owned(),
                        old: old_versions[0].to_owned(),
                        new: new_versions[0].to_owned(),
                    });
                } else {
                    for v in new_versions.iter().filter(|v| !old_versions.contains(v)) {
                        out.push(SoftwareChange::Installed {
                            name: key.1.to_owned(),
                            version: (*v).to_owned(),
                        });
                    }
                    for v in old_versions.iter().filter(|v| !new_versions.contains(v)) {
                        out.push(SoftwareChange::Removed {
                            name: key.1.to_owned(),
                            version: (*v).to_owned(),
                        });
                    }
                }
            }
            Some(_) => {}
        }
    }
    for (key, old_versions) in &old_map {
        if !new_map.contains_key(key) {
            out.extend(old_versions.iter().map(|v| SoftwareChange::Removed {
                name: key.1.to_owned(),
                version: (*v).to_owned(),
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sw(name: &str, version: &str) -> Software {
        Software {
            name: name.into(),
            version: version.into(),
            arch: "amd64".into(),
            source: "dpkg".into(),
            ..Default::default()
        }
    }

    #[test]
    fn human_bytes_formats() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(8 * 1024 * 1024 * 1024), "8.0 GiB");
    }

    #[test]
    fn rename_and_ram_upgrade_are_reported() {
        let a = Inventory {
            hostname: "pc-old".into(),
            memory: steward_shared::Memory {
                total_bytes: 8 << 30,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut b = a.clone();
        b.hostname = "pc-new".into();
        b.memory.total_bytes = 16 << 30;
        let c = inventory_changes(&a, &b);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0],
            Change {
                field: "hostname",
                old: "pc-old".into(),
                new: "pc-new".into()
            }
        );
        assert_eq!(c[1].new, "16.0 GiB");
        assert!(inventory_changes(&a, &a).is_empty());
    }

    #[test]
    fn software_diff() {
        let old = vec![
            sw("curl", "7.88"),
            sw("vim", "9.0"),
            sw("linux-image", "6.1"),
            sw("gone", "1"),
        ];
        let new = vec![
            sw("curl", "8.0"),
            sw("vim", "9.0"),
            sw("linux-image", "6.1"),
            sw("linux-image", "6.2"),
            sw("htop", "3"),
        ];
        let mut c = software_changes(&old, &new);
        c.sort_by_key(|x| format!("{x:?}"));
        assert_eq!(
            c,
            vec![
                SoftwareChange::Installed {
                    name: "htop".into(),
                    version: "3".into()
                },
                SoftwareChange::Installed {
                    name: "linux-image".into(),
                    version: "6.2".into()
                },
                SoftwareChange::Removed {
                    name: "gone".into(),
                    version: "1".into()
                },
                SoftwareChange::Updated {
                    name: "curl".into(),
                    old: "7.88".into(),
                    new: "8.0".into()
                },
            ]
        );
        assert!(software_changes(&new, &new).is_empty());
    }
}
