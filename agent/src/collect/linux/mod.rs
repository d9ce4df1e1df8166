//! The Linux collector: OS release, SMBIOS and machine id, logged-in users, and installed
//! software, read from files rather than by running tools wherever possible.

mod dpkg;
mod flatpak;
mod os_release;
mod rpm;
mod snap;
mod utmp;

use super::CollectOptions;
use super::platform::PlatformReport;
use super::smbios;
use std::path::Path;
use steward_shared::{Hardware, OsInfo, Software};

/// Everything this collector reads; CPU, memory, disks and network are `sysinfo`'s.
pub(super) fn collect(opts: &CollectOptions) -> PlatformReport {
    PlatformReport {
        os: os_info(),
        hardware: hardware(),
        logged_in_users: logged_in_users(),
        software: if opts.software {
            software(opts)
        } else {
            Vec::new()
        },
        ..PlatformReport::default()
    }
}

/// OS family, name and version from `/etc/os-release` (kernel and arch are filled by the
/// caller).
fn os_info() -> OsInfo {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .unwrap_or_default();
    let release = os_release::parse(&text);
    OsInfo {
        family: "linux".to_string(),
        name: release.pretty_name(),
        version: release.version(),
        ..OsInfo::default()
    }
}

/// SMBIOS identity from `/sys/class/dmi/id` (serials and UUID are readable by root only)
/// and the machine id.
fn hardware() -> Hardware {
    let dmi = Path::new("/sys/class/dmi/id");
    let read = |name: &str| smbios::read_clean(&dmi.join(name));
    Hardware {
        vendor: read("sys_vendor"),
        model: read("product_name"),
        serial: read("product_serial"),
        uuid: read("product_uuid").to_ascii_lowercase(),
        board_vendor: read("board_vendor"),
        board_model: read("board_name"),
        board_serial: read("board_serial"),
        bios_vendor: read("bios_vendor"),
        bios_version: read("bios_version"),
        bios_date: read("bios_date"),
        machine_id: machine_id(),
    }
}

fn machine_id() -> String {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_ascii_lowercase())
        .find(|s| !s.is_empty() && s != "uninitialized")
        .unwrap_or_default()
}

/// Users with a session in utmp.
fn logged_in_users() -> Vec<String> {
    ["/var/run/utmp", "/run/utmp"]
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .map(|bytes| utmp::parse_users(&bytes))
        .unwrap_or_default()
}

/// Packages from the dpkg database and, where those tools are installed, from `rpm -qa`,
/// `flatpak list` and `snap list`.
fn software(opts: &CollectOptions) -> Vec<Software> {
    let status = opts.dpkg_status.as_deref();
    let mut list = dpkg::installed(status.unwrap_or(Path::new(dpkg::STATUS_FILE)));
    list.extend(rpm::installed());
    list.extend(flatpak::installed());
    list.extend(snap::installed());
    list
}
