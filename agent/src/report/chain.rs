//! Where this agent's chain of reports stands (`state_dir/report-state.json`): the next
//! sequence number, and the inventory (and its digest) of the last report produced, which
//! the next one is compared with.

use super::digest::inventory_digest;
use crate::state::{self, StateError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use steward_shared::Inventory;

/// Name of the report state file inside the state directory.
pub const REPORT_STATE_FILE: &str = "report-state.json";

/// The persisted state of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReportState {
    /// Sequence number of the next report produced (the first is 1).
    pub next_seq: u64,
    /// Digest of `baseline`; the next report's `base_digest`.
    pub digest: String,
    /// The whole inventory of the last report produced; `None` makes the next one full.
    pub baseline: Option<Inventory>,
}

impl Default for ReportState {
    fn default() -> Self {
        ReportState {
            next_seq: 1,
            digest: String::new(),
            baseline: None,
        }
    }
}

/// What was found in the state directory.
#[derive(Debug)]
pub(crate) enum Loaded {
    Found(Box<ReportState>),
    /// No file: the first report ever (or the file was deleted).
    Missing,
    /// A file that cannot be used; why.
    Corrupt(String),
}

impl ReportState {
    /// The state in `state_dir`. An unreadable directory is an error; a damaged file is
    /// [`Loaded::Corrupt`], never an error, so the agent starts over with a full report.
    pub(crate) fn load(state_dir: &Path) -> Result<Loaded, StateError> {
        let path = state_dir.join(REPORT_STATE_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
            Err(source) => {
                return Err(StateError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        let mut found: ReportState = match serde_json::from_slice(&bytes) {
            Ok(s) => s,
            Err(e) => return Ok(Loaded::Corrupt(e.to_string())),
        };
        if found.next_seq == 0 {
            return Ok(Loaded::Corrupt("next_seq is 0".to_string()));
        }
        // A baseline that no longer has its digest (a newer agent digests it differently,
        // or the file was edited) cannot be the base of a delta: send a full report.
        if let Some(base) = &found.baseline
            && inventory_digest(base) != found.digest
        {
            tracing::info!(
                "the last report's inventory no longer matches its digest; the next report is a full one"
            );
            found.baseline = None;
        }
        Ok(Loaded::Found(Box::new(found)))
    }

    /// Write the state atomically (temp file, fsync, rename).
    pub(crate) fn save(&self, state_dir: &Path) -> Result<(), StateError> {
        let json = serde_json::to_vec(self).map_err(|e| StateError::Corrupt {
            path: state_dir.join(REPORT_STATE_FILE),
            message: e.to_string(),
        })?;
        state::write_private(state_dir, REPORT_STATE_FILE, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_roundtrip_and_damage() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(
            ReportState::load(dir.path()).expect("load"),
            Loaded::Missing
        ));
        let inv = Inventory {
            hostname: "pc1".into(),
            ..Default::default()
        };
        let state = ReportState {
            next_seq: 5,
            digest: inventory_digest(&inv),
            baseline: Some(inv),
        };
        state.save(dir.path()).expect("save");
        match ReportState::load(dir.path()).expect("load") {
            Loaded::Found(s) => assert_eq!(*s, state),
            other => panic!("{other:?}"),
        }

        // A baseline whose digest does not match is dropped, the sequence kept.
        let wrong = ReportState {
            digest: "0".repeat(64),
            ..state.clone()
        };
        wrong.save(dir.path()).expect("save");
        match ReportState::load(dir.path()).expect("load") {
            Loaded::Found(s) => assert_eq!((s.next_seq, s.baseline), (5, None)),
            other => panic!("{other:?}"),
        }

        let path = dir.path().join(REPORT_STATE_FILE);
        for junk in [
            "",
            "{",
            "[]",
            r#"{"next_seq":0,"digest":"","baseline":null}"#,
        ] {
            std::fs::write(&path, junk).expect("write");
            assert!(
                matches!(ReportState::load(dir.path()), Ok(Loaded::Corrupt(_))),
                "{junk:?}"
            );
        }
    }
}
