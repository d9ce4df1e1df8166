//! Signed agent releases: what a release's signature covers, and the offer and status
//! that travel in the check-in.
//!
//! # The signed message
//!
//! An ed25519 signature over these bytes (UTF-8, each line ending in one `\n`, no
//! trailing spaces):
//!
//! ```text
//! steward-agent-release-v1
//! sha256:<64 lowercase hex digits of the binary's SHA-256>
//! version:<version>
//! os:<os>
//! arch:<arch>
//! ```
//!
//! `version`, `os` and `arch` are 1 to 64 characters from `A-Z a-z 0-9 . _ + -`, so no
//! field can hold a newline or a `:` and the message cannot be read two ways. A valid
//! binary signed for one version or platform therefore cannot be offered as another. The
//! signature is carried as standard base64 (64 bytes), the public key likewise (32 bytes).

use serde::{Deserialize, Serialize};

/// First line of every signed release message (the format's version).
pub const RELEASE_MESSAGE_PREFIX: &str = "steward-agent-release-v1";

/// Path where an agent downloads a release's binary (`{id}` is the release id).
pub const AGENT_RELEASE_BINARY_PATH: &str = "/api/v1/agent/releases/{id}/binary";

/// The binary download path for release `id`.
pub fn release_binary_path(id: i64) -> String {
    AGENT_RELEASE_BINARY_PATH.replace("{id}", &id.to_string())
}

/// Why a release's metadata cannot be signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseFieldError {
    #[error("{field} must be 1 to 64 characters from A-Z a-z 0-9 . _ + -")]
    Invalid { field: &'static str },
}

/// Checks one field of the signed message.
pub fn check_release_field(field: &'static str, value: &str) -> Result<(), ReleaseFieldError> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ReleaseFieldError::Invalid { field })
    }
}

/// The exact bytes a release signature covers (see the module docs).
pub fn release_message(
    sha256: &[u8; 32],
    version: &str,
    os: &str,
    arch: &str,
) -> Result<Vec<u8>, ReleaseFieldError> {
    check_release_field("version", version)?;
    check_release_field("os", os)?;
    check_release_field("arch", arch)?;
    let hex: String = sha256.iter().map(|b| format!("{b:02x}")).collect();
    Ok(
        format!(
            "{RELEASE_MESSAGE_PREFIX}\nsha256:{hex}\nversion:{version}\nos:{os}\narch:{arch}\n"
        )
        .into_bytes(),
    )
}

/// Whether version `candidate` is newer than `current` (semantic-version order: dotted
/// numbers compared as numbers, a pre-release (`-rc.1`) before its release, build
/// metadata (`+...`) ignored). An agent never "updates" to an older or equal version,
/// even when a signed one is offered.
pub fn version_is_newer(candidate: &str, current: &str) -> bool {
    compare_versions(candidate, current) == std::cmp::Ordering::Greater
}

fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let strip = |v: &str| v.split('+').next().unwrap_or("").to_string();
    let (a, b) = (strip(a), strip(b));
    let split = |v: &str| -> (String, Option<String>) {
        match v.split_once('-') {
            Some((main, pre)) => (main.to_string(), Some(pre.to_string())),
            None => (v.to_string(), None),
        }
    };
    let ((am, ap), (bm, bp)) = (split(&a), split(&b));
    let parts = |x: &str, y: &str| -> Ordering {
        let (mut xs, mut ys) = (x.split('.'), y.split('.'));
        loop {
            match (xs.next(), ys.next()) {
                (None, None) => return Ordering::Equal,
                (Some(_), None) => return Ordering::Greater,
                (None, Some(_)) => return Ordering::Less,
                (Some(p), Some(q)) => {
                    let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                        (Ok(m), Ok(n)) => m.cmp(&n),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => p.cmp(q),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    };
    parts(&am, &bm).then_with(|| match (ap, bp) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(p), Some(q)) => parts(&p, &q),
    })
}

/// A newer agent release offered in the check-in reply.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct UpdateOffer {
    /// The release; its binary is at `/api/v1/agent/releases/{release_id}/binary`.
    pub release_id: i64,
    pub version: String,
    pub os: String,
    pub arch: String,
    /// SHA-256 of the binary, lowercase hex.
    pub sha256: String,
    /// Size of the binary in bytes.
    pub size: u64,
    /// Ed25519 signature of the release message, standard base64.
    pub signature: String,
}

/// What an agent says about its own version and its last update attempt, in each
/// check-in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct UpdateStatus {
    /// The version running now.
    pub version: String,
    pub os: String,
    pub arch: String,
    /// Whether the agent has release keys configured (no keys: it never self-updates).
    pub enabled: bool,
    /// Why the last update failed or was rolled back; `None` after a good one.
    pub error: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn message_format_is_exact() {
        let mut sha = [0u8; 32];
        sha[0] = 0xab;
        sha[31] = 0x01;
        let msg = release_message(&sha, "1.2.3", "linux", "x86_64").unwrap();
        let expected = format!(
            "steward-agent-release-v1\nsha256:ab{}01\nversion:1.2.3\nos:linux\narch:x86_64\n",
            "00".repeat(30)
        );
        assert_eq!(String::from_utf8(msg).unwrap(), expected);
    }

    #[test]
    fn fields_that_could_be_read_two_ways_are_refused() {
        let sha = [0u8; 32];
        for (v, os, arch) in [
            ("1.0\nos:linux", "linux", "x86_64"),
            ("", "linux", "x86_64"),
            ("1.0", "linux:x", "x86_64"),
            ("1.0", "linux", "x86 64"),
        ] {
            assert!(
                release_message(&sha, v, os, arch).is_err(),
                "{v:?} {os:?} {arch:?}"
            );
        }
        assert!(release_message(&sha, "1.0.0-rc.1+build_2", "windows", "aarch64").is_ok());
        assert!(check_release_field("version", &"1".repeat(65)).is_err());
    }

    #[test]
    fn versions_order_like_semver() {
        assert!(version_is_newer("0.2.0", "0.1.9"));
        assert!(version_is_newer("0.10.0", "0.9.0"));
        assert!(version_is_newer("1.0.0", "1.0.0-rc.2"));
        assert!(version_is_newer("1.0.0-rc.10", "1.0.0-rc.2"));
        assert!(version_is_newer("1.0.1", "1.0"));
        assert!(!version_is_newer("1.0.0", "1.0.0"));
        assert!(!version_is_newer("1.0.0+b2", "1.0.0+b1"));
        assert!(!version_is_newer("0.9.0", "0.10.0"));
    }

    #[test]
    fn older_peers_ignore_the_update_fields() {
        let reply: crate::CheckinResponse = serde_json::from_str(r#"{"asset_id":3}"#).unwrap();
        assert_eq!(reply.update, None);
        let json = serde_json::to_string(&crate::CheckinResponse::default()).unwrap();
        assert!(!json.contains("update"), "{json}");
    }
}
