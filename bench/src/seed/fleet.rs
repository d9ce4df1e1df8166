//! Seeding a migrated database with a big fleet for the asset benchmark: locations,
//! machines, their installed software (through the catalog's triggers), a year of the
//! catalog's daily history, and licenses with assigned seats. Like [`super::seed`], on a
//! connection of our own with `PRAGMA synchronous=OFF`, in large transactions.

use super::{machines, packages};
use crate::report::thousands;
use crate::rng::Rng;
use anyhow::Context;
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// How much to seed.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub assets: u64,
    pub software_per_asset: usize,
    /// Days of catalog history (installs and removals per title and day).
    pub history_days: i64,
}

/// What seeding wrote and how long it took.
#[derive(Debug, Clone, Default)]
pub struct FleetSummary {
    pub assets: u64,
    pub software_rows: u64,
    pub history_rows: u64,
    pub license_rows: u64,
    /// Time spent inserting software rows (the catalog triggers included).
    pub software_elapsed: Duration,
    pub elapsed: Duration,
}

/// Machines per transaction while inserting software.
const BATCH: usize = 1_000;
/// Progress is reported every this many machines.
const PROGRESS_EVERY: usize = 10_000;

/// Seeds the (migrated, asset-free) database at `path`; `now` is the time of the latest
/// check-ins.
pub fn seed_fleet(path: &Path, o: &FleetOptions, now: i64) -> anyhow::Result<FleetSummary> {
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -2_097_152)?; // 2 GiB
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let started = Instant::now();
    let mut rng = Rng::new(0xF1EE7);
    let mut summary = FleetSummary::default();

    let tx = conn.transaction()?;
    let rooms = machines::insert_locations(&tx, now)?;
    let fleet = machines::insert(
        &tx,
        &mut rng,
        o.assets,
        o.software_per_asset as i64,
        &rooms,
        now,
    )?;
    tx.commit()?;
    summary.assets = fleet.len() as u64;
    eprintln!(
        "seed: {} machines in {:.1} s",
        thousands(summary.assets),
        started.elapsed().as_secs_f64()
    );

    let software_started = Instant::now();
    let mut packages = packages::Packages::new(o.software_per_asset);
    for (i, chunk) in fleet.chunks(BATCH).enumerate() {
        let tx = conn.transaction()?;
        summary.software_rows += packages.insert(&tx, &mut rng, chunk, now)?;
        tx.commit()?;
        let done = (i * BATCH + chunk.len()).min(fleet.len());
        if done.is_multiple_of(PROGRESS_EVERY) || done == fleet.len() {
            let secs = software_started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "seed: software of {:>7} / {} machines, {} rows, {:.1} s, {} rows/s",
                thousands(done as u64),
                thousands(fleet.len() as u64),
                thousands(summary.software_rows),
                secs,
                thousands((summary.software_rows as f64 / secs) as u64)
            );
        }
    }
    summary.software_elapsed = software_started.elapsed();

    let tx = conn.transaction()?;
    summary.history_rows = packages::insert_history(&tx, &mut rng, now, o.history_days)?;
    summary.license_rows = packages::insert_licenses(&tx, now)?;
    tx.commit()?;
    eprintln!(
        "seed: {} history rows, {} license rows",
        thousands(summary.history_rows),
        thousands(summary.license_rows)
    );
    // Fold the write-ahead log into the database file, so its size on disk is the real one.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}
