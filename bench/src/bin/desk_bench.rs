//! `desk-bench`: seeds a big service desk (default 1,000,000 tickets, 100,000 assets) and
//! prints p50/p95/p99 latencies of the ticket API against a p95 < 50 ms target.
//! See bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use steward_bench::desk::{self, Options};
use steward_bench::seed::SeedOptions;

#[derive(Debug, Parser)]
#[command(
    name = "desk-bench",
    about = "Seed a big service desk and time the ticket API over HTTP"
)]
struct Args {
    /// Tickets to seed.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: u64,
    /// Assets to seed.
    #[arg(long, default_value_t = 100_000)]
    assets: u64,
    /// Average comments per ticket (each ticket gets 0 to twice this many).
    #[arg(long, default_value_t = 2.0)]
    comments_per_ticket: f64,
    /// Employees who file tickets.
    #[arg(long, default_value_t = 5_000)]
    employees: u64,
    /// Technicians who work them.
    #[arg(long, default_value_t = 50)]
    technicians: u64,
    /// Measured requests per query.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Unmeasured requests per query before the measured ones.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Data directory to seed (kept afterwards), or to reuse when it already holds at
    /// least --tickets tickets. Default: a temporary directory, removed at exit.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if a.samples == 0 {
        anyhow::bail!("--samples must be at least 1");
    }
    desk::run(Options {
        seed: SeedOptions {
            tickets: a.tickets,
            assets: a.assets,
            comments_per_ticket: a.comments_per_ticket,
            employees: a.employees.max(1),
            technicians: a.technicians,
        },
        samples: a.samples,
        warmup: a.warmup,
        data_dir: a.data_dir,
    })
    .await
}
