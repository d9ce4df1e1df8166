//! The spool: reports produced but not yet accepted by the server, one file each in
//! `state_dir/spool/`, named `{seq:020}.json` so that names sort in production order.
//!
//! Each file holds `{"produced_at": unix_secs, "request": CheckinRequest}` and is written
//! atomically (temp file, fsync, rename). The spool is bounded by total size and by age;
//! over either bound the oldest reports are dropped first.

use crate::config::AgentConfig;
use crate::state::{self, StateError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use steward_shared::CheckinRequest;

/// Name of the spool directory inside the state directory.
pub const SPOOL_DIR: &str = "spool";

/// How much the spool may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Total size of the spooled files.
    pub max_bytes: u64,
    /// Age of the oldest spooled report.
    pub max_age_secs: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_bytes: 50 * 1024 * 1024,
            max_age_secs: 168 * 3600,
        }
    }
}

impl From<&AgentConfig> for SpoolLimits {
    fn from(config: &AgentConfig) -> Self {
        SpoolLimits {
            max_bytes: config.spool_max_bytes,
            max_age_secs: config.spool_max_age_hours.saturating_mul(3600),
        }
    }
}

/// One spooled report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SpoolEntry {
    /// Unix seconds when the report was produced.
    pub produced_at: i64,
    /// In its wire form, without the parts its kind leaves empty.
    #[serde(serialize_with = "wire_form")]
    pub request: CheckinRequest,
}

fn wire_form<S: serde::Serializer>(req: &CheckinRequest, s: S) -> Result<S::Ok, S::Error> {
    super::wire::WireForm::of(req).serialize(s)
}

/// What the spool needs to know of a file without reading it again.
#[derive(Debug, Clone, Copy)]
struct Meta {
    produced_at: i64,
    bytes: u64,
}

/// The files of the spool, indexed by sequence number. One process owns a spool.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    files: BTreeMap<u64, Meta>,
}

impl Spool {
    /// Index the spool in `dir` (which need not exist yet). Leftover temp files and files
    /// that cannot be parsed are removed with a warning: they can never be delivered.
    pub(crate) fn open(dir: PathBuf) -> Result<Spool, StateError> {
        let mut files = BTreeMap::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Spool { dir, files });
            }
            Err(source) => {
                return Err(StateError::Io {
                    action: "list",
                    path: dir,
                    source,
                });
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(seq) = seq_of(&name) {
                match read_meta(&path) {
                    Ok(meta) => {
                        files.insert(seq, meta);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "dropping a spooled report that cannot be read");
                        remove_file(&path);
                    }
                }
            } else if name.starts_with('.') && name.ends_with(".tmp") {
                remove_file(&path);
            }
        }
        Ok(Spool { dir, files })
    }

    /// Sequence numbers in the spool, oldest first.
    pub(crate) fn seqs(&self) -> Vec<u64> {
        self.files.keys().copied().collect()
    }

    pub(crate) fn max_seq(&self) -> Option<u64> {
        self.files.keys().next_back().copied()
    }

    pub(crate) fn total_bytes(&self) -> u64 {
        self.files.values().map(|m| m.bytes).sum()
    }

    /// Write (or overwrite) the report `seq`, durably.
    pub(crate) fn write(&mut self, seq: u64, entry: &SpoolEntry) -> Result<(), StateError> {
        let name = file_name(seq);
        // Written as it is encoded: a full report is ~150 KB of JSON.
        let bytes = state::write_private_with(&self.dir, &name, |out| {
            serde_json::to_writer(out, entry).map_err(std::io::Error::from)
        })?;
        self.files.insert(
            seq,
            Meta {
                produced_at: entry.produced_at,
                bytes,
            },
        );
        Ok(())
    }

    /// The file of the report `seq`.
    pub(crate) fn path(&self, seq: u64) -> PathBuf {
        self.dir.join(file_name(seq))
    }

    /// Read the report `seq`.
    #[cfg(test)]
    pub(crate) fn read(&self, seq: u64) -> Result<SpoolEntry, StateError> {
        read_entry(self.path(seq))
    }

    /// Remove the report `seq` (gone already is fine).
    pub(crate) fn remove(&mut self, seq: u64) {
        if self.files.remove(&seq).is_some() {
            remove_file(&self.dir.join(file_name(seq)));
        }
    }

    /// Remove every report; how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let seqs = self.seqs();
        for seq in &seqs {
            self.remove(*seq);
        }
        seqs.len()
    }

    /// Drop the oldest reports, other than `keep`, while the spool is over `limits` at
    /// `now`; logs one warning and returns how many were dropped.
    pub(crate) fn enforce(&mut self, limits: SpoolLimits, now: i64, keep: u64) -> usize {
        let max_age = i64::try_from(limits.max_age_secs).unwrap_or(i64::MAX);
        let cutoff = now.saturating_sub(max_age);
        let mut total = self.total_bytes();
        let mut dropped = 0;
        for (seq, meta) in self.files.clone() {
            if seq == keep {
                continue;
            }
            if total <= limits.max_bytes && meta.produced_at >= cutoff {
                break;
            }
            total = total.saturating_sub(meta.bytes);
            self.remove(seq);
            dropped += 1;
        }
        if dropped > 0 {
            tracing::warn!(
                dropped,
                max_bytes = limits.max_bytes,
                max_age_secs = limits.max_age_secs,
                "the server has not accepted reports for a long time; dropped the oldest \
                 spooled ones"
            );
        }
        dropped
    }
}

/// Read the spooled report in `path`.
pub(crate) fn read_entry(path: PathBuf) -> Result<SpoolEntry, StateError> {
    let file = std::fs::File::open(&path).map_err(|source| StateError::Io {
        action: "read",
        path: path.clone(),
        source,
    })?;
    // Parsed as it is read, like the rest of the state: never the whole file in memory.
    serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
        if e.is_io() {
            StateError::Io {
                action: "read",
                path,
                source: e.into(),
            }
        } else {
            StateError::Corrupt {
                path,
                message: e.to_string(),
            }
        }
    })
}

/// `00000000000000000042.json` for 42.
pub(crate) fn file_name(seq: u64) -> String {
    format!("{seq:020}.json")
}

/// The sequence number of a spool file name, if it is one.
fn seq_of(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".json")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Only the header of a spool file: parsing checks the whole file is valid JSON.
fn read_meta(path: &Path) -> Result<Meta, String> {
    #[derive(Deserialize)]
    struct Header {
        produced_at: i64,
        #[allow(dead_code)]
        request: serde::de::IgnoredAny,
    }
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    let header: Header = serde_json::from_reader(std::io::BufReader::new(file))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Meta {
        produced_at: header.produced_at,
        bytes,
    })
}

fn remove_file(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "cannot remove a spool file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_shared::ReportKind;

    fn entry(seq: u64, produced_at: i64, padding: usize) -> SpoolEntry {
        SpoolEntry {
            produced_at,
            request: CheckinRequest {
                kind: ReportKind::Heartbeat,
                seq,
                digest: "d".repeat(padding),
                ..Default::default()
            },
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn files_sort_in_production_order_and_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool_dir = dir.path().join(SPOOL_DIR);
        let mut spool = Spool::open(spool_dir.clone()).expect("open");
        assert!(spool.seqs().is_empty());
        for seq in [10, 9, 100, 1] {
            spool.write(seq, &entry(seq, 0, 0)).expect("write");
        }
        assert_eq!(spool.seqs(), vec![1, 9, 10, 100]);
        assert_eq!(names(&spool_dir)[0], "00000000000000000001.json");
        assert_eq!(spool.read(9).expect("read").request.seq, 9);

        // Junk next to the reports: a temp file is cleaned, a corrupt report dropped,
        // an unrelated file left alone.
        std::fs::write(spool_dir.join(".00000000000000000200.json.tmp"), "{").expect("w");
        std::fs::write(spool_dir.join("00000000000000000300.json"), "{trunc").expect("w");
        std::fs::write(spool_dir.join("README"), "hi").expect("w");
        let spool = Spool::open(spool_dir.clone()).expect("reopen");
        assert_eq!(spool.seqs(), vec![1, 9, 10, 100]);
        assert_eq!(spool.max_seq(), Some(100));
        assert_eq!(names(&spool_dir).len(), 5);
        assert_eq!(seq_of("00000000000000000042.json"), Some(42));
        assert_eq!(seq_of("42.json"), None);
    }

    #[test]
    fn over_size_drops_the_oldest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path().join(SPOOL_DIR)).expect("open");
        for seq in 1..=5 {
            spool.write(seq, &entry(seq, 1000, 1000)).expect("write");
        }
        // Stored compactly: a heartbeat leaves out the empty inventory.
        let text =
            std::fs::read_to_string(dir.path().join(SPOOL_DIR).join(file_name(1))).expect("read");
        assert!(!text.contains("inventory"), "{text}");
        assert_eq!(spool.read(1).expect("read"), entry(1, 1000, 1000));
        let one = spool.total_bytes() / 5;
        let limits = SpoolLimits {
            max_bytes: one * 3,
            max_age_secs: 3600,
        };
        assert_eq!(spool.enforce(limits, 1000, 5), 2);
        assert_eq!(spool.seqs(), vec![3, 4, 5]);
        assert_eq!(spool.enforce(limits, 1000, 5), 0);
        // A single report over the limit is still kept.
        let tiny = SpoolLimits {
            max_bytes: 1,
            max_age_secs: 3600,
        };
        assert_eq!(spool.enforce(tiny, 1000, 5), 2);
        assert_eq!(spool.seqs(), vec![5]);
        let reopened = Spool::open(dir.path().join(SPOOL_DIR)).expect("reopen");
        assert_eq!(reopened.seqs(), vec![5]);
    }

    #[test]
    fn over_age_drops_the_old_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut spool = Spool::open(dir.path().join(SPOOL_DIR)).expect("open");
        for (seq, at) in [(1, 0), (2, 100), (3, 7200), (4, 9000)] {
            spool.write(seq, &entry(seq, at, 0)).expect("write");
        }
        let limits = SpoolLimits {
            max_bytes: u64::MAX,
            max_age_secs: 3600,
        };
        // At 9000 the cutoff is 5400: seqs 1 and 2 are too old.
        assert_eq!(spool.enforce(limits, 9000, 4), 2);
        assert_eq!(spool.seqs(), vec![3, 4]);
        assert_eq!(spool.clear(), 2);
        assert!(spool.seqs().is_empty());
        assert!(names(&dir.path().join(SPOOL_DIR)).is_empty());
    }
}
