//! Signed agent releases on the server side: the release key (`steward-server release
//! keygen`), signing a build (`release sign`), and storing a signed build under the data
//! directory (`release add`): `<data_dir>/agent-releases/<sha256>`, written to a
//! temporary file, fsynced and renamed before its row is recorded.
//!
//! The server never needs the private key: signing is meant to happen on a build
//! machine, and agents check signatures against the public keys in their own config.
//! The signed message is [`steward_shared::release::release_message`]. (`releases.rs` is
//! the other kind: the unsigned agent builds the install scripts serve.)

use crate::db::audit::{Actor, Entry, action};
use crate::db::{self, Db, agent_releases::NewRelease};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use steward_shared::release::release_message;

/// File names `keygen` writes.
pub const PRIVATE_KEY_FILE: &str = "release-key.pk8";
pub const PUBLIC_KEY_FILE: &str = "release-key.pub";

#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("{0}")]
    Invalid(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A well-formed signature that the configured keys do not verify.
    #[error("{0}")]
    Untrusted(String),
    #[error(transparent)]
    Db(#[from] db::DbError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Name of the directory inside the data directory that holds the stored binaries.
pub const DIR: &str = "agent-releases";

/// Where the binary with this digest is stored; `None` unless it is 64 lowercase hex.
pub fn binary_path(data_dir: &Path, sha256: &str) -> Option<PathBuf> {
    crate::blobs::Blobs::agent_releases(data_dir).path_of(sha256)
}

/// A new key pair in `out`: the private key (PKCS#8, mode 0600, never overwritten) and
/// the public key; returns the public key as agents configure it (base64).
pub fn keygen(out: &Path) -> Result<String, ReleaseError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| ReleaseError::Invalid("cannot generate a key".into()))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| ReleaseError::Invalid("generated key is unreadable".into()))?;
    let private = out.join(PRIVATE_KEY_FILE);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&private).map_err(io(&private))?;
    file.write_all(pkcs8.as_ref()).map_err(io(&private))?;
    file.sync_all().map_err(io(&private))?;
    let public = STANDARD.encode(pair.public_key().as_ref());
    let pub_path = out.join(PUBLIC_KEY_FILE);
    std::fs::write(&pub_path, format!("{public}\n")).map_err(io(&pub_path))?;
    Ok(public)
}

/// SHA-256 and size of a file, read in chunks.
pub fn digest_file(path: &Path) -> Result<([u8; 32], u64), ReleaseError> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            return Ok((hasher.finalize().into(), size));
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
}

/// The signature (base64) of the release message for `binary`.
pub fn sign(
    key: &Path,
    binary: &Path,
    version: &str,
    os: &str,
    arch: &str,
) -> Result<String, ReleaseError> {
    let pkcs8 = std::fs::read(key).map_err(io(key))?;
    let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|_| {
        ReleaseError::Invalid(format!("{} is not an ed25519 PKCS#8 key", key.display()))
    })?;
    let (sha, _) = digest_file(binary)?;
    let message = release_message(&sha, version, os, arch)
        .map_err(|e| ReleaseError::Invalid(e.to_string()))?;
    Ok(STANDARD.encode(pair.sign(&message).as_ref()))
}

/// Whether `signature` (base64) by `public_key` (base64) covers this release.
pub fn verify(
    public_key: &str,
    sha256: &[u8; 32],
    version: &str,
    os: &str,
    arch: &str,
    signature: &str,
) -> bool {
    let (Ok(key), Ok(sig)) = (
        STANDARD.decode(public_key.trim()),
        STANDARD.decode(signature.trim()),
    ) else {
        return false;
    };
    release_message(sha256, version, os, arch).is_ok_and(|m| {
        UnparsedPublicKey::new(&ED25519, key)
            .verify(&m, &sig)
            .is_ok()
    })
}

/// Whether `key` is an ed25519 public key: 32 bytes of standard base64.
pub fn is_public_key(key: &str) -> bool {
    STANDARD.decode(key.trim()).is_ok_and(|k| k.len() == 32)
}

/// With `keys` configured (`[agent_releases] public_keys`), the release must be signed by
/// one of them; with none, anything well-formed passes (agents check it themselves).
pub fn check_trusted(
    keys: &[String],
    sha256: &[u8; 32],
    meta: &ReleaseMeta,
    signature: &str,
) -> Result<(), ReleaseError> {
    let (version, os, arch) = (&meta.version, &meta.os, &meta.arch);
    if keys.is_empty()
        || keys
            .iter()
            .any(|k| verify(k, sha256, version, os, arch, signature))
    {
        return Ok(());
    }
    Err(ReleaseError::Untrusted(format!(
        "the signature does not verify with any key in [agent_releases] public_keys (it must \
         sign this binary as version {version} for {os}/{arch})"
    )))
}

/// Checks that `signature` is 64 bytes of base64 (agents check what it signs).
pub fn check_signature_shape(signature: &str) -> Result<(), ReleaseError> {
    match STANDARD.decode(signature.trim()) {
        Ok(b) if b.len() == 64 => Ok(()),
        _ => Err(ReleaseError::Invalid(
            "the signature must be 64 bytes of base64 (from `steward-server release sign`)".into(),
        )),
    }
}

/// Stores `binary` under the data directory (once per content); its digest and size.
pub fn store_binary(data_dir: &Path, binary: &Path) -> Result<(String, u64), ReleaseError> {
    let (sha, size) = digest_file(binary)?;
    let sha = hex::encode(sha);
    let Some(dest) = binary_path(data_dir, &sha) else {
        return Err(ReleaseError::Invalid("bad digest".into()));
    };
    if dest.is_file() {
        return Ok((sha, size));
    }
    let dir = data_dir.join(DIR);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let tmp = dir.join(format!(".{}.part", crate::crypto::random_hex(8)));
    std::fs::copy(binary, &tmp).map_err(io(&tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    if digest_file(&tmp)?.0 != *hex::decode(&sha).unwrap_or_default() {
        let _ = std::fs::remove_file(&tmp);
        return Err(ReleaseError::Invalid(
            "the file changed while it was copied".into(),
        ));
    }
    std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok((sha, size))
}

/// What a release is: the signed version and platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseMeta {
    pub version: String,
    pub os: String,
    pub arch: String,
}

/// Stores the binary and records the release, offered to nobody until its rollout is set
/// (`PATCH /api/v1/agent-releases/{id}`) unless `percentage` says otherwise. Returns the
/// release id. The signature's shape is checked, not whom it is from: see [`add_trusted`].
pub fn add(
    db: &Db,
    data_dir: &Path,
    binary: &Path,
    signature: &str,
    meta: &ReleaseMeta,
    percentage: u8,
) -> Result<i64, ReleaseError> {
    add_trusted(db, data_dir, binary, signature, meta, percentage, &[])
}

/// [`add`], refusing a signature that none of `keys` verifies (when there are keys):
/// what `steward-server release add` does with `[agent_releases] public_keys`.
pub fn add_trusted(
    db: &Db,
    data_dir: &Path,
    binary: &Path,
    signature: &str,
    meta: &ReleaseMeta,
    percentage: u8,
    keys: &[String],
) -> Result<i64, ReleaseError> {
    let (version, os, arch) = (&meta.version, &meta.os, &meta.arch);
    check_signature_shape(signature)?;
    release_message(&[0; 32], version, os, arch)
        .map_err(|e| ReleaseError::Invalid(e.to_string()))?;
    if percentage > 100 {
        return Err(ReleaseError::Invalid("--percentage is 0 to 100".into()));
    }
    check_trusted(keys, &digest_file(binary)?.0, meta, signature)?;
    let (sha256, size) = store_binary(data_dir, binary)?;
    let release = NewRelease {
        version: version.clone(),
        os: os.clone(),
        arch: arch.clone(),
        sha256,
        size: size as i64,
        signature: signature.trim().into(),
        percentage,
        ..NewRelease::default()
    };
    let now = crate::clock::now();
    let id = db.write_blocking(move |tx| {
        let Some(id) = db::agent_releases::insert(tx, &release, now)? else {
            return Ok(None);
        };
        let e = Entry::new(now, &Actor::cli(), action::AGENT_RELEASE_PUBLISHED)
            .target(format!("agent_release:{id}"))
            .detail(json!({
                "version": release.version, "os": release.os, "arch": release.arch,
                "sha256": release.sha256, "percentage": release.percentage,
            }));
        db::audit::record(tx, &e)?;
        Ok(Some(id))
    })?;
    id.ok_or_else(|| {
        ReleaseError::Invalid(format!(
            "a release {version} for {os}/{arch} exists already"
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn keygen_sign_verify_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let public = keygen(dir.path()).unwrap();
        let key = dir.path().join(PRIVATE_KEY_FILE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(keygen(dir.path()).is_err(), "never overwrites a key");
        let binary = dir.path().join("agent");
        std::fs::write(&binary, b"build").unwrap();
        let sig = sign(&key, &binary, "2.0.0", "linux", "x86_64").unwrap();
        let sha: [u8; 32] = Sha256::digest(b"build").into();
        assert!(verify(&public, &sha, "2.0.0", "linux", "x86_64", &sig));
        assert!(!verify(&public, &sha, "2.0.1", "linux", "x86_64", &sig));
        let other = keygen(&dir.path().join("other")).unwrap();
        assert!(!verify(&other, &sha, "2.0.0", "linux", "x86_64", &sig));

        let meta = ReleaseMeta {
            version: "2.0.0".into(),
            os: "linux".into(),
            arch: "x86_64".into(),
        };
        assert!(is_public_key(&public) && !is_public_key("QUJD"));
        check_trusted(&[], &sha, &meta, &sig).unwrap();
        check_trusted(&[other.clone(), public.clone()], &sha, &meta, &sig).unwrap();
        let refused = check_trusted(&[other], &sha, &meta, &sig);
        assert!(
            matches!(refused, Err(ReleaseError::Untrusted(_))),
            "{refused:?}"
        );
        let as_other_version = ReleaseMeta {
            version: "2.0.1".into(),
            ..meta
        };
        assert!(check_trusted(&[public], &sha, &as_other_version, &sig).is_err());
    }
}
