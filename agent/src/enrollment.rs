//! Joining and leaving a fleet without a person at the keyboard: enrolling from a file
//! that a package install or a provisioning tool left behind (`enroll-pending FILE`, or
//! `run --enroll-pending FILE` before running), writing such a file for installers that
//! cannot (`write-enrollment`, used by the MSI), and revoking this machine's own
//! credential when the agent is removed (`deregister`).
//!
//! The file holds `KEY=VALUE` lines (`#` comments, optional quotes), as a shell would
//! write them: `STEWARD_SERVER=`, `STEWARD_ENROLL_TOKEN=` and optionally
//! `STEWARD_CA_CERT=` (a PEM file). It is deleted once the enrollment succeeded, so the
//! token does not stay on disk.

use crate::config::{AgentConfig, check_server_url};
use crate::run::{self, RunError};
use crate::state::{CREDENTIALS_FILE, Credentials, StateError};
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

/// The text of a pending-enrollment file that [`parse_pending`] reads back as `pending`.
/// Values are double-quoted; a server that is not an http(s) URL, an empty token, or a
/// control character (a line break would start another key) is refused.
pub fn format_pending(pending: &PendingEnrollment) -> Result<String, String> {
    check_server_url(&pending.server, true)?;
    if pending.token.trim().is_empty() {
        return Err("the enrollment token is empty".into());
    }
    let ca = pending.ca_cert.as_ref().map(|p| p.to_string_lossy());
    let values = [
        ("STEWARD_SERVER", Some(pending.server.as_str())),
        ("STEWARD_ENROLL_TOKEN", Some(pending.token.as_str())),
        ("STEWARD_CA_CERT", ca.as_deref()),
    ];
    let mut text =
        String::from("# Written by steward-agent write-enrollment; deleted once enrolled.\n");
    for (key, value) in values {
        let Some(value) = value else { continue };
        if value.chars().any(char::is_control) {
            return Err(format!("{key} contains a control character"));
        }
        text.push_str(&format!("{key}=\"{value}\"\n"));
    }
    Ok(text)
}

/// Writes `file` for a later [`enroll_pending`], atomically and readable by this user
/// only (mode 0600 on Unix; on Windows it inherits its folder's ACL, which the MSI
/// limits to SYSTEM and Administrators). Nothing is sent to the server.
pub fn write_pending(file: &Path, pending: &PendingEnrollment) -> Result<(), WritePendingError> {
    let invalid = |message| WritePendingError::Invalid {
        path: file.to_path_buf(),
        message,
    };
    let text = format_pending(pending).map_err(invalid)?;
    let (Some(dir), Some(name)) = (file.parent(), file.file_name()) else {
        return Err(invalid("not a file path".into()));
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    crate::state::write_private(dir, &name.to_string_lossy(), text.as_bytes())?;
    Ok(())
}

/// Why [`write_pending`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum WritePendingError {
    #[error("nothing written to {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(transparent)]
    State(#[from] StateError),
}

/// `run --enroll-pending FILE`: [`enroll_pending`], logging the outcome instead of
/// returning an error, so that an enrolled agent runs on when the server cannot be
/// reached, and one that is not enrolled fails at its first check-in and is started
/// again later by its service manager (the file stays until enrollment succeeds).
pub async fn enroll_pending_before_run(
    config: &AgentConfig,
    file: &Path,
    state_dir: &Path,
) -> Option<PendingOutcome> {
    match enroll_pending(config, file, state_dir).await {
        Ok(PendingOutcome::Enrolled(agent_id)) => {
            tracing::info!(%agent_id, file = %file.display(), "enrolled from the pending enrollment file");
            Some(PendingOutcome::Enrolled(agent_id))
        }
        Ok(PendingOutcome::NoFile) => Some(PendingOutcome::NoFile),
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "cannot enroll from the pending enrollment file yet; it is kept for the next start");
            None
        }
    }
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
            return Err(StateError::Io {
                action: "read",
                path: file.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let pending = parse_pending(&text).map_err(|message| StateError::Corrupt {
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

    fn pending(server: &str, token: &str, ca: Option<&str>) -> PendingEnrollment {
        PendingEnrollment {
            server: server.into(),
            token: token.into(),
            ca_cert: ca.map(PathBuf::from),
        }
    }

    #[test]
    fn written_file_reads_back_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/dir/enroll.env");
        let p = pending(
            "https://steward.example.com",
            "enr_\"quoted\" token",
            Some(r"C:\ProgramData\Steward\ca.pem"),
        );
        write_pending(&file, &p).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(parse_pending(&text).unwrap(), p);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // Without a CA there is no STEWARD_CA_CERT line at all.
        let p = pending("http://127.0.0.1:8080", "enr_x", None);
        write_pending(&file, &p).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("STEWARD_CA_CERT"), "{text}");
        assert_eq!(parse_pending(&text).unwrap(), p);
    }

    #[test]
    fn bad_values_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enroll.env");
        for (p, why) in [
            (pending("steward.example.com", "enr_x", None), "not a URL"),
            (
                pending("ftp://steward.example.com", "enr_x", None),
                "scheme",
            ),
            (pending("https://s.example", " ", None), "token is empty"),
            (
                pending(
                    "https://s.example",
                    "enr_x\nSTEWARD_SERVER=https://evil",
                    None,
                ),
                "control character",
            ),
            (
                pending("https://s.example", "enr_x", Some("/a\nb")),
                "control",
            ),
        ] {
            let e = write_pending(&file, &p).unwrap_err();
            assert!(e.to_string().contains(why), "{e} (wanted {why:?})");
            assert!(!file.exists());
        }
    }

    proptest::proptest! {
        /// Whatever an installer passes (no control characters), the agent reads back.
        #[test]
        fn format_then_parse_is_identity(
            token in "[^\\p{Cc}]{1,40}",
            ca in proptest::option::of("[^\\p{Cc}]{1,40}"),
        ) {
            proptest::prop_assume!(!token.trim().is_empty());
            proptest::prop_assume!(ca.as_deref().is_none_or(|c| !c.trim().is_empty()));
            let p = PendingEnrollment {
                server: "https://steward.example.com/x".into(),
                token,
                ca_cert: ca.map(PathBuf::from),
            };
            let text = format_pending(&p).unwrap();
            proptest::prop_assert_eq!(parse_pending(&text).unwrap(), p);
        }
    }

    #[tokio::test]
    async fn unreachable_server_keeps_the_file_for_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("enroll.env");
        // Port 1 on loopback: the connection is refused at once.
        write_pending(&file, &pending("http://127.0.0.1:1", "enr_x", None)).unwrap();
        let state = dir.path().join("state");
        let got = enroll_pending_before_run(&AgentConfig::default(), &file, &state).await;
        assert_eq!(got, None);
        assert!(file.exists());
        assert_eq!(Credentials::load(&state).unwrap(), None);
        std::fs::remove_file(&file).unwrap();
        let got = enroll_pending_before_run(&AgentConfig::default(), &file, &state).await;
        assert_eq!(got, Some(PendingOutcome::NoFile));
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
