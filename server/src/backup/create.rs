//! Writing a backup archive: snapshot first, then the files it refers to, then the
//! install one-liner's binaries.

use super::{
    BackupError, BackupResult, Cleanup, FORMAT, FORMAT_VERSION, MANIFEST, Manifest, Member, Meter,
    Progress, Tracked, attachment_member, install_binary_member, io_err, parent_of,
    signed_release_member, sync_dir,
};
use crate::blobs::Blobs;
use crate::datadir::DirLock;
use crate::{releases, signed_releases};
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
    /// Binaries of signed self-update releases included.
    pub signed_releases: usize,
    /// Binaries of the install one-liner included.
    pub install_binaries: usize,
    /// Bytes of the members (database and files).
    pub bytes: u64,
}

/// How long the snapshot waits for a lock (only WAL recovery takes one a reader waits on).
const SNAPSHOT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Writes a backup of `data_dir` to `to`, which must not exist, as of `now` (Unix seconds):
/// a consistent snapshot of the database, safe while the server runs, the attachment
/// files and signed release binaries it refers to, and the install one-liner's binaries.
/// `progress` hears about every chunk copied.
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

    let snap = snapshot(&db_path, &snapshot_path)?;
    let stored = stored_files(data_dir, &snap);
    let installers = install_binaries(data_dir)?;
    let install_count = installers.len();
    let db_size = std::fs::metadata(&snapshot_path)
        .map_err(io_err("cannot read the snapshot"))?
        .len();
    let mut meter = Meter {
        progress: Progress {
            files_done: 0,
            files_total: (1 + stored.len() + installers.len()) as u64,
            bytes_done: 0,
            bytes_total: db_size
                + stored.iter().map(|s| s.size).sum::<u64>()
                + installers.iter().map(|(_, _, size)| size).sum::<u64>(),
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
    let mut files = Vec::with_capacity(1 + stored.len() + installers.len());
    let db = File::open(&snapshot_path).map_err(io_err("cannot read the snapshot"))?;
    let member =
        append(&mut tar, &mut meter, crate::DB_FILE, db, db_size, now).map_err(io_err(&writing))?;
    files.push(member.map_err(|reason| store_damaged(data_dir, reason))?);
    for s in &stored {
        files.push(append_stored(
            &mut tar, &mut meter, data_dir, s, now, &writing,
        )?);
    }
    for (path_in_archive, file, size) in installers {
        let member = append(&mut tar, &mut meter, &path_in_archive, file, size, now)
            .map_err(io_err(&writing))?
            .map_err(|reason| {
                store_damaged(
                    data_dir,
                    format!(
                        "{reason}; replace the install one-liner's binaries by renaming, then \
                         run the backup again"
                    ),
                )
            })?;
        files.push(member);
    }
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        format_version: FORMAT_VERSION,
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_version: snap.schema_version,
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
        attachments: snap.attachments.len(),
        signed_releases: snap.releases.len(),
        install_binaries: install_count,
        bytes: meter.progress.bytes_done,
        manifest,
    })
}

/// What the snapshot says about the files it refers to.
struct Snapshot {
    schema_version: u32,
    /// Attachment files: digest -> size.
    attachments: BTreeMap<String, u64>,
    /// Signed release binaries: digest -> (size, the releases it is, for messages).
    releases: BTreeMap<String, (u64, String)>,
}

/// A content-addressed file that rows of the snapshot name.
struct Stored {
    sha256: String,
    size: u64,
    member: String,
    /// Where it is; `None` when the row's digest is not one.
    path: Option<PathBuf>,
    /// The row, for messages ("an attachment row").
    row: String,
    /// The file, for messages ("the attachment file").
    what: String,
    /// What the operator can do when it is missing or wrong.
    remedy: &'static str,
}

/// The attachment files, then the signed release binaries, the snapshot refers to.
fn stored_files(data_dir: &Path, snap: &Snapshot) -> Vec<Stored> {
    let blobs = Blobs::new(data_dir);
    let attachments = snap.attachments.iter().map(|(sha, size)| Stored {
        sha256: sha.clone(),
        size: *size,
        member: attachment_member(sha),
        path: blobs.path_of(sha),
        row: "an attachment row".into(),
        what: "the attachment file".into(),
        remedy: "restore the file from an older backup or remove the ticket's attachment row",
    });
    let releases = snap.releases.iter().map(|(sha, (size, releases))| Stored {
        sha256: sha.clone(),
        size: *size,
        member: signed_release_member(sha),
        path: signed_releases::binary_path(data_dir, sha),
        row: format!("the agent release {releases}"),
        what: format!("the binary of agent release {releases}"),
        remedy: "copy the signed build back to that path (its name is its SHA-256)",
    });
    attachments.chain(releases).collect()
}

/// Appends a content-addressed file, checking its size and that it hashes to its name.
fn append_stored<W: Write>(
    tar: &mut tar::Builder<W>,
    meter: &mut Meter<'_>,
    data_dir: &Path,
    s: &Stored,
    now: i64,
    writing: &str,
) -> BackupResult<Member> {
    let damaged = |reason: String| store_damaged(data_dir, format!("{reason}; {}", s.remedy));
    let path = s
        .path
        .as_ref()
        .ok_or_else(|| damaged(format!("{} has the invalid digest {:?}", s.row, s.sha256)))?;
    let file = File::open(path).map_err(|e| {
        damaged(format!(
            "{} {} is missing or unreadable ({e})",
            s.what,
            path.display()
        ))
    })?;
    let member = append(tar, meter, &s.member, file, s.size, now)
        .map_err(io_err(writing))?
        .map_err(damaged)?;
    if member.sha256 != s.sha256 {
        return Err(damaged(format!(
            "{} {} does not match its digest (its content changed on disk)",
            s.what,
            path.display()
        )));
    }
    Ok(member)
}

/// The install one-liner's binaries in the data directory (only the names it hands out),
/// opened, by member path, with their sizes.
fn install_binaries(data_dir: &Path) -> BackupResult<Vec<(String, File, u64)>> {
    let dir = releases::dir(data_dir);
    let reading = |path: &Path| io_err(format!("cannot read {}", path.display()));
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(reading(&dir)(e)),
    };
    let mut platforms = Vec::new();
    for entry in entries {
        let entry = entry.map_err(reading(&dir))?;
        if let Ok(name) = entry.file_name().into_string() {
            platforms.push(name);
        }
    }
    platforms.sort();
    let mut found = Vec::new();
    for platform in &platforms {
        for name in releases::BINARY_NAMES {
            let Some(path) = releases::binary_path(data_dir, platform, name) else {
                continue;
            };
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(e) if is_absent(&e) => continue,
                Err(e) => return Err(reading(&path)(e)),
            };
            let meta = file.metadata().map_err(reading(&path))?;
            if meta.is_file() {
                found.push((install_binary_member(platform, name), file, meta.len()));
            }
        }
    }
    Ok(found)
}

/// Not there: no such file, or a path through something that is not a directory.
fn is_absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// `VACUUM INTO` a new file; what the snapshot's rows refer to.
fn snapshot(db_path: &Path, to: &Path) -> BackupResult<Snapshot> {
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
    let schema_version: u32 = snap.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let mut attachments = BTreeMap::new();
    if super::has_table(&snap, "attachments")? {
        let mut st = snap.prepare("SELECT DISTINCT sha256, size FROM attachments")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (sha, size) = row?;
            attachments.insert(sha, size.max(0) as u64);
        }
    }
    let mut releases = BTreeMap::new();
    if super::has_table(&snap, "agent_releases")? {
        let mut st = snap.prepare(
            "SELECT sha256, max(size), group_concat(version || ' for ' || os || '/' || arch, ', ')
             FROM agent_releases GROUP BY sha256",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (sha, size, names) = row?;
            releases.insert(sha, (size.max(0) as u64, names));
        }
    }
    Ok(Snapshot {
        schema_version,
        attachments,
        releases,
    })
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
