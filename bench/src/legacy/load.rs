//! One round of the fleet reporting over real HTTP: `concurrency` clients, each taking
//! the next device and sending what its agent sends (PROLOG, then INVENTORY) to
//! `/plugins/fusioninventory/` with the basic credentials, each request timed from
//! sending to having read the whole reply.

use super::documents::{Docs, USER_AGENT};
use crate::measure::Timing;
use reqwest::header::{CONTENT_TYPE, USER_AGENT as UA};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The path FusionInventory agents post to (`--server=<base>/plugins/fusioninventory/`).
pub const PATH: &str = "/plugins/fusioninventory/";
/// Error replies printed in full; the rest are only counted.
const SHOWN_ERRORS: usize = 10;

/// The credentials configured on the server and sent by every client.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

/// What a round measured.
pub struct Round {
    pub label: String,
    pub inventory: Timing,
    pub prolog: Timing,
    /// From the first request sent to the last reply read.
    pub wall: Duration,
    /// INVENTORY requests sent, and answered as expected.
    pub sent: usize,
    pub stored: usize,
    /// Failed requests of either kind.
    pub errors: usize,
    pub prolog_errors: usize,
    /// The first error replies: what was sent, the status and the body.
    pub shown: Vec<String>,
}

impl Round {
    /// Inventories stored per second of wall time (PROLOGs included in the time).
    pub fn rate(&self) -> f64 {
        self.stored as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// What one client saw.
#[derive(Default)]
struct Seen {
    prolog: Vec<Duration>,
    inventory: Vec<Duration>,
    stored: usize,
    errors: usize,
    prolog_errors: usize,
    shown: Vec<String>,
}

/// Posts one document; `Err` describes a failed request or an unexpected reply.
async fn post(
    http: &reqwest::Client,
    url: &str,
    creds: &Credentials,
    body: &[u8],
    expect: &str,
) -> (Duration, Result<(), String>) {
    let started = Instant::now();
    let sent = http
        .post(url)
        .basic_auth(&creds.user, Some(&creds.password))
        .header(CONTENT_TYPE, "application/x-compress-zlib")
        .header(UA, USER_AGENT)
        .body(body.to_vec())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) => return (started.elapsed(), Err(format!("request failed: {e}"))),
    };
    let status = resp.status();
    let body = resp.bytes().await;
    let took = started.elapsed();
    let body = match body {
        Ok(b) => b,
        Err(e) => return (took, Err(format!("{status}, reading the body failed: {e}"))),
    };
    if !status.is_success() {
        return (
            took,
            Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
        );
    }
    // Replies come back zlib-compressed like the request.
    let reply = steward_server::legacy::body::decode(&body, 1 << 20)
        .map(|(_, d)| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_else(|e| format!("(undecodable reply: {e})"));
    if reply.contains(expect) {
        (took, Ok(()))
    } else {
        (took, Err(format!("{status} without {expect}: {reply}")))
    }
}

/// Sends every device's PROLOG and INVENTORY with `concurrency` clients.
pub async fn round(
    label: &str,
    http: &reqwest::Client,
    base: &str,
    creds: &Credentials,
    docs: Arc<Vec<Docs>>,
    concurrency: usize,
) -> anyhow::Result<Round> {
    let next = Arc::new(AtomicUsize::new(0));
    let url: Arc<str> = format!("{base}{PATH}").into();
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (http, creds, docs, next, url) = (
                http.clone(),
                creds.clone(),
                docs.clone(),
                next.clone(),
                url.clone(),
            );
            tokio::spawn(async move {
                let mut seen = Seen::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(d) = docs.get(i) else { break };
                    let steps = [
                        ("PROLOG", &d.prolog, "<RESPONSE>SEND</RESPONSE>"),
                        ("INVENTORY", &d.inventory, "NO_ACCOUNT_UPDATE"),
                    ];
                    for (query, body, expect) in steps {
                        let (took, outcome) = post(&http, &url, &creds, body, expect).await;
                        if query == "PROLOG" {
                            seen.prolog.push(took);
                        } else {
                            seen.inventory.push(took);
                            seen.stored += usize::from(outcome.is_ok());
                        }
                        if let Err(e) = outcome {
                            seen.errors += 1;
                            seen.prolog_errors += usize::from(query == "PROLOG");
                            if seen.shown.len() < SHOWN_ERRORS {
                                seen.shown.push(format!("device {} {query}: {e}", i + 1));
                            }
                        }
                    }
                }
                seen
            })
        })
        .collect();
    let mut all = Seen::default();
    for c in clients {
        let s = c.await?;
        all.prolog.extend(s.prolog);
        all.inventory.extend(s.inventory);
        all.stored += s.stored;
        all.errors += s.errors;
        all.prolog_errors += s.prolog_errors;
        all.shown.extend(s.shown);
    }
    let wall = started.elapsed();
    all.shown.truncate(SHOWN_ERRORS);
    let sent = all.inventory.len();
    Ok(Round {
        label: label.to_owned(),
        inventory: Timing::new(format!("{label}: INVENTORY"), all.inventory, String::new()),
        prolog: Timing::new(format!("{label}: PROLOG"), all.prolog, String::new()),
        wall,
        sent,
        stored: all.stored,
        errors: all.errors,
        prolog_errors: all.prolog_errors,
        shown: all.shown,
    })
}
