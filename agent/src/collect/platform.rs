//! What an OS-specific collector reports, and how that is combined with the portable
//! readings from `sysinfo`.

use steward_shared::{
    CollectError, Cpu, Disk, Hardware, Memory, NetInterface, OsInfo, Software, Temperature,
};

/// What one OS-specific collector found. Anything it could not read is empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct PlatformReport {
    /// Family, name and version (the kernel and architecture come from `sysinfo`).
    pub os: OsInfo,
    pub hardware: Hardware,
    pub logged_in_users: Vec<String>,
    /// Empty unless software was asked for.
    pub software: Vec<Software>,
    /// The CPU, memory, disks and network as the OS's own tools describe them; empty on
    /// Linux, where `sysinfo` reads the same files. See the `merge_*` functions for how
    /// they combine with `sysinfo`'s readings.
    pub cpu: Cpu,
    pub memory: Memory,
    pub disks: Vec<Disk>,
    pub network: Vec<NetInterface>,
    /// The parts that failed or timed out (`Inventory.errors`).
    pub errors: Vec<CollectError>,
    /// What this collector adds to the health report.
    pub health: HealthExtras,
}

/// The health readings an OS-specific collector adds to `sysinfo`'s; empty where the OS
/// does not tell.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct HealthExtras {
    pub temperatures: Vec<Temperature>,
    pub pending_reboot: Option<bool>,
    pub failed_services: Vec<String>,
    /// The parts that failed or timed out (`Health.errors`).
    pub errors: Vec<CollectError>,
}

/// `sysinfo`'s CPU, with what it left empty taken from the OS's tools.
pub(super) fn merge_cpu(portable: Cpu, os: Cpu) -> Cpu {
    Cpu {
        model: or_text(portable.model, os.model),
        vendor: or_text(portable.vendor, os.vendor),
        physical_cores: or_zero(portable.physical_cores, os.physical_cores),
        logical_cores: or_zero(portable.logical_cores, os.logical_cores),
        frequency_mhz: or_zero(portable.frequency_mhz, os.frequency_mhz),
    }
}

/// `sysinfo`'s memory, with what it left empty taken from the OS's tools.
pub(super) fn merge_memory(portable: Memory, os: Memory) -> Memory {
    Memory {
        total_bytes: or_zero(portable.total_bytes, os.total_bytes),
        swap_total_bytes: or_zero(portable.swap_total_bytes, os.swap_total_bytes),
    }
}

/// `sysinfo`'s disks, which are the file systems of the health report too; the OS
/// tool's only when `sysinfo` found none.
pub(super) fn merge_disks(portable: Vec<Disk>, os: Vec<Disk>) -> Vec<Disk> {
    if portable.is_empty() { os } else { portable }
}

/// The OS tool's interfaces when it listed any: WMI's IP-enabled adapters and macOS's
/// network services leave out the tunnels, filters and pseudo-interfaces that `sysinfo`
/// lists there. Otherwise `sysinfo`'s.
pub(super) fn merge_network(
    portable: Vec<NetInterface>,
    os: Vec<NetInterface>,
) -> Vec<NetInterface> {
    if os.is_empty() { portable } else { os }
}

fn or_text(first: String, second: String) -> String {
    if first.trim().is_empty() {
        second
    } else {
        first
    }
}

fn or_zero<T: Default + PartialEq>(first: T, second: T) -> T {
    if first == T::default() { second } else { first }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysinfo_wins_and_the_os_fills_gaps() {
        let portable = Cpu {
            model: "Apple M2 Pro".into(),
            vendor: String::new(),
            physical_cores: 10,
            logical_cores: 10,
            frequency_mhz: 0,
        };
        let os = Cpu {
            model: "something else".into(),
            vendor: "Apple".into(),
            physical_cores: 12,
            logical_cores: 12,
            frequency_mhz: 3504,
        };
        let cpu = merge_cpu(portable, os);
        assert_eq!(cpu.model, "Apple M2 Pro");
        assert_eq!(cpu.vendor, "Apple");
        assert_eq!(cpu.physical_cores, 10);
        assert_eq!(cpu.frequency_mhz, 3504);

        let mem = merge_memory(
            Memory {
                total_bytes: 0,
                swap_total_bytes: 5,
            },
            Memory {
                total_bytes: 16,
                swap_total_bytes: 7,
            },
        );
        assert_eq!(
            mem,
            Memory {
                total_bytes: 16,
                swap_total_bytes: 5
            }
        );

        let disk = |m: &str| Disk {
            mount_point: m.into(),
            ..Disk::default()
        };
        assert_eq!(
            merge_disks(vec![disk("C:\\")], vec![disk("D:\\")]),
            vec![disk("C:\\")]
        );
        assert_eq!(merge_disks(vec![], vec![disk("D:\\")]), vec![disk("D:\\")]);

        let nic = |n: &str| NetInterface {
            name: n.into(),
            ..NetInterface::default()
        };
        assert_eq!(
            merge_network(vec![nic("utun0")], vec![nic("en0")]),
            vec![nic("en0")]
        );
        assert_eq!(merge_network(vec![nic("eth0")], vec![]), vec![nic("eth0")]);
    }
}
