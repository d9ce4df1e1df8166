//! `steward-server backup` and `restore`: one tar file that brings back the whole system,
//! the database and the attachment files it refers to.
//!
//! The archive (format version 1) holds, in this order:
//! - `steward.db`: a consistent snapshot of the database (`VACUUM INTO`, taken while the
//!   server runs and writes);
//! - `attachments/<ab>/<sha256>`: every attachment file a row of that snapshot refers to,
//!   and only those, under the same names as in the data directory;
//! - `manifest.json`: [`Manifest`], with the size and SHA-256 of every other member.
//!
//! Ordering makes it consistent: the snapshot is taken first, and the files are chosen
//! from the snapshot's own `attachments` rows. An attachment file is in place (fsynced)
//! before its row commits, files are content-addressed (never rewritten), and the server
//! never deletes them, so every file the snapshot names exists when it is copied; files
//! uploaded after the snapshot are simply not included. Each file is hashed while it is
//! copied and must match its name.
//!
//! `create` writes to a temporary file beside the target, fsyncs it and links it into place
//! (never overwriting). `restore` unpacks into a staging directory inside the data
//! directory, checks every member against the manifest, the manifest against the members,
//! and the database with `PRAGMA integrity_check`, all before it touches anything; then it
//! moves any current data aside (`--force` only) and renames the staged files into place,
//! the database last. Both hold the data directory's lock ([`crate::datadir`]): restore
//! exclusively, so it is refused while a server or another command uses the directory.

mod create;
mod restore;

pub use create::{Summary, create};
pub use restore::{RestoreOptions, Restored, restore};

use crate::datadir::LockError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The `format` field of every manifest.
pub const FORMAT: &str = "steward-backup";
/// The archive layout this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the manifest member.
pub const MANIFEST: &str = "manifest.json";
/// Largest manifest read back (about 2.5 million attachments).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// What a backup contains; the last member of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the build that wrote it.
    pub format_version: u32,
    /// `steward-server` version that wrote it.
    pub server_version: String,
    /// The database's schema version (`PRAGMA user_version`).
    pub schema_version: u32,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// Every other member, database first.
    pub files: Vec<Member>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Path inside the archive (and inside the data directory).
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// How far a backup or restore has got; handed to the caller's progress callback.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    pub files_done: u64,
    /// 0 when not known yet (a restore learns it from the manifest, at the end).
    pub files_total: u64,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Why a backup or restore did nothing.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{} already exists; choose a new file name (a backup never overwrites a file)", .0.display())]
    Exists(PathBuf),
    #[error("there is no database at {}; check --data-dir (or STEWARD_DATA_DIR, or server.data_dir in the config)", .0.display())]
    NoDatabase(PathBuf),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(
        "{dir} already holds a Steward database or attachments; restore into an empty data \
         directory (--data-dir), or pass --force to move the current data aside to \
         {dir}/replaced-<time>/ first",
        dir = .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("the backup {} is damaged: {reason}. Nothing was changed; restore another copy of the backup", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error("the backup {} needs a newer Steward ({found}); upgrade steward-server, then restore it. Nothing was changed", path.display())]
    TooNew { path: PathBuf, found: String },
    #[error("the data directory {} is damaged: {reason}; no backup was written. Restore the file from an older backup or remove the ticket's attachment row", dir.display())]
    Store { dir: PathBuf, reason: String },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type BackupResult<T> = Result<T, BackupError>;

/// Maps an I/O error to [`BackupError::Io`] with what was being done.
fn io_err(context: impl std::fmt::Display) -> impl FnOnce(io::Error) -> BackupError {
    let context = context.to_string();
    move |source| BackupError::Io { context, source }
}

/// What a member path of an archive stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Database,
    Manifest,
    /// An attachment file with this digest.
    Attachment(String),
}

/// The member path of the attachment file with this digest.
fn attachment_member(sha256: &str) -> String {
    format!("attachments/{}/{sha256}", &sha256[..2])
}

/// What `path` is, or `None` if no valid archive holds such a member (so nothing outside
/// the staging directory can ever be written: no `..`, no absolute paths, no links).
fn kind_of(path: &str) -> Option<Kind> {
    match path {
        crate::DB_FILE => return Some(Kind::Database),
        MANIFEST => return Some(Kind::Manifest),
        _ => {}
    }
    let mut parts = path.split('/');
    let (Some("attachments"), Some(dir), Some(sha), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    (is_digest(sha) && sha.starts_with(dir) && dir.len() == 2)
        .then(|| Kind::Attachment(sha.to_owned()))
}

fn is_digest(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Counts bytes and files for the progress callback.
struct Meter<'a> {
    progress: Progress,
    report: &'a mut dyn FnMut(&Progress),
}

impl Meter<'_> {
    fn bytes(&mut self, n: u64) {
        self.progress.bytes_done += n;
        (self.report)(&self.progress);
    }

    fn file_done(&mut self) {
        self.progress.files_done += 1;
        (self.report)(&self.progress);
    }
}

/// A reader that hashes and counts what passes through it.
struct Tracked<'a, 'm, R> {
    inner: R,
    hasher: Sha256,
    read: u64,
    meter: &'a mut Meter<'m>,
}

impl<'a, 'm, R: Read> Tracked<'a, 'm, R> {
    fn new(inner: R, meter: &'a mut Meter<'m>) -> Self {
        Tracked {
            inner,
            hasher: Sha256::new(),
            read: 0,
            meter,
        }
    }

    fn digest(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }
}

impl<R: Read> Read for Tracked<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        self.meter.bytes(n as u64);
        Ok(n)
    }
}

/// fsyncs a directory so that renames and new names in it survive a crash.
fn sync_dir(dir: &Path) -> BackupResult<()> {
    if cfg!(unix) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(format_args!("cannot sync {}", dir.display())))?;
    }
    Ok(())
}

/// The directory a path's file lives in (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Removes the listed paths (files or directories) when dropped, unless disarmed.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(p);
            } else {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_known_members_are_accepted() {
        let sha = "ab".repeat(32);
        assert_eq!(kind_of("steward.db"), Some(Kind::Database));
        assert_eq!(kind_of("manifest.json"), Some(Kind::Manifest));
        assert_eq!(
            kind_of(&attachment_member(&sha)),
            Some(Kind::Attachment(sha.clone()))
        );
        for bad in [
            "../steward.db".to_owned(),
            "/steward.db".to_owned(),
            format!("attachments/cd/{sha}"),
            format!("attachments/ab/{sha}/x"),
            format!("attachments/../{sha}"),
            format!("attachments/ab/{}", "AB".repeat(32)),
            "attachments/tmp/x.part".to_owned(),
            "steward.db-wal".to_owned(),
        ] {
            assert_eq!(kind_of(&bad), None, "{bad}");
        }
    }
}
