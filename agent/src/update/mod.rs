//! Signed self-update: when the check-in reply offers a newer release for this
//! platform, download it into the state directory (bounded size, timeout), check its
//! SHA-256 and its ed25519 signature against the configured release keys
//! ([`verify`]), swap the binary ([`swap`]) and ask to be restarted
//! ([`RESTART_EXIT_CODE`]).
//!
//! After a swap the agent records "pending confirmation" (`update-state.json`). The new
//! binary confirms by completing a check-in; each start and each failed check-in round
//! before that counts an attempt, and past `confirm_attempts` the previous binary is put
//! back and the agent restarts into it, reporting why in its next check-in. Any failure
//! before the swap leaves the running binary alone and is reported the same way
//! (`UpdateStatus::error`); a refused release is not downloaded again.

mod state;
pub mod swap;
pub mod verify;

use crate::client::{Client, ClientError};
use crate::state::{Credentials, StateError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::release::version_is_newer;
use steward_shared::{UpdateOffer, UpdateStatus};

pub use state::UpdateState;

/// The exit code of an agent that replaced (or restored) its binary and wants its
/// service manager to start it again (EX_TEMPFAIL; systemd's `Restart=on-failure`
/// restarts on it).
pub const RESTART_EXIT_CODE: i32 = 75;

/// `[update]` in the agent's config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateConfig {
    /// Ed25519 public keys trusted to sign releases (standard base64). Empty: never update.
    pub public_keys: Vec<String>,
    pub max_download_bytes: u64,
    pub download_timeout_secs: u64,
    pub confirm_attempts: u32,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            public_keys: Vec::new(),
            max_download_bytes: 64 * 1024 * 1024,
            download_timeout_secs: 300,
            confirm_attempts: 3,
        }
    }
}

impl UpdateConfig {
    pub fn validate(&self) -> Result<(), crate::config::ConfigError> {
        let invalid = |key, message: String| crate::config::ConfigError::Invalid { key, message };
        verify::parse_keys(&self.public_keys).map_err(|m| invalid("update.public_keys", m))?;
        if self.max_download_bytes == 0 || self.download_timeout_secs == 0 {
            return Err(invalid(
                "update.max_download_bytes",
                "max_download_bytes and download_timeout_secs must be at least 1".into(),
            ));
        }
        if self.confirm_attempts == 0 {
            return Err(invalid(
                "update.confirm_attempts",
                "must be at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Why an update was not installed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The release is not acceptable (signature, digest, platform, version, size).
    #[error("release refused: {0}")]
    Refused(String),
    #[error("download failed: {0}")]
    Download(#[from] ClientError),
    #[error("cannot install the new binary: {0}")]
    Install(String),
    #[error(transparent)]
    State(#[from] StateError),
}

/// The binary that is running: where it is installed, its version and platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub exe: PathBuf,
    pub version: String,
    pub os: String,
    pub arch: String,
}

impl Installation {
    /// This process: its executable, [`crate::AGENT_VERSION`], and the platform it was
    /// built for.
    pub fn current() -> std::io::Result<Installation> {
        Ok(Installation {
            exe: std::env::current_exe()?,
            version: crate::AGENT_VERSION.to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
        })
    }
}

/// What a start of the agent should do after [`Updater::on_start`] or a failed round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// The previous binary was put back: exit with [`RESTART_EXIT_CODE`].
    Restart,
}

/// Self-update for one installation, with its state in the agent's state directory.
#[derive(Debug, Clone)]
pub struct Updater {
    config: UpdateConfig,
    keys: Vec<[u8; 32]>,
    install: Installation,
    state_dir: PathBuf,
}

impl Updater {
    pub fn new(config: &UpdateConfig, install: Installation, state_dir: &Path) -> Updater {
        let keys = verify::parse_keys(&config.public_keys).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "self-update is off: a release key is not valid");
            Vec::new()
        });
        Updater {
            config: config.clone(),
            keys,
            install,
            state_dir: state_dir.to_path_buf(),
        }
    }

    pub fn installation(&self) -> &Installation {
        &self.install
    }

    /// What the next check-in says about this agent's version and last update.
    pub fn status(&self) -> UpdateStatus {
        UpdateStatus {
            version: self.install.version.clone(),
            os: self.install.os.clone(),
            arch: self.install.arch.clone(),
            enabled: !self.keys.is_empty(),
            error: UpdateState::load(&self.state_dir).error,
        }
    }

    /// At start: count an attempt of an unconfirmed update, rolling back past the limit.
    pub fn on_start(&self) -> Verdict {
        self.count_attempt("start")
    }

    /// A check-in round that did not reach the server: an attempt too while unconfirmed.
    pub fn failed_round(&self) -> Verdict {
        self.count_attempt("failed check-in")
    }

    fn count_attempt(&self, what: &str) -> Verdict {
        let mut st = UpdateState::load(&self.state_dir);
        let Some(pending) = st.pending.as_mut() else {
            return Verdict::Run;
        };
        if pending.version != self.install.version {
            // The previous binary runs (rolled back, or replaced by hand): nothing to confirm.
            st.pending = None;
            self.save(&st);
            return Verdict::Run;
        }
        pending.attempts += 1;
        if pending.attempts <= self.config.confirm_attempts {
            tracing::info!(attempt = pending.attempts, what, "update not confirmed yet");
            self.save(&st);
            return Verdict::Run;
        }
        let (new, old) = (pending.version.clone(), pending.previous_version.clone());
        match swap::restore_previous(&self.install.exe) {
            Ok(()) => {
                let msg = format!(
                    "version {new} did not complete a check-in within {} attempts; rolled \
                     back to {old}",
                    self.config.confirm_attempts
                );
                tracing::error!("{msg}");
                st.error = Some(msg);
                st.refused = st.pending.take().map(|p| p.release);
                self.save(&st);
                Verdict::Restart
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot roll back the unconfirmed update");
                st.error = Some(format!("version {new} unconfirmed; rollback failed: {e}"));
                st.pending = None;
                self.save(&st);
                Verdict::Run
            }
        }
    }

    /// A check-in completed: an update waiting for confirmation is confirmed.
    pub fn confirm(&self) {
        let mut st = UpdateState::load(&self.state_dir);
        if st
            .pending
            .as_ref()
            .is_some_and(|p| p.version == self.install.version)
        {
            tracing::info!(version = %self.install.version, "update confirmed");
            st.pending = None;
            st.error = None;
            self.save(&st);
        }
    }

    /// Act on an offer: `Ok(Some(version))` when a new binary was installed (restart
    /// now), `Ok(None)` when there was nothing to do. An error is recorded for the next
    /// check-in; the running binary is untouched.
    pub async fn offer(
        &self,
        client: &Client,
        creds: &Credentials,
        offer: &UpdateOffer,
    ) -> Result<Option<String>, UpdateError> {
        if self.keys.is_empty() || !version_is_newer(&offer.version, &self.install.version) {
            return Ok(None);
        }
        let mut st = UpdateState::load(&self.state_dir);
        if st.refused.as_deref() == Some(&release_key(offer)) {
            return Ok(None);
        }
        tracing::info!(version = %offer.version, release_id = offer.release_id, "downloading an update");
        match self.download_and_install(client, creds, offer).await {
            Ok(()) => {
                st.pending = Some(state::Pending {
                    version: offer.version.clone(),
                    previous_version: self.install.version.clone(),
                    release: release_key(offer),
                    attempts: 0,
                });
                st.error = None;
                self.save(&st);
                tracing::info!(version = %offer.version, "update installed; restarting");
                Ok(Some(offer.version.clone()))
            }
            Err(e) => {
                tracing::error!(error = %e, version = %offer.version, "update not installed");
                st.error = Some(format!("update to {}: {e}", offer.version));
                // A transport failure is tried again; a refused or broken release is not.
                if !matches!(&e, UpdateError::Download(c) if c.is_retryable()) {
                    st.refused = Some(release_key(offer));
                }
                self.save(&st);
                Err(e)
            }
        }
    }

    async fn download_and_install(
        &self,
        client: &Client,
        creds: &Credentials,
        offer: &UpdateOffer,
    ) -> Result<(), UpdateError> {
        let me = &self.install;
        if offer.os != me.os || offer.arch != me.arch {
            return Err(UpdateError::Refused(format!(
                "the release is for {}/{}, this agent runs on {}/{}",
                offer.os, offer.arch, me.os, me.arch
            )));
        }
        let expected = hex_digest(&offer.sha256)
            .ok_or_else(|| UpdateError::Refused("the offer's sha256 is not valid".into()))?;
        if offer.size > self.config.max_download_bytes {
            return Err(UpdateError::Refused(format!(
                "the binary is {} bytes, over update.max_download_bytes",
                offer.size
            )));
        }
        let dir = self.state_dir.join("update");
        std::fs::create_dir_all(&dir).map_err(|e| UpdateError::Install(e.to_string()))?;
        let download = dir.join(format!("release-{}.download", offer.release_id));
        let result = async {
            let path = steward_shared::release::release_binary_path(offer.release_id);
            let timeout = Duration::from_secs(self.config.download_timeout_secs);
            let (sha, _size) = client
                .download(creds, &path, &download, offer.size, timeout)
                .await?;
            if sha != expected {
                return Err(UpdateError::Refused(
                    "the downloaded binary's SHA-256 does not match the offer".into(),
                ));
            }
            verify::verify_release(
                &self.keys,
                &sha,
                &offer.version,
                &offer.os,
                &offer.arch,
                &offer.signature,
            )?;
            swap::install(&download, &me.exe, &sha)
                .map_err(|e| UpdateError::Install(format!("{}: {e}", me.exe.display())))
        }
        .await;
        let _ = std::fs::remove_file(&download);
        result
    }

    fn save(&self, st: &UpdateState) {
        if let Err(e) = st.save(&self.state_dir) {
            tracing::warn!(error = %e, "cannot record the update state");
        }
    }
}

fn release_key(offer: &UpdateOffer) -> String {
    format!("{}:{}", offer.release_id, offer.sha256)
}

fn hex_digest(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests;
