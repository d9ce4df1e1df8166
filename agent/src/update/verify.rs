//! Checking a downloaded release: its SHA-256 against the offer, and the ed25519
//! signature of the release message against the keys in the agent's config.

use super::UpdateError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::signature::{ED25519, UnparsedPublicKey};
use steward_shared::release::release_message;

/// Decodes configured public keys (standard base64 of 32 bytes each).
pub fn parse_keys(keys: &[String]) -> Result<Vec<[u8; 32]>, String> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| {
            let bytes = STANDARD
                .decode(k.trim())
                .map_err(|e| format!("key {}: not base64: {e}", i + 1))?;
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| format!("key {}: an ed25519 public key is 32 bytes", i + 1))
        })
        .collect()
}

/// Whether `signature_b64` is a valid signature, by one of `keys`, of the release
/// message for a binary whose SHA-256 is `sha256` and the given version and platform.
pub fn verify_release(
    keys: &[[u8; 32]],
    sha256: &[u8; 32],
    version: &str,
    os: &str,
    arch: &str,
    signature_b64: &str,
) -> Result<(), UpdateError> {
    let message = release_message(sha256, version, os, arch)
        .map_err(|e| UpdateError::Refused(e.to_string()))?;
    let signature = STANDARD
        .decode(signature_b64.trim())
        .map_err(|_| UpdateError::Refused("the signature is not base64".into()))?;
    let good = keys.iter().any(|k| {
        UnparsedPublicKey::new(&ED25519, k)
            .verify(&message, &signature)
            .is_ok()
    });
    if good {
        Ok(())
    } else {
        Err(UpdateError::Refused(format!(
            "the signature of version {version} ({os}/{arch}) is not valid for any configured \
             release key"
        )))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ring::signature::{Ed25519KeyPair, KeyPair};
    use sha2::{Digest, Sha256};

    fn key(seed: u8) -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[seed; 32]).unwrap()
    }

    fn public(k: &Ed25519KeyPair) -> [u8; 32] {
        k.public_key().as_ref().try_into().unwrap()
    }

    fn sign(k: &Ed25519KeyPair, binary: &[u8], version: &str, os: &str, arch: &str) -> String {
        let sha: [u8; 32] = Sha256::digest(binary).into();
        STANDARD.encode(k.sign(&release_message(&sha, version, os, arch).unwrap()))
    }

    fn check(keys: &[[u8; 32]], binary: &[u8], v: &str, os: &str, arch: &str, sig: &str) -> bool {
        let sha: [u8; 32] = Sha256::digest(binary).into();
        verify_release(keys, &sha, v, os, arch, sig).is_ok()
    }

    #[test]
    fn good_key_verifies_and_other_keys_do_not() {
        let (good, other) = (key(1), key(2));
        let sig = sign(&good, b"binary", "2.0.0", "linux", "x86_64");
        assert!(check(
            &[public(&good)],
            b"binary",
            "2.0.0",
            "linux",
            "x86_64",
            &sig
        ));
        assert!(check(
            &[public(&other), public(&good)],
            b"binary",
            "2.0.0",
            "linux",
            "x86_64",
            &sig
        ));
        assert!(!check(
            &[public(&other)],
            b"binary",
            "2.0.0",
            "linux",
            "x86_64",
            &sig
        ));
        assert!(!check(&[], b"binary", "2.0.0", "linux", "x86_64", &sig));
    }

    #[test]
    fn tampered_binary_or_replayed_metadata_is_refused() {
        let k = key(1);
        let keys = [public(&k)];
        let sig = sign(&k, b"binary", "2.0.0", "linux", "x86_64");
        assert!(!check(&keys, b"binarY", "2.0.0", "linux", "x86_64", &sig));
        assert!(!check(&keys, b"binary", "2.0.1", "linux", "x86_64", &sig));
        assert!(!check(&keys, b"binary", "2.0.0", "windows", "x86_64", &sig));
        assert!(!check(&keys, b"binary", "2.0.0", "linux", "aarch64", &sig));
        assert!(!check(
            &keys,
            b"binary",
            "2.0.0",
            "linux",
            "x86_64",
            "not base64!"
        ));
        let mut bad = STANDARD.decode(&sig).unwrap();
        bad[0] ^= 1;
        assert!(!check(
            &keys,
            b"binary",
            "2.0.0",
            "linux",
            "x86_64",
            &STANDARD.encode(bad)
        ));
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        let k = key(3);
        let text = STANDARD.encode(public(&k));
        assert_eq!(
            parse_keys(std::slice::from_ref(&text)).unwrap(),
            [public(&k)]
        );
        assert!(parse_keys(&["abc".into()]).is_err());
        assert!(parse_keys(&[STANDARD.encode([0u8; 31])]).is_err());
    }
}
