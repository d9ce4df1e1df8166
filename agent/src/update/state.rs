//! `update-state.json` in the state directory: an update waiting for confirmation, the
//! last error (reported in each check-in until an update succeeds), and the release
//! last refused (not downloaded again).

use crate::state::{StateError, write_private};
use serde::{Deserialize, Serialize};
use std::path::Path;

const FILE: &str = "update-state.json";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UpdateState {
    pub pending: Option<Pending>,
    pub error: Option<String>,
    /// `<release id>:<sha256>` of the release last refused or rolled back.
    pub refused: Option<String>,
}

/// A swapped binary that has not completed a check-in yet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Pending {
    pub version: String,
    pub previous_version: String,
    pub release: String,
    /// Starts and failed check-in rounds of the new version so far.
    pub attempts: u32,
}

impl UpdateState {
    /// The recorded state; a missing or unreadable file is an empty state.
    pub fn load(state_dir: &Path) -> UpdateState {
        std::fs::read(state_dir.join(FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    pub fn save(&self, state_dir: &Path) -> Result<(), StateError> {
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        write_private(state_dir, FILE, &json)
    }
}
