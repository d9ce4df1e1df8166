//! Restoring a backup archive into a data directory: check everything, then swap.

use super::{
    BackupError, BackupResult, Cleanup, FORMAT, FORMAT_VERSION, Kind, MAX_MANIFEST_BYTES, Manifest,
    Member, Meter, Progress, Tracked, io_err, kind_of, sync_dir,
};
use crate::datadir::DirLock;
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// How [`restore`] treats a data directory that already has data.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// Move the current database and attachments aside (to `replaced-<time>/` in the data
    /// directory) instead of refusing.
    pub force: bool,
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    /// Attachment files restored.
    pub attachments: usize,
    /// Where the data that was there before went (with `force`).
    pub moved_aside: Option<PathBuf>,
}

/// Names of staging directories inside the data directory.
const STAGING_PREFIX: &str = ".restore-";

/// Files of the data directory that a restore replaces (besides `attachments/`).
const DB_FILES: [&str; 3] = ["steward.db", "steward.db-wal", "steward.db-shm"];

/// Restores the backup `from` into `data_dir` as of `now` (Unix seconds, names the folder
/// old data is moved to). Refused, with nothing changed, while anything else uses the
/// directory, when it already has data (unless `force`), or when the archive does not
/// check out.
pub fn restore(
    from: &Path,
    data_dir: &Path,
    opts: RestoreOptions,
    now: i64,
    progress: &mut dyn FnMut(&Progress),
) -> BackupResult<Restored> {
    let file = File::open(from).map_err(io_err(format_args!(
        "cannot open the backup {}",
        from.display()
    )))?;
    let archive_size = file.metadata().map(|m| m.len()).unwrap_or(0);
    std::fs::create_dir_all(data_dir).map_err(io_err(format_args!(
        "cannot create the data directory {}",
        data_dir.display()
    )))?;
    let _lock = DirLock::exclusive(data_dir)?;
    if has_data(data_dir) && !opts.force {
        return Err(BackupError::NotEmpty(data_dir.to_owned()));
    }

    remove_stale_staging(data_dir);
    let staging = data_dir.join(format!("{STAGING_PREFIX}{}", crate::crypto::random_hex(6)));
    let _cleanup = Cleanup(vec![staging.clone()]);
    std::fs::create_dir(&staging)
        .map_err(io_err(format_args!("cannot create {}", staging.display())))?;
    let mut meter = Meter {
        progress: Progress {
            bytes_total: archive_size,
            ..Progress::default()
        },
        report: progress,
    };
    let damaged = |reason: String| BackupError::Damaged {
        path: from.to_owned(),
        reason,
    };
    let (staged, manifest) = unpack(file, &staging, &mut meter).map_err(|e| match e {
        Unpack::Damaged(reason) => damaged(reason),
        Unpack::Failed(e) => e,
    })?;
    let manifest = manifest.ok_or_else(|| damaged("it has no manifest.json".into()))?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|e| damaged(format!("its manifest.json does not parse ({e})")))?;
    if manifest.format != FORMAT {
        return Err(damaged(format!(
            "it is not a Steward backup (format {:?})",
            manifest.format
        )));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(BackupError::TooNew {
            path: from.to_owned(),
            found: format!(
                "archive format {}, written by steward-server {}",
                manifest.format_version, manifest.server_version
            ),
        });
    }
    check_members(&manifest, &staged).map_err(damaged)?;
    // Unpacked: now the totals are known.
    meter.progress.files_total = meter.progress.files_done;
    meter.progress.bytes_total = meter.progress.bytes_done;
    (meter.report)(&meter.progress);
    let staged_db = staging.join(crate::DB_FILE);
    let attachments = check_database(&staged_db, &staged).map_err(|e| match e {
        Check::Damaged(reason) => damaged(reason),
        Check::TooNew(found) => BackupError::TooNew {
            path: from.to_owned(),
            found: format!("database schema {found}, this build knows {}", {
                crate::db::migrations::latest()
            }),
        },
        Check::Sqlite(e) => damaged(format!("its database cannot be read ({e})")),
    })?;

    // Everything checks out: from here on the data directory changes.
    let moved_aside = if has_data(data_dir) {
        Some(move_aside(data_dir, now)?)
    } else {
        None
    };
    let staged_attachments = staging.join("attachments");
    if staged_attachments.is_dir() {
        let target = data_dir.join("attachments");
        if target.is_dir() {
            // Only unfinished uploads, if anything: has_data said so.
            std::fs::remove_dir_all(&target)
                .map_err(io_err(format_args!("cannot remove {}", target.display())))?;
        }
        rename(&staged_attachments, &target)?;
    }
    // The database last: its presence means the restore finished.
    rename(&staged_db, &data_dir.join(crate::DB_FILE))?;
    sync_dir(data_dir)?;
    Ok(Restored {
        manifest,
        attachments,
        moved_aside,
    })
}

/// The unpacked members by path, and the manifest's bytes if there was one.
type Unpacked = (BTreeMap<String, Member>, Option<Vec<u8>>);

/// Why unpacking stopped.
enum Unpack {
    Damaged(String),
    Failed(BackupError),
}

/// Unpacks the archive's members into `staging` (fsynced), hashing each.
fn unpack(file: File, staging: &Path, meter: &mut Meter<'_>) -> Result<Unpacked, Unpack> {
    let unreadable = |e: std::io::Error| Unpack::Damaged(format!("it cannot be read ({e})"));
    let mut archive = tar::Archive::new(BufReader::with_capacity(1 << 20, file));
    let mut staged = BTreeMap::new();
    let mut manifest = None;
    for entry in archive.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(Unpack::Damaged(format!("{path:?} is not a regular file")));
        }
        let kind =
            kind_of(&path).ok_or_else(|| Unpack::Damaged(format!("unexpected member {path:?}")))?;
        if staged.contains_key(&path) || (kind == Kind::Manifest && manifest.is_some()) {
            return Err(Unpack::Damaged(format!("{path:?} appears twice")));
        }
        if kind == Kind::Manifest {
            let mut bytes = Vec::new();
            entry
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut bytes)
                .map_err(unreadable)?;
            manifest = Some(bytes);
            continue;
        }
        let size = entry.size();
        let dest = staging.join(&path);
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Unpack::Failed(io_err(format_args!("cannot create {}", dir.display()))(e))
            })?;
        }
        let written = format!("cannot write {}", dest.display());
        let mut out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&dest)
            .map_err(|e| Unpack::Failed(io_err(&written)(e)))?;
        let mut reader = Tracked::new(entry, meter);
        // A read error is the archive's fault (truncated); a write error the disk's.
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(unreadable)?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut out, &buf[..n])
                .map_err(|e| Unpack::Failed(io_err(&written)(e)))?;
        }
        if reader.read != size {
            return Err(Unpack::Damaged(format!("{path:?} is cut short")));
        }
        let sha256 = reader.digest();
        out.sync_all()
            .map_err(|e| Unpack::Failed(io_err(&written)(e)))?;
        meter.file_done();
        staged.insert(path.clone(), Member { path, size, sha256 });
    }
    Ok((staged, manifest))
}

/// The members must be exactly the manifest's, with its sizes and digests, and every
/// attachment's content must hash to its name.
fn check_members(manifest: &Manifest, staged: &BTreeMap<String, Member>) -> Result<(), String> {
    let mut listed = BTreeMap::new();
    for m in &manifest.files {
        if listed.insert(m.path.as_str(), m).is_some() {
            return Err(format!("its manifest lists {:?} twice", m.path));
        }
    }
    for (path, m) in staged {
        let Some(expected) = listed.get(path.as_str()) else {
            return Err(format!("{path:?} is not in its manifest"));
        };
        if *expected != m {
            return Err(format!(
                "{path:?} does not match its manifest (sha256 {} and {} bytes, the manifest says {} and {} bytes)",
                m.sha256, m.size, expected.sha256, expected.size
            ));
        }
        if let Some(Kind::Attachment(sha)) = kind_of(path)
            && sha != m.sha256
        {
            return Err(format!("{path:?} does not hash to its name"));
        }
    }
    if let Some(missing) = listed.keys().find(|p| !staged.contains_key(**p)) {
        return Err(format!("{missing:?} is missing"));
    }
    if !staged.contains_key(crate::DB_FILE) {
        return Err("it has no database".into());
    }
    Ok(())
}

enum Check {
    Damaged(String),
    TooNew(u32),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for Check {
    fn from(e: rusqlite::Error) -> Self {
        Check::Sqlite(e)
    }
}

/// `PRAGMA integrity_check`, the schema version, and every attachment row's file staged;
/// returns how many attachment files there are.
fn check_database(db: &Path, staged: &BTreeMap<String, Member>) -> Result<usize, Check> {
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut st = c.prepare("PRAGMA integrity_check")?;
    let problems = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(st);
    if problems != ["ok"] {
        let shown: Vec<_> = problems.iter().take(5).cloned().collect();
        return Err(Check::Damaged(format!(
            "its database fails PRAGMA integrity_check: {}",
            shown.join("; ")
        )));
    }
    let version: u32 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > crate::db::migrations::latest() {
        return Err(Check::TooNew(version));
    }
    let has_table: bool = c.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'attachments'",
        [],
        |r| r.get(0),
    )?;
    let mut files = 0;
    if has_table {
        let mut st = c.prepare("SELECT DISTINCT sha256 FROM attachments")?;
        for sha in st.query_map([], |r| r.get::<_, String>(0))? {
            let sha = sha?;
            if !super::is_digest(&sha) || !staged.contains_key(&super::attachment_member(&sha)) {
                return Err(Check::Damaged(format!(
                    "its database refers to the attachment {sha:?}, which it does not contain"
                )));
            }
            files += 1;
        }
    }
    Ok(files)
}

/// Removes what a restore that was stopped half way (killed, power lost) left behind;
/// only called with the exclusive lock, so no other restore is running.
fn remove_stale_staging(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
            tracing::info!(path = %e.path().display(), "removing an unfinished restore");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// True when the directory has a database or stored attachment files (unfinished uploads
/// in `attachments/tmp/` do not count: they are garbage once the server is stopped).
fn has_data(dir: &Path) -> bool {
    if DB_FILES.iter().any(|f| dir.join(f).exists()) {
        return true;
    }
    std::fs::read_dir(dir.join("attachments"))
        .map(|entries| entries.flatten().any(|e| e.file_name() != "tmp"))
        .unwrap_or(false)
}

/// Moves the database files and attachments to `replaced-<time>/`; returns that folder.
fn move_aside(dir: &Path, now: i64) -> BackupResult<PathBuf> {
    let stamp = chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let mut aside = dir.join(format!("replaced-{stamp}"));
    let mut n = 1;
    while aside.exists() {
        n += 1;
        aside = dir.join(format!("replaced-{stamp}-{n}"));
    }
    std::fs::create_dir(&aside)
        .map_err(io_err(format_args!("cannot create {}", aside.display())))?;
    for name in DB_FILES.iter().copied().chain(["attachments"]) {
        let from = dir.join(name);
        if from.symlink_metadata().is_ok() {
            rename(&from, &aside.join(name))?;
        }
    }
    sync_dir(&aside)?;
    sync_dir(dir)?;
    Ok(aside)
}

fn rename(from: &Path, to: &Path) -> BackupResult<()> {
    std::fs::rename(from, to).map_err(io_err(format_args!(
        "cannot move {} to {}",
        from.display(),
        to.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::super::{FORMAT, FORMAT_VERSION, MANIFEST, Manifest, Member};
    use super::*;
    use sha2::{Digest, Sha256};

    /// An archive of `db` with a manifest that matches it, whatever it holds.
    fn archive_of(db: &[u8], to: &Path) {
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            server_version: "test".into(),
            schema_version: 1,
            created_at: "2027-01-01T00:00:00Z".into(),
            files: vec![Member {
                path: crate::DB_FILE.into(),
                size: db.len() as u64,
                sha256: hex::encode(Sha256::digest(db)),
            }],
        };
        let json = serde_json::to_vec(&manifest).expect("json");
        let mut tar = tar::Builder::new(File::create(to).expect("create"));
        for (path, bytes) in [(crate::DB_FILE, db), (MANIFEST, json.as_slice())] {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o600);
            tar.append_data(&mut h, path, bytes).expect("append");
        }
        tar.finish().expect("finish");
    }

    #[test]
    fn a_database_that_fails_its_integrity_check_is_refused_even_with_matching_checksums() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("made.db");
        let c = Connection::open(&db).expect("open");
        c.execute_batch(
            "PRAGMA page_size = 1024;
             CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             CREATE INDEX t_v ON t(v);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
             INSERT INTO t (v) SELECT printf('value %05d', i) FROM n;",
        )
        .expect("fill");
        drop(c);
        let mut bytes = std::fs::read(&db).expect("read");
        // Scramble a page in the middle (a b-tree page of the table or its index).
        let page = bytes.len() / 1024 / 2;
        for b in &mut bytes[page * 1024 + 8..page * 1024 + 200] {
            *b ^= 0x5a;
        }
        let archive = dir.path().join("bad.tar");
        archive_of(&bytes, &archive);
        let data = dir.path().join("data");
        let e = restore(&archive, &data, RestoreOptions::default(), 0, &mut |_| {})
            .expect_err("corrupt database");
        assert!(matches!(e, BackupError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("integrity_check"), "{e}");
        assert!(!data.join(crate::DB_FILE).exists());

        // The same database intact restores.
        let good = std::fs::read(&db).expect("read");
        archive_of(&good, &archive.with_extension("good"));
        let done = restore(
            &archive.with_extension("good"),
            &data,
            RestoreOptions::default(),
            0,
            &mut |_| {},
        )
        .expect("restore");
        assert_eq!(done.attachments, 0);
        assert_eq!(
            std::fs::read(data.join(crate::DB_FILE)).expect("read"),
            good
        );
    }
}
