//! `asset-bench`: seeds a fleet (default 100,000 machines with 200 installed software
//! items each) and prints p50/p95/p99 latencies of the asset list and the software
//! catalog against a p95 < 50 ms target. See bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use steward_bench::asset_bench::{self, Options};
use steward_bench::seed::fleet::FleetOptions;

#[derive(Debug, Parser)]
#[command(
    name = "asset-bench",
    about = "Seed a big fleet with its software and time the asset and software API over HTTP"
)]
struct Args {
    /// Machines to seed.
    #[arg(long, default_value_t = 100_000)]
    assets: u64,
    /// Installed software items per machine.
    #[arg(long, default_value_t = 200)]
    software_per_asset: usize,
    /// Days of catalog history (installs and removals per title and day) to seed.
    #[arg(long, default_value_t = 366)]
    history_days: i64,
    /// Measured requests per query.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Unmeasured requests per query before the measured ones.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Data directory to seed (kept afterwards), or to reuse when it already holds at
    /// least --assets assets. Default: a temporary directory, removed at exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.samples == 0 {
        anyhow::bail!("--samples must be at least 1");
    }
    if a.software_per_asset == 0 || a.software_per_asset > 1_000 {
        anyhow::bail!("--software-per-asset must be from 1 to 1000");
    }
    asset_bench::run(Options {
        fleet: FleetOptions {
            assets: a.assets,
            software_per_asset: a.software_per_asset,
            history_days: a.history_days.clamp(1, 3_660),
        },
        samples: a.samples,
        warmup: a.warmup,
        data_dir: a.data_dir,
    })
    .await
}
