//! Wire types that cross the agent-server boundary, and the API version.
//!
//! Every type here is a contract: a new field gets `#[serde(default)]` so that an
//! older agent (or server) keeps working. Nothing here does I/O.
#![forbid(unsafe_code)]

pub mod inventory;
pub mod release;
pub mod schedule;

pub use inventory::*;
pub use release::{UpdateOffer, UpdateStatus};

use serde::{Deserialize, Serialize};

/// Version of the HTTP API under `/api/v1`.
pub const API_VERSION: &str = "v1";

/// Path of the agent enrollment endpoint.
pub const ENROLL_PATH: &str = "/api/v1/agent/enroll";
/// Path of the agent check-in endpoint.
pub const CHECKIN_PATH: &str = "/api/v1/agent/checkin";
/// Path where an agent files a ticket for its own machine.
pub const AGENT_TICKET_PATH: &str = "/api/v1/agent/tickets";
/// Path where an agent revokes its own credential (the machine is leaving the fleet).
pub const DEREGISTER_PATH: &str = "/api/v1/agent/deregister";

/// Reply to `POST /api/v1/agent/deregister`: the agent that is now revoked.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct DeregisterResponse {
    pub agent_id: String,
}

/// Body of `POST /api/v1/agent/tickets`: a ticket filed from the machine itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default, deny_unknown_fields)]
pub struct AgentTicketRequest {
    pub title: String,
    pub body: String,
    /// The person at the machine, as they typed it or as logged in.
    pub reported_by: String,
}

/// Reply to a ticket filed by an agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AgentTicketResponse {
    pub ticket_id: i64,
    pub asset_id: i64,
}

/// Body of `POST /api/v1/agent/enroll`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnrollRequest {
    /// The enrollment token an admin created.
    pub token: String,
    /// Hostname at enrollment time, for the admin's list of agents.
    #[serde(default)]
    pub hostname: String,
    #[serde(default)]
    pub agent_version: String,
}

/// Reply to a successful enrollment. The secret is shown once; the server keeps a hash.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EnrollResponse {
    pub agent_id: String,
    pub secret: String,
}

impl std::fmt::Debug for EnrollResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollResponse")
            .field("agent_id", &self.agent_id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Body of `POST /api/v1/agent/checkin`.
///
/// An agent's reports form a chain: each carries a sequence number and the digest of the
/// inventory after it; a delta or heartbeat also names the digest it builds on
/// (`base_digest`). The server applies a report only on top of the state it last
/// acknowledged, ignores a sequence number it has already applied (a retried report is
/// never applied twice), and answers a broken chain with
/// [`AgentCommand::SendFullReport`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct CheckinRequest {
    /// What this report carries. Reports from agents before deltas are `Full`.
    pub kind: ReportKind,
    /// Increases by one per report this agent produced; 0 from agents before deltas.
    pub seq: u64,
    /// Digest of the inventory this report builds on (delta, heartbeat).
    pub base_digest: String,
    /// Digest of the whole inventory after this report.
    pub digest: String,
    /// The whole inventory (`Full` only).
    pub inventory: Inventory,
    /// What changed since `base_digest` (`Delta` only).
    pub delta: Option<InventoryDelta>,
    pub health: Health,
    /// The running version and the last self-update's outcome (agents that self-update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateStatus>,
}

/// The kind of a check-in.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The whole inventory.
    #[default]
    Full,
    /// Only the sections and software items that changed.
    Delta,
    /// Nothing changed: health only.
    Heartbeat,
}

/// The parts of an inventory that changed. A section that is `Some` replaces the stored
/// one whole; software changes item by item.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct InventoryDelta {
    pub collected_at: i64,
    pub agent_version: String,
    /// Hostname, OS, hardware, CPU and memory.
    pub system: Option<SystemSection>,
    pub disks: Option<Vec<Disk>>,
    pub network: Option<Vec<NetInterface>>,
    pub logged_in_users: Option<Vec<String>>,
    pub software_added: Vec<Software>,
    /// Items as they were reported (matched on source, name, arch and version).
    pub software_removed: Vec<Software>,
}

/// The "system" section of an inventory, as carried in a delta.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct SystemSection {
    pub hostname: String,
    pub os: OsInfo,
    pub hardware: Hardware,
    pub cpu: Cpu,
    pub memory: Memory,
}

impl SystemSection {
    pub fn of(inv: &Inventory) -> SystemSection {
        SystemSection {
            hostname: inv.hostname.clone(),
            os: inv.os.clone(),
            hardware: inv.hardware.clone(),
            cpu: inv.cpu.clone(),
            memory: inv.memory.clone(),
        }
    }

    pub fn apply_to(self, inv: &mut Inventory) {
        inv.hostname = self.hostname;
        inv.os = self.os;
        inv.hardware = self.hardware;
        inv.cpu = self.cpu;
        inv.memory = self.memory;
    }
}

impl InventoryDelta {
    /// Applies this delta to `inv` (the state at the delta's base).
    pub fn apply_to(self, inv: &mut Inventory) {
        inv.collected_at = self.collected_at;
        if !self.agent_version.is_empty() {
            inv.agent_version = self.agent_version;
        }
        if let Some(system) = self.system {
            system.apply_to(inv);
        }
        if let Some(d) = self.disks {
            inv.disks = d;
        }
        if let Some(n) = self.network {
            inv.network = n;
        }
        if let Some(u) = self.logged_in_users {
            inv.logged_in_users = u;
        }
        if !self.software_removed.is_empty() {
            let gone: std::collections::HashSet<(&str, &str, &str, &str)> =
                self.software_removed.iter().map(Software::key).collect();
            inv.software.retain(|s| !gone.contains(&s.key()));
        }
        inv.software.extend(self.software_added);
        // One item per identity: group each identity together first (dedup only removes
        // neighbours, and items of one identity need not be neighbours in full order).
        inv.software
            .sort_unstable_by(|a, b| a.key().cmp(&b.key()).then_with(|| a.cmp(b)));
        inv.software.dedup_by(|a, b| a.key() == b.key());
        inv.software.sort_unstable();
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.system.is_none()
            && self.disks.is_none()
            && self.network.is_none()
            && self.logged_in_users.is_none()
            && self.software_added.is_empty()
            && self.software_removed.is_empty()
    }
}

/// Reply to a check-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CheckinResponse {
    /// The asset this report was matched to (for display; the agent never sends it back).
    pub asset_id: i64,
    /// Things the server asks the agent to do.
    #[serde(default)]
    pub commands: Vec<AgentCommand>,
    /// A newer signed release of the agent for this agent's platform, when the rollout
    /// includes it. Older agents ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateOffer>,
}

/// A command for the agent, carried in the check-in reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentCommand {
    /// Collect and report again now.
    CollectNow,
    /// Replace the agent's schedule with this cron expression.
    SetSchedule { cron: String },
    /// The server cannot apply deltas on top of what it has: send the whole inventory.
    SendFullReport,
    /// A command this agent does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

/// The JSON body of every API error.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ErrorDetail {
    /// Stable, snake_case, for programs.
    pub code: String,
    /// For people: what went wrong and what to do.
    pub message: String,
}

/// A page of a keyset-paginated list.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sw(name: &str, version: &str) -> Software {
        Software {
            name: name.into(),
            version: version.into(),
            source: "dpkg".into(),
            ..Default::default()
        }
    }

    #[test]
    fn delta_applies_sections_and_software() {
        let mut inv = Inventory {
            hostname: "a".into(),
            software: vec![sw("curl", "7"), sw("vim", "9")],
            ..Default::default()
        };
        let delta = InventoryDelta {
            system: Some(SystemSection {
                hostname: "b".into(),
                ..Default::default()
            }),
            software_added: vec![sw("curl", "8"), sw("htop", "3")],
            software_removed: vec![sw("curl", "7")],
            ..Default::default()
        };
        assert!(!delta.is_empty());
        delta.apply_to(&mut inv);
        assert_eq!(inv.hostname, "b");
        let names: Vec<_> = inv
            .software
            .iter()
            .map(|s| format!("{}={}", s.name, s.version))
            .collect();
        assert_eq!(names, ["curl=8", "htop=3", "vim=9"]);
        assert!(InventoryDelta::default().is_empty());
    }

    /// Found by `applying_any_delta_keeps_software_sorted_and_unique`: two items of one
    /// identity with a third between them in full order both survived.
    #[test]
    fn a_delta_never_leaves_two_items_of_one_identity() {
        let item = |publisher: &str, source: &str| Software {
            publisher: publisher.into(),
            source: source.into(),
            ..sw("vim", "2")
        };
        let mut inv = Inventory {
            software: vec![item("\u{1F600}", "rpm")],
            ..Default::default()
        };
        InventoryDelta {
            software_added: vec![item("A", "rpm"), item("\u{7f}", "dpkg")],
            ..Default::default()
        }
        .apply_to(&mut inv);
        assert_eq!(inv.software, [item("A", "rpm"), item("\u{7f}", "dpkg")]);
    }

    #[test]
    fn old_checkins_are_full_reports() {
        let req: CheckinRequest =
            serde_json::from_str(r#"{"inventory":{"hostname":"x"},"health":{}}"#).expect("parse");
        assert_eq!(req.kind, ReportKind::Full);
        assert_eq!(req.seq, 0);
        let cmd: AgentCommand = serde_json::from_str(r#"{"kind":"reboot_now"}"#).expect("parse");
        assert_eq!(cmd, AgentCommand::Unknown);
    }
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod wire_tests;
