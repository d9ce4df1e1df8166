//! Where an inventory's time goes, without HTTP: inflating and parsing the documents
//! in-process (`legacy::body::decode`, `legacy::xml::parse`, no database), and storing
//! parsed reports one at a time with the handler's own call
//! (`db.write(|tx| db::legacy::store(..))`) into a separate scratch database.

use super::documents::{Docs, USER_AGENT};
use crate::measure::Timing;
use anyhow::{Context, bail};
use std::time::{Duration, Instant};
use steward_server::AppState;
use steward_server::db::legacy::{self, Kind, Stored};
use steward_server::legacy::body;
use steward_server::legacy::report::LegacyReport;
use steward_server::legacy::xml::{self, XmlRequest};

/// The server's default `max_inflated_bytes`.
const INFLATE_LIMIT: usize = 32 << 20;

/// Inflates and parses one INVENTORY document as the handler does.
fn inflate(doc: &[u8]) -> anyhow::Result<Vec<u8>> {
    Ok(body::decode(doc, INFLATE_LIMIT)?.1)
}

fn report(plain: &[u8]) -> anyhow::Result<LegacyReport> {
    match xml::parse(plain, Some(USER_AGENT)) {
        Ok(XmlRequest::Inventory(r)) => Ok(r),
        Ok(other) => bail!("not an inventory: {other:?}"),
        Err(e) => bail!("the parser refused the document: {e}"),
    }
}

/// Parse-only figures.
pub struct ParseOnly {
    pub documents: usize,
    /// Software items per parsed inventory (mean).
    pub software: f64,
    /// One thread: time inflating, and each parse.
    pub inflate: Duration,
    pub parse: Timing,
    pub parse_total: Duration,
    /// Inflate and parse on `threads` threads at once: wall time.
    pub threads: usize,
    pub parallel_wall: Duration,
}

/// Inflates and parses every document, first on one thread (each step timed), then on
/// all cores (wall time).
pub fn parse_only(docs: &[Docs]) -> anyhow::Result<ParseOnly> {
    let (mut inflate_total, mut parse_total) = (Duration::ZERO, Duration::ZERO);
    let mut parses = Vec::with_capacity(docs.len());
    let mut software = 0usize;
    for d in docs {
        let t0 = Instant::now();
        let plain = inflate(&d.inventory)?;
        let t1 = Instant::now();
        let r = report(&plain)?;
        let took = t1.elapsed();
        inflate_total += t1 - t0;
        parse_total += took;
        parses.push(took);
        software += r.inventory.software.len();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = docs.len().div_ceil(threads).max(1);
    let started = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|ds| {
                s.spawn(move || -> anyhow::Result<()> {
                    for d in ds {
                        report(&inflate(&d.inventory)?)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        }
        Ok(())
    })?;
    Ok(ParseOnly {
        documents: docs.len(),
        software: software as f64 / docs.len().max(1) as f64,
        inflate: inflate_total,
        parse: Timing::new("parse".into(), parses, String::new()),
        parse_total,
        threads,
        parallel_wall: started.elapsed(),
    })
}

/// Store-only figures: the handler's `db.write` of `db::legacy::store`, one at a time.
pub struct StoreOnly {
    pub create: Timing,
    pub update: Timing,
    /// Mean time of one store, new asset and update.
    pub create_mean: Duration,
    pub update_mean: Duration,
}

/// Stores the first round's documents (each creates an asset), then the second round's
/// (each updates one), one at a time into `state`'s database; only the write is timed.
pub async fn store_only(
    state: &AppState,
    first: &[Docs],
    second: &[Docs],
) -> anyhow::Result<StoreOnly> {
    let (create, create_mean) = store_each(state, "store, new asset", first, true).await?;
    let (update, update_mean) = store_each(state, "store, update", second, false).await?;
    Ok(StoreOnly {
        create,
        update,
        create_mean,
        update_mean,
    })
}

async fn store_each(
    state: &AppState,
    label: &str,
    docs: &[Docs],
    creates: bool,
) -> anyhow::Result<(Timing, Duration)> {
    let thresholds = state.config.alerts.thresholds();
    // As the handler: our own agent counts as reporting while not silent by the alerts' rule.
    let fresh = i64::try_from(state.config.alerts.agent_silent_hours)?.saturating_mul(3600);
    let mut times = Vec::with_capacity(docs.len());
    for d in docs {
        let doc = d.inventory.clone();
        let mut r = tokio::task::spawn_blocking(move || report(&inflate(&doc)?)).await??;
        let now = steward_server::clock::now();
        if r.inventory.collected_at <= 0 {
            r.inventory.collected_at = now;
        }
        if r.health.taken_at <= 0 {
            r.health.taken_at = now;
        }
        let kind = Kind::of(&r.agent, false);
        let thresholds = thresholds.clone();
        let started = Instant::now();
        let stored = state
            .db
            .write(move |tx| legacy::store(tx, kind, &r, "127.0.0.1", &thresholds, fresh, now))
            .await
            .with_context(|| format!("{label}: storing failed"))?;
        times.push(started.elapsed());
        match stored {
            Stored::Applied { created, .. } if created == creates => {}
            other => bail!("{label}: unexpected outcome {other:?}"),
        }
    }
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len().max(1))?;
    Ok((Timing::new(label.to_owned(), times, String::new()), mean))
}
