//! Parsing `system_profiler -json` for SPHardwareDataType (identity, CPU, memory),
//! SPSoftwareDataType (the OS, when `sw_vers` fails), SPStorageDataType (volumes) and
//! SPNetworkDataType (network services).

use crate::collect::json::{self, get, items, text, texts, uint};
use crate::collect::smbios::clean;
use serde_json::Value;
use steward_shared::{Cpu, Disk, Hardware, Memory, NetInterface, OsInfo};

/// What one `system_profiler` run says about the machine.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Profile {
    pub hardware: Hardware,
    pub os: OsInfo,
    pub cpu: Cpu,
    pub memory: Memory,
    pub disks: Vec<Disk>,
    pub network: Vec<NetInterface>,
}

pub(super) fn parse(out: &[u8]) -> Profile {
    let v = json::parse(out, "system_profiler");
    let section = |name: &str| get(&v, name).map(items).unwrap_or_default();
    let hw = section("SPHardwareDataType")
        .first()
        .unwrap_or(&Value::Null);
    let sw = section("SPSoftwareDataType")
        .first()
        .unwrap_or(&Value::Null);
    Profile {
        hardware: hardware(hw),
        os: os(sw),
        cpu: cpu(hw),
        memory: Memory {
            total_bytes: size_bytes(&text(hw, "physical_memory")).unwrap_or(0),
            swap_total_bytes: 0,
        },
        disks: section("SPStorageDataType")
            .iter()
            .filter_map(disk)
            .collect(),
        network: network(section("SPNetworkDataType")),
    }
}

/// Model identifier ("Mac14,9"), serial, hardware UUID and boot ROM. The vendor is
/// Apple's; the board fields stay empty (a Mac has no separate board identity).
fn hardware(hw: &Value) -> Hardware {
    let model = clean(&text(hw, "machine_model"));
    let serial = clean(&text(hw, "serial_number"));
    let uuid = clean(&text(hw, "platform_UUID")).to_ascii_lowercase();
    if model.is_empty() && serial.is_empty() && uuid.is_empty() {
        return Hardware::default();
    }
    let boot_rom = text(hw, "boot_rom_version");
    Hardware {
        vendor: "Apple Inc.".to_string(),
        model,
        serial,
        uuid,
        bios_vendor: if boot_rom.is_empty() {
            String::new()
        } else {
            "Apple Inc.".to_string()
        },
        bios_version: boot_rom,
        ..Hardware::default()
    }
}

/// "macOS 14.5 (23F79)" and its version.
fn os(sw: &Value) -> OsInfo {
    let name = text(sw, "os_version");
    let version = name
        .split_whitespace()
        .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_default()
        .to_string();
    OsInfo {
        family: "macos".to_string(),
        name,
        version,
        ..OsInfo::default()
    }
}

/// Apple silicon: `chip_type` and `number_processors` as "proc 10:6:4" (all cores,
/// performance, efficiency; no SMT, so as many threads). Intel: `cpu_type`, a number of
/// cores and a clock speed such as "2,3 GHz" (the decimal mark follows the locale).
fn cpu(hw: &Value) -> Cpu {
    let chip = text(hw, "chip_type");
    let model = if chip.is_empty() || chip == "Unknown" {
        text(hw, "cpu_type")
    } else {
        chip
    };
    let vendor = if model.starts_with("Apple") {
        "Apple"
    } else if model.contains("Intel") {
        "GenuineIntel"
    } else {
        ""
    };
    let processors = text(hw, "number_processors");
    let apple_cores = processors
        .strip_prefix("proc ")
        .and_then(|p| p.split(':').next())
        .and_then(|n| n.trim().parse::<u32>().ok());
    let (physical, logical) = match apple_cores {
        Some(n) => (n, n),
        None => (processors.parse().unwrap_or(0), 0),
    };
    Cpu {
        vendor: vendor.to_string(),
        model,
        physical_cores: physical,
        logical_cores: logical,
        frequency_mhz: clock_mhz(&text(hw, "current_processor_speed")).unwrap_or(0),
    }
}

/// "2,3 GHz" or "800 MHz" in MHz.
fn clock_mhz(speed: &str) -> Option<u64> {
    let (number, unit) = speed.trim().split_once(' ')?;
    let value: f64 = number.replace(',', ".").parse().ok()?;
    let mhz = match unit.trim() {
        "GHz" => value * 1000.0,
        "MHz" => value,
        _ => return None,
    };
    (mhz.is_finite() && mhz >= 0.0).then(|| mhz.round() as u64)
}

/// "16 GB" (Apple's GB are GiB), "512 MB", "1.5 TB", in bytes.
fn size_bytes(size: &str) -> Option<u64> {
    let (number, unit) = size.trim().split_once(' ')?;
    let value: f64 = number.replace(',', ".").parse().ok()?;
    let scale = match unit.trim() {
        "KB" => 1u64 << 10,
        "MB" => 1 << 20,
        "GB" => 1 << 30,
        "TB" => 1 << 40,
        _ => return None,
    };
    let bytes = value * scale as f64;
    (bytes.is_finite() && bytes >= 0.0 && bytes < u64::MAX as f64).then(|| bytes.round() as u64)
}

/// A mounted volume; external drives count as removable.
fn disk(volume: &Value) -> Option<Disk> {
    let mount_point = text(volume, "mount_point");
    if mount_point.is_empty() {
        return None;
    }
    let bsd_name = text(volume, "bsd_name");
    let drive = get(volume, "physical_drive").unwrap_or(&Value::Null);
    Some(Disk {
        device: if bsd_name.is_empty() {
            String::new()
        } else {
            format!("/dev/{bsd_name}")
        },
        mount_point,
        filesystem: text(volume, "file_system"),
        total_bytes: uint(volume, "size_in_bytes").unwrap_or(0),
        removable: text(drive, "is_internal_disk") == "no",
    })
}

/// Network services by BSD interface name ("en0", as `sysinfo` names them), with the
/// MAC of their hardware and their IPv4 and IPv6 addresses, sorted by name.
fn network(services: &[Value]) -> Vec<NetInterface> {
    let mut list: Vec<NetInterface> = services
        .iter()
        .filter_map(|s| {
            let name = Some(text(s, "interface"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| text(s, "_name"));
            if name.is_empty() {
                return None;
            }
            let mut ips = texts(s, "ip_address");
            for family in ["IPv4", "IPv6"] {
                if let Some(config) = get(s, family) {
                    ips.extend(texts(config, "Addresses"));
                }
            }
            ips.sort();
            ips.dedup();
            Some(NetInterface {
                name,
                mac: mac_of(s),
                ips,
            })
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

/// The "MAC Address" of a service's hardware section ("Ethernet" for wired and Wi-Fi
/// alike), lower-case.
fn mac_of(service: &Value) -> String {
    service
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .map(|section| text(section, "MAC Address"))
        .find(|m| !m.is_empty())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_apple_silicon_macbook() {
        let p = parse(include_bytes!("fixtures/profiler.json"));
        assert_eq!(
            p.hardware,
            Hardware {
                vendor: "Apple Inc.".into(),
                model: "Mac14,9".into(),
                serial: "H4V7QX9K2L".into(),
                uuid: "8e3c0a7b-52f1-5d6a-9b4c-1e2f3a4b5c6d".into(),
                bios_vendor: "Apple Inc.".into(),
                bios_version: "10151.121.1".into(),
                ..Hardware::default()
            }
        );
        assert_eq!(p.os.name, "macOS 14.5 (23F79)");
        assert_eq!(p.os.version, "14.5");
        assert_eq!(
            p.cpu,
            Cpu {
                model: "Apple M2 Pro".into(),
                vendor: "Apple".into(),
                physical_cores: 10,
                logical_cores: 10,
                frequency_mhz: 0,
            }
        );
        assert_eq!(p.memory.total_bytes, 17_179_869_184);
        assert_eq!(p.disks.len(), 3);
        assert_eq!(
            p.disks[1],
            Disk {
                device: "/dev/disk3s1s1".into(),
                mount_point: "/".into(),
                filesystem: "APFS".into(),
                total_bytes: 494_384_795_648,
                removable: false,
            }
        );
        assert!(p.disks[2].removable);
        assert_eq!(p.disks[2].filesystem, "ExFAT");
        let names: Vec<&str> = p.network.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, vec!["bridge0", "en0", "en7"]);
        assert_eq!(p.network[1].mac, "a4:83:e7:2b:5c:19");
        assert_eq!(
            p.network[1].ips,
            vec!["192.168.1.23", "fe80::1c4f:8a2b:3d5e:7f90"]
        );
        assert!(p.network[0].ips.is_empty());
        assert_eq!(p.network[2].ips, vec!["10.20.30.52"]);
    }

    #[test]
    fn an_intel_imac() {
        let p = parse(include_bytes!("fixtures/profiler-intel.json"));
        assert_eq!(p.hardware.model, "iMac20,1");
        assert_eq!(p.hardware.serial, "C02D81ZQPN5T");
        assert_eq!(p.cpu.model, "8-Core Intel Core i7");
        assert_eq!(p.cpu.vendor, "GenuineIntel");
        assert_eq!((p.cpu.physical_cores, p.cpu.logical_cores), (8, 0));
        assert_eq!(p.cpu.frequency_mhz, 3800);
        assert_eq!(p.memory.total_bytes, 34_359_738_368);
        assert_eq!(p.os.version, "13.6.7");
        assert!(p.disks.is_empty() && p.network.is_empty());
    }

    #[test]
    fn sizes_and_clocks() {
        assert_eq!(size_bytes("512 MB"), Some(536_870_912));
        assert_eq!(size_bytes("1,5 TB"), Some(1_649_267_441_664));
        assert_eq!(size_bytes("16GB"), None);
        assert_eq!(size_bytes("lots"), None);
        assert_eq!(clock_mhz("2.3 GHz"), Some(2300));
        assert_eq!(clock_mhz("800 MHz"), Some(800));
        assert_eq!(clock_mhz(""), None);
    }

    #[test]
    fn bad_or_empty_output() {
        for out in [&b""[..], b"{", b"[]", b"{\"SPHardwareDataType\": {}}"] {
            let p = parse(out);
            assert_eq!(p.hardware, Hardware::default(), "{out:?}");
            assert_eq!(p.cpu.physical_cores, 0);
            assert!(p.disks.is_empty() && p.network.is_empty());
        }
    }
}
