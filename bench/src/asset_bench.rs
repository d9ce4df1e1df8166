//! The asset benchmark from start to end: open (and migrate) a data directory with
//! `steward_server::open`, seed a fleet unless it is already there, serve it on
//! `127.0.0.1:0` in-process, and time the asset list with filters and the software
//! catalog's queries over real HTTP. The cases are in [`crate::asset_cases`].

use crate::asset_cases::{self, Outcome};
use crate::harness;
use crate::measure::Timing;
use crate::report::{self, size, thousands};
use crate::seed::fleet::{self, FleetOptions, FleetSummary};
use anyhow::bail;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Options {
    pub fleet: FleetOptions,
    pub samples: usize,
    pub warmup: usize,
    /// Seed into (or reuse) this data directory instead of a temporary one.
    pub data_dir: Option<PathBuf>,
}

/// Written beside the database after seeding, so a reused directory can report it.
const SEED_FILE: &str = "asset-bench-seed.json";

/// Runs the benchmark and prints the report to stdout (progress goes to stderr).
pub async fn run(o: Options) -> anyhow::Result<()> {
    let opened = harness::open(o.data_dir.as_ref(), "asset-bench").await?;
    let (data_dir, db_path, state) = (&opened.data_dir, &opened.db_path, opened.state.clone());
    let existing = harness::count(&state.db, "assets").await?;
    let (seeded, reused) = if existing == 0 {
        eprintln!("seeding {} ...", db_path.display());
        let (path, opts) = (db_path.clone(), o.fleet.clone());
        let now = steward_server::clock::now();
        let s = tokio::task::spawn_blocking(move || fleet::seed_fleet(&path, &opts, now)).await??;
        save_summary(data_dir, &s)?;
        (s, false)
    } else if existing >= o.fleet.assets {
        eprintln!(
            "reusing {} ({} assets)",
            db_path.display(),
            thousands(existing)
        );
        (load_summary(data_dir), true)
    } else {
        bail!(
            "{} already has {} assets, fewer than --assets {}; remove it or pass another --data-dir",
            data_dir.display(),
            thousands(existing),
            thousands(o.fleet.assets)
        );
    };

    let token = harness::technician_token(&state.db, "asset-bench").await?;
    let shape = asset_cases::shape(&state.db).await?;

    let running = harness::serve(state).await?;
    let (http, base) = (&running.http, running.base.as_str());

    let outcome = asset_cases::measure_all(http, base, &token, &shape, o.warmup, o.samples).await;
    running.stop().await?;
    let outcome = outcome?;

    print_report(&o, db_path, &seeded, reused, &shape, &outcome);
    Ok(())
}

fn save_summary(dir: &Path, s: &FleetSummary) -> anyhow::Result<()> {
    let json = serde_json::json!({
        "assets": s.assets,
        "software_rows": s.software_rows,
        "history_rows": s.history_rows,
        "license_rows": s.license_rows,
        "software_seconds": s.software_elapsed.as_secs_f64(),
        "seconds": s.elapsed.as_secs_f64(),
    });
    std::fs::write(dir.join(SEED_FILE), serde_json::to_vec_pretty(&json)?)?;
    Ok(())
}

/// The summary saved when the directory was seeded (zeros when it is missing).
fn load_summary(dir: &Path) -> FleetSummary {
    let Ok(bytes) = std::fs::read(dir.join(SEED_FILE)) else {
        return FleetSummary::default();
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    let secs = |k: &str| {
        Duration::from_secs_f64(v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0))
    };
    FleetSummary {
        assets: n("assets"),
        software_rows: n("software_rows"),
        history_rows: n("history_rows"),
        license_rows: n("license_rows"),
        software_elapsed: secs("software_seconds"),
        elapsed: secs("seconds"),
    }
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn print_report(
    o: &Options,
    db_path: &Path,
    s: &FleetSummary,
    reused: bool,
    shape: &asset_cases::Shape,
    outcome: &Outcome,
) {
    let with_suffix = |suffix: &str| {
        let mut p = db_path.as_os_str().to_owned();
        p.push(suffix);
        file_size(Path::new(&p))
    };
    let (db, wal, shm) = (file_size(db_path), with_suffix("-wal"), with_suffix("-shm"));
    println!();
    println!(
        "asset-bench: {} assets, {} installed software rows ({:.0} per asset), {} titles, {} title versions, {} licenses",
        thousands(shape.assets),
        thousands(shape.software_rows),
        shape.software_rows as f64 / shape.assets.max(1) as f64,
        thousands(shape.titles),
        thousands(shape.versions),
        thousands(shape.licenses)
    );
    println!("assets by OS: {}", shape.by_os);
    println!("openssl across the fleet: {}", shape.openssl);
    println!("database: {}", db_path.display());
    println!(
        "database size on disk: {} (steward.db {}, -wal {}, -shm {})",
        size(db + wal + shm),
        thousands(db),
        thousands(wal),
        thousands(shm)
    );
    if s.elapsed.is_zero() {
        println!("seeding: reused an existing data directory; seeding time unknown");
    } else {
        println!(
            "seeding{}: {:.1} s ({:.1} min); software rows {:.1} s, {} rows/s with the catalog triggers; {} history rows, {} license rows",
            if reused { " (earlier run, reused)" } else { "" },
            s.elapsed.as_secs_f64(),
            s.elapsed.as_secs_f64() / 60.0,
            s.software_elapsed.as_secs_f64(),
            thousands((s.software_rows as f64 / s.software_elapsed.as_secs_f64().max(1e-9)) as u64),
            thousands(s.history_rows),
            thousands(s.license_rows),
        );
        println!(
            "seeding used PRAGMA synchronous=OFF on its own connection (only while seeding; the server runs with WAL and synchronous=NORMAL); no ANALYZE"
        );
    }
    println!(
        "requests: sequential over HTTP/1.1 keep-alive to 127.0.0.1, {} warm-up + {} measured per query, technician API token",
        o.warmup, o.samples
    );
    for line in &outcome.notes {
        println!("{line}");
    }
    println!();
    println!("{}", report::table(&outcome.timings));
    let timings: &[Timing] = &outcome.timings;
    let misses = timings
        .iter()
        .filter(|t| t.percentile(95.0) >= report::TARGET_P95)
        .count();
    println!();
    println!(
        "{} of {} queries meet p95 < {} ms",
        timings.len() - misses,
        timings.len(),
        report::TARGET_P95.as_millis()
    );
    for (label, error) in &outcome.failed {
        println!("NOT MEASURED: {label}: {error}");
    }
    // (c) CSV export of all assets, timed by `asset_cases::measure_export`.
    println!(
        "{}",
        outcome
            .export
            .as_deref()
            .unwrap_or(asset_cases::EXPORT_PENDING)
    );
}
