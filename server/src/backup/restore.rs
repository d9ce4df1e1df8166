//! Restoring a backup archive into a data directory: check everything, then swap.

use super::verify::{Check, check_database, check_members, releases_staged};
use super::{
    BackupError, BackupResult, Cleanup, FIRST_WITH_BINARIES, FORMAT, FORMAT_VERSION, Kind,
    MAX_MANIFEST_BYTES, Manifest, Member, Meter, Progress, Tracked, io_err, kind_of, sync_dir,
};
use crate::datadir::DirLock;
use crate::{releases, signed_releases};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

/// How [`restore`] treats a data directory that already has data.
#[derive(Debug, Clone, Copy, Default)]
pub struct RestoreOptions {
    /// Move the current database, attachments and agent binaries aside (to
    /// `replaced-<time>/` in the data directory) instead of refusing.
    pub force: bool,
}

/// What [`restore`] did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub manifest: Manifest,
    /// Attachment files restored.
    pub attachments: usize,
    /// Binaries of signed self-update releases restored.
    pub signed_releases: usize,
    /// Binaries of the install one-liner restored.
    pub install_binaries: usize,
    /// Signed releases (`2.0.0 for linux/x86_64`) of a format 1 backup, which holds no
    /// binaries, whose binary is not in the data directory either: agents offered them
    /// fail to download them until the build is put back in `agent-releases/`.
    pub missing_releases: Vec<String>,
    /// Where the data that was there before went (with `force`).
    pub moved_aside: Option<PathBuf>,
}

/// Names of staging directories inside the data directory.
const STAGING_PREFIX: &str = ".restore-";

/// Files of the data directory that a restore replaces (besides the directories).
const DB_FILES: [&str; 3] = ["steward.db", "steward.db-wal", "steward.db-shm"];

/// Directories a restore replaces: attachments, then (format 2 on) the agent binaries.
const DIRS: [&str; 3] = ["attachments", signed_releases::DIR, releases::DIR];

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
    let unpacked = unpack(file, &staging, &mut meter).map_err(|e| match e {
        Unpack::Damaged(reason) => damaged(reason),
        Unpack::Failed(e) => e,
    })?;
    let staged = unpacked.staged;
    let manifest = unpacked
        .manifest
        .ok_or_else(|| damaged("it has no manifest.json".into()))?;
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
    if let Some(path) = unpacked.unexpected {
        return Err(damaged(format!("unexpected member {path:?}")));
    }
    let with_binaries = manifest.format_version >= FIRST_WITH_BINARIES;
    check_members(&manifest, &staged, with_binaries).map_err(damaged)?;
    // Unpacked: now the totals are known.
    meter.progress.files_total = meter.progress.files_done;
    meter.progress.bytes_total = meter.progress.bytes_done;
    (meter.report)(&meter.progress);
    let staged_db = staging.join(crate::DB_FILE);
    let contents = check_database(&staged_db, &staged).map_err(|e| match e {
        Check::Damaged(reason) => damaged(reason),
        Check::TooNew(found) => BackupError::TooNew {
            path: from.to_owned(),
            found: format!("database schema {found}, this build knows {}", {
                crate::db::migrations::latest()
            }),
        },
        Check::Sqlite(e) => damaged(format!("its database cannot be read ({e})")),
    })?;
    // A format 1 archive has no binaries: the data directory's stay, and may lack some.
    let (dirs, missing_releases) = if with_binaries {
        releases_staged(&contents.releases, &staged).map_err(damaged)?;
        (&DIRS[..], Vec::new())
    } else {
        let missing = contents
            .releases
            .iter()
            .filter(|r| {
                !signed_releases::binary_path(data_dir, &r.sha256).is_some_and(|p| p.is_file())
            })
            .map(|r| r.names.clone())
            .collect();
        (&DIRS[..1], missing)
    };
    let present = has_data(data_dir) || (with_binaries && has_binaries(data_dir));
    if present && !opts.force {
        return Err(BackupError::NotEmpty(data_dir.to_owned()));
    }

    // Everything checks out: from here on the data directory changes.
    let moved_aside = if present {
        Some(move_aside(data_dir, dirs, now)?)
    } else {
        None
    };
    for name in dirs {
        let staged_dir = staging.join(name);
        if staged_dir.is_dir() {
            let target = data_dir.join(name);
            if target.is_dir() {
                // Only leftovers (unfinished uploads, temporary copies), if anything:
                // has_data and has_binaries said so.
                std::fs::remove_dir_all(&target)
                    .map_err(io_err(format_args!("cannot remove {}", target.display())))?;
            }
            rename(&staged_dir, &target)?;
        }
    }
    // The database last: its presence means the restore finished.
    rename(&staged_db, &data_dir.join(crate::DB_FILE))?;
    sync_dir(data_dir)?;
    let count = |wanted: fn(&Kind) -> bool| {
        staged
            .keys()
            .filter(|p| kind_of(p).is_some_and(|k| wanted(&k)))
            .count()
    };
    Ok(Restored {
        attachments: contents.attachments,
        signed_releases: count(|k| matches!(k, Kind::SignedRelease(_))),
        install_binaries: count(|k| *k == Kind::InstallBinary),
        missing_releases,
        moved_aside,
        manifest,
    })
}

/// What unpacking found.
struct Unpacked {
    /// The staged members by path.
    staged: BTreeMap<String, Member>,
    /// The manifest's bytes, if there was one.
    manifest: Option<Vec<u8>>,
    /// The first member of a kind this build does not know (skipped, not staged): damage,
    /// unless the manifest says the archive is of a newer format.
    unexpected: Option<String>,
}

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
    let mut unexpected = None;
    for entry in archive.entries().map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(Unpack::Damaged(format!("{path:?} is not a regular file")));
        }
        let Some(kind) = kind_of(&path) else {
            unexpected.get_or_insert(path);
            continue;
        };
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
    Ok(Unpacked {
        staged,
        manifest,
        unexpected,
    })
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
    DB_FILES.iter().any(|f| dir.join(f).exists())
        || any_entry(&dir.join("attachments"), |name| name != "tmp")
}

/// True when the directory has agent binaries: a stored signed release (a temporary
/// `.<random>.part` of an interrupted `release add`, or the `tmp/` folder of uploads over
/// HTTP, does not count) or anything at all in
/// `releases/` (an admin's files, which a restore never deletes).
fn has_binaries(dir: &Path) -> bool {
    any_entry(&dir.join(signed_releases::DIR), |name| {
        !name.starts_with('.') && name != "tmp"
    }) || any_entry(&releases::dir(dir), |_| true)
}

/// Whether `dir` exists and has an entry whose name `counts`.
fn any_entry(dir: &Path, counts: impl Fn(&str) -> bool) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| counts(&e.file_name().to_string_lossy()))
        })
        .unwrap_or(false)
}

/// Moves the database files and `dirs` to `replaced-<time>/`; returns that folder.
fn move_aside(dir: &Path, dirs: &[&str], now: i64) -> BackupResult<PathBuf> {
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
    for name in DB_FILES.iter().chain(dirs) {
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
    use rusqlite::Connection;
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
