//! Replacing the agent's own binary, and putting the previous one back.
//!
//! The new binary is copied next to the installed one (`.<name>.new`: same directory,
//! so the final rename is atomic), fsynced and made executable; the installed one is
//! kept as `<name>.previous`; then the new one is renamed over the installed path and
//! the directory fsynced. On Unix the running process keeps its (now unlinked) file, the
//! old binary stays reachable as a hard link, and the path always names a complete
//! binary. Windows cannot rename over a running executable but can rename the running
//! executable itself, so there the installed binary is first renamed to `.previous` and
//! the new one renamed into its place (the path is missing for that instant); the
//! service manager then starts the new file. Only [`keep_previous`] differs by platform.

use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// `<exe>.previous`: the binary an update replaced.
pub fn previous_path(exe: &Path) -> PathBuf {
    sibling(exe, "", ".previous")
}

fn sibling(exe: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "steward-agent".into());
    exe.with_file_name(format!("{prefix}{name}{suffix}"))
}

/// Installs the verified file `new` at `exe`, keeping the old binary as `.previous`.
/// `sha256` is checked again on the copy before anything is replaced. On any error the
/// installed binary is left as it was.
pub fn install(new: &Path, exe: &Path, sha256: &[u8; 32]) -> std::io::Result<()> {
    let staged = sibling(exe, ".", ".new");
    let result = stage(new, &staged, sha256).and_then(|()| {
        keep_previous(exe)?;
        std::fs::rename(&staged, exe)?;
        sync_dir(exe);
        Ok(())
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&staged);
    }
    result
}

/// Puts `<exe>.previous` back at `exe` (after an update that never confirmed).
pub fn restore_previous(exe: &Path) -> std::io::Result<()> {
    let previous = previous_path(exe);
    if !previous.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{} is missing", previous.display()),
        ));
    }
    #[cfg(windows)]
    {
        // The running (new) binary cannot be replaced, but it can be moved aside.
        let failed = sibling(exe, "", ".failed");
        let _ = std::fs::remove_file(&failed);
        std::fs::rename(exe, &failed)?;
    }
    std::fs::rename(&previous, exe)?;
    sync_dir(exe);
    Ok(())
}

/// Copies `new` to `staged`, fsyncs it, checks its digest and makes it executable.
fn stage(new: &Path, staged: &Path, sha256: &[u8; 32]) -> std::io::Result<()> {
    let mut from = std::fs::File::open(new)?;
    let mut to = std::fs::File::create(staged)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        to.write_all(&buf[..n])?;
    }
    to.sync_all()?;
    if <[u8; 32]>::from(hasher.finalize()) != *sha256 {
        return Err(std::io::Error::other(
            "the staged copy does not match the verified download",
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(staged, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

/// Keeps the installed binary as `.previous` (replacing an older one).
#[cfg(not(windows))]
fn keep_previous(exe: &Path) -> std::io::Result<()> {
    let previous = previous_path(exe);
    match std::fs::remove_file(&previous) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    if std::fs::hard_link(exe, &previous).is_err() {
        std::fs::copy(exe, &previous)?;
    }
    Ok(())
}

#[cfg(windows)]
fn keep_previous(exe: &Path) -> std::io::Result<()> {
    let previous = previous_path(exe);
    let _ = std::fs::remove_file(&previous);
    std::fs::rename(exe, previous)
}

fn sync_dir(exe: &Path) {
    if let Some(dir) = exe.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn install_keeps_previous_and_restore_puts_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("steward-agent");
        std::fs::write(&exe, b"old binary").unwrap();
        let download = dir.path().join("download");
        std::fs::write(&download, b"new binary").unwrap();
        let sha: [u8; 32] = Sha256::digest(b"new binary").into();

        install(&download, &exe, &sha).unwrap();
        assert_eq!(std::fs::read(&exe).unwrap(), b"new binary");
        assert_eq!(std::fs::read(previous_path(&exe)).unwrap(), b"old binary");
        assert!(!dir.path().join(".steward-agent.new").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&exe).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }

        restore_previous(&exe).unwrap();
        assert_eq!(std::fs::read(&exe).unwrap(), b"old binary");
        assert!(restore_previous(&exe).is_err(), "nothing left to restore");
    }

    #[test]
    fn a_digest_mismatch_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("steward-agent");
        std::fs::write(&exe, b"old binary").unwrap();
        let download = dir.path().join("download");
        std::fs::write(&download, b"new binary").unwrap();
        assert!(install(&download, &exe, &[0; 32]).is_err());
        assert_eq!(std::fs::read(&exe).unwrap(), b"old binary");
        assert!(!previous_path(&exe).exists());
        assert!(!dir.path().join(".steward-agent.new").exists());
    }
}
