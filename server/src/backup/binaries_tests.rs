//! Backup and restore of the agent binaries, without a server: a signed release stored by
//! `release add` and the install one-liner's files come back byte for byte; a missing,
//! changed or tampered binary stops the backup or the restore; format 1 archives (no
//! binaries) still restore, and a newer format is reported as such.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::db::Db;
use crate::signed_releases::{self, ReleaseMeta};
use std::time::Duration;

const SIGNED: &[u8] = b"signed agent build 99.0.0\n";
const INSTALL: &[u8] = b"install one-liner agent for linux\n";
const WINDOWS: &[u8] = b"install one-liner agent for windows\n";

/// A data directory with a signed release, two install one-liner binaries and files
/// beside them that are not binaries; the release binary's digest.
fn data_dir_with_binaries(root: &Path) -> (PathBuf, String) {
    let data = root.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let keys = root.join("keys");
    signed_releases::keygen(&keys).unwrap();
    let build = root.join("build");
    std::fs::write(&build, SIGNED.repeat(100)).unwrap();
    let key = keys.join(signed_releases::PRIVATE_KEY_FILE);
    let sig = signed_releases::sign(&key, &build, "99.0.0", "linux", "x86_64").unwrap();
    let db = Db::open(&data.join(crate::DB_FILE), Duration::from_secs(5), 2).unwrap();
    let meta = ReleaseMeta {
        version: "99.0.0".into(),
        os: "linux".into(),
        arch: "x86_64".into(),
    };
    signed_releases::add(&db, &data, &build, &sig, &meta, 100).unwrap();
    drop(db);
    let put = |path: &str, bytes: &[u8]| {
        let path = data.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    put("releases/linux-x86_64/steward-agent", &INSTALL.repeat(100));
    put("releases/windows-x86_64/steward-agent.exe", WINDOWS);
    // Not binaries the one-liner hands out: left out.
    put("releases/linux-x86_64/steward-agent.new", b"half copied");
    put("releases/linux-BAD/steward-agent", b"bad platform");
    put("releases/README", b"notes");
    put("agent-releases/.0123abcd.part", b"interrupted release add");
    let sha = hex::encode(Sha256::digest(SIGNED.repeat(100)));
    (data, sha)
}

fn backup_of(data: &Path, to: &Path) -> Summary {
    create(data, to, 1_800_000_000, &mut |_| {}).unwrap()
}

fn restore_into(archive: &Path, data: &Path, force: bool) -> BackupResult<Restored> {
    restore(
        archive,
        data,
        RestoreOptions { force },
        1_800_000_000,
        &mut |_| {},
    )
}

/// The archive's members (manifest left out) and manifest.
fn read_archive(path: &Path) -> (Vec<(String, Vec<u8>)>, Manifest) {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    let mut members = Vec::new();
    let mut manifest = None;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().to_vec()).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if name == MANIFEST {
            manifest = Some(serde_json::from_slice(&bytes).unwrap());
        } else {
            members.push((name, bytes));
        }
    }
    (members, manifest.unwrap())
}

/// Writes `members` as an archive, with `manifest` listing exactly them.
fn write_archive(path: &Path, members: &[(String, Vec<u8>)], mut manifest: Manifest) {
    manifest.files = members
        .iter()
        .map(|(name, bytes)| Member {
            path: name.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
        })
        .collect();
    let json = serde_json::to_vec(&manifest).unwrap();
    let mut tar = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in members
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .chain([(MANIFEST, json.as_slice())])
    {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o600);
        tar.append_data(&mut h, name, bytes).unwrap();
    }
    tar.finish().unwrap();
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn signed_and_install_binaries_come_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sha) = data_dir_with_binaries(dir.path());
    let archive = dir.path().join("b.tar");
    let mut seen = Progress::default();
    let summary = create(&data, &archive, 1_800_000_000, &mut |p| seen = *p).unwrap();
    assert_eq!((summary.signed_releases, summary.install_binaries), (1, 2));
    assert_eq!(summary.manifest.format_version, 2);
    let paths: Vec<&str> = summary
        .manifest
        .files
        .iter()
        .map(|m| m.path.as_str())
        .collect();
    let release = format!("agent-releases/{sha}");
    assert_eq!(
        paths,
        [
            "steward.db",
            &release,
            "releases/linux-x86_64/steward-agent",
            "releases/windows-x86_64/steward-agent.exe",
        ]
    );
    assert_eq!(seen.files_done, 4);
    assert_eq!(
        (seen.files_total, seen.bytes_total),
        (4, seen.bytes_done),
        "{seen:?}"
    );

    let target = dir.path().join("restored");
    let done = restore_into(&archive, &target, false).unwrap();
    assert_eq!((done.signed_releases, done.install_binaries), (1, 2));
    assert!(done.missing_releases.is_empty() && done.moved_aside.is_none());
    for path in [
        release.as_str(),
        "releases/linux-x86_64/steward-agent",
        "releases/windows-x86_64/steward-agent.exe",
    ] {
        assert_eq!(
            std::fs::read(target.join(path)).unwrap(),
            std::fs::read(data.join(path)).unwrap(),
            "{path}"
        );
    }
    assert_eq!(names(&target.join("agent-releases")), [sha.as_str()]);
    assert_eq!(
        names(&target.join("releases")),
        ["linux-x86_64", "windows-x86_64"]
    );
    assert_eq!(
        names(&target.join("releases/linux-x86_64")),
        ["steward-agent"]
    );
    // The restored row names the restored file.
    let db = Db::open(&target.join(crate::DB_FILE), Duration::from_secs(5), 2).unwrap();
    let rows = db.read_blocking(crate::db::agent_releases::list).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].sha256, sha);
    let path = signed_releases::binary_path(&target, &rows[0].sha256).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), SIGNED.repeat(100));
}

#[test]
fn a_missing_or_changed_release_binary_stops_the_backup() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sha) = data_dir_with_binaries(dir.path());
    let stored = signed_releases::binary_path(&data, &sha).unwrap();
    let archive = dir.path().join("b.tar");

    // Same size, other bytes.
    let mut changed = SIGNED.repeat(100);
    changed[0] ^= 1;
    std::fs::write(&stored, &changed).unwrap();
    let e = create(&data, &archive, 0, &mut |_| {}).unwrap_err();
    assert!(matches!(e, BackupError::Store { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&stored.display().to_string()), "{text}");
    assert!(text.contains("does not match its digest"), "{text}");
    assert!(text.contains("99.0.0 for linux/x86_64"), "{text}");
    assert!(!archive.exists());

    std::fs::remove_file(&stored).unwrap();
    let e = create(&data, &archive, 0, &mut |_| {}).unwrap_err();
    let text = e.to_string();
    assert!(text.contains(&stored.display().to_string()), "{text}");
    assert!(text.contains("is missing"), "{text}");
    assert!(text.contains("copy the signed build back"), "{text}");
    assert!(!archive.exists());
    // Only the target directory's own files: no temporary archive or snapshot left.
    assert!(!names(dir.path()).iter().any(|n| n.starts_with('.')));
}

#[test]
fn a_tampered_release_member_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sha) = data_dir_with_binaries(dir.path());
    let archive = dir.path().join("b.tar");
    backup_of(&data, &archive);
    let good = std::fs::read(&archive).unwrap();
    let target = dir.path().join("target");

    // A flipped byte in each binary: its checksum no longer matches the manifest.
    for needle in [SIGNED, INSTALL, WINDOWS] {
        let at = good
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        let mut bad = good.clone();
        bad[at + 3] ^= 0x20;
        let path = dir.path().join("bad.tar");
        std::fs::write(&path, &bad).unwrap();
        let e = restore_into(&path, &target, false).unwrap_err();
        assert!(matches!(e, BackupError::Damaged { .. }), "{e}");
        assert!(e.to_string().contains("does not match its manifest"), "{e}");
        assert_eq!(names(&target), ["steward.lock"]);
    }

    // Other bytes with a manifest to match: they no longer hash to their name.
    let (mut members, manifest) = read_archive(&archive);
    let release = format!("agent-releases/{sha}");
    members
        .iter_mut()
        .find(|(name, _)| *name == release)
        .unwrap()
        .1 = b"someone else's build".to_vec();
    let forged = dir.path().join("forged.tar");
    write_archive(&forged, &members, manifest.clone());
    let e = restore_into(&forged, &target, false).unwrap_err();
    assert!(e.to_string().contains("does not hash to its name"), "{e}");
    assert_eq!(names(&target), ["steward.lock"]);

    // Without the release's binary at all.
    let (mut members, _) = read_archive(&archive);
    members.retain(|(name, _)| *name != release);
    let without = dir.path().join("without.tar");
    write_archive(&without, &members, manifest);
    let e = restore_into(&without, &target, false).unwrap_err();
    assert!(
        e.to_string()
            .contains("agent release 99.0.0 for linux/x86_64"),
        "{e}"
    );
    assert_eq!(names(&target), ["steward.lock"]);

    restore_into(&archive, &target, false).unwrap();
}

#[test]
fn binaries_already_in_the_data_directory_are_moved_aside_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sha) = data_dir_with_binaries(dir.path());
    let archive = dir.path().join("b.tar");
    backup_of(&data, &archive);
    let target = dir.path().join("target");
    let mine = target.join("releases/linux-aarch64/steward-agent");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, b"an admin's build").unwrap();

    let e = restore_into(&archive, &target, false).unwrap_err();
    assert!(matches!(e, BackupError::NotEmpty(_)), "{e}");
    assert!(e.to_string().contains("agent binaries"), "{e}");
    assert_eq!(names(&target), ["releases", "steward.lock"]);

    let done = restore_into(&archive, &target, true).unwrap();
    let aside = done.moved_aside.unwrap();
    assert_eq!(
        std::fs::read(aside.join("releases/linux-aarch64/steward-agent")).unwrap(),
        b"an admin's build"
    );
    assert!(!mine.exists());
    assert!(target.join("releases/linux-x86_64/steward-agent").is_file());
    assert!(target.join(format!("agent-releases/{sha}")).is_file());
}

#[test]
fn a_format_1_backup_restores_and_leaves_the_binaries_where_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sha) = data_dir_with_binaries(dir.path());
    let archive = dir.path().join("b.tar");
    backup_of(&data, &archive);
    // What format 1 wrote: the database (with the release row), no binaries.
    let (mut members, mut manifest) = read_archive(&archive);
    members.retain(|(name, _)| name == crate::DB_FILE);
    manifest.format_version = 1;
    let v1 = dir.path().join("v1.tar");
    write_archive(&v1, &members, manifest.clone());

    // Into an empty directory: restored, and the release's missing binary named.
    let empty = dir.path().join("empty");
    let done = restore_into(&v1, &empty, false).unwrap();
    assert_eq!(done.manifest.format_version, 1);
    assert_eq!((done.signed_releases, done.install_binaries), (0, 0));
    assert_eq!(done.missing_releases, ["99.0.0 for linux/x86_64"]);
    assert!(empty.join(crate::DB_FILE).is_file());

    // Over the original directory: its binaries stay, even with --force.
    let done = restore_into(&v1, &data, true).unwrap();
    assert!(done.missing_releases.is_empty());
    let aside = done.moved_aside.unwrap();
    assert!(aside.join(crate::DB_FILE).is_file());
    assert!(!aside.join("agent-releases").exists() && !aside.join("releases").exists());
    assert!(data.join(format!("agent-releases/{sha}")).is_file());
    assert!(data.join("releases/linux-x86_64/steward-agent").is_file());

    // A format 1 archive that holds binaries was not written by Steward.
    let (mut members, _) = read_archive(&archive);
    members.truncate(2);
    let odd = dir.path().join("odd.tar");
    write_archive(&odd, &members, manifest);
    let e = restore_into(&odd, &empty, true).unwrap_err();
    assert!(e.to_string().contains("holds no agent binaries"), "{e}");
}

#[test]
fn an_unknown_member_is_damage_unless_the_format_is_newer() {
    let dir = tempfile::tempdir().unwrap();
    let (data, _) = data_dir_with_binaries(dir.path());
    let archive = dir.path().join("b.tar");
    backup_of(&data, &archive);
    let (mut members, mut manifest) = read_archive(&archive);
    members.push(("plugins/x".into(), b"from a later version".to_vec()));
    let target = dir.path().join("target");

    let odd = dir.path().join("odd.tar");
    write_archive(&odd, &members, manifest.clone());
    let e = restore_into(&odd, &target, false).unwrap_err();
    assert!(matches!(e, BackupError::Damaged { .. }), "{e}");
    assert!(
        e.to_string().contains("unexpected member \"plugins/x\""),
        "{e}"
    );

    manifest.format_version = FORMAT_VERSION + 1;
    let newer = dir.path().join("newer.tar");
    write_archive(&newer, &members, manifest);
    let e = restore_into(&newer, &target, false).unwrap_err();
    assert!(matches!(e, BackupError::TooNew { .. }), "{e}");
    assert_eq!(names(&target), ["steward.lock"]);
}
