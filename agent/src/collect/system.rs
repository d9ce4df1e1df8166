//! The portable part of collection, through `sysinfo`: CPU, memory, filesystems, network
//! interfaces, load and uptime. Only what is needed is refreshed (never processes).

use std::collections::BTreeMap;
use std::path::Path;
use steward_shared::{Cpu, Disk, FsUsage, Health, Memory, NetInterface};
use sysinfo::{
    CpuRefreshKind, Disk as SysDisk, DiskRefreshKind, Disks, MemoryRefreshKind, Networks, System,
};

/// File systems that hold data worth reporting. Pseudo and network file systems are not
/// listed (statvfs on a hard-mounted NFS share can hang); `/` is always kept, whatever it
/// is (in a container it is often `overlay`).
const REAL_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "zfs", "f2fs", "jfs", "reiserfs", "nilfs2",
    "vfat", "fat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "hfs", "hfsplus", "apfs", "ufs",
    "refs",
];

/// Whether a mounted file system belongs in the inventory and health report.
pub(super) fn keep_filesystem(fs_type: &str, mount_point: &str) -> bool {
    mount_point == "/" || REAL_FILESYSTEMS.contains(&fs_type.to_ascii_lowercase().as_str())
}

/// One mounted file system as we report it.
struct Mount {
    device: String,
    mount_point: String,
    filesystem: String,
    space: Space,
    removable: bool,
}

/// Size and used space of a file system, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Space {
    total_bytes: u64,
    used_bytes: u64,
    available_bytes: u64,
}

/// Space from `statvfs` figures, counted the way `df` counts it: the size is every block,
/// and used is every block that is not free, so blocks reserved for root (5% of an ext4
/// file system by default) count as neither used nor available. `None` when the file
/// system reports no size.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn space_from_statvfs(
    fragment_size: u64,
    blocks: u64,
    free_blocks: u64,
    available_blocks: u64,
) -> Option<Space> {
    let total_bytes = blocks.saturating_mul(fragment_size);
    if total_bytes == 0 {
        return None;
    }
    Some(Space {
        total_bytes,
        used_bytes: blocks
            .saturating_sub(free_blocks)
            .saturating_mul(fragment_size),
        available_bytes: available_blocks.min(blocks).saturating_mul(fragment_size),
    })
}

/// The space of the file system mounted at `mount_point`, as `df` reports it; `None` if
/// `statvfs` fails.
#[cfg(target_os = "linux")]
fn statvfs_space(mount_point: &Path) -> Option<Space> {
    let st = rustix::fs::statvfs(mount_point).ok()?;
    space_from_statvfs(st.f_frsize, st.f_blocks, st.f_bfree, st.f_bavail)
}

/// Elsewhere `sysinfo`'s figures are kept.
#[cfg(not(target_os = "linux"))]
fn statvfs_space(_mount_point: &Path) -> Option<Space> {
    None
}

/// The space of one disk: `statvfs` where it works, else what `sysinfo` read (where used
/// is what is not available, so it includes the reserved blocks).
fn space(disk: &SysDisk) -> Space {
    statvfs_space(disk.mount_point()).unwrap_or_else(|| {
        let total_bytes = disk.total_space();
        Space {
            total_bytes,
            used_bytes: total_bytes.saturating_sub(disk.available_space()),
            available_bytes: disk.available_space(),
        }
    })
}

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
            system.refresh_cpu_list(CpuRefreshKind::nothing().with_frequency());
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
            mounts: mounts(),
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
            frequency_mhz: cpus.iter().map(|c| c.frequency()).max().unwrap_or(0),
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

    /// Health at `now`. File system sizes and used space are those of `df` (see
    /// [`space_from_statvfs`]), and the same sizes as in the inventory's disks.
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

/// Real file systems, one per device (the shortest mount point wins, so bind mounts and
/// btrfs subvolumes of the same device are not counted twice), sorted by mount point.
fn mounts() -> Vec<Mount> {
    let Ok(disks) =
        Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
    else {
        return Vec::new();
    };
    let mut by_device: BTreeMap<String, Mount> = BTreeMap::new();
    for disk in disks.iter() {
        let mount_point = disk.mount_point().to_string_lossy().into_owned();
        let filesystem = disk.file_system().to_string_lossy().into_owned();
        if !keep_filesystem(&filesystem, &mount_point) {
            continue;
        }
        let device = disk.name().to_string_lossy().into_owned();
        if let Some(old) = by_device.get(&device)
            && old.mount_point.len() <= mount_point.len()
        {
            continue;
        }
        let mount = Mount {
            device: device.clone(),
            mount_point,
            filesystem,
            space: space(disk),
            removable: disk.is_removable(),
        };
        by_device.insert(device, mount);
    }
    let mut mounts: Vec<Mount> = by_device.into_values().collect();
    mounts.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    mounts
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

#[cfg(test)]
mod tests {
    use super::{Space, keep_filesystem, space_from_statvfs};

    #[test]
    fn space_counts_reserved_blocks_as_neither_used_nor_available() {
        // An ext4 file system of 1000 4 KiB blocks: 100 in use, 900 free, of which 50 are
        // reserved for root. `df` shows 4096000 total and 409600 used.
        assert_eq!(
            space_from_statvfs(4096, 1000, 900, 850),
            Some(Space {
                total_bytes: 4_096_000,
                used_bytes: 409_600,
                available_bytes: 3_481_600,
            })
        );
        assert_eq!(
            space_from_statvfs(4096, 1000, 1000, 950),
            Some(Space {
                total_bytes: 4_096_000,
                used_bytes: 0,
                available_bytes: 3_891_200,
            })
        );
        // Nonsense from the kernel neither panics nor overflows.
        assert_eq!(space_from_statvfs(4096, 0, 0, 0), None);
        assert_eq!(space_from_statvfs(0, 1000, 900, 900), None);
        assert_eq!(
            space_from_statvfs(4096, 10, 20, 20),
            Some(Space {
                total_bytes: 40_960,
                used_bytes: 0,
                available_bytes: 40_960,
            })
        );
        assert_eq!(
            space_from_statvfs(u64::MAX, 2, 0, 0),
            Some(Space {
                total_bytes: u64::MAX,
                used_bytes: u64::MAX,
                available_bytes: 0,
            })
        );
    }

    #[test]
    fn filesystem_filter() {
        assert!(keep_filesystem("ext4", "/home"));
        assert!(keep_filesystem("XFS", "/srv"));
        assert!(keep_filesystem("vfat", "/boot/efi"));
        assert!(keep_filesystem("overlay", "/"));
        assert!(!keep_filesystem(
            "overlay",
            "/var/lib/docker/overlay2/x/merged"
        ));
        assert!(!keep_filesystem("tmpfs", "/dev/shm"));
        assert!(!keep_filesystem("squashfs", "/snap/core/1"));
        assert!(!keep_filesystem("nfs4", "/mnt/share"));
    }
}
