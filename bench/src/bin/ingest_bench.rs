//! `ingest-bench`: the first-inventory wave measured in-process, without HTTP. Enrolls
//! `--machines` agents straight into a fresh database, then sends each one's first full
//! report through the server's own check-in code (`db::checkin::handle` on the real
//! writer thread, `--in-flight` reports queued at a time, so they share commits as they do
//! in the server), and prints the rate per window of `--window` machines, with the rows
//! and WAL bytes that window wrote. It isolates the database's share of `loadgen`'s
//! "first inventories" figure. See bench/README.md.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use steward_bench::loadgen::fleet::{self, Agent, Fleet, Kind};
use steward_server::db::{self, Db};
use steward_server::domain::alerts::Thresholds;

#[derive(Debug, Parser)]
#[command(
    name = "ingest-bench",
    about = "Time first full inventories through the server's check-in code, in-process"
)]
struct Args {
    /// Machines to enroll and send a first inventory for.
    #[arg(long, default_value_t = 30_000)]
    machines: u64,
    /// Machines per printed window.
    #[arg(long, default_value_t = 2_500)]
    window: u64,
    /// Reports queued on the writer at a time (the server's clients).
    #[arg(long, default_value_t = 64)]
    in_flight: usize,
    /// SQL run on the fresh database before enrolling, to try a schema change (an index
    /// dropped or added) against the same load.
    #[arg(long)]
    setup_sql: Option<String>,
    /// Data directory (a fresh temporary one when not given; it must not hold a database).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.path().into());
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("steward.db");
    anyhow::ensure!(
        !path.exists(),
        "{} already holds a database; give an empty --data-dir",
        path.display()
    );
    let db = Arc::new(Db::open(&path, Duration::from_secs(5), 4)?);
    let now = 1_790_000_000;
    eprintln!("enrolling {} agents", args.machines);
    let agents: Vec<Arc<Agent>> = (0..args.machines)
        .map(|i| Arc::new(Agent::new(i, format!("ingest-{i:06}"), "secret".into())))
        .collect();
    if let Some(sql) = &args.setup_sql {
        db.write_blocking(|tx| Ok(tx.execute_batch(sql)?))?;
    }
    let token = db.write_blocking(|tx| {
        db::enrollment::insert(tx, "ingest-bench-token", u32::MAX, None, None, now)
    })?;
    for chunk in agents.chunks(5_000) {
        let rows: Vec<(String, String)> = chunk
            .iter()
            .map(|a| {
                (
                    a.id.clone(),
                    format!(
                        "{}-{:06}",
                        fleet::drawn(a.index).prefix.to_lowercase(),
                        a.index
                    ),
                )
            })
            .collect();
        db.write_blocking(|tx| {
            for (id, host) in &rows {
                db::agents::insert(tx, id, "secret", token, host, "0.1.0", now)?;
            }
            Ok(())
        })?;
    }
    println!("| machines | first inventories/s | packages/s | rows added | written | database |");
    println!("|---|---|---|---|---|---|");
    let mut fleet = Fleet::default();
    let (mut rows_before, mut wal_before) = (0i64, written()?);
    for start in (0..args.machines).step_by(args.window as usize) {
        let end = (start + args.window).min(args.machines);
        let reports: Vec<_> = agents[start as usize..end as usize]
            .iter()
            .map(|a| (a.id.clone(), fleet::report(&mut fleet, a, Kind::Full, now)))
            .collect();
        let packages: usize = reports
            .iter()
            .map(|(_, r)| r.inventory.software.len())
            .sum();
        let began = Instant::now();
        send(&db, reports, args.in_flight).await?;
        let took = began.elapsed().as_secs_f64();
        let rows: i64 = db.read_blocking(|c| {
            Ok(c.query_row("SELECT count(*) FROM asset_packages", [], |r| r.get(0))?)
        })?;
        let wal = written()?;
        println!(
            "| {}-{} | {:.0} | {:.0} | {} | {:.0} MB | {:.0} MB |",
            start + 1,
            end,
            (end - start) as f64 / took,
            packages as f64 / took,
            rows - rows_before,
            (wal - wal_before) as f64 / 1e6,
            std::fs::metadata(&path)?.len() as f64 / 1e6,
        );
        (rows_before, wal_before) = (rows, wal);
    }
    let stats = db.writer_stats();
    println!(
        "\nThe writer thread: {:.1} s of CPU for {} first inventories ({:.2} ms each).",
        thread_cpu_secs("steward-writer")?,
        args.machines,
        thread_cpu_secs("steward-writer")? * 1e3 / args.machines.max(1) as f64
    );
    eprintln!(
        "writer: {} jobs in {} batches ({:.1} per batch), busy {:.1} s",
        stats.jobs,
        stats.batches,
        stats.jobs as f64 / stats.batches.max(1) as f64,
        stats.busy_micros as f64 / 1e6
    );
    Ok(())
}

/// Sends `reports` through the writer, `in_flight` queued at a time.
async fn send(
    db: &Arc<Db>,
    reports: Vec<(String, steward_shared::CheckinRequest)>,
    in_flight: usize,
) -> anyhow::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for (agent_id, req) in reports {
        while tasks.len() >= in_flight {
            tasks.join_next().await.context("a report task")???;
        }
        let db = db.clone();
        tasks.spawn(async move {
            let thresholds = Thresholds {
                disk_used_percent: 90.0,
                memory_used_percent: 95.0,
            };
            // As the HTTP handler does: the digest is worked out before the writer.
            let digest = db::checkin::full_digest(&req);
            db.write_shared(move |tx| {
                db::checkin::handle(
                    tx,
                    &agent_id,
                    req,
                    digest.as_deref(),
                    "10.0.0.1",
                    1_790_000_000,
                    &thresholds,
                )
            })
            .await
            .map(|_| ())
            .context("a first inventory")
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    Ok(())
}

/// Bytes this process has written so far (`wchar` in /proc/self/io): the WAL and the
/// checkpoints' copies into the database.
fn written() -> anyhow::Result<u64> {
    let io = std::fs::read_to_string("/proc/self/io")?;
    io.lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .context("no wchar in /proc/self/io")?
        .trim()
        .parse()
        .context("wchar")
}

/// CPU seconds (user and system) used so far by this process's thread named `name`.
fn thread_cpu_secs(name: &str) -> anyhow::Result<f64> {
    for task in std::fs::read_dir("/proc/self/task")? {
        let dir = task?.path();
        if std::fs::read_to_string(dir.join("comm"))?.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat"))?;
        // Fields after the parenthesised name: state is the 3rd field, utime the 14th.
        let rest = stat.rsplit_once(')').context("a task stat line")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 = fields[11].parse::<f64>()? + fields[12].parse::<f64>()?;
        return Ok(ticks / 100.0);
    }
    anyhow::bail!("no thread named {name}")
}
