//! Agent binaries that the server hands out to the install one-liner:
//! `<data_dir>/releases/<os>-<arch>/steward-agent` (`steward-agent.exe` on Windows), put
//! there by an admin or by `packaging/build.sh --releases DIR`. Their SHA-256 is computed
//! each time a script is generated (a few milliseconds for a 5 MB agent), so a binary
//! replaced in place is never offered with a stale checksum.

use crate::domain::install_scripts::{Checksum, Shell, valid_platform_part};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Name of the releases directory inside the data directory.
pub const DIR: &str = "releases";

/// The file names a platform directory may hold.
pub const BINARY_NAMES: [&str; 2] = [Shell::Sh.binary(), Shell::PowerShell.binary()];

/// The releases directory inside the data directory.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join(DIR)
}

/// Whether `platform` (`linux-x86_64`) and `file` are names we hand out.
pub fn is_binary_name(platform: &str, file: &str) -> bool {
    platform.split_once('-').is_some_and(|(os, arch)| {
        valid_platform_part(os) && valid_platform_part(arch) && BINARY_NAMES.contains(&file)
    })
}

/// The file for `platform` and `file`, if both are names we hand out (the file itself
/// may not exist).
pub fn binary_path(data_dir: &Path, platform: &str, file: &str) -> Option<PathBuf> {
    is_binary_name(platform, file).then(|| dir(data_dir).join(platform).join(file))
}

/// The binaries offered for `shell`'s OS, by architecture, sorted, with their SHA-256.
/// Blocking: call it off the async threads.
pub fn checksums(data_dir: &Path, shell: Shell) -> std::io::Result<Vec<Checksum>> {
    let prefix = format!("{}-", shell.os());
    let entries = match std::fs::read_dir(dir(data_dir)) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let name = entry?.file_name();
        let Some(arch) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        if !valid_platform_part(arch) {
            continue;
        }
        let path = dir(data_dir).join(name.clone()).join(shell.binary());
        match sha256_file(&path) {
            Ok(sha256) => out.push(Checksum {
                arch: arch.to_owned(),
                sha256,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.arch.cmp(&b.arch));
    Ok(out)
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn lists_each_architecture_with_its_checksum() {
        let data = tempfile::tempdir().unwrap();
        let put = |platform: &str, file: &str, bytes: &[u8]| {
            let d = dir(data.path()).join(platform);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(file), bytes).unwrap();
        };
        assert!(checksums(data.path(), Shell::Sh).unwrap().is_empty());
        put("linux-x86_64", "steward-agent", b"abc");
        put("linux-aarch64", "steward-agent", b"");
        put("windows-x86_64", "steward-agent.exe", b"abc");
        put("linux-BAD", "steward-agent", b"abc");
        std::fs::create_dir_all(dir(data.path()).join("linux-riscv64")).unwrap();
        let sums = checksums(data.path(), Shell::Sh).unwrap();
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            sums,
            vec![
                Checksum {
                    arch: "aarch64".into(),
                    sha256: empty.into()
                },
                Checksum {
                    arch: "x86_64".into(),
                    sha256: abc.into()
                },
            ]
        );
        assert_eq!(checksums(data.path(), Shell::PowerShell).unwrap().len(), 1);
    }

    #[test]
    fn only_our_names_are_served() {
        let d = Path::new("/data");
        assert_eq!(
            binary_path(d, "linux-x86_64", "steward-agent"),
            Some(PathBuf::from("/data/releases/linux-x86_64/steward-agent"))
        );
        assert!(binary_path(d, "windows-x86_64", "steward-agent.exe").is_some());
        for (p, f) in [
            ("..", "steward-agent"),
            ("linux-..", "steward-agent"),
            ("linux", "steward-agent"),
            ("linux-x86_64", "../../steward.db"),
            ("linux-x86_64", "steward.db"),
            ("linux-x86/64", "steward-agent"),
        ] {
            assert_eq!(binary_path(d, p, f), None, "{p} {f}");
        }
    }
}
