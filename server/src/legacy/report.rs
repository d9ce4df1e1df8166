//! What a legacy agent (FusionInventory, OCS Inventory, GLPI Agent) sent, mapped onto our
//! own model, so it is stored exactly as a `steward-agent` report is.

use steward_shared::inventory::{Health, Inventory};

/// One of our inventory's sections, for partial inventories (GLPI Agent sends only the
/// sections that changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    Hardware,
    Os,
    Cpu,
    Memory,
    Disks,
    Network,
    Users,
    Software,
}

/// An inventory from a legacy agent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegacyReport {
    /// The agent's own stable id: DEVICEID (OCS, FusionInventory) or `deviceid` (GLPI
    /// Agent), e.g. "pc-042-2026-11-25-21-45-14".
    pub device_id: String,
    /// Who reported, for the asset page: "FusionInventory 2.6", "OCS 2.10",
    /// "GLPI Agent 1.7" (from the document's VERSIONCLIENT / `versionclient`, else the
    /// HTTP User-Agent).
    pub agent: String,
    pub inventory: Inventory,
    /// What the document says about health (uptime, memory and filesystem use), where
    /// present; zeros and empty lists otherwise.
    pub health: Health,
    /// `None`: a full inventory. `Some(sections)`: a partial one carrying only these
    /// sections; the others stay as stored.
    pub partial: Option<Vec<Section>>,
}

/// Why a legacy document was refused. Each becomes a 4xx with a clear message; nothing
/// is stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    /// Not well-formed, not UTF-8, or missing what the protocol requires.
    #[error("{0}")]
    Malformed(String),
    /// A DTD, entity declaration or other construct we never process (billion laughs,
    /// external entities).
    #[error("{0}")]
    Forbidden(String),
    /// More elements, nesting or items than any real inventory has.
    #[error("{0}")]
    TooBig(String),
}
