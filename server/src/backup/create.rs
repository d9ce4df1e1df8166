//! Writing a backup archive: snapshot first, then the attachment files it refers to.

use super::{
    BackupError, BackupResult, Cleanup, FORMAT, FORMAT_VERSION, MANIFEST, Manifest, Member, Meter,
    Progress, Tracked, attachment_member, io_err, parent_of, sync_dir,
};
use crate::blobs::Blobs;
use crate::datadir::DirLock;
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What [`create`] wrote.
#[derive(Debug, Clone)]
pub struct Summary {
    pub path: PathBuf,
    pub manifest: Manifest,
    /// Attachment files included.
    pub attachments: usize,
    /// Bytes of the members (database and attachments).
    pub bytes: u64,
}

/// How long the snapshot waits for a lock (only WAL recovery takes one a reader waits on).
const SNAPSHOT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes a backup of `data_dir` to `to`, which must not exist, as of `now` (Unix seconds):
/// a consistent snapshot of the database, safe while the server runs, and the attachment
/// files it refers to. `progress` hears about every chunk copied.
pub fn create(
    data_dir: &Path,
    to: &Path,
    now: i64,
    progress: &mut dyn FnMut(&Progress),
) -> BackupResult<Summary> {
    if to.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(to.to_owned()));
    }
    let db_path = data_dir.join(crate::DB_FILE);
    if !db_path.is_file() {
        return Err(BackupError::NoDatabase(db_path));
    }
    let _lock = DirLock::shared(data_dir)?;
    let dir = parent_of(to);
    let name = to
        .file_name()
        .ok_or_else(|| BackupError::Exists(to.to_owned()))?
        .to_string_lossy()
        .into_owned();
    let tag = crate::crypto::random_hex(6);
    let snapshot_path = dir.join(format!(".{name}.{tag}.db"));
    let part = dir.join(format!(".{name}.{tag}.part"));
    let _cleanup = Cleanup(vec![snapshot_path.clone(), part.clone()]);

    let (schema_version, referenced) = snapshot(&db_path, &snapshot_path)?;
    let blobs = Blobs::new(data_dir);
    let db_size = std::fs::metadata(&snapshot_path)
        .map_err(io_err("cannot read the snapshot"))?
        .len();
    let mut meter = Meter {
        progress: Progress {
            files_done: 0,
            files_total: 1 + referenced.len() as u64,
            bytes_done: 0,
            bytes_total: db_size + referenced.values().sum::<u64>(),
        },
        report: progress,
    };

    let out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)
        .map_err(io_err(format_args!("cannot create {}", part.display())))?;
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, out));
    let writing = format!("cannot write {}", part.display());
    let mut files = Vec::with_capacity(1 + referenced.len());
    let db = File::open(&snapshot_path).map_err(io_err("cannot read the snapshot"))?;
    let member =
        append(&mut tar, &mut meter, crate::DB_FILE, db, db_size, now).map_err(io_err(&writing))?;
    files.push(member.map_err(|reason| store_damaged(data_dir, reason))?);
    for (sha256, size) in &referenced {
        let path = blobs.path_of(sha256).ok_or_else(|| {
            store_damaged(
                data_dir,
                format!("an attachment row has the invalid digest {sha256:?}"),
            )
        })?;
        let file = File::open(&path).map_err(|e| {
            store_damaged(
                data_dir,
                format!(
                    "the attachment file {} is missing or unreadable ({e})",
                    path.display()
                ),
            )
        })?;
        let path_in_archive = attachment_member(sha256);
        let member = append(&mut tar, &mut meter, &path_in_archive, file, *size, now)
            .map_err(io_err(&writing))?
            .map_err(|reason| store_damaged(data_dir, reason))?;
        if member.sha256 != *sha256 {
            return Err(store_damaged(
                data_dir,
                format!(
                    "the attachment file {} does not match its digest (its content changed on disk)",
                    path.display()
                ),
            ));
        }
        files.push(member);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version,
        created_at: rfc3339(now),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io {
        context: "cannot encode the manifest".into(),
        source: e.into(),
    })?;
    let mut header = header_for(json.len() as u64, now);
    tar.append_data(&mut header, MANIFEST, json.as_slice())
        .map_err(io_err(&writing))?;
    let mut buffered = tar.into_inner().map_err(io_err(&writing))?;
    buffered.flush().map_err(io_err(&writing))?;
    let file = buffered
        .into_inner()
        .map_err(|e| io_err(&writing)(e.into_error()))?;
    file.sync_all().map_err(io_err(&writing))?;
    drop(file);
    publish(&part, to)?;
    sync_dir(dir)?;
    Ok(Summary {
        path: to.to_owned(),
        attachments: referenced.len(),
        bytes: meter.progress.bytes_done,
        manifest,
    })
}

/// `VACUUM INTO` a new file; returns the snapshot's schema version and the attachment
/// files its rows refer to (digest -> size).
fn snapshot(db_path: &Path, to: &Path) -> BackupResult<(u32, BTreeMap<String, u64>)> {
    // Read-write without create: a missing file is an error, and a read-write connection
    // can recover a WAL left by a crashed server. Nothing is written to the source.
    let live = Connection::open_with_flags(
        db_path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    live.busy_timeout(SNAPSHOT_BUSY_TIMEOUT)?;
    live.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    drop(live);
    let snap = Connection::open_with_flags(
        to,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let version: u32 = snap.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_table: bool = snap.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'attachments'",
        [],
        |r| r.get(0),
    )?;
    let mut referenced = BTreeMap::new();
    if has_table {
        let mut st = snap.prepare("SELECT DISTINCT sha256, size FROM attachments")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (sha, size) = row?;
            referenced.insert(sha, size.max(0) as u64);
        }
    }
    Ok((version, referenced))
}

/// Appends `size` bytes of `src` as `path`. The outer error is the archive's; the inner
/// one says the source was not `size` bytes long.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    meter: &mut Meter<'_>,
    path: &str,
    src: File,
    size: u64,
    now: i64,
) -> std::io::Result<Result<Member, String>> {
    let actual = src.metadata()?.len();
    if actual != size {
        return Ok(Err(format!(
            "{path} is {actual} bytes on disk but {size} bytes in the database"
        )));
    }
    let mut header = header_for(size, now);
    let mut reader = Tracked::new(src.take(size), meter);
    tar.append_data(&mut header, path, &mut reader)?;
    if reader.read != size {
        // The archive is now wrong; the caller throws it away.
        return Ok(Err(format!("{path} changed size while it was copied")));
    }
    let member = Member {
        path: path.to_owned(),
        size,
        sha256: reader.digest(),
    };
    meter.file_done();
    Ok(Ok(member))
}

fn header_for(size: u64, now: i64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(now.max(0) as u64);
    header
}

/// Puts the finished archive in place without ever replacing a file: a hard link fails if
/// the name exists. Where hard links are not supported, checks and renames.
fn publish(part: &Path, to: &Path) -> BackupResult<()> {
    match std::fs::hard_link(part, to) {
        Ok(()) => std::fs::remove_file(part)
            .map_err(io_err(format_args!("cannot remove {}", part.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(BackupError::Exists(to.to_owned()))
        }
        Err(_) if to.symlink_metadata().is_ok() => Err(BackupError::Exists(to.to_owned())),
        Err(_) => std::fs::rename(part, to).map_err(io_err(format_args!(
            "cannot move the backup to {}",
            to.display()
        ))),
    }
}

fn store_damaged(dir: &Path, reason: String) -> BackupError {
    BackupError::Store {
        dir: dir.to_owned(),
        reason,
    }
}

pub(super) fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
