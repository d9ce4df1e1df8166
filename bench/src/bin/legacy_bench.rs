//! `legacy-bench`: sends `--devices` FusionInventory 2.6 XML inventories (made from this
//! machine's own) to the legacy endpoint over HTTP with `--concurrency` clients, twice,
//! and prints inventories/s with p50/p95/p99 latencies, parse-only throughput and where
//! the time goes. See bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use steward_bench::legacy::{self, Options};

#[derive(Debug, Parser)]
#[command(
    name = "legacy-bench",
    about = "Time how many FusionInventory XML inventories per second the legacy endpoint stores"
)]
struct Args {
    /// Distinct devices, each sending PROLOG and INVENTORY twice (a new asset, then an update).
    #[arg(long, default_value_t = 2_000)]
    devices: usize,
    /// Clients sending at the same time.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Data directory to ingest into (kept afterwards). Default: a temporary directory,
    /// removed at exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.devices == 0 || a.devices > 1_000_000 {
        anyhow::bail!("--devices must be from 1 to 1000000");
    }
    if a.concurrency == 0 || a.concurrency > 1_024 {
        anyhow::bail!("--concurrency must be from 1 to 1024");
    }
    legacy::run(Options {
        devices: a.devices,
        concurrency: a.concurrency,
        data_dir: a.data_dir,
    })
    .await
}
