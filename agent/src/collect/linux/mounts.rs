//! The mount table (`/proc/self/mounts`), read without touching the mounted file systems
//! (`sysinfo` stats every mount point it lists, which hangs on a dead network share), and
//! which devices are on USB.

use std::path::{Path, PathBuf};

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MountEntry {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
}

/// Where the kernel lists this process's mounts.
pub(crate) const MOUNT_TABLE: &str = "/proc/self/mounts";
/// Where udev links disks by their id (`usb-*` for USB).
pub(crate) const DISKS_BY_ID: &str = "/dev/disk/by-id";

/// Parse the mount table: `device mount-point type options 0 0` lines, with spaces and
/// other special characters in paths escaped as `\ooo`. Mount points under `/proc`,
/// `/sys` and `/run` (except `/run/media`) are left out, as `sysinfo` leaves them out.
pub(crate) fn parse(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let device = unescape(fields.next()?);
            let mount_point = unescape(fields.next()?);
            let fs_type = unescape(fields.next()?);
            Some(MountEntry {
                device,
                mount_point,
                fs_type,
            })
        })
        .filter(|m| !is_system_mount_point(&m.mount_point))
        .collect()
}

fn is_system_mount_point(path: &str) -> bool {
    let under = |dir: &str| {
        path.strip_prefix(dir)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under("/proc") || under("/sys") || (under("/run") && !under("/run/media"))
}

/// `\040` is a space, `\011` a tab, `\012` a newline, `\134` a backslash.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match octal {
            Some(b) => {
                out.push(b);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The devices (`/dev/sdb1`) that a `usb-*` link in `by_id` points to.
pub(crate) fn usb_devices(by_id: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(by_id) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("usb-"))
        .filter_map(|e| std::fs::canonicalize(e.path()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_mount_table() {
        let table = "\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid 0 0
tmpfs /run tmpfs rw 0 0
/dev/sdb1 /run/media/anna/My\\040Stick vfat rw 0 0
/dev/sda1 /sys/fs/x ext4 rw 0 0
nas:/export /mnt/nas nfs4 rw,hard 0 0
/dev/nvme0n1p3 /home/a\\134b ext4 rw 0 0
/dev/runner /runner ext4 rw 0 0
broken-line
";
        let mounts = parse(table);
        let shown: Vec<(&str, &str, &str)> = mounts
            .iter()
            .map(|m| {
                (
                    m.device.as_str(),
                    m.mount_point.as_str(),
                    m.fs_type.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("/dev/nvme0n1p2", "/", "ext4"),
                ("/dev/sdb1", "/run/media/anna/My Stick", "vfat"),
                ("nas:/export", "/mnt/nas", "nfs4"),
                ("/dev/nvme0n1p3", "/home/a\\b", "ext4"),
                ("/dev/runner", "/runner", "ext4"),
            ]
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(unescape("a\\040b\\011c"), "a b\tc");
        assert_eq!(unescape("trailing\\04"), "trailing\\04");
        assert_eq!(unescape("not\\999octal"), "not\\999octal");
        assert_eq!(unescape("caf\\303\\251"), "café");
    }

    #[test]
    #[cfg(unix)]
    fn usb_links() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dev = dir.path().join("sdb1");
        std::fs::write(&dev, "").expect("device");
        std::fs::write(dir.path().join("nvme0n1p1"), "").expect("device");
        let by_id = dir.path().join("by-id");
        std::fs::create_dir(&by_id).expect("mkdir");
        std::os::unix::fs::symlink(&dev, by_id.join("usb-SanDisk_Ultra-0:0-part1")).expect("link");
        std::os::unix::fs::symlink(dir.path().join("nvme0n1p1"), by_id.join("nvme-Samsung"))
            .expect("link");
        let usb = usb_devices(&by_id);
        assert_eq!(usb, vec![std::fs::canonicalize(&dev).expect("canonical")]);
        assert!(usb_devices(&dir.path().join("missing")).is_empty());
    }
}
