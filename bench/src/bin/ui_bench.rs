//! `ui-bench`: seeds one data directory with 100,000 assets and 1,000,000 tickets (by
//! default) and prints p50/p95/max of every page of the web UI against issue 11's target,
//! p95 < 100 ms. See bench/README.md.
#![forbid(unsafe_code)]

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use steward_bench::ui_bench::{self, Options, seed::UiSeedOptions};

#[derive(Debug, Parser)]
#[command(
    name = "ui-bench",
    about = "Seed assets and tickets into one data directory and time every page of the web UI"
)]
struct Args {
    /// Assets to seed: half agent-reported machines with software, 10% under maintenance
    /// plans, the rest desk devices (monitors, phones, printers, network gear, ...).
    #[arg(long, default_value_t = 100_000)]
    assets: u64,
    /// Tickets to seed.
    #[arg(long, default_value_t = 1_000_000)]
    tickets: u64,
    /// Installed software items per machine.
    #[arg(long, default_value_t = 200)]
    software_per_asset: usize,
    /// Average comments per ticket (each ticket gets 0 to twice this many).
    #[arg(long, default_value_t = 2.0)]
    comments_per_ticket: f64,
    /// Employees who file tickets and hold devices.
    #[arg(long, default_value_t = 5_000)]
    employees: u64,
    /// Technicians who work the tickets.
    #[arg(long, default_value_t = 50)]
    technicians: u64,
    /// Days of software catalog history.
    #[arg(long, default_value_t = 366)]
    history_days: i64,
    /// Measured requests per page.
    #[arg(long, default_value_t = 50)]
    samples: usize,
    /// Unmeasured requests per page before the measured ones.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// In-process computations of the staff dashboard's figures (its uncached cost).
    #[arg(long, default_value_t = 5)]
    dashboard_samples: usize,
    /// Data directory to seed, or to reuse when it already holds at least --assets assets
    /// and --tickets tickets (kept afterwards).
    #[arg(long, default_value = "/var/tmp/steward-ui-bench")]
    data_dir: PathBuf,
    /// Exit with status 1 when a page misses p95 < 100 ms or could not be measured.
    #[arg(long)]
    strict: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let a = Args::parse();
    if a.samples == 0 {
        anyhow::bail!("--samples must be at least 1");
    }
    if a.software_per_asset == 0 || a.software_per_asset > 1_000 {
        anyhow::bail!("--software-per-asset must be from 1 to 1000");
    }
    let strict = a.strict;
    let all_pass = ui_bench::run(Options {
        seed: UiSeedOptions {
            assets: a.assets,
            tickets: a.tickets,
            software_per_asset: a.software_per_asset,
            comments_per_ticket: a.comments_per_ticket,
            employees: a.employees.max(1),
            technicians: a.technicians.max(1),
            history_days: a.history_days.clamp(1, 3_660),
        },
        samples: a.samples,
        warmup: a.warmup,
        dashboard_samples: a.dashboard_samples,
        data_dir: a.data_dir,
        strict,
    })
    .await?;
    Ok(if strict && !all_pass {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
