//! Inventory and health as the agent reports them.

use serde::{Deserialize, Serialize};

/// Everything the agent knows about its machine. Values it could not read are empty
/// strings, zeros or empty lists, never an error.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Inventory {
    /// Unix seconds when collection started.
    pub collected_at: i64,
    pub agent_version: String,
    pub hostname: String,
    pub os: OsInfo,
    pub hardware: Hardware,
    pub cpu: Cpu,
    pub memory: Memory,
    pub disks: Vec<Disk>,
    pub network: Vec<NetInterface>,
    /// Users with an interactive session right now.
    pub logged_in_users: Vec<String>,
    pub software: Vec<Software>,
    /// Inventory collectors that failed or timed out; the rest still reported.
    pub errors: Vec<CollectError>,
}

impl Inventory {
    /// A copy without the software list (which is stored apart and is most of the size).
    pub fn without_software(&self) -> Inventory {
        // Every field listed: a new field must be added here too.
        let Inventory {
            collected_at,
            agent_version,
            hostname,
            os,
            hardware,
            cpu,
            memory,
            disks,
            network,
            logged_in_users,
            software: _,
            errors,
        } = self;
        Inventory {
            collected_at: *collected_at,
            agent_version: agent_version.clone(),
            hostname: hostname.clone(),
            os: os.clone(),
            hardware: hardware.clone(),
            cpu: cpu.clone(),
            memory: memory.clone(),
            disks: disks.clone(),
            network: network.clone(),
            logged_in_users: logged_in_users.clone(),
            software: Vec::new(),
            errors: errors.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct OsInfo {
    /// "linux", "windows", "macos".
    pub family: String,
    /// Pretty name, e.g. "Debian GNU/Linux 12 (bookworm)".
    pub name: String,
    pub version: String,
    pub kernel: String,
    pub arch: String,
}

/// SMBIOS data and the OS machine id: the stable identity of the machine.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Hardware {
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub uuid: String,
    pub board_vendor: String,
    pub board_model: String,
    pub board_serial: String,
    pub bios_vendor: String,
    pub bios_version: String,
    pub bios_date: String,
    /// `/etc/machine-id` on Linux, MachineGuid on Windows, IOPlatformUUID on macOS.
    pub machine_id: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Cpu {
    pub model: String,
    pub vendor: String,
    pub physical_cores: u32,
    pub logical_cores: u32,
    pub frequency_mhz: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Memory {
    pub total_bytes: u64,
    pub swap_total_bytes: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Disk {
    /// Device, e.g. "/dev/sda1".
    pub device: String,
    pub mount_point: String,
    pub filesystem: String,
    pub total_bytes: u64,
    pub removable: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct NetInterface {
    pub name: String,
    /// Lower-case, colon separated; empty for interfaces without one.
    pub mac: String,
    pub ips: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Software {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub publisher: String,
    /// Unix seconds, 0 when unknown.
    pub install_date: i64,
    /// Where it was found: "dpkg", "rpm", "registry", "pkgutil", ...
    pub source: String,
}

impl Software {
    /// What identifies an installed item: (source, name, arch, version).
    pub fn key(&self) -> (&str, &str, &str, &str) {
        (&self.source, &self.name, &self.arch, &self.version)
    }
}

/// How the machine is doing right now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Health {
    /// Unix seconds.
    pub taken_at: i64,
    pub load_1: f64,
    pub load_5: f64,
    pub load_15: f64,
    pub memory_used_bytes: u64,
    pub memory_total_bytes: u64,
    pub swap_used_bytes: u64,
    pub swap_total_bytes: u64,
    pub uptime_secs: u64,
    pub filesystems: Vec<FsUsage>,
    /// CPU busy share over the collection, in percent, when measured.
    pub cpu_percent: Option<f64>,
    /// Sensor readings where the OS exposes them.
    pub temperatures: Vec<Temperature>,
    /// The OS says a reboot is needed to finish updates (None: unknown).
    pub pending_reboot: Option<bool>,
    /// Service units that failed (systemd on Linux, services set to start that are
    /// stopped on Windows).
    pub failed_services: Vec<String>,
    /// Health collectors that failed or timed out; the rest still reported.
    pub errors: Vec<CollectError>,
}

/// One temperature sensor.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Temperature {
    pub label: String,
    pub celsius: f64,
    /// The sensor's critical threshold, when it has one.
    pub critical_celsius: Option<f64>,
}

/// A part of the collection that failed; its section is empty or partial.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct CollectError {
    /// "software.dpkg", "hardware", "health.temperatures", ...
    pub section: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct FsUsage {
    pub mount_point: String,
    pub total_bytes: u64,
    pub used_bytes: u64,
    /// Space ordinary users can still write. Blocks reserved for root count as neither
    /// used nor available, as in `df`. Absent from older agents.
    pub available_bytes: Option<u64>,
}

impl FsUsage {
    /// Used share in percent as `df` shows it: used / (used + available), so a disk
    /// that ordinary users can no longer write to is at 100%. Falls back to
    /// used / total for older agents. 0 for an empty filesystem.
    pub fn used_percent(&self) -> f64 {
        let whole = match self.available_bytes {
            Some(avail) => self.used_bytes.saturating_add(avail),
            None => self.total_bytes,
        };
        if whole == 0 {
            0.0
        } else {
            self.used_bytes as f64 * 100.0 / whole as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_reports_without_new_fields_still_parse() {
        let inv: Inventory = serde_json::from_str(r#"{"hostname":"pc1"}"#).expect("parse");
        assert_eq!(inv.hostname, "pc1");
        assert!(inv.software.is_empty());
    }

    #[test]
    fn fs_usage_percent() {
        let mut fs = FsUsage {
            mount_point: "/".into(),
            total_bytes: 200,
            used_bytes: 50,
            available_bytes: None,
        };
        assert!((fs.used_percent() - 25.0).abs() < f64::EPSILON);
        // 10 blocks reserved for root: df says 50 / (50 + 140).
        fs.available_bytes = Some(140);
        assert!((fs.used_percent() - 50.0 * 100.0 / 190.0).abs() < 1e-9);
        fs.available_bytes = Some(0);
        assert!((fs.used_percent() - 100.0).abs() < f64::EPSILON);
        assert_eq!(FsUsage::default().used_percent(), 0.0);
    }
}
