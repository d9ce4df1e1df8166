//! Telling the outside world: webhook deliveries and mail, both read from the event log.
//!
//! Each consumer does its work in one pass at a given time ([`webhooks::deliver_due`],
//! [`mail::mail_due`]); [`run`] calls them every few seconds, and soon after an event is
//! emitted. Passes of one kind never overlap (tests may call them while the loop runs).

pub mod mail;
pub mod webhooks;

use crate::AppState;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the loops look for work when no event wakes them.
const POLL: Duration = Duration::from_secs(5);
/// After a wake-up, wait this long: lets the emitting transaction commit, and batches bursts.
const SETTLE: Duration = Duration::from_millis(150);

/// What the notification passes share: one pass of each kind at a time, one HTTP client.
#[derive(Clone, Default)]
pub struct Hub {
    webhooks: Arc<tokio::sync::Mutex<()>>,
    mail: Arc<tokio::sync::Mutex<()>>,
    http: Arc<OnceLock<reqwest::Client>>,
}

impl Hub {
    /// The client for webhook deliveries, built on first use (after the crypto provider
    /// is installed).
    fn http(&self) -> Result<reqwest::Client, String> {
        if let Some(c) = self.http.get() {
            return Ok(c.clone());
        }
        crate::install_crypto_provider();
        let client = reqwest::Client::builder()
            .timeout(webhooks::TIMEOUT)
            .connect_timeout(webhooks::TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Steward-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the webhook HTTP client: {e}"))?;
        Ok(self.http.get_or_init(|| client).clone())
    }
}

/// Runs the webhook and mail loops until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    tokio::join!(
        webhook_loop(state.clone(), shutdown.clone()),
        mail_loop(state, shutdown)
    );
}

/// Waits for the next poll, an emitted event, or shutdown (false).
async fn wait(
    tick: &mut tokio::time::Interval,
    events: &mut tokio::sync::watch::Receiver<u64>,
    shutdown: &CancellationToken,
) -> bool {
    tokio::select! {
        () = shutdown.cancelled() => return false,
        _ = tick.tick() => {}
        _ = events.changed() => {
            tokio::select! {
                () = shutdown.cancelled() => return false,
                () = tokio::time::sleep(SETTLE) => {}
            }
        }
    }
    true
}

async fn webhook_loop(state: AppState, shutdown: CancellationToken) {
    let mut events = crate::events::subscribe();
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while wait(&mut tick, &mut events, &shutdown).await {
        // An interrupted pass is safe: unfinished attempts are retried later.
        tokio::select! {
            () = shutdown.cancelled() => return,
            r = webhooks::deliver_due(&state, crate::clock::now()) => {
                if let Err(e) = r {
                    tracing::error!(error = %e, "webhook delivery pass failed");
                }
            }
        }
    }
}

async fn mail_loop(state: AppState, shutdown: CancellationToken) {
    if !state.config.smtp.enabled {
        return;
    }
    let mut events = crate::events::subscribe();
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failures = 0u32;
    let mut resume_at = 0;
    while wait(&mut tick, &mut events, &shutdown).await {
        let now = crate::clock::now();
        if now < resume_at {
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            r = mail::mail_due(&state, now) => match r {
                Ok(_) => failures = 0,
                Err(e) => {
                    failures += 1;
                    let delay = mail::retry_delay_secs(failures);
                    resume_at = now + delay;
                    tracing::warn!(error = %e, retry_in_secs = delay, "cannot send mail; will retry");
                }
            }
        }
    }
}
