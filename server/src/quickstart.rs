//! `steward-server quickstart`: the server plus this machine's own agent, enrolled
//! automatically, so a new user sees a real asset at once.

use crate::{AppState, accounts};
use std::path::PathBuf;
use steward_agent::config::AgentConfig;
use steward_agent::state::Credentials;
use tokio_util::sync::CancellationToken;

/// How often the built-in agent reports in quickstart.
pub const QUICKSTART_SCHEDULE: &str = "*/5 * * * *";

/// What quickstart set up, for the welcome message.
#[derive(Debug)]
pub struct Started {
    pub url: String,
    pub asset_id: i64,
    pub agent_task: tokio::task::JoinHandle<()>,
}

/// Enrolls (if needed) and starts the local agent against the server at `url`.
/// Returns once the first report has been accepted.
pub async fn start_local_agent(
    state: &AppState,
    url: &str,
    shutdown: CancellationToken,
) -> anyhow::Result<Started> {
    let state_dir: PathBuf = state.config.server.data_dir.join("agent");
    let config = AgentConfig {
        server_url: url.to_owned(),
        schedule: QUICKSTART_SCHEDULE.to_owned(),
        jitter_secs: 0,
        // With HTTPS on, the local agent trusts the server's own certificate.
        ca_cert: state.config.tls.cert.clone(),
        ..AgentConfig::default()
    };
    let enrolled = Credentials::load(&state_dir)?.filter(|c| c.server_url == url);
    if enrolled.is_none() {
        let db = state.db.clone();
        let token = tokio::task::spawn_blocking(move || {
            accounts::create_enrollment_token(&db, 1, Some(600))
        })
        .await??;
        steward_agent::run::enroll(&config, url, &token, &state_dir).await?;
    }
    let reply = steward_agent::run::run_once(&config, &state_dir).await?;
    let agent_task = tokio::spawn(async move {
        if let Err(e) = steward_agent::run::run(config, state_dir, shutdown).await {
            tracing::error!(error = %e, "the built-in agent stopped");
        }
    });
    Ok(Started {
        url: url.to_owned(),
        asset_id: reply.asset_id,
        agent_task,
    })
}
