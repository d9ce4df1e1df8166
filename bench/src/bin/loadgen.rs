//! `loadgen`: simulates `--agents` enrolled agents against the release `steward-server`
//! (started as a child process on `--data-dir`) and prints enrollment, first and repeated
//! full inventories, the check-in mix at `--rate`, the maximum, an overload burst, the
//! `/healthz` and raw SQLite ceilings, the server's RSS and the database size. See
//! bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;
use steward_bench::loadgen::{self, Options, drive::Mix};

#[derive(Debug, Parser)]
#[command(
    name = "loadgen",
    about = "Load the server with simulated agents and print throughput, latency, RSS and database size"
)]
struct Args {
    /// The steward-server binary to start (build it with --release).
    #[arg(long, default_value = "target/release/steward-server")]
    server_bin: PathBuf,
    /// Data directory for the server and the generator's records. A second run on the
    /// same directory reuses its agents and skips enrollment and first inventories.
    #[arg(long, default_value = "/var/tmp/steward-loadgen")]
    data_dir: PathBuf,
    /// Simulated agents.
    #[arg(long, default_value_t = 100_000)]
    agents: usize,
    /// Clients for the closed-loop phases (enrollment, full inventories, maximum).
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Clients for the whole-inventory phases (first inventories, full re-reports). A
    /// fleet being onboarded sends many at once; with few clients the server idles
    /// while each client draws, encodes and compresses its next report.
    #[arg(long, default_value_t = 128)]
    inventory_clients: usize,
    /// Check-ins per second offered in the open-loop phase.
    #[arg(long, default_value_t = 2_000.0)]
    rate: f64,
    /// Seconds of the open-loop phase.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Most reports in flight at once in the open-loop phase.
    #[arg(long, default_value_t = 512)]
    max_in_flight: usize,
    /// Per mille of the mix that are full inventories (the server asked, or state was lost).
    #[arg(long, default_value_t = 1)]
    full_per_mille: u64,
    /// Per mille of the mix that are deltas (a package upgraded); the rest are heartbeats.
    #[arg(long, default_value_t = 100)]
    delta_per_mille: u64,
    /// The overload burst offers this many times the measured maximum.
    #[arg(long, default_value_t = 3.0)]
    overload_factor: f64,
    /// Seconds of the overload burst.
    #[arg(long, default_value_t = 10)]
    overload_secs: u64,
    /// Passed to the server as database.write_queue_limit.
    #[arg(long)]
    write_queue_limit: Option<usize>,
    /// Draw, encode and gzip each first inventory while sending, on the server's cores
    /// (by default they are prepared before the phase's clock starts, as agents prepare
    /// theirs on their own machines; that needs ~10 KB of memory per agent).
    #[arg(long)]
    draw_while_sending: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.agents == 0 || a.agents > 1_000_000 {
        anyhow::bail!("--agents must be from 1 to 1000000");
    }
    if a.clients == 0 || a.clients > 1_024 {
        anyhow::bail!("--clients must be from 1 to 1024");
    }
    if a.inventory_clients == 0 || a.inventory_clients > 1_024 {
        anyhow::bail!("--inventory-clients must be from 1 to 1024");
    }
    if !(a.rate > 0.0 && a.rate <= 100_000.0) {
        anyhow::bail!("--rate must be above 0 and at most 100000");
    }
    if a.full_per_mille + a.delta_per_mille > 1_000 {
        anyhow::bail!("--full-per-mille plus --delta-per-mille must be at most 1000");
    }
    if !a.server_bin.exists() {
        anyhow::bail!(
            "{} does not exist; build it with `cargo build --release -p steward-server` or pass --server-bin",
            a.server_bin.display()
        );
    }
    loadgen::run(Options {
        server_bin: a.server_bin,
        data_dir: a.data_dir,
        agents: a.agents,
        clients: a.clients,
        inventory_clients: a.inventory_clients,
        rate: a.rate,
        duration: Duration::from_secs(a.duration.max(1)),
        max_in_flight: a.max_in_flight.max(1),
        mix: Mix {
            full_per_mille: a.full_per_mille,
            delta_per_mille: a.delta_per_mille,
        },
        overload_factor: a.overload_factor.max(1.0),
        draw_while_sending: a.draw_while_sending,
        overload_duration: Duration::from_secs(a.overload_secs.max(1)),
        write_queue_limit: a.write_queue_limit,
    })
    .await
}
