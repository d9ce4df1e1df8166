//! Inventory and health collection.
//!
//! The portable parts (CPU, memory, disks, network, load) come from `sysinfo` in
//! [`system`]; the OS-specific parts (OS release, SMBIOS, machine id, logged-in users,
//! installed software) from one collector chosen by `cfg(target_os)`:
//! - Linux: [`linux`] reads `/etc/os-release`, `/sys/class/dmi/id`, `/etc/machine-id`,
//!   `/var/run/utmp`, the dpkg database and `rpm -qa`.
//! - Other systems, for now: [`fallback`], which reports what `sysinfo` knows (OS name and
//!   version, SMBIOS vendor/model/serial/UUID) and no users or software. Collectors for
//!   Windows and macOS belong next to `linux` as `windows.rs` and `macos.rs`, running
//!   PowerShell / `system_profiler -json` through [`command::output_with_timeout`] and
//!   parsing the JSON in portable code.
//!
//! Collection never fails: what cannot be read is left empty.

pub mod command;
mod system;

// Compiled everywhere, so that Linux CI keeps it building.
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod fallback;
#[cfg(target_os = "linux")]
mod linux;

#[cfg(not(target_os = "linux"))]
use fallback as platform;
#[cfg(target_os = "linux")]
use linux as platform;

use crate::config::AgentConfig;
use steward_shared::{Health, Inventory, OsInfo};

/// What to include in a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectOptions {
    /// Installed software (the slowest part).
    pub software: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions { software: true }
    }
}

impl From<&AgentConfig> for CollectOptions {
    fn from(config: &AgentConfig) -> Self {
        CollectOptions {
            software: config.collect_software,
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

fn inventory_from(snapshot: &system::Snapshot, opts: &CollectOptions, now: i64) -> Inventory {
    let mut os: OsInfo = platform::os_info();
    os.kernel = system::kernel_version();
    os.arch = system::arch();
    let mut software = if opts.software {
        platform::software()
    } else {
        Vec::new()
    };
    software.sort_by(|a, b| (&a.name, &a.arch, &a.version).cmp(&(&b.name, &b.arch, &b.version)));
    Inventory {
        collected_at: now,
        agent_version: crate::AGENT_VERSION.to_string(),
        hostname: system::hostname(),
        os,
        hardware: platform::hardware(),
        cpu: snapshot.cpu(),
        memory: snapshot.memory(),
        disks: snapshot.disks(),
        network: system::network(),
        logged_in_users: platform::logged_in_users(),
        software,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_something_on_this_machine() {
        let (inv, health) = collect(&CollectOptions { software: false });
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
