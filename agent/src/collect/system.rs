//! The portable part of collection, through `sysinfo`: CPU, memory, filesystems, network
//! interfaces, load and uptime. Only what is needed is refreshed (never processes).

use super::disks::{self, Mount};
use steward_shared::{Cpu, Disk, FsUsage, Health, Memory, NetInterface};
use sysinfo::{CpuRefreshKind, MemoryRefreshKind, Networks, System};

/// Whether `sysinfo`'s CPU frequency is a fixed figure. On macOS and the BSDs it is the
/// rated clock; on Linux and Windows it is the current clock, which changes from one
/// collection to the next, so there the OS collector reports the maximum instead
/// (`cpufreq`'s, WMI's `MaxClockSpeed`).
const SYSINFO_FREQUENCY_IS_FIXED: bool = !cfg!(target_os = "linux") && !cfg!(target_os = "windows");

/// The readings shared by the inventory and the health report.
pub(super) struct Snapshot {
    system: Option<System>,
    mounts: Vec<Mount>,
}

impl Snapshot {
    /// Memory, CPU list and mounts.
    pub(super) fn take() -> Snapshot {
        let mut snapshot = Self::take_for_health();
        if let Some(system) = snapshot.system.as_mut() {
            let kind = CpuRefreshKind::nothing();
            let kind = if SYSINFO_FREQUENCY_IS_FIXED {
                kind.with_frequency()
            } else {
                kind
            };
            system.refresh_cpu_list(kind);
        }
        snapshot
    }

    /// Memory and mounts only.
    pub(super) fn take_for_health() -> Snapshot {
        let system = System::new().ok().map(|mut s| {
            s.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram().with_swap());
            s
        });
        Snapshot {
            system,
            mounts: disks::list(),
        }
    }

    pub(super) fn cpu(&self) -> Cpu {
        let Some(system) = &self.system else {
            return Cpu::default();
        };
        let cpus = system.cpus();
        let first = cpus.first();
        let logical = u32::try_from(cpus.len()).unwrap_or(u32::MAX);
        Cpu {
            model: first
                .map(|c| c.brand().trim().to_string())
                .unwrap_or_default(),
            vendor: first
                .map(|c| c.vendor_id().trim().to_string())
                .unwrap_or_default(),
            physical_cores: System::physical_core_count()
                .ok()
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(logical),
            logical_cores: logical,
            frequency_mhz: if SYSINFO_FREQUENCY_IS_FIXED {
                cpus.iter().map(|c| c.frequency()).max().unwrap_or(0)
            } else {
                0
            },
        }
    }

    pub(super) fn memory(&self) -> Memory {
        let Some(system) = &self.system else {
            return Memory::default();
        };
        Memory {
            total_bytes: system.total_memory(),
            swap_total_bytes: system.total_swap(),
        }
    }

    pub(super) fn disks(&self) -> Vec<Disk> {
        self.mounts
            .iter()
            .map(|m| Disk {
                device: m.device.clone(),
                mount_point: m.mount_point.clone(),
                filesystem: m.filesystem.clone(),
                total_bytes: m.space.total_bytes,
                removable: m.removable,
            })
            .collect()
    }

    /// Health at `now`. File system sizes and used space are those of `df`, and the same
    /// sizes as in the inventory's disks.
    pub(super) fn health(&self, now: i64) -> Health {
        let load = System::load_average().ok();
        let (memory_used, memory_total, swap_used, swap_total) = match &self.system {
            Some(s) => (
                s.used_memory(),
                s.total_memory(),
                s.used_swap(),
                s.total_swap(),
            ),
            None => (0, 0, 0, 0),
        };
        Health {
            taken_at: now,
            load_1: load.as_ref().map_or(0.0, |l| l.one),
            load_5: load.as_ref().map_or(0.0, |l| l.five),
            load_15: load.as_ref().map_or(0.0, |l| l.fifteen),
            memory_used_bytes: memory_used,
            memory_total_bytes: memory_total,
            swap_used_bytes: swap_used,
            swap_total_bytes: swap_total,
            uptime_secs: System::uptime().unwrap_or(0),
            filesystems: self
                .mounts
                .iter()
                .map(|m| FsUsage {
                    mount_point: m.mount_point.clone(),
                    total_bytes: m.space.total_bytes,
                    used_bytes: m.space.used_bytes,
                    available_bytes: Some(m.space.available_bytes),
                })
                .collect(),
            ..Default::default()
        }
    }
}

/// Network interfaces except loopback, sorted by name, with their addresses sorted.
pub(super) fn network() -> Vec<NetInterface> {
    let Ok(networks) = Networks::new_with_refreshed_list() else {
        return Vec::new();
    };
    let mut list: Vec<NetInterface> = networks
        .iter()
        .filter(|(name, _)| name.as_os_str() != "lo")
        .map(|(name, data)| {
            let mac = data.mac_address();
            let mut ips: Vec<String> = data
                .ip_networks()
                .iter()
                .map(|n| n.addr.to_string())
                .collect();
            ips.sort();
            ips.dedup();
            NetInterface {
                name: name.to_string_lossy().into_owned(),
                mac: if mac.is_unspecified() {
                    String::new()
                } else {
                    mac.to_string()
                },
                ips,
            }
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

pub(super) fn hostname() -> String {
    System::host_name().unwrap_or_default()
}

pub(super) fn kernel_version() -> String {
    System::kernel_version().unwrap_or_default()
}

pub(super) fn arch() -> String {
    System::cpu_arch()
}
