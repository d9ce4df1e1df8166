//! Running the agent: enroll once, then check in on the schedule until shut down.
//!
//! [`run`] is made of named tasks sharing one shutdown token: the scheduler (which owns
//! the reporter) and, with [`run_with_reload`], the config watcher.

mod backoff;
#[cfg(test)]
pub(crate) mod http_tests;
mod reload;
mod reporter;
pub(crate) use reporter::client_for;
mod scheduler;
#[cfg(test)]
mod tests;

pub use reporter::effective_server_url;

use crate::client::{Client, ClientError};
use crate::clock::SystemClock;
use crate::config::{AgentConfig, ConfigError, check_server_url};
use crate::schedule::{Schedule, ScheduleError};
use crate::state::{self, Credentials, StateError};
use crate::update::{Installation, Updater, Verdict};
use reporter::{HttpReporter, Reporter};
use scheduler::Scheduler;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::CheckinResponse;
use tokio_util::sync::CancellationToken;

/// Why the agent stopped or could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "this machine is not enrolled (no credentials in {}); run \
         `steward-agent enroll --server URL --token TOKEN` first",
        state_dir.display()
    )]
    NotEnrolled { state_dir: PathBuf },
    #[error(
        "the server refused this agent's credentials: the agent was revoked or deleted; \
         enroll again with `steward-agent enroll --server URL --token TOKEN`"
    )]
    Revoked,
    #[error(
        "the server refused the enrollment ({status} {code}: {message}); ask an admin for a \
         new token (`steward-server enrollment create`)"
    )]
    EnrollRefused {
        status: u16,
        code: String,
        message: String,
    },
    #[error(
        "the enrollment token is empty; pass the one `steward-server enrollment create` printed"
    )]
    EmptyToken,
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("collection failed: {0}")]
    Collect(String),
    #[error(
        "the server refused the queued report(s) as invalid and they were dropped \
         ({dropped}); see the log for its reasons"
    )]
    NotDelivered { dropped: usize },
    #[error("cannot watch config file {}: {message}", path.display())]
    Watch { path: PathBuf, message: String },
    /// The binary was replaced by an update (or an unconfirmed update rolled back): the
    /// process should exit with [`crate::update::RESTART_EXIT_CODE`] to be started again.
    #[error("the agent's binary changed; restarting")]
    Restart,
}

impl RunError {
    /// Worth trying again later (network trouble, server errors).
    pub fn is_retryable(&self) -> bool {
        matches!(self, RunError::Client(e) if e.is_retryable())
    }

    /// The wait the server asked for, when it was too busy to take the report.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            RunError::Client(e) => e.retry_after(),
            _ => None,
        }
    }
}

/// Check in now and on the schedule until `shutdown` is cancelled. Returns `Ok` on
/// shutdown, and an error when the agent cannot go on (not enrolled, revoked).
pub async fn run(
    config: AgentConfig,
    state_dir: PathBuf,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    run_tasks(None, config, &state_dir, shutdown).await
}

/// [`run`], reloading the config from `config_path` when the file changes (after 500 ms
/// of quiet). An invalid file is logged and the previous config kept.
pub async fn run_with_reload(
    config_path: Option<PathBuf>,
    config: AgentConfig,
    state_dir: PathBuf,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    run_tasks(config_path, config, &state_dir, shutdown).await
}

async fn run_tasks(
    config_path: Option<PathBuf>,
    config: AgentConfig,
    state_dir: &Path,
    shutdown: CancellationToken,
) -> Result<(), RunError> {
    config.validate()?;
    let schedule = Schedule::parse(&config.schedule)?;
    let mut reporter = HttpReporter::new(&config, state_dir)?;
    match Installation::current() {
        Ok(install) => {
            reporter = reporter.with_updater(&config, install);
            if reporter.updater().map(Updater::on_start) == Some(Verdict::Restart) {
                return Err(RunError::Restart);
            }
        }
        Err(e) => tracing::warn!(error = %e, "self-update is off: cannot find this binary"),
    }
    tracing::info!(
        agent_id = reporter.agent_id(),
        server = reporter.server_url(),
        schedule = %schedule,
        "agent started"
    );
    // The watcher stops with the scheduler, whichever way the scheduler ends.
    let tasks = shutdown.child_token();
    let _stop_tasks = tasks.clone().drop_guard();
    let updates = match config_path {
        Some(path) => Some(reload::spawn_watcher(path, config.clone(), tasks.clone())?),
        None => None,
    };
    let scheduler = Scheduler {
        reporter,
        clock: SystemClock,
        schedule,
        config,
        updates,
        shutdown: tasks,
        random: Box::new(backoff::random_u64),
    };
    let result = scheduler.run().await;
    tracing::info!("agent stopped");
    result
}

/// Collect, queue a report and deliver everything queued; the server's reply to the last
/// report. When the server asks for a full report, one is made and sent right away.
/// Files a ticket from this machine: the server links it to the machine's asset and
/// attaches its latest health and open alerts. Reports first, so that both are current.
pub async fn file_ticket(
    config: &AgentConfig,
    state_dir: &Path,
    title: &str,
    body: &str,
    reported_by: &str,
) -> Result<steward_shared::AgentTicketResponse, RunError> {
    let reply = run_once(config, state_dir).await;
    if let Err(e) = &reply {
        tracing::warn!(error = %e, "could not report before filing the ticket; filing it anyway");
    }
    let creds =
        crate::state::Credentials::load(state_dir)?.ok_or_else(|| RunError::NotEnrolled {
            state_dir: state_dir.to_path_buf(),
        })?;
    let client = reporter::client_for(config, &creds, state_dir)?;
    let req = steward_shared::AgentTicketRequest {
        title: title.into(),
        body: body.into(),
        reported_by: reported_by.into(),
    };
    Ok(client.file_ticket(&creds, &req).await?)
}

pub async fn run_once(config: &AgentConfig, state_dir: &Path) -> Result<CheckinResponse, RunError> {
    config.validate()?;
    let mut reporter = HttpReporter::new(config, state_dir)?;
    once(&mut reporter).await
}

/// What [`run_once_updating`] did.
#[derive(Debug)]
pub struct OnceOutcome {
    pub response: CheckinResponse,
    /// The version installed from the server's offer (the agent must restart).
    pub installed: Option<String>,
}

/// One start of the agent at `install` (a real or a test installation): count an
/// unconfirmed update's attempt (rolling it back past the limit: [`RunError::Restart`]),
/// check in reporting the installation's version (which confirms a pending update), and
/// act on the server's update offer.
pub async fn run_once_updating(
    config: &AgentConfig,
    state_dir: &Path,
    install: Installation,
) -> Result<OnceOutcome, RunError> {
    config.validate()?;
    let mut reporter = HttpReporter::new(config, state_dir)?.with_updater(config, install);
    if reporter.updater().map(Updater::on_start) == Some(Verdict::Restart) {
        return Err(RunError::Restart);
    }
    let response = match once(&mut reporter).await {
        Ok(r) => r,
        Err(e) => {
            if reporter.update_failed_round() {
                return Err(RunError::Restart);
            }
            return Err(e);
        }
    };
    reporter.update_confirmed();
    let mut installed = None;
    if let Some(offer) = &response.update
        && reporter.update(offer).await
    {
        installed = Some(offer.version.clone());
    }
    Ok(OnceOutcome {
        response,
        installed,
    })
}

async fn once(reporter: &mut HttpReporter) -> Result<CheckinResponse, RunError> {
    reporter.produce().await?;
    let mut delivery = reporter.deliver().await?;
    if delivery.full_requested {
        tracing::info!("the server asked for a full report; sending one");
        reporter.produce().await?;
        let again = reporter.deliver().await?;
        delivery.dropped += again.dropped;
        delivery.last_response = again.last_response.or(delivery.last_response);
    }
    delivery.last_response.ok_or(RunError::NotDelivered {
        dropped: delivery.dropped,
    })
}

/// Enroll this machine with `server_url` using an enrollment `token`, and save the
/// credentials (and the CA certificate given in `config.ca_cert`) in `state_dir`.
pub async fn enroll(
    config: &AgentConfig,
    server_url: &str,
    token: &str,
    state_dir: &Path,
) -> Result<Credentials, RunError> {
    check_server_url(server_url, config.allow_insecure_http).map_err(|message| {
        ConfigError::Invalid {
            key: "server_url",
            message,
        }
    })?;
    if token.trim().is_empty() {
        return Err(RunError::EmptyToken);
    }
    let ca = config
        .ca_cert
        .clone()
        .or_else(|| state::saved_ca_cert(state_dir));
    let client = Client::new(
        server_url,
        ca.as_deref(),
        Duration::from_secs(config.request_timeout_secs),
    )?;
    let hostname = sysinfo::System::host_name().unwrap_or_default();
    let reply = client
        .enroll(token.trim(), &hostname)
        .await
        .map_err(|e| match e {
            ClientError::Http {
                status,
                code,
                message,
            } if (400..500).contains(&status) => RunError::EnrollRefused {
                status,
                code,
                message,
            },
            other => RunError::Client(other),
        })?;
    let creds = Credentials {
        server_url: client.server_url().to_string(),
        agent_id: reply.agent_id,
        secret: reply.secret,
    };
    if let Ok(Some(old)) = Credentials::load(state_dir) {
        tracing::warn!(old_agent_id = %old.agent_id, "replacing this machine's previous enrollment");
    }
    if let Some(ca) = &config.ca_cert {
        state::save_ca_cert(state_dir, ca)?;
    }
    creds.save(state_dir)?;
    crate::report::forget(state_dir)?;
    tracing::info!(agent_id = %creds.agent_id, server = %creds.server_url, "enrolled");
    Ok(creds)
}
