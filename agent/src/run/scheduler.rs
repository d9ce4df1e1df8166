//! The scheduler task: at start, then at each scheduled time (plus jitter), collect a
//! report and deliver the queue, retrying the delivery (not the collection) with backoff
//! until the next scheduled time; obey the server's commands and config reloads, until
//! the shutdown token is cancelled.

use super::RunError;
use super::backoff::{jittered, retry_delay};
use super::reporter::Reporter;
use crate::clock::Clock;
use crate::config::AgentConfig;
use crate::report::Delivery;
use crate::schedule::Schedule;
use chrono::{DateTime, Utc};
use std::time::Duration;
use steward_shared::AgentCommand;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Longest single sleep: the wall clock is checked again after it, so a machine that was
/// suspended catches up soon after it wakes.
const MAX_NAP: Duration = Duration::from_secs(300);

/// How one round of reporting ended.
enum Round {
    Done,
    Shutdown,
    /// A new binary was installed, or an unconfirmed one rolled back.
    Restart,
}

/// How one delivery (with its retries) ended.
enum Attempt {
    Delivered(Box<Delivery>),
    /// Not delivered before the next scheduled time, or refused for good.
    GaveUp,
    Shutdown,
}

pub(crate) struct Scheduler<R, C> {
    pub(crate) reporter: R,
    pub(crate) clock: C,
    pub(crate) schedule: Schedule,
    pub(crate) config: AgentConfig,
    pub(crate) updates: Option<watch::Receiver<AgentConfig>>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) random: Box<dyn FnMut() -> u64 + Send>,
}

impl<R: Reporter, C: Clock> Scheduler<R, C> {
    pub(crate) async fn run(mut self) -> Result<(), RunError> {
        let mut last_due = self.clock.now();
        loop {
            match self.round().await? {
                Round::Shutdown => return Ok(()),
                Round::Restart => return Err(RunError::Restart),
                Round::Done => {}
            }
            loop {
                let due = self.next_due(last_due);
                if let Some(due) = due {
                    tracing::debug!(%due, "next check-in");
                } else {
                    tracing::error!(schedule = %self.schedule, "the schedule never fires again");
                }
                let updates = self.updates.as_mut();
                tokio::select! {
                    () = self.shutdown.cancelled() => return Ok(()),
                    () = sleep_until(&self.clock, due) => {
                        last_due = due.unwrap_or(last_due);
                        break;
                    }
                    changed = config_changed(updates) => match changed {
                        Some(config) => self.apply_config(config),
                        None => self.updates = None,
                    },
                }
            }
        }
    }

    /// Collect, queue and deliver; then once more right away if a reply asks for a
    /// collection or a full report (at most once for each, so a confused server cannot
    /// make us loop).
    async fn round(&mut self) -> Result<Round, RunError> {
        let mut collect_now_allowed = true;
        let mut full_allowed = true;
        loop {
            let produced = tokio::select! {
                () = self.shutdown.cancelled() => return Ok(Round::Shutdown),
                r = self.reporter.produce() => r,
            };
            if let Err(e) = produced {
                tracing::error!(error = %e, "cannot make a report; sending the queued ones");
            }
            let delivery = match self.deliver_with_retry().await? {
                Attempt::Delivered(d) => d,
                Attempt::GaveUp if self.reporter.update_failed_round() => {
                    return Ok(Round::Restart);
                }
                Attempt::GaveUp => return Ok(Round::Done),
                Attempt::Shutdown => return Ok(Round::Shutdown),
            };
            if delivery.last_response.is_some() {
                self.reporter.update_confirmed();
            }
            let offer = delivery
                .last_response
                .as_ref()
                .and_then(|r| r.update.clone());
            if let Some(offer) = offer {
                let installed = tokio::select! {
                    () = self.shutdown.cancelled() => return Ok(Round::Shutdown),
                    installed = self.reporter.update(&offer) => installed,
                };
                if installed {
                    return Ok(Round::Restart);
                }
            }
            if let Some(response) = &delivery.last_response {
                tracing::info!(
                    asset_id = response.asset_id,
                    reports = delivery.delivered.len(),
                    "checked in"
                );
            }
            let collect_now = self.apply_commands(&delivery.commands) && collect_now_allowed;
            let full = delivery.full_requested && full_allowed;
            if !(collect_now || full) {
                return Ok(Round::Done);
            }
            if collect_now {
                collect_now_allowed = false;
                tracing::info!("server asked for a collection now");
            }
            if full {
                full_allowed = false;
                tracing::info!("server asked for a full report; sending one now");
            }
        }
    }

    /// Deliver the queue, retrying transient failures with backoff until the next
    /// scheduled time.
    async fn deliver_with_retry(&mut self) -> Result<Attempt, RunError> {
        let give_up_at = self.schedule.next_after(self.clock.now());
        let mut attempt = 0u32;
        loop {
            let result = tokio::select! {
                () = self.shutdown.cancelled() => return Ok(Attempt::Shutdown),
                r = self.reporter.deliver() => r,
            };
            let error = match result {
                Ok(delivery) => return Ok(Attempt::Delivered(Box::new(delivery))),
                Err(RunError::Revoked) => {
                    tracing::error!(
                        "the server refused this agent's credentials: it was revoked or \
                         deleted; enroll again with `steward-agent enroll`"
                    );
                    return Err(RunError::Revoked);
                }
                Err(e) => e,
            };
            if !error.is_retryable() {
                tracing::error!(error = %error, "check-in refused; trying again at the next scheduled time");
                return Ok(Attempt::GaveUp);
            }
            let delay = retry_delay(attempt, error.retry_after(), (self.random)());
            attempt = attempt.saturating_add(1);
            let retry_at =
                self.clock.now() + chrono::TimeDelta::from_std(delay).unwrap_or_default();
            if give_up_at.is_some_and(|g| retry_at >= g) {
                tracing::warn!(error = %error, "check-in failed; trying again at the next scheduled time");
                return Ok(Attempt::GaveUp);
            }
            tracing::warn!(error = %error, retry_in_secs = delay.as_secs(), "check-in failed; will retry");
            tokio::select! {
                () = self.shutdown.cancelled() => return Ok(Attempt::Shutdown),
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// Act on the reply's commands; true when it asked for a collection now.
    fn apply_commands(&mut self, commands: &[AgentCommand]) -> bool {
        let mut collect_now = false;
        for command in commands {
            match command {
                AgentCommand::CollectNow => collect_now = true,
                // The report queue acted on it already (`Delivery::full_requested`).
                AgentCommand::SendFullReport => {}
                AgentCommand::SetSchedule { cron } => match Schedule::parse(cron) {
                    Ok(s) => {
                        tracing::info!(schedule = %s, "server set a new schedule");
                        self.schedule = s;
                    }
                    Err(e) => tracing::warn!(error = %e, "ignoring the server's new schedule"),
                },
                AgentCommand::Unknown => {
                    tracing::debug!("ignoring a command this agent does not know");
                }
            }
        }
        collect_now
    }

    /// A reloaded config: new schedule, jitter and reporter settings.
    fn apply_config(&mut self, config: AgentConfig) {
        if config.log_level != self.config.log_level {
            tracing::warn!("log_level changes take effect at the next restart");
        }
        if let Err(e) = self.reporter.reconfigure(&config) {
            tracing::warn!(error = %e, "keeping the previous server settings");
        }
        match Schedule::parse(&config.schedule) {
            Ok(s) => self.schedule = s,
            Err(e) => tracing::warn!(error = %e, "keeping the previous schedule"),
        }
        tracing::info!(schedule = %self.schedule, "configuration reloaded");
        self.config = config;
    }

    /// The next scheduled time after `after` (and after now), with jitter.
    fn next_due(&mut self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let from = after.max(self.clock.now());
        let occurrence = self.schedule.next_after(from)?;
        let following = self.schedule.next_after(occurrence);
        Some(jittered(
            occurrence,
            following,
            self.config.jitter_secs,
            (self.random)(),
        ))
    }
}

/// Sleep until the wall clock reaches `due` (forever for `None`), in naps of at most
/// [`MAX_NAP`].
async fn sleep_until<C: Clock>(clock: &C, due: Option<DateTime<Utc>>) {
    let Some(due) = due else {
        return std::future::pending().await;
    };
    loop {
        let left = (due - clock.now()).to_std().unwrap_or(Duration::ZERO);
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(MAX_NAP)).await;
    }
}

/// The next config from the watcher; `None` when the watcher is gone (or never was).
async fn config_changed(updates: Option<&mut watch::Receiver<AgentConfig>>) -> Option<AgentConfig> {
    let Some(rx) = updates else {
        return std::future::pending().await;
    };
    match rx.changed().await {
        Ok(()) => Some(rx.borrow_and_update().clone()),
        Err(_) => None,
    }
}
