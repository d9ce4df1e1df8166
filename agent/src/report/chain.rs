//! Where this agent's chain of reports stands (`state_dir/report-state.json`): the next
//! sequence number, and the inventory (and its digest) of the last report produced, which
//! the next one is compared with.
//!
//! Only the sequence number, the digest and the last inventory's agent version are kept
//! in memory: the inventory itself (hundreds of packages) stays in the file between
//! reports and is read back by `ReportState::read_baseline` when a report needs it
//! (a delta, or the software of a source that failed).

use super::digest::inventory_digest;
use crate::state::{self, StateError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use steward_shared::Inventory;

/// Name of the report state file inside the state directory.
pub const REPORT_STATE_FILE: &str = "report-state.json";

/// The state of the chain, as kept in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReportState {
    /// Sequence number of the next report produced (the first is 1).
    pub next_seq: u64,
    /// Digest of the baseline; the next report's `base_digest`.
    pub digest: String,
    /// What is known of the last report's inventory (kept in the file); `None` makes the
    /// next report full.
    pub baseline: Option<Baseline>,
}

/// What the queue keeps in memory of the last report's inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Baseline {
    /// The agent version it was collected by: a new one is sent even when nothing else
    /// changed.
    pub agent_version: String,
}

impl Baseline {
    pub(crate) fn of(inventory: &Inventory) -> Baseline {
        Baseline {
            agent_version: inventory.agent_version.clone(),
        }
    }
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

/// The file as written: the whole inventory of the last report.
#[derive(Serialize)]
struct StateFile<'a> {
    next_seq: u64,
    digest: &'a str,
    baseline: Option<&'a Inventory>,
}

/// The file as read.
#[derive(Deserialize)]
struct StoredState {
    next_seq: u64,
    digest: String,
    baseline: Option<Inventory>,
}

/// What was found in the state directory.
#[derive(Debug)]
pub(crate) enum Loaded {
    Found(ReportState),
    /// No file: the first report ever (or the file was deleted).
    Missing,
    /// A file that cannot be used; why.
    Corrupt(String),
}

impl ReportState {
    /// The state in `state_dir`. An unreadable directory is an error; a damaged file is
    /// [`Loaded::Corrupt`], never an error, so the agent starts over with a full report.
    pub(crate) fn load(state_dir: &Path) -> Result<Loaded, StateError> {
        Ok(match read(state_dir)? {
            None => Loaded::Missing,
            Some(Err(message)) => Loaded::Corrupt(message),
            Some(Ok(stored)) => Loaded::Found(ReportState {
                next_seq: stored.next_seq,
                baseline: stored.baseline.as_ref().map(Baseline::of),
                digest: stored.digest,
            }),
        })
    }

    /// The last report's inventory, read back from the file; `None` (logged) when there
    /// is none, or the file no longer holds the one this state describes.
    pub(crate) fn read_baseline(&self, state_dir: &Path) -> Option<Inventory> {
        self.baseline.as_ref()?;
        let problem = match read(state_dir) {
            Ok(Some(Ok(stored))) if stored.digest == self.digest => match stored.baseline {
                Some(inventory) => return Some(inventory),
                None => "it holds no inventory".to_string(),
            },
            Ok(Some(Ok(_))) => "it holds another inventory".to_string(),
            Ok(Some(Err(message))) => message,
            Ok(None) => "it is missing".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(
            error = %problem,
            "cannot read the last report's inventory back; the next report is a full one"
        );
        None
    }

    /// Write the state atomically (temp file, fsync, rename), with `baseline`, the
    /// inventory `self.baseline` describes.
    pub(crate) fn save(
        &self,
        state_dir: &Path,
        baseline: Option<&Inventory>,
    ) -> Result<(), StateError> {
        debug_assert_eq!(self.baseline.is_some(), baseline.is_some());
        let file = StateFile {
            next_seq: self.next_seq,
            digest: &self.digest,
            baseline,
        };
        state::write_private_with(state_dir, REPORT_STATE_FILE, |out| {
            serde_json::to_writer(out, &file).map_err(std::io::Error::from)
        })?;
        Ok(())
    }
}

/// The file in `state_dir`: `None` when there is none, `Some(Err(why))` when it cannot be
/// used. A baseline that no longer has its digest is dropped.
fn read(state_dir: &Path) -> Result<Option<Result<StoredState, String>>, StateError> {
    let path = state_dir.join(REPORT_STATE_FILE);
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StateError::Io {
                action: "read",
                path,
                source,
            });
        }
    };
    // Parsed from the file as it is read: the inventory is ~150 KB of JSON, which is
    // never held in memory as a whole.
    let mut found: StoredState = match serde_json::from_reader(std::io::BufReader::new(file)) {
        Ok(s) => s,
        Err(e) if e.is_io() => {
            return Err(StateError::Io {
                action: "read",
                path,
                source: e.into(),
            });
        }
        Err(e) => return Ok(Some(Err(e.to_string()))),
    };
    if found.next_seq == 0 {
        return Ok(Some(Err("next_seq is 0".to_string())));
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
    Ok(Some(Ok(found)))
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
            agent_version: "1.2.3".into(),
            ..Default::default()
        };
        let state = ReportState {
            next_seq: 5,
            digest: inventory_digest(&inv),
            baseline: Some(Baseline::of(&inv)),
        };
        state.save(dir.path(), Some(&inv)).expect("save");
        match ReportState::load(dir.path()).expect("load") {
            Loaded::Found(s) => assert_eq!(s, state),
            other => panic!("{other:?}"),
        }
        assert_eq!(state.read_baseline(dir.path()), Some(inv.clone()));
        // The file holds the whole inventory.
        let text = std::fs::read_to_string(dir.path().join(REPORT_STATE_FILE)).expect("read");
        let json: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json["next_seq"], 5);
        assert_eq!(json["baseline"]["hostname"], "pc1");

        // Another state's inventory is not read back as this one's.
        let other = ReportState {
            digest: "f".repeat(64),
            ..state.clone()
        };
        assert_eq!(other.read_baseline(dir.path()), None);

        // A baseline whose digest does not match is dropped, the sequence kept.
        let wrong = ReportState {
            digest: "0".repeat(64),
            ..state.clone()
        };
        wrong.save(dir.path(), Some(&inv)).expect("save");
        match ReportState::load(dir.path()).expect("load") {
            Loaded::Found(s) => assert_eq!((s.next_seq, s.baseline), (5, None)),
            other => panic!("{other:?}"),
        }
        assert_eq!(wrong.read_baseline(dir.path()), None);

        // Without a baseline.
        let none = ReportState {
            baseline: None,
            ..state.clone()
        };
        none.save(dir.path(), None).expect("save");
        match ReportState::load(dir.path()).expect("load") {
            Loaded::Found(s) => assert_eq!(s, none),
            other => panic!("{other:?}"),
        }
        assert_eq!(state.read_baseline(dir.path()), None);

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
            assert_eq!(state.read_baseline(dir.path()), None, "{junk:?}");
        }
        std::fs::remove_file(&path).expect("remove");
        assert_eq!(state.read_baseline(dir.path()), None);
    }
}
