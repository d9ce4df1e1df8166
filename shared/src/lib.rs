//! Wire types that cross the agent-server boundary, and the API version.
//!
//! Every type here is a contract: a new field gets `#[serde(default)]` so that an
//! older agent (or server) keeps working. Nothing here does I/O.
#![forbid(unsafe_code)]

pub mod inventory;

pub use inventory::*;

use serde::{Deserialize, Serialize};

/// Version of the HTTP API under `/api/v1`.
pub const API_VERSION: &str = "v1";

/// Path of the agent enrollment endpoint.
pub const ENROLL_PATH: &str = "/api/v1/agent/enroll";
/// Path of the agent check-in endpoint.
pub const CHECKIN_PATH: &str = "/api/v1/agent/checkin";

/// Body of `POST /api/v1/agent/enroll`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckinRequest {
    pub inventory: Inventory,
    pub health: Health,
}

/// Reply to a check-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckinResponse {
    /// The asset this report was matched to (for display; the agent never sends it back).
    pub asset_id: i64,
    /// Things the server asks the agent to do.
    #[serde(default)]
    pub commands: Vec<AgentCommand>,
}

/// A command for the agent, carried in the check-in reply.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentCommand {
    /// Collect and report again now.
    CollectNow,
    /// Replace the agent's schedule with this cron expression.
    SetSchedule { cron: String },
    /// A command this agent does not know (sent by a newer server).
    #[serde(other)]
    Unknown,
}

/// The JSON body of every API error.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, snake_case, for programs.
    pub code: String,
    /// For people: what went wrong and what to do.
    pub message: String,
}

/// A page of a keyset-paginated list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
