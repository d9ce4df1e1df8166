//! Inventory and health collection.
//!
//! The portable parts (CPU, memory, disks, network, load) come from `sysinfo` in
//! [`system`]; the OS-specific parts (OS release, SMBIOS and machine id, logged-in users,
//! installed software) from one collector, chosen with `cfg!(target_os)` at the single
//! call in [`platform_report`]. Every collector is compiled on every system, so that the
//! parsers of the Windows and macOS tools' output build and are tested on Linux CI:
//! - Linux: [`linux`] reads `/etc/os-release`, `/sys/class/dmi/id`, `/etc/machine-id`,
//!   `/var/run/utmp` and the dpkg database, and runs `rpm -qa`, `flatpak list` and
//!   `snap list` where those tools are installed.
//! - Windows: [`windows`] runs PowerShell (CIM classes, the registry's Uninstall keys,
//!   AppX packages) and parses its JSON.
//! - macOS: [`macos`] runs `system_profiler -json`, `sw_vers`, `ioreg`, `who` and
//!   Homebrew, and reads the installer receipts.
//! - Other systems: [`fallback`], what `sysinfo` knows.
//!
//! Every tool runs through [`command::output_with_timeout`]. Collection never fails:
//! what cannot be read is left empty.

pub mod command;
mod fallback;
mod json;
mod linux;
mod macos;
mod platform;
mod smbios;
mod system;
mod windows;

use crate::config::AgentConfig;
use platform::PlatformReport;
use std::path::PathBuf;
use steward_shared::{Health, Inventory, OsInfo};

/// What to include in a collection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectOptions {
    /// Installed software (the slowest part).
    pub software: bool,
    /// The dpkg status file to read; `None` is `/var/lib/dpkg/status` (for tests and
    /// chroots).
    pub dpkg_status: Option<PathBuf>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            software: true,
            dpkg_status: None,
        }
    }
}

impl From<&AgentConfig> for CollectOptions {
    fn from(config: &AgentConfig) -> Self {
        CollectOptions {
            software: config.collect_software,
            dpkg_status: config.dpkg_status_path.clone(),
        }
    }
}

/// Inventory and health in one pass (they share the memory and filesystem readings).
pub fn collect(opts: &CollectOptions) -> (Inventory, Health) {
    let now = crate::clock::unix_now();
    let snapshot = system::Snapshot::take();
    let inventory = inventory_from(&snapshot, opts, now);
    let health = snapshot.health(now);
    (inventory, health)
}

/// The machine's inventory.
pub fn collect_inventory(opts: &CollectOptions) -> Inventory {
    let now = crate::clock::unix_now();
    inventory_from(&system::Snapshot::take(), opts, now)
}

/// How the machine is doing right now.
pub fn collect_health() -> Health {
    let now = crate::clock::unix_now();
    system::Snapshot::take_for_health().health(now)
}

/// The report of this system's collector.
fn platform_report(opts: &CollectOptions) -> PlatformReport {
    if cfg!(target_os = "linux") {
        linux::collect(opts)
    } else if cfg!(target_os = "windows") {
        windows::collect(opts)
    } else if cfg!(target_os = "macos") {
        macos::collect(opts)
    } else {
        fallback::collect(opts)
    }
}

fn inventory_from(snapshot: &system::Snapshot, opts: &CollectOptions, now: i64) -> Inventory {
    let platform = platform_report(opts);
    let mut os: OsInfo = platform.os;
    os.kernel = system::kernel_version();
    os.arch = system::arch();
    let mut software = platform.software;
    software.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    Inventory {
        collected_at: now,
        agent_version: crate::AGENT_VERSION.to_string(),
        hostname: system::hostname(),
        os,
        hardware: platform.hardware,
        cpu: platform::merge_cpu(snapshot.cpu(), platform.cpu),
        memory: platform::merge_memory(snapshot.memory(), platform.memory),
        disks: platform::merge_disks(snapshot.disks(), platform.disks),
        network: platform::merge_network(system::network(), platform.network),
        logged_in_users: platform.logged_in_users,
        software,
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_something_on_this_machine() {
        let (inv, health) = collect(&CollectOptions {
            software: false,
            ..CollectOptions::default()
        });
        assert!(!inv.hostname.is_empty());
        assert!(!inv.os.family.is_empty());
        assert!(inv.cpu.logical_cores >= 1);
        assert!(inv.memory.total_bytes > 0);
        assert!(inv.software.is_empty());
        assert!(inv.network.iter().all(|n| n.name != "lo"));
        assert!(inv.network.iter().all(|n| n.mac == n.mac.to_lowercase()));
        assert_eq!(inv.collected_at, health.taken_at);
        assert!(health.memory_total_bytes > 0);
        assert_eq!(health.filesystems.len(), inv.disks.len());
    }
}
