//! `[agent_releases]`: the signed agent builds the server hosts for self-update.

use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentReleasesSection {
    /// Ed25519 public keys (base64, as `release keygen` prints them). When set, a release
    /// whose signature none of them verifies is refused when it is published, so the
    /// server never offers a build its agents would refuse. Agents check signatures
    /// against their own keys either way. In the environment: comma-separated.
    #[serde(deserialize_with = "list_or_commas")]
    pub public_keys: Vec<String>,
    /// Largest agent binary accepted by `POST /api/v1/agent-releases/binaries`, in bytes.
    pub max_upload_bytes: u64,
}

impl Default for AgentReleasesSection {
    fn default() -> Self {
        Self {
            public_keys: Vec::new(),
            max_upload_bytes: 256 * 1024 * 1024,
        }
    }
}

impl AgentReleasesSection {
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        for key in &self.public_keys {
            if !crate::signed_releases::is_public_key(key) {
                return Err(super::ConfigError::Invalid(format!(
                    "agent_releases.public_keys: {key:?} is not an ed25519 public key (32 bytes \
                     of base64, as `steward-server release keygen` prints it)"
                )));
            }
        }
        if self.max_upload_bytes < 1024 {
            return Err(super::ConfigError::Invalid(
                "agent_releases.max_upload_bytes must be at least 1024".into(),
            ));
        }
        Ok(())
    }
}

/// A TOML list of strings, or (from an environment variable) one comma-separated string.
fn list_or_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Keys {
        List(Vec<String>),
        Commas(String),
    }
    Ok(match Keys::deserialize(d)? {
        Keys::List(v) => v,
        Keys::Commas(s) => s
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use crate::config::{Overrides, ServerConfig};

    fn load(pairs: &[(&str, &str)]) -> Result<ServerConfig, crate::config::ConfigError> {
        let env = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        ServerConfig::load(None, env, &Overrides::default())
    }

    #[test]
    fn keys_come_from_the_environment_and_bad_ones_are_refused() {
        let key = "A".repeat(43) + "=";
        let two = format!("{key}, {key}");
        let cfg = load(&[("STEWARD_AGENT_RELEASES__PUBLIC_KEYS", &two)]).expect("load");
        assert_eq!(cfg.agent_releases.public_keys, vec![key.clone(), key]);
        assert!(
            load(&[])
                .expect("defaults")
                .agent_releases
                .public_keys
                .is_empty()
        );
        for bad in ["not base64!", "QUJD", &"A".repeat(88)] {
            let err = load(&[("STEWARD_AGENT_RELEASES__PUBLIC_KEYS", bad)]);
            assert!(err.is_err(), "{bad:?} was accepted");
        }
        assert!(load(&[("STEWARD_AGENT_RELEASES__MAX_UPLOAD_BYTES", "10")]).is_err());
    }
}
