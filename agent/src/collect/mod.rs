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
//! Every tool runs through [`command::output_with_timeout`], and every fragile part (each
//! software source, each tool of the Windows and macOS collectors, each health extra) on
//! its own thread with a deadline ([`deadline`]). Collection never fails: what cannot be
//! read is left empty, and when a part fails, times out or panics the others still
//! report and it adds a [`CollectError`] to `Inventory.errors` or `Health.errors`
//! (sections `system`, `software.<source>`, `health.<field>`, ...).
//!
//! The health report adds to `sysinfo`'s readings the collector's extras (temperatures,
//! pending reboot, failed services) and the CPU's busy share since the previous
//! collection ([`cpu_usage`]), which only a [`Collector`] kept from one collection to the
//! next can tell.

pub mod command;
mod cpu_usage;
mod deadline;
mod disks;
mod fallback;
mod json;
mod linux;
mod macos;
mod platform;
mod smbios;
mod system;
mod windows;

use crate::config::AgentConfig;
use cpu_usage::CpuUsage;
use deadline::Runner;
use platform::{HealthExtras, PlatformReport};
use std::path::PathBuf;
use steward_shared::{CollectError, Health, Inventory, OsInfo};

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

/// What a long-running agent keeps from one collection to the next: the previous CPU
/// reading (for `Health.cpu_percent`) and the collectors still stuck from an earlier
/// collection (which are not started again until they end).
#[derive(Debug, Default)]
pub struct Collector {
    cpu: CpuUsage,
    runner: Runner,
}

impl Collector {
    /// Inventory and health in one pass (they share the memory and filesystem readings),
    /// with the CPU's busy share since the previous call (none on the first).
    pub fn collect(&mut self, opts: &CollectOptions) -> (Inventory, Health) {
        let now = crate::clock::unix_now();
        let snapshot = system::Snapshot::take();
        let mut platform = platform_report(opts, &self.runner);
        let mut health = snapshot.health(now);
        health.cpu_percent = self.cpu.sample();
        add_extras(&mut health, std::mem::take(&mut platform.health));
        let inventory = inventory_from(&snapshot, platform, now);
        (inventory, health)
    }
}

/// Inventory and health in one pass, as a one-off (no CPU busy share).
pub fn collect(opts: &CollectOptions) -> (Inventory, Health) {
    Collector::default().collect(opts)
}

/// The machine's inventory.
pub fn collect_inventory(opts: &CollectOptions) -> Inventory {
    let now = crate::clock::unix_now();
    let platform = platform_report(opts, &Runner::default());
    inventory_from(&system::Snapshot::take(), platform, now)
}

/// How the machine is doing right now: `sysinfo`'s readings and, on Linux, the health
/// extras (elsewhere they come with the inventory's system part).
pub fn collect_health() -> Health {
    let now = crate::clock::unix_now();
    let mut health = system::Snapshot::take_for_health().health(now);
    if cfg!(target_os = "linux") {
        add_extras(&mut health, linux::health(&Runner::default()));
    }
    health
}

/// The report of this system's collector.
fn platform_report(opts: &CollectOptions, runner: &Runner) -> PlatformReport {
    if cfg!(target_os = "linux") {
        linux::collect(opts, runner)
    } else if cfg!(target_os = "windows") {
        windows::collect(opts, runner)
    } else if cfg!(target_os = "macos") {
        macos::collect(opts, runner)
    } else {
        fallback::collect(opts)
    }
}

fn add_extras(health: &mut Health, extras: HealthExtras) {
    health.temperatures = extras.temperatures;
    health.pending_reboot = extras.pending_reboot;
    health.failed_services = extras.failed_services;
    health.errors.extend(extras.errors);
    sort_errors(&mut health.errors);
}

/// Errors in a stable order, so that the same failures make the same report.
fn sort_errors(errors: &mut Vec<CollectError>) {
    errors.sort();
    errors.dedup();
}

fn inventory_from(snapshot: &system::Snapshot, platform: PlatformReport, now: i64) -> Inventory {
    let mut os: OsInfo = platform.os;
    os.kernel = system::kernel_version();
    os.arch = system::arch();
    let mut software = platform.software;
    software.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    let mut errors = platform.errors;
    sort_errors(&mut errors);
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
        errors,
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
        // A one-off collection has no previous CPU reading.
        assert_eq!(health.cpu_percent, None);
        // The CPU section is the same from one collection to the next (the current clock
        // would not be).
        let again = collect_inventory(&CollectOptions {
            software: false,
            ..CollectOptions::default()
        });
        assert_eq!(again.cpu, inv.cpu);
    }
}
