//! `maintenance-bench`: seeds assets at four sites in different time zones and maintenance
//! plans that apply to all of them (default 100,000 plan-asset pairs), then times the
//! maintenance evaluator's passes against a 1 s target. See bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use steward_bench::maintenance::{self, Options, seed};

#[derive(Debug, Parser)]
#[command(
    name = "maintenance-bench",
    about = "Seed assets and maintenance plans and time the evaluator's passes"
)]
struct Args {
    /// Assets to seed; each falls under exactly one plan, so also the plan-asset pairs.
    #[arg(long, default_value_t = 100_000)]
    assets: u64,
    /// Plans to seed: 9 fixed ones (by type, the daily server-room check, servers as
    /// single assets) and the rest office plans by location (at most 24 are used).
    #[arg(long, default_value_t = 33)]
    plans: usize,
    /// T0, the time of the first pass (RFC 3339). The next-day pass runs at T0 + 28 h.
    #[arg(long, default_value = "2025-06-02T10:00:00Z")]
    start: String,
    /// Data directory to seed (kept afterwards), or to reuse when it already holds at
    /// least --assets assets and plans. Default: a temporary directory, removed at exit.
    /// The passes always run on a fresh copy in <data dir>/run.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the copy the passes ran on (<data dir>/run) for inspection.
    #[arg(long)]
    keep_run: bool,
    /// Skip the step-by-step breakdown of passes (b) and (d) on a second fresh copy.
    #[arg(long)]
    no_phases: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.assets == 0 {
        anyhow::bail!("--assets must be at least 1");
    }
    if a.plans <= seed::FIXED_PLANS {
        anyhow::bail!("--plans must be more than {}", seed::FIXED_PLANS);
    }
    let start = chrono::DateTime::parse_from_rfc3339(&a.start)
        .map_err(|e| anyhow::anyhow!("--start {:?}: {e}", a.start))?
        .timestamp();
    maintenance::run(Options {
        assets: a.assets,
        plans: a.plans,
        start,
        data_dir: a.data_dir,
        keep_run: a.keep_run,
        phases: !a.no_phases,
    })
    .await
}
