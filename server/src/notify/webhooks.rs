//! Webhook delivery: each active webhook gets the events it asked for, in order, as signed
//! JSON POSTs. A failed delivery is retried with exponential backoff (10 s doubling to 1 h,
//! with jitter) and holds back later events for that webhook; after [`MAX_ATTEMPTS`] the
//! event is given up and the next one goes out. Every attempt is a `webhook_deliveries` row.

use crate::AppState;
use crate::db::{self, DbResult, events::Event, webhooks::Outcome};
use hmac::{Hmac, Mac};
use rusqlite::Connection;
use sha2::Sha256;
use std::time::Duration;

/// Attempts per event before it is given up.
pub const MAX_ATTEMPTS: i64 = 10;
/// Per-request timeout.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Events sent to one webhook in one pass; the next pass continues.
const PER_PASS: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("{0}")]
    Client(String),
}

/// `sha256=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>`, the `X-Steward-Signature`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Seconds to wait after failed attempt number `attempt` (1-based): 10 s doubling, capped
/// at an hour, scaled by 0.8 to 1.2 with `jitter` in [0, 1).
pub fn backoff_secs(attempt: i64, jitter: f64) -> i64 {
    let doublings = (attempt - 1).clamp(0, 20) as u32;
    let base = (10i64 << doublings).min(3600) as f64;
    ((base * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))).round() as i64).clamp(1, 3600)
}

fn jitter() -> f64 {
    f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / (f64::from(u32::MAX) + 1.0)
}

/// An attempt to make.
#[derive(Debug)]
struct Job {
    webhook_id: i64,
    url: String,
    secret: String,
    event: Event,
    attempt: i64,
    delivery_id: i64,
}

/// Finds the webhook's next event and claims an attempt at it, if one is due at `now`.
fn next_job(c: &Connection, webhook_id: i64, now: i64) -> DbResult<Option<Job>> {
    loop {
        let Some(w) = db::webhooks::get(c, webhook_id)?.filter(|w| w.active) else {
            return Ok(None);
        };
        let kinds = w.kinds.clone().unwrap_or_default();
        let Some(event) = db::events::after(c, w.last_event_id, &kinds, 1)?.pop() else {
            // Nothing wanted up to the end of the log: skip what was not.
            db::webhooks::advance(c, webhook_id, db::events::last_id(c)?)?;
            return Ok(None);
        };
        let attempt = match db::webhooks::last_attempt(c, webhook_id, event.id)? {
            None => 1,
            Some(d) if d.delivered_at.is_some() || d.next_attempt_at.is_none() => {
                // Done with (delivered or given up) but not yet passed: move on.
                db::webhooks::advance(c, webhook_id, event.id)?;
                continue;
            }
            Some(d) if d.next_attempt_at.is_some_and(|t| t > now) => return Ok(None),
            Some(d) => d.attempt + 1,
        };
        // Stands if the result is never recorded (the server stopped mid-request).
        let retry_at = (attempt < MAX_ATTEMPTS).then(|| now + backoff_secs(attempt, 0.5));
        let Some(delivery_id) =
            db::webhooks::start_attempt(c, webhook_id, event.id, attempt, now, retry_at)?
        else {
            return Ok(None);
        };
        return Ok(Some(Job {
            webhook_id,
            url: w.url,
            secret: w.secret,
            event,
            attempt,
            delivery_id,
        }));
    }
}

/// The error chain of a failed request, short enough to store.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(500).collect()
}

/// POSTs the event; `Ok(status)` for any HTTP answer.
async fn post(client: &reqwest::Client, job: &Job, now: i64) -> Result<u16, String> {
    let body = serde_json::to_vec(&job.event).map_err(|e| e.to_string())?;
    let signature = sign(&job.secret, now, &body);
    let resp = client
        .post(&job.url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Steward-Event", &job.event.kind)
        .header("X-Steward-Delivery", job.delivery_id.to_string())
        .header("X-Steward-Timestamp", now.to_string())
        .header("X-Steward-Signature", signature)
        .body(body)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    Ok(resp.status().as_u16())
}

/// Delivers what is due to one webhook. Returns how many events were delivered.
async fn deliver_to(
    state: AppState,
    client: reqwest::Client,
    webhook_id: i64,
    now: i64,
) -> DbResult<usize> {
    let mut delivered = 0;
    for _ in 0..PER_PASS {
        let Some(job) = state
            .db
            .write(move |c| next_job(c, webhook_id, now))
            .await?
        else {
            break;
        };
        let result = post(&client, &job, now).await;
        let ok = matches!(result, Ok(200..=299));
        let last = job.attempt >= MAX_ATTEMPTS;
        let (status_code, error) = match result {
            Ok(code) if ok => (Some(i64::from(code)), None),
            Ok(code) => (Some(i64::from(code)), Some(format!("HTTP {code}"))),
            Err(e) => (None, Some(e)),
        };
        let outcome = Outcome {
            status_code,
            error: error.clone(),
            next_attempt_at: (!ok && !last).then(|| now + backoff_secs(job.attempt, jitter())),
            delivered_at: ok.then_some(now),
        };
        let (id, event_id, delivery_id) = (job.webhook_id, job.event.id, job.delivery_id);
        state
            .db
            .write(move |c| {
                db::webhooks::finish_attempt(c, delivery_id, &outcome)?;
                if outcome.next_attempt_at.is_none() {
                    db::webhooks::advance(c, id, event_id)?;
                }
                Ok(())
            })
            .await?;
        let error = error.unwrap_or_default();
        if ok {
            delivered += 1;
        } else if last {
            tracing::error!(
                webhook_id,
                event_id,
                attempts = job.attempt,
                error = %error,
                "webhook delivery given up; the receiver missed this event"
            );
        } else {
            tracing::warn!(webhook_id, event_id, attempt = job.attempt, error = %error, "webhook delivery failed; will retry");
            break;
        }
    }
    Ok(delivered)
}

/// One delivery pass at `now` over every active webhook (each in its own task, events
/// in order within one). Returns how many events were delivered.
pub async fn deliver_due(state: &AppState, now: i64) -> Result<usize, DeliveryError> {
    let _one_pass = state.notify.webhooks.lock().await;
    let (hooks, last) = state
        .db
        .read(|c| Ok((db::webhooks::list(c, true)?, db::events::last_id(c)?)))
        .await?;
    // Up to date webhooks need no write.
    let behind: Vec<i64> = hooks
        .iter()
        .filter(|w| w.last_event_id < last)
        .map(|w| w.id)
        .collect();
    if behind.is_empty() {
        return Ok(0);
    }
    let client = state.notify.http().map_err(DeliveryError::Client)?;
    let mut tasks = tokio::task::JoinSet::new();
    for id in behind {
        tasks.spawn(deliver_to(state.clone(), client.clone(), id, now));
    }
    let mut delivered = 0;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(n)) => delivered += n,
            Ok(Err(e)) => tracing::error!(error = %e, "webhook delivery failed"),
            Err(e) => tracing::error!(error = %e, "webhook delivery task failed"),
        }
    }
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_ten_seconds_to_an_hour_with_jitter() {
        let mid: Vec<i64> = (1..=MAX_ATTEMPTS).map(|a| backoff_secs(a, 0.5)).collect();
        assert_eq!(mid, [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600]);
        assert_eq!(backoff_secs(1, 0.0), 8);
        assert_eq!(backoff_secs(1, 0.999_999), 12);
        assert_eq!(backoff_secs(30, 0.999_999), 3600);
        assert!((0..1000).all(|_| (8..=12).contains(&backoff_secs(1, jitter()))));
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Python: hmac.new(b"Jefe", b"1.{}", hashlib.sha256).hexdigest()
        let s = sign("Jefe", 1, b"{}");
        assert_eq!(
            s,
            "sha256=dc7943cccf20f64327d263db5e2aca27c2b8175e8e6e7ea04f482091bf456b0f"
        );
        assert_ne!(s, sign("Jefe", 2, b"{}"));
        assert_ne!(s, sign("jefe", 1, b"{}"));
        // Same input, same signature.
        assert_eq!(s, sign("Jefe", 1, b"{}"));
    }
}
