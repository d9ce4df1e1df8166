//! `steward-server backup` and `restore`: one tar file that brings back the whole system,
//! the database, the attachment files it refers to and the agent binaries the server
//! hands out.
//!
//! The archive (format version 2) holds, in this order:
//! - `steward.db`: a consistent snapshot of the database (`VACUUM INTO`, taken while the
//!   server runs and writes);
//! - `attachments/<ab>/<sha256>`: every attachment file a row of that snapshot refers to,
//!   and only those, under the same names as in the data directory;
//! - `agent-releases/<sha256>`: the binary of every signed self-update release (row of
//!   `agent_releases`) of the snapshot, and only those ([`crate::signed_releases`]);
//! - `releases/<os>-<arch>/steward-agent[.exe]`: every binary the install one-liner hands
//!   out ([`crate::releases`]); nothing else in that folder (temporary copies) is taken;
//! - `manifest.json`: [`Manifest`], with the size and SHA-256 of every other member.
//!
//! Ordering makes it consistent: the snapshot is taken first, and the content-addressed
//! files (attachments, signed release binaries) are chosen from the snapshot's own rows.
//! Such a file is in place (fsynced) before its row commits, never rewritten, and the
//! server never deletes it, so every file the snapshot names exists when it is copied;
//! files added after the snapshot are simply not included. Each is hashed while it is
//! copied and must match its name. The install one-liner's binaries belong to no row:
//! each is copied as it is when the backup reaches it (they are replaced by renaming, as
//! `packaging/build.sh` does, so a copy is never half of one build and half of another).
//!
//! Format 1 archives (written before agent binaries were included) still restore. They
//! hold no binaries, so restoring one leaves `agent-releases/` and `releases/` of the
//! data directory as they are, and [`Restored::missing_releases`] names the signed
//! releases whose binary is not there. Members a reader does not know are refused, but
//! only once the manifest (the last member) has been read, so an archive of a newer
//! format is reported as such rather than as damaged.
//!
//! `create` writes to a temporary file beside the target, fsyncs it and links it into place
//! (never overwriting). `restore` unpacks into a staging directory inside the data
//! directory, checks every member against the manifest, the manifest against the members,
//! the database with `PRAGMA integrity_check`, and that every attachment and release row
//! has its file, all before it touches anything; then it moves any current data aside
//! (`--force` only) and renames the staged files into place, the database last. Both hold
//! the data directory's lock ([`crate::datadir`]): restore exclusively, so it is refused
//! while a server or another command uses the directory.

mod create;
mod restore;
mod verify;

pub use create::{Summary, create};
pub use restore::{RestoreOptions, Restored, restore};

use crate::datadir::LockError;
use crate::{releases, signed_releases};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The `format` field of every manifest.
pub const FORMAT: &str = "steward-backup";
/// The archive layout this build writes (it reads this one and every older one). Version 2
/// added the agent binaries: a version 1 archive of a server with signed releases has
/// their rows but not their files, which a version 2 archive must have.
pub const FORMAT_VERSION: u32 = 2;
/// The first version whose archives hold the agent binaries.
const FIRST_WITH_BINARIES: u32 = 2;
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
        "{dir} already holds a Steward database, attachments or agent binaries; restore into \
         an empty data directory (--data-dir), or pass --force to move the current data aside to \
         {dir}/replaced-<time>/ first",
        dir = .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("the backup {} is damaged: {reason}. Nothing was changed; restore another copy of the backup", path.display())]
    Damaged { path: PathBuf, reason: String },
    #[error("the backup {} needs a newer Steward ({found}); upgrade steward-server, then restore it. Nothing was changed", path.display())]
    TooNew { path: PathBuf, found: String },
    #[error("the data directory {} is damaged: {reason}; no backup was written", dir.display())]
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
    /// A signed release's binary with this digest.
    SignedRelease(String),
    /// A binary of the install one-liner.
    InstallBinary,
}

/// The member path of the attachment file with this digest.
fn attachment_member(sha256: &str) -> String {
    format!("attachments/{}/{sha256}", &sha256[..2])
}

/// The member path of the signed release binary with this digest.
fn signed_release_member(sha256: &str) -> String {
    format!("{}/{sha256}", signed_releases::DIR)
}

/// The member path of the install one-liner's binary `file` for `platform`.
fn install_binary_member(platform: &str, file: &str) -> String {
    format!("{}/{platform}/{file}", releases::DIR)
}

/// What `path` is, or `None` if no valid archive holds such a member (so nothing outside
/// the staging directory can ever be written: no `..`, no absolute paths, no links).
fn kind_of(path: &str) -> Option<Kind> {
    match path {
        crate::DB_FILE => return Some(Kind::Database),
        MANIFEST => return Some(Kind::Manifest),
        _ => {}
    }
    match path.split('/').collect::<Vec<_>>()[..] {
        ["attachments", dir, sha] if is_digest(sha) && dir.len() == 2 && sha.starts_with(dir) => {
            Some(Kind::Attachment(sha.to_owned()))
        }
        [signed_releases::DIR, sha] if is_digest(sha) => Some(Kind::SignedRelease(sha.to_owned())),
        [releases::DIR, platform, file] if releases::is_binary_name(platform, file) => {
            Some(Kind::InstallBinary)
        }
        _ => None,
    }
}

/// Whether the database has this table (an old archive's schema may predate it).
fn has_table(c: &rusqlite::Connection, name: &str) -> rusqlite::Result<bool> {
    c.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )
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
mod binaries_tests;

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
        assert_eq!(signed_release_member(&sha), format!("agent-releases/{sha}"));
        assert_eq!(
            kind_of(&signed_release_member(&sha)),
            Some(Kind::SignedRelease(sha.clone()))
        );
        for (platform, file) in [
            ("linux-x86_64", "steward-agent"),
            ("linux-aarch64", "steward-agent"),
            ("windows-x86_64", "steward-agent.exe"),
        ] {
            let member = install_binary_member(platform, file);
            assert_eq!(member, format!("releases/{platform}/{file}"));
            assert_eq!(kind_of(&member), Some(Kind::InstallBinary), "{member}");
        }
        for bad in [
            "../steward.db".to_owned(),
            "/steward.db".to_owned(),
            format!("attachments/cd/{sha}"),
            format!("attachments/ab/{sha}/x"),
            format!("attachments/../{sha}"),
            format!("attachments/ab/{}", "AB".repeat(32)),
            "attachments/tmp/x.part".to_owned(),
            "steward.db-wal".to_owned(),
            format!("agent-releases/{}", "AB".repeat(32)),
            format!("agent-releases/{sha}/x"),
            format!("agent-releases/ab/{sha}"),
            format!("agent-releases/../{sha}"),
            "agent-releases/.0123abcd.part".to_owned(),
            "agent-releases".to_owned(),
            "releases/linux-x86_64/steward-agent.new".to_owned(),
            "releases/linux-x86_64/steward.db".to_owned(),
            "releases/linux-x86_64/../../steward.db".to_owned(),
            "releases/../steward-agent".to_owned(),
            "releases/linux/steward-agent".to_owned(),
            "releases/linux-X86/steward-agent".to_owned(),
            "releases/linux-x86-64/steward-agent".to_owned(),
            "releases/linux-x86_64/bin/steward-agent".to_owned(),
            "releases/steward-agent".to_owned(),
            "/releases/linux-x86_64/steward-agent".to_owned(),
            "other/linux-x86_64/steward-agent".to_owned(),
            format!("other/{sha}"),
        ] {
            assert_eq!(kind_of(&bad), None, "{bad}");
        }
    }
}
