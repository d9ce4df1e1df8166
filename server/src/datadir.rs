//! Who is using a data directory: an advisory lock on `<data_dir>/steward.lock`.
//!
//! Everything that opens the database ([`crate::open`]: the server, the CLI commands, the
//! tests) and `backup` hold it shared, so several of them may run at once (a CLI command
//! beside the running server, two servers on one database). `restore` takes it exclusive:
//! it is refused while anything else has the directory open, and nothing can open the
//! directory while a restore runs. The lock is the operating system's (`flock` on Unix,
//! `LockFileEx` on Windows, through `std::fs::File::try_lock`), so it goes away with the
//! process that held it, however that process ended (SIGKILL included): there is no stale
//! lock file to clean up. The file itself stays and means nothing on its own.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// File name of the lock inside the data directory.
pub const LOCK_FILE: &str = "steward.lock";

/// A held lock on a data directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

/// Why a data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone else holds the lock in a way that excludes us.
    #[error(
        "{} is in use: {held_by} (the lock {} is held); {what_to_do}",
        dir.display(),
        dir.join(LOCK_FILE).display()
    )]
    InUse {
        dir: PathBuf,
        held_by: &'static str,
        what_to_do: &'static str,
    },
    #[error("cannot lock {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

impl DirLock {
    /// A shared lock: refused only while a restore holds the directory.
    pub fn shared(dir: &Path) -> Result<DirLock, LockError> {
        let (file, path) = open(dir)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(DirLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse {
                dir: dir.to_owned(),
                held_by: "a restore is replacing its data",
                what_to_do: "wait for `steward-server restore` to finish, then try again",
            }),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }

    /// An exclusive lock: refused while anything else has the directory open.
    pub fn exclusive(dir: &Path) -> Result<DirLock, LockError> {
        let (file, path) = open(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(DirLock { _file: file, path }),
            Err(TryLockError::WouldBlock) => Err(LockError::InUse {
                dir: dir.to_owned(),
                held_by: "a Steward server or command is running on it",
                what_to_do: "stop the server (e.g. `systemctl stop steward-server`) and any \
                             steward-server command using this data directory, then try again",
            }),
            Err(TryLockError::Error(source)) => Err(LockError::Io { path, source }),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(dir: &Path) -> Result<(File, PathBuf), LockError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|source| LockError::Io {
            path: path.clone(),
            source,
        })?;
    Ok((file, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_holders_coexist_and_exclude_an_exclusive_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = DirLock::shared(dir.path()).expect("first shared");
        let b = DirLock::shared(dir.path()).expect("second shared");
        let refused = DirLock::exclusive(dir.path()).expect_err("held shared");
        assert!(matches!(refused, LockError::InUse { .. }), "{refused:?}");
        assert!(refused.to_string().contains("stop the server"), "{refused}");
        drop((a, b));
        let x = DirLock::exclusive(dir.path()).expect("free again");
        assert!(matches!(
            DirLock::shared(dir.path()),
            Err(LockError::InUse { .. })
        ));
        assert_eq!(x.path(), dir.path().join(LOCK_FILE));
    }
}
