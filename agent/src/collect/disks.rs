//! Mounted file systems: which are reported (real, local ones, one per device) and how
//! full they are, as `df` counts it.
//!
//! Network file systems are never reported and never touched: `statvfs` (or even `stat`)
//! on a hard-mounted share whose server is gone hangs. On Linux the mount table is read
//! directly and only the kept mounts are `statvfs`'d (`sysinfo` would stat every mount it
//! lists, including FUSE and Ceph shares); elsewhere `sysinfo` lists them.

use super::linux::mounts;
use std::collections::BTreeMap;
use std::path::Path;
use sysinfo::{DiskRefreshKind, Disks};

/// File systems that hold data worth reporting. Pseudo and network file systems are not
/// listed; `/` is kept whatever it is (in a container it is often `overlay`), unless it
/// is a network file system.
const REAL_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "bcachefs", "zfs", "f2fs", "jfs", "reiserfs", "nilfs2",
    "vfat", "fat", "msdos", "exfat", "ntfs", "ntfs3", "fuseblk", "hfs", "hfsplus", "apfs", "ufs",
    "refs",
];

/// Network file systems (Linux's names, FUSE's `fuse.<tool>`, and macOS's).
const NETWORK_FILESYSTEMS: &[&str] = &[
    "nfs",
    "nfs4",
    "cifs",
    "smb3",
    "smbfs",
    "ncpfs",
    "9p",
    "ceph",
    "glusterfs",
    "lustre",
    "afs",
    "davfs",
    "sshfs",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.ceph-fuse",
    "fuse.davfs2",
    "fuse.rclone",
    "fuse.s3fs",
    "afpfs",
    "webdav",
];

/// Whether a mounted file system belongs in the inventory and health report.
pub(super) fn keep_filesystem(fs_type: &str, mount_point: &str) -> bool {
    let fs_type = fs_type.to_ascii_lowercase();
    !NETWORK_FILESYSTEMS.contains(&fs_type.as_str())
        && (mount_point == "/" || REAL_FILESYSTEMS.contains(&fs_type.as_str()))
}

/// One mounted file system as we report it.
pub(super) struct Mount {
    pub device: String,
    pub mount_point: String,
    pub filesystem: String,
    pub space: Space,
    pub removable: bool,
}

/// Size and used space of a file system, in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Space {
    pub total_bytes: u64,
    pub used_bytes: u64,
    pub available_bytes: u64,
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

/// A kept mount before its space is read.
struct Candidate {
    device: String,
    mount_point: String,
    filesystem: String,
    removable: bool,
    /// What `sysinfo` read, where it listed the mount (used is what is not available,
    /// so it includes the reserved blocks).
    listed_space: Option<Space>,
}

/// Real file systems, one per device (the shortest mount point wins, so bind mounts and
/// btrfs subvolumes of the same device are not counted twice), sorted by mount point.
pub(super) fn list() -> Vec<Mount> {
    let candidates = if cfg!(target_os = "linux") {
        from_mount_table()
    } else {
        from_sysinfo()
    };
    one_per_device(candidates)
        .into_iter()
        .map(|c| Mount {
            space: statvfs_space(Path::new(&c.mount_point))
                .or(c.listed_space)
                .unwrap_or_default(),
            device: c.device,
            mount_point: c.mount_point,
            filesystem: c.filesystem,
            removable: c.removable,
        })
        .collect()
}

fn from_mount_table() -> Vec<Candidate> {
    let Ok(table) = std::fs::read_to_string(mounts::MOUNT_TABLE) else {
        return Vec::new();
    };
    let usb = mounts::usb_devices(Path::new(mounts::DISKS_BY_ID));
    mounts::parse(&table)
        .into_iter()
        .filter(|m| keep_filesystem(&m.fs_type, &m.mount_point))
        .map(|m| Candidate {
            removable: usb.iter().any(|u| u.as_os_str() == m.device.as_str()),
            device: m.device,
            mount_point: m.mount_point,
            filesystem: m.fs_type,
            listed_space: None,
        })
        .collect()
}

fn from_sysinfo() -> Vec<Candidate> {
    let Ok(disks) =
        Disks::new_with_refreshed_list_specifics(DiskRefreshKind::nothing().with_storage())
    else {
        return Vec::new();
    };
    disks
        .iter()
        .map(|disk| Candidate {
            device: disk.name().to_string_lossy().into_owned(),
            mount_point: disk.mount_point().to_string_lossy().into_owned(),
            filesystem: disk.file_system().to_string_lossy().into_owned(),
            removable: disk.is_removable(),
            listed_space: Some(Space {
                total_bytes: disk.total_space(),
                used_bytes: disk.total_space().saturating_sub(disk.available_space()),
                available_bytes: disk.available_space(),
            }),
        })
        .filter(|c| keep_filesystem(&c.filesystem, &c.mount_point))
        .collect()
}

fn one_per_device(candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut by_device: BTreeMap<String, Candidate> = BTreeMap::new();
    for c in candidates {
        if let Some(old) = by_device.get(&c.device)
            && old.mount_point.len() <= c.mount_point.len()
        {
            continue;
        }
        by_device.insert(c.device.clone(), c);
    }
    let mut list: Vec<Candidate> = by_device.into_values().collect();
    list.sort_by(|a, b| a.mount_point.cmp(&b.mount_point));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_counts_reserved_blocks_as_neither_used_nor_available() {
        // An ext4 file system of 1000 4 KiB blocks: 100 in use, 900 free, of which 50 are
        // reserved for root. `df` shows 4096000 total and 409600 used.
        let space = |total, used, available| {
            Some(Space {
                total_bytes: total,
                used_bytes: used,
                available_bytes: available,
            })
        };
        assert_eq!(
            space_from_statvfs(4096, 1000, 900, 850),
            space(4_096_000, 409_600, 3_481_600)
        );
        assert_eq!(
            space_from_statvfs(4096, 1000, 1000, 950),
            space(4_096_000, 0, 3_891_200)
        );
        // Nonsense from the kernel neither panics nor overflows.
        assert_eq!(space_from_statvfs(4096, 0, 0, 0), None);
        assert_eq!(space_from_statvfs(0, 1000, 900, 900), None);
        assert_eq!(
            space_from_statvfs(4096, 10, 20, 20),
            space(40_960, 0, 40_960)
        );
        assert_eq!(
            space_from_statvfs(u64::MAX, 2, 0, 0),
            space(u64::MAX, u64::MAX, 0)
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
        for network in [
            "nfs",
            "nfs4",
            "cifs",
            "smb3",
            "sshfs",
            "fuse.sshfs",
            "9p",
            "ceph",
            "glusterfs",
            "davfs",
            "smbfs",
        ] {
            assert!(!keep_filesystem(network, "/mnt/share"), "{network}");
            // Not even as the root file system (diskless machines).
            assert!(!keep_filesystem(network, "/"), "{network}");
        }
    }

    #[test]
    fn one_per_device_the_shortest_mount_point() {
        let c = |device: &str, mount_point: &str| Candidate {
            device: device.into(),
            mount_point: mount_point.into(),
            filesystem: "btrfs".into(),
            removable: false,
            listed_space: None,
        };
        let kept = one_per_device(vec![
            c("/dev/sda2", "/home"),
            c("/dev/sda1", "/"),
            c("/dev/sda2", "/var/lib/docker/btrfs"),
            c("/dev/sda1", "/.snapshots"),
            c("/dev/sdb1", "/data"),
        ]);
        let shown: Vec<&str> = kept.iter().map(|c| c.mount_point.as_str()).collect();
        assert_eq!(shown, ["/", "/data", "/home"]);
    }
}
