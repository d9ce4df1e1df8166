//! Joining and leaving a fleet without a person at the keyboard: enrolling from a file
//! that a package install or a provisioning tool left behind (`enroll --pending FILE`),
//! and revoking this machine's own credential when the agent is removed (`deregister`).
//!
//! The file holds `KEY=VALUE` lines (`#` comments, optional quotes), as a shell would
//! write them: `STEWARD_SERVER=`, `STEWARD_ENROLL_TOKEN=` and optionally
//! `STEWARD_CA_CERT=` (a PEM file). It is deleted once the enrollment succeeded, so the
//! token does not stay on disk.

use crate::config::AgentConfig;
use crate::run::{self, RunError};
use crate::state::{CREDENTIALS_FILE, Credentials};
use std::path::{Path, PathBuf};

/// What a pending-enrollment file says.
#[derive(Debug, PartialEq, Eq)]
pub struct PendingEnrollment {
    pub server: String,
    pub token: String,
    pub ca_cert: Option<PathBuf>,
}

/// What [`enroll_pending`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum PendingOutcome {
    /// No file: nothing to do.
    NoFile,
    /// Enrolled as this agent; the file is gone.
    Enrolled(String),
}

/// Reads a pending-enrollment file's text. Missing server or token is an error that
/// names the file.
pub fn parse_pending(text: &str) -> Result<PendingEnrollment, String> {
    let mut server = String::new();
    let mut token = String::new();
    let mut ca = String::new();
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| value.strip_prefix(*a)?.strip_suffix(*b))
            .unwrap_or(value)
            .to_string();
        match key.trim() {
            "STEWARD_SERVER" => server = value,
            "STEWARD_ENROLL_TOKEN" => token = value,
            "STEWARD_CA_CERT" => ca = value,
            _ => {}
        }
    }
    if server.is_empty() || token.is_empty() {
        return Err("it needs STEWARD_SERVER= and STEWARD_ENROLL_TOKEN=".into());
    }
    Ok(PendingEnrollment {
        server,
        token,
        ca_cert: (!ca.is_empty()).then(|| PathBuf::from(ca)),
    })
}

/// Enrolls with the server and token in `file`, if it exists, and deletes it once the
/// server said yes. The file stays when the server cannot be reached or refuses, so a
/// later attempt (the service starting again) can succeed.
pub async fn enroll_pending(
    config: &AgentConfig,
    file: &Path,
    state_dir: &Path,
) -> Result<PendingOutcome, RunError> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(PendingOutcome::NoFile),
        Err(source) => {
            return Err(crate::state::StateError::Io {
                action: "read",
                path: file.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let pending = parse_pending(&text).map_err(|message| crate::state::StateError::Corrupt {
        path: file.to_path_buf(),
        message,
    })?;
    let config = AgentConfig {
        ca_cert: pending.ca_cert.or_else(|| config.ca_cert.clone()),
        ..config.clone()
    };
    let creds = run::enroll(&config, &pending.server, &pending.token, state_dir).await?;
    if let Err(e) = std::fs::remove_file(file) {
        tracing::warn!(file = %file.display(), error = %e, "enrolled, but cannot delete the token file");
    }
    Ok(PendingOutcome::Enrolled(creds.agent_id))
}

/// Asks the server to revoke this agent, then forgets the credentials. Returns the
/// agent's id, or `None` when the machine was not enrolled.
pub async fn deregister(
    config: &AgentConfig,
    state_dir: &Path,
) -> Result<Option<String>, RunError> {
    let Some(creds) = Credentials::load(state_dir)? else {
        return Ok(None);
    };
    let client = crate::run::client_for(config, &creds, state_dir)?;
    let reply = client.deregister(&creds).await.map_err(|e| match e {
        crate::client::ClientError::Http { status: 401, .. } => RunError::Revoked,
        other => RunError::Client(other),
    })?;
    for name in [CREDENTIALS_FILE, crate::report::REPORT_STATE_FILE] {
        match std::fs::remove_file(state_dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                tracing::warn!(file = name, error = %e, "cannot delete");
            }
            _ => {}
        }
    }
    tracing::info!(agent_id = %reply.agent_id, "deregistered");
    Ok(Some(reply.agent_id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn pending_file_as_a_shell_writes_it() {
        let p = parse_pending(
            "# from the provisioning tool\nexport STEWARD_SERVER=\"https://steward.example.com\"\n\
             STEWARD_ENROLL_TOKEN='enr_abc'\nSTEWARD_CA_CERT=/etc/steward-agent/ca.pem\nOTHER=x\n",
        )
        .unwrap();
        assert_eq!(p.server, "https://steward.example.com");
        assert_eq!(p.token, "enr_abc");
        assert_eq!(p.ca_cert, Some(PathBuf::from("/etc/steward-agent/ca.pem")));
        let p = parse_pending("STEWARD_SERVER=http://127.0.0.1:1\nSTEWARD_ENROLL_TOKEN=t").unwrap();
        assert_eq!(p.ca_cert, None);
    }

    #[test]
    fn pending_file_needs_server_and_token() {
        assert!(parse_pending("STEWARD_SERVER=https://x\n").is_err());
        assert!(parse_pending("STEWARD_ENROLL_TOKEN=enr_x\nSTEWARD_SERVER=\n").is_err());
        assert!(parse_pending("").is_err());
    }

    #[tokio::test]
    async fn no_file_is_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let got = enroll_pending(
            &AgentConfig::default(),
            &dir.path().join("enroll.env"),
            dir.path(),
        )
        .await
        .unwrap();
        assert_eq!(got, PendingOutcome::NoFile);
        assert_eq!(
            deregister(&AgentConfig::default(), dir.path())
                .await
                .unwrap(),
            None
        );
    }
}
