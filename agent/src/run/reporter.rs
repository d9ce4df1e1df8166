//! The reporter: collect into the report queue (both on a blocking thread), and deliver
//! the queue with this agent's credentials. The run loop talks to it through
//! [`Reporter`] so it can be tested alone.

use super::RunError;
use crate::client::Client;
use crate::collect::{CollectOptions, Collector};
use crate::config::{AgentConfig, ConfigError, check_server_url};
use crate::report::{Delivery, ReportQueue, SpoolLimits};
use crate::state::{self, Credentials};
use crate::update::{Installation, Updater, Verdict};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use steward_shared::UpdateOffer;

/// Producing and delivering reports, as the run loop sees it.
pub(crate) trait Reporter: Send {
    /// Collect and queue the next report (a full one if the server asked for it).
    fn produce(&mut self) -> impl Future<Output = Result<(), RunError>> + Send;
    /// Send what is queued, oldest first.
    fn deliver(&mut self) -> impl Future<Output = Result<Delivery, RunError>> + Send;
    /// Apply a new configuration (server, TLS, timeout, what to collect, spool limits).
    fn reconfigure(&mut self, config: &AgentConfig) -> Result<(), RunError>;
    /// The server offered a release: true when it was installed (restart now).
    fn update(&mut self, _offer: &UpdateOffer) -> impl Future<Output = bool> + Send {
        async { false }
    }
    /// A check-in completed (confirms a pending update).
    fn update_confirmed(&mut self) {}
    /// A round could not check in: true when an unconfirmed update was rolled back.
    fn update_failed_round(&mut self) -> bool {
        false
    }
}

/// The real reporter, over HTTP.
pub(crate) struct HttpReporter {
    client: Client,
    creds: Credentials,
    options: CollectOptions,
    /// Kept from one collection to the next (the CPU's busy share is measured between
    /// them); `None` only while a collection has it.
    collector: Option<Collector>,
    /// `None` only while a produce has it.
    queue: Option<ReportQueue>,
    limits: SpoolLimits,
    state_dir: PathBuf,
    /// Self-update, when the running installation is known.
    updater: Option<Updater>,
}

impl HttpReporter {
    /// A reporter for the agent enrolled in `state_dir`.
    pub(crate) fn new(config: &AgentConfig, state_dir: &Path) -> Result<HttpReporter, RunError> {
        let creds = Credentials::load(state_dir)?.ok_or_else(|| RunError::NotEnrolled {
            state_dir: state_dir.to_path_buf(),
        })?;
        let client = build_client(config, &creds, state_dir)?;
        let limits = SpoolLimits::from(config);
        let queue = ReportQueue::open(state_dir, limits)?;
        Ok(HttpReporter {
            client,
            creds,
            options: CollectOptions::from(config),
            collector: Some(Collector::default()),
            queue: Some(queue),
            limits,
            state_dir: state_dir.to_path_buf(),
            updater: None,
        })
    }

    /// Self-update `install` (this process's binary, or a test's) with `config.update`.
    /// Every report sent from now on carries the installation's version and update status.
    pub(crate) fn with_updater(mut self, config: &AgentConfig, install: Installation) -> Self {
        let updater = Updater::new(&config.update, install, &self.state_dir);
        if let Some(queue) = &mut self.queue {
            queue.set_update_status(Some(updater.status()));
        }
        self.updater = Some(updater);
        self
    }

    pub(crate) fn updater(&self) -> Option<&Updater> {
        self.updater.as_ref()
    }

    fn refresh_update_status(&mut self) {
        let status = self.updater.as_ref().map(Updater::status);
        if let Some(queue) = &mut self.queue {
            queue.set_update_status(status);
        }
    }

    /// The queue, opened again from the state directory if a produce that had it was
    /// cancelled.
    fn take_queue(&mut self) -> Result<ReportQueue, RunError> {
        match self.queue.take() {
            Some(queue) => Ok(queue),
            None => Ok(ReportQueue::open(&self.state_dir, self.limits)?),
        }
    }

    pub(crate) fn agent_id(&self) -> &str {
        &self.creds.agent_id
    }

    pub(crate) fn server_url(&self) -> &str {
        self.client.server_url()
    }
}

/// The server is the configured one if set (the server moved), else the enrolled one; the
/// CA is the configured one if set, else the one kept at enrollment.
/// The HTTP client this agent uses (configured server and CA, else the enrolled ones).
pub(crate) fn client_for(
    config: &AgentConfig,
    creds: &Credentials,
    state_dir: &Path,
) -> Result<Client, RunError> {
    build_client(config, creds, state_dir)
}

fn build_client(
    config: &AgentConfig,
    creds: &Credentials,
    state_dir: &Path,
) -> Result<Client, RunError> {
    let url = effective_server_url(config, creds);
    check_server_url(url, config.allow_insecure_http).map_err(|message| ConfigError::Invalid {
        key: "server_url",
        message,
    })?;
    let ca = config
        .ca_cert
        .clone()
        .or_else(|| state::saved_ca_cert(state_dir));
    Ok(Client::new(
        url,
        ca.as_deref(),
        Duration::from_secs(config.request_timeout_secs),
    )?)
}

/// The server URL this agent reports to.
pub fn effective_server_url<'a>(config: &'a AgentConfig, creds: &'a Credentials) -> &'a str {
    if config.server_url.is_empty() {
        &creds.server_url
    } else {
        &config.server_url
    }
}

impl Reporter for HttpReporter {
    fn produce(&mut self) -> impl Future<Output = Result<(), RunError>> + Send {
        let options = self.options.clone();
        let mut collector = self.collector.take().unwrap_or_default();
        let queue = self.take_queue();
        async move {
            let mut queue = queue?;
            // The whole report is made on the blocking thread: the inventory, its
            // comparison with the last one and the spool and state files (fsync'd) never
            // touch the runtime's thread, and the memory they take is freed there.
            let (produced, collector, queue) = tokio::task::spawn_blocking(move || {
                let (inventory, health) = collector.collect(&options);
                // The collection's own time: the clock is read once, by the collector.
                let now = health.taken_at;
                let produced = queue
                    .produce(inventory, health, now)
                    .map(|report| (report.seq, report.kind));
                (produced, collector, queue)
            })
            .await
            .map_err(|e| RunError::Collect(e.to_string()))?;
            self.collector = Some(collector);
            self.queue = Some(queue);
            let (seq, kind) = produced?;
            tracing::debug!(seq, ?kind, "report queued");
            Ok(())
        }
    }

    fn deliver(&mut self) -> impl Future<Output = Result<Delivery, RunError>> + Send {
        let queue = self.take_queue();
        async move {
            let queue = self.queue.insert(queue?);
            queue.set_update_status(self.updater.as_ref().map(Updater::status));
            queue.deliver(&self.client, &self.creds).await
        }
    }

    fn reconfigure(&mut self, config: &AgentConfig) -> Result<(), RunError> {
        self.client = build_client(config, &self.creds, &self.state_dir)?;
        self.options = CollectOptions::from(config);
        self.limits = SpoolLimits::from(config);
        if let Some(queue) = &mut self.queue {
            queue.set_limits(self.limits);
        }
        if let Some(updater) = self.updater.take() {
            let install = updater.installation().clone();
            self.updater = Some(Updater::new(&config.update, install, &self.state_dir));
        }
        Ok(())
    }

    async fn update(&mut self, offer: &UpdateOffer) -> bool {
        let Some(updater) = &self.updater else {
            return false;
        };
        let installed = matches!(
            updater.offer(&self.client, &self.creds, offer).await,
            Ok(Some(_))
        );
        self.refresh_update_status();
        installed
    }

    fn update_confirmed(&mut self) {
        if let Some(updater) = &self.updater {
            updater.confirm();
        }
        self.refresh_update_status();
    }

    fn update_failed_round(&mut self) -> bool {
        let restart = self
            .updater
            .as_ref()
            .is_some_and(|u| u.failed_round() == Verdict::Restart);
        self.refresh_update_status();
        restart
    }
}
