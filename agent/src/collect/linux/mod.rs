//! The Linux collector: OS release, SMBIOS and machine id, logged-in users, the CPU's
//! maximum clock, installed software, and the health extras (temperatures, pending
//! reboot, failed units), read from files rather than by running tools wherever possible.
//!
//! Each package source and each health extra runs on its own thread with a deadline
//! ([`Runner`]), so that one that hangs or panics leaves only its own section empty.

mod cpufreq;
mod dpkg;
mod flatpak;
pub(super) mod mounts;
mod os_release;
mod reboot;
mod rpm;
mod sensors;
mod services;
mod snap;
mod utmp;

use super::CollectOptions;
use super::deadline::{Pending, Runner};
use super::platform::{HealthExtras, PlatformReport};
use super::{command, smbios};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::{Cpu, Hardware, OsInfo, Software, Temperature};

/// Reading the dpkg database takes milliseconds, unless its disk hangs.
const DPKG_DEADLINE: Duration = Duration::from_secs(30);
/// Past the tools' own timeout, so that theirs reports first.
const TOOL_DEADLINE: Duration = Duration::from_secs(15);
const SENSORS_DEADLINE: Duration = Duration::from_secs(5);
const HEALTH_TOOL_DEADLINE: Duration = Duration::from_secs(10);

/// Everything this collector reads; CPU model, memory, disks and network are `sysinfo`'s.
pub(super) fn collect(opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    let software = if opts.software {
        start_software(opts, runner)
    } else {
        Vec::new()
    };
    let health = HealthPending::start(runner);
    let mut report = PlatformReport {
        os: os_info(),
        hardware: hardware(),
        logged_in_users: logged_in_users(),
        cpu: Cpu {
            frequency_mhz: cpufreq::max_mhz(Path::new(cpufreq::CPU_DIR)),
            ..Cpu::default()
        },
        ..PlatformReport::default()
    };
    for source in software {
        if let Some(list) = source.wait_noting(&mut report.errors) {
            append(&mut report.software, list);
        }
    }
    report.health = health.wait();
    report
}

/// `list` after `all`; the first list is taken as it is, not copied.
fn append(all: &mut Vec<Software>, mut list: Vec<Software>) {
    if all.is_empty() {
        *all = list;
    } else {
        all.append(&mut list);
    }
}

/// The health extras alone.
pub(super) fn health(runner: &Runner) -> HealthExtras {
    HealthPending::start(runner).wait()
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
/// `flatpak list` and `snap list`, each on its own thread (section `software.<source>`).
fn start_software(opts: &CollectOptions, runner: &Runner) -> Vec<Pending<Vec<Software>>> {
    let status = opts
        .dpkg_status
        .clone()
        .unwrap_or_else(|| PathBuf::from(dpkg::STATUS_FILE));
    vec![
        runner.start("software.dpkg", DPKG_DEADLINE, move || {
            Ok::<_, Infallible>(dpkg::installed(&status))
        }),
        runner.start("software.rpm", TOOL_DEADLINE, rpm::installed),
        runner.start("software.flatpak", TOOL_DEADLINE, flatpak::installed),
        runner.start("software.snap", TOOL_DEADLINE, snap::installed),
    ]
}

/// The health extras, each started on its own thread.
struct HealthPending {
    temperatures: Pending<Vec<Temperature>>,
    pending_reboot: Pending<Option<bool>>,
    failed_services: Pending<Vec<String>>,
}

impl HealthPending {
    fn start(runner: &Runner) -> HealthPending {
        HealthPending {
            temperatures: runner.start("health.temperatures", SENSORS_DEADLINE, || {
                let (hwmon, thermal) = (Path::new(sensors::HWMON), Path::new(sensors::THERMAL));
                Ok::<_, Infallible>(sensors::read(hwmon, thermal))
            }),
            pending_reboot: runner.start("health.pending_reboot", HEALTH_TOOL_DEADLINE, || {
                let tool = command::find_on_path("needs-restarting");
                reboot::pending(Path::new("/"), tool.as_deref())
            }),
            failed_services: runner.start("health.failed_services", HEALTH_TOOL_DEADLINE, || {
                let systemd = Path::new(services::SYSTEMD_RUNNING).is_dir();
                services::failed(command::find_on_path("systemctl").as_deref(), systemd)
            }),
        }
    }

    fn wait(self) -> HealthExtras {
        let mut errors = Vec::new();
        HealthExtras {
            temperatures: self
                .temperatures
                .wait_noting(&mut errors)
                .unwrap_or_default(),
            pending_reboot: self.pending_reboot.wait_noting(&mut errors).flatten(),
            failed_services: self
                .failed_services
                .wait_noting(&mut errors)
                .unwrap_or_default(),
            errors,
        }
    }
}
