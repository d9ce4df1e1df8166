//! Parsing the Windows system script's JSON (see [`super::scripts::SYSTEM`]): OS,
//! SMBIOS identity and machine GUID, sessions, CPU, memory, fixed disks and IP-enabled
//! network adapters (the health extras are [`super::health`]'s).

use crate::collect::json::{self, date, get, items, text, texts, uint};
use crate::collect::platform::PlatformReport;
use crate::collect::smbios::clean;
use serde_json::Value;
use steward_shared::{Cpu, Disk, Hardware, Memory, NetInterface, OsInfo};

/// Everything but software. Sections missing from the output are left empty.
pub(super) fn parse(out: &[u8]) -> PlatformReport {
    let v = json::parse(out, "PowerShell system information");
    PlatformReport {
        os: os(&v),
        hardware: hardware(&v),
        logged_in_users: users(&v),
        cpu: cpu(&v),
        memory: memory(&v),
        disks: disks(&v),
        network: network(&v),
        health: super::health::parse(&v),
        ..PlatformReport::default()
    }
}

/// The first (usually only) instance of a class.
fn first<'a>(v: &'a Value, key: &str) -> &'a Value {
    get(v, key)
        .and_then(|c| items(c).first())
        .unwrap_or(&Value::Null)
}

/// "Microsoft Windows 11 Enterprise 23H2", version "10.0.22631.3737" (with the update
/// build revision when the registry has it).
fn os(v: &Value) -> OsInfo {
    let os = first(v, "OperatingSystem");
    let current = first(v, "CurrentVersion");
    let caption = text(os, "Caption");
    let display_version = text(current, "DisplayVersion");
    let name = if display_version.is_empty() || caption.is_empty() {
        caption
    } else {
        format!("{caption} {display_version}")
    };
    let mut version = text(os, "Version");
    let ubr = text(current, "UBR");
    if !version.is_empty() && !ubr.is_empty() {
        version = format!("{version}.{ubr}");
    }
    OsInfo {
        family: "windows".to_string(),
        name,
        version,
        ..OsInfo::default()
    }
}

fn hardware(v: &Value) -> Hardware {
    let system = first(v, "ComputerSystem");
    let product = first(v, "Product");
    let bios = first(v, "Bios");
    let board = first(v, "BaseBoard");
    let field = |o: &Value, key: &str| clean(&text(o, key));
    let either = |a: String, b: String| if a.is_empty() { b } else { a };
    Hardware {
        vendor: either(field(system, "Manufacturer"), field(product, "Vendor")),
        model: either(field(system, "Model"), field(product, "Name")),
        serial: either(
            field(bios, "SerialNumber"),
            field(product, "IdentifyingNumber"),
        ),
        uuid: field(product, "UUID").to_ascii_lowercase(),
        board_vendor: field(board, "Manufacturer"),
        board_model: field(board, "Product"),
        board_serial: field(board, "SerialNumber"),
        bios_vendor: field(bios, "Manufacturer"),
        bios_version: field(bios, "SMBIOSBIOSVersion"),
        bios_date: date(bios, "ReleaseDate")
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|t| t.format("%m/%d/%Y").to_string())
            .unwrap_or_default(),
        machine_id: clean(&json::text(v, "MachineGuid")).to_ascii_lowercase(),
    }
}

/// The console user and the owners of `explorer.exe` (one per interactive or remote
/// desktop session), as `DOMAIN\user`, sorted and without duplicates.
fn users(v: &Value) -> Vec<String> {
    let mut users = texts(v, "Sessions");
    users.push(text(first(v, "ComputerSystem"), "UserName"));
    users.retain(|u| !u.is_empty());
    users.sort();
    users.dedup();
    users
}

/// All sockets: cores and threads are summed, the clock is the fastest.
fn cpu(v: &Value) -> Cpu {
    let sockets = get(v, "Processor").map(items).unwrap_or_default();
    let sum = |key: &str| {
        sockets
            .iter()
            .filter_map(|p| uint(p, key))
            .sum::<u64>()
            .try_into()
            .unwrap_or(u32::MAX)
    };
    let first = sockets.first().unwrap_or(&Value::Null);
    Cpu {
        model: text(first, "Name"),
        vendor: text(first, "Manufacturer"),
        physical_cores: sum("NumberOfCores"),
        logical_cores: sum("NumberOfLogicalProcessors"),
        frequency_mhz: sockets
            .iter()
            .filter_map(|p| uint(p, "MaxClockSpeed"))
            .max()
            .unwrap_or(0),
    }
}

/// Installed memory in bytes, or the memory visible to Windows (KiB) when that is all
/// there is. Swap is left to `sysinfo`.
fn memory(v: &Value) -> Memory {
    let total = uint(first(v, "ComputerSystem"), "TotalPhysicalMemory").or_else(|| {
        uint(first(v, "OperatingSystem"), "TotalVisibleMemorySize").map(|k| k.saturating_mul(1024))
    });
    Memory {
        total_bytes: total.unwrap_or(0),
        swap_total_bytes: 0,
    }
}

/// Fixed disks (`DriveType=3`), mounted at `C:\` as `sysinfo` names them.
fn disks(v: &Value) -> Vec<Disk> {
    let list = get(v, "LogicalDisk").map(items).unwrap_or_default();
    let mut disks: Vec<Disk> = list
        .iter()
        .filter_map(|d| {
            let device = text(d, "DeviceID");
            if device.is_empty() {
                return None;
            }
            Some(Disk {
                mount_point: format!("{device}\\"),
                device,
                filesystem: text(d, "FileSystem"),
                total_bytes: uint(d, "Size").unwrap_or(0),
                removable: false,
            })
        })
        .collect();
    disks.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    disks
}

/// Adapters with IP enabled, named by their description, with lower-case MACs and
/// sorted addresses.
fn network(v: &Value) -> Vec<NetInterface> {
    let list = get(v, "NetworkAdapter").map(items).unwrap_or_default();
    let mut nics: Vec<NetInterface> = list
        .iter()
        .map(|n| {
            let mut ips = texts(n, "IPAddress");
            ips.sort();
            ips.dedup();
            NetInterface {
                name: text(n, "Description"),
                mac: text(n, "MACAddress").to_ascii_lowercase().replace('-', ":"),
                ips,
            }
        })
        .filter(|n| !n.name.is_empty() || !n.mac.is_empty())
        .collect();
    nics.sort_by(|a, b| a.name.cmp(&b.name));
    nics
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dell_laptop() {
        let r = parse(include_bytes!("fixtures/system.json"));
        assert_eq!(r.os.family, "windows");
        assert_eq!(r.os.name, "Microsoft Windows 11 Enterprise 23H2");
        assert_eq!(r.os.version, "10.0.22631.3737");
        assert_eq!(
            r.hardware,
            Hardware {
                vendor: "Dell Inc.".into(),
                model: "Latitude 7440".into(),
                serial: "7QH4JN3".into(),
                uuid: "4c4c4544-0051-4810-8034-b7c04f4a4e33".into(),
                board_vendor: "Dell Inc.".into(),
                board_model: "0K3NHT".into(),
                board_serial: "/7QH4JN3/CNCMK0041J00RT/".into(),
                bios_vendor: "Dell Inc.".into(),
                bios_version: "1.14.1".into(),
                bios_date: "05/17/2024".into(),
                machine_id: "6f1e2c4a-8b3d-4e5f-9a7b-1c2d3e4f5a6b".into(),
            }
        );
        assert_eq!(r.logged_in_users, vec!["CONTOSO\\jdoe"]);
        // One processor and one disk: PowerShell printed bare objects, not lists.
        assert_eq!(
            r.cpu,
            Cpu {
                model: "13th Gen Intel(R) Core(TM) i7-1365U".into(),
                vendor: "GenuineIntel".into(),
                physical_cores: 10,
                logical_cores: 12,
                frequency_mhz: 1800,
            }
        );
        assert_eq!(r.memory.total_bytes, 34_029_121_536);
        assert_eq!(
            r.disks,
            vec![Disk {
                device: "C:".into(),
                mount_point: "C:\\".into(),
                filesystem: "NTFS".into(),
                total_bytes: 510_770_802_688,
                removable: false,
            }]
        );
        assert_eq!(r.network.len(), 3);
        assert_eq!(r.network[2].name, "Intel(R) Wi-Fi 6E AX211 160MHz");
        assert_eq!(r.network[2].mac, "a4:6b:b6:3c:91:2f");
        assert_eq!(
            r.network[2].ips,
            vec!["10.20.30.41", "fe80::8d3c:5f1e:2a47:9b10"]
        );
        // A single address is a bare string, not a list.
        assert_eq!(r.network[1].name, "Hyper-V Virtual Ethernet Adapter");
        assert_eq!(r.network[1].ips, vec!["172.29.160.1"]);
        assert!(r.software.is_empty());
        assert_eq!(r.health.pending_reboot, Some(true));
        assert_eq!(r.health.failed_services, vec!["IntelAudioService"]);
    }

    #[test]
    fn a_self_built_desktop_with_placeholders() {
        let r = parse(include_bytes!("fixtures/system-desktop.json"));
        // No DisplayVersion/UBR in the registry: caption and version as WMI has them.
        assert_eq!(r.os.name, "Microsoft Windows 10 Pro");
        assert_eq!(r.os.version, "10.0.19045");
        let hw = &r.hardware;
        assert_eq!(hw.vendor, "");
        assert_eq!(hw.model, "");
        assert_eq!(hw.serial, "");
        // The UUID that many AMI boards share is no identity.
        assert_eq!(hw.uuid, "");
        assert_eq!(hw.board_vendor, "ASRock");
        assert_eq!(hw.board_model, "X670E Taichi");
        assert_eq!(hw.board_serial, "M80-G1002300123");
        assert_eq!(hw.bios_vendor, "American Megatrends International, LLC.");
        // The date came as an object with `value`, PowerShell's DateTime with a hint.
        assert_eq!(hw.bios_date, "07/06/2023");
        assert_eq!(hw.machine_id, "0d6b3c2e-7f41-4b8a-9c55-2e8f1a6d4b70");
        // Nobody at the console, one user in two sessions (a list wrapped as {value, Count}).
        assert_eq!(r.logged_in_users, vec!["DESKTOP-7K2M9QX\\gamer"]);
        assert_eq!(r.cpu.model, "AMD Ryzen 9 7950X 16-Core Processor");
        assert_eq!((r.cpu.physical_cores, r.cpu.logical_cores), (16, 32));
        // The memory size was printed as a string.
        assert_eq!(r.memory.total_bytes, 68_631_289_856);
        let mounts: Vec<&str> = r.disks.iter().map(|d| d.mount_point.as_str()).collect();
        assert_eq!(mounts, vec!["C:\\", "D:\\"]);
        assert_eq!(r.disks[1].total_bytes, 4_000_768_323_584);
        // A single adapter: a bare object.
        assert_eq!(r.network.len(), 1);
        assert_eq!(r.network[0].mac, "9c:6b:00:4a:1e:7d");
        // From a script before the health extras: unknown.
        assert_eq!(r.health.pending_reboot, None);
        assert!(r.health.failed_services.is_empty());
    }

    #[test]
    fn memory_from_visible_kib_when_the_total_is_missing() {
        let r = parse(br#"{"OperatingSystem":{"TotalVisibleMemorySize":"16384"}}"#);
        assert_eq!(r.memory.total_bytes, 16_777_216);
    }

    #[test]
    fn bad_or_empty_output_is_an_empty_report() {
        for out in [&b""[..], b"null", b"{", b"[]", b"42", b"{\"Bios\":[]}"] {
            let r = parse(out);
            assert_eq!(r.hardware, Hardware::default(), "{out:?}");
            assert_eq!(r.os.name, "");
            assert!(r.disks.is_empty() && r.network.is_empty() && r.logged_in_users.is_empty());
            assert_eq!(r.cpu, Cpu::default());
        }
    }
}
