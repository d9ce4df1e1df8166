//! The load generator: N simulated agents against the release server in a child process.
//!
//! Phases, each printed as a row: enrollment of every agent; each agent's first full
//! inventory; the check-in mix at a fixed rate (open loop) while a technician's pages are
//! timed; the most the server takes (closed loop); a burst well past that, to show 503s
//! with Retry-After and that every report is still stored in the end; the `/healthz` and
//! raw SQLite ceilings. Then the server's peak RSS, the database size, and a check that
//! every acknowledged report is in the database.
//!
//! Agents' credentials and chains are kept in `<data-dir>/loadgen-agents.tsv`, so a second
//! run on the same directory skips enrollment and first reports.

pub mod ceiling;
pub mod drive;
pub mod fleet;
pub mod server;
mod state;
mod summary;

use drive::{Ctx, Mix, Probe};
use fleet::Agent;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use summary::{Row, Summary};

/// What to run; see `loadgen --help`.
#[derive(Debug, Clone)]
pub struct Options {
    pub server_bin: PathBuf,
    pub data_dir: PathBuf,
    pub agents: usize,
    pub clients: usize,
    /// Clients sending whole inventories (first and repeated full reports).
    pub inventory_clients: usize,
    pub rate: f64,
    pub duration: Duration,
    pub max_in_flight: usize,
    pub mix: Mix,
    /// Offered rate of the overload burst, as a multiple of the measured maximum.
    pub overload_factor: f64,
    pub overload_duration: Duration,
    pub write_queue_limit: Option<usize>,
    /// Draw and encode first inventories while sending them, on the server's cores,
    /// instead of beforehand.
    pub draw_while_sending: bool,
}

pub async fn run(o: Options) -> anyhow::Result<()> {
    steward_server::install_crypto_provider();
    std::fs::create_dir_all(&o.data_dir)?;
    let mut state = state::State::load_or_create(&o)?;
    let mut env = Vec::new();
    if let Some(limit) = o.write_queue_limit {
        env.push(("STEWARD_DATABASE__WRITE_QUEUE_LIMIT", limit.to_string()));
    }
    eprintln!(
        "starting {} on {}",
        o.server_bin.display(),
        o.data_dir.display()
    );
    let srv = server::Server::start(&o.server_bin, &o.data_dir, &env).await?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(o.max_in_flight)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut sum = Summary::new(&o);
    sum.db_start = server::database_bytes(&o.data_dir);

    // 1. Enrollment.
    let missing = o.agents.saturating_sub(state.agents.len());
    if missing > 0 {
        eprintln!("enrolling {missing} agents with {} clients", o.clients);
        let (added, tally, wall) = state::enroll(
            &http,
            &srv.base,
            &state.enrollment_token,
            state.agents.len(),
            missing,
            o.clients,
        )
        .await;
        state.agents.extend(added);
        state.save(&o.data_dir)?;
        sum.rows
            .push(Row::from_tally("enrollment (new agent)", &tally, wall));
    }
    let agents: Arc<Vec<Agent>> = Arc::new(std::mem::take(&mut state.agents));
    let ctx = Ctx {
        http: http.clone(),
        base: srv.base.clone(),
        agents: agents.clone(),
    };

    // 2. First full inventories (new assets).
    let pending: Vec<usize> = agents
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.has_full.load(Ordering::Acquire))
        .map(|(i, _)| i)
        .rev()
        .collect();
    if !pending.is_empty() {
        eprintln!(
            "first full inventories of {} agents with {} clients",
            pending.len(),
            o.inventory_clients
        );
        let fulls = if o.draw_while_sending {
            drive::Fulls::Draw(pending)
        } else {
            let agents = agents.clone();
            let started = std::time::Instant::now();
            let cpu = server::proc_stats("self").cpu_secs;
            let reports =
                tokio::task::spawn_blocking(move || drive::prepare_full(&agents, &pending)).await?;
            sum.prepared = Some(summary::Prepared {
                reports: reports.len(),
                bytes: reports.iter().map(|(_, r)| r.body.len() as u64).sum(),
                secs: started.elapsed().as_secs_f64(),
                cpu_secs: server::proc_stats("self").cpu_secs - cpu,
            });
            drive::Fulls::Prepared(reports)
        };
        let probe = Probe::start(
            http.clone(),
            srv.base.clone(),
            state.tech_token.clone(),
            Duration::from_millis(200),
        );
        let before = summary::Writer::scrape(&http, &srv.base).await;
        let cpu = (srv.stats().cpu_secs, server::proc_stats("self").cpu_secs);
        let (tally, wall) =
            drive::full_reports(&ctx, fulls, o.inventory_clients, "first inventories").await;
        sum.first_cpu = Some(summary::FirstCpu {
            inventories: tally.latencies.len(),
            server_secs: srv.stats().cpu_secs - cpu.0,
            client_secs: server::proc_stats("self").cpu_secs - cpu.1,
        });
        let after = summary::Writer::scrape(&http, &srv.base).await;
        sum.first_per_commit =
            (after.jobs - before.jobs) / (after.batches - before.batches).max(1.0);
        sum.probe("first inventories", probe.finish().await);
        sum.rows.push(Row::from_tally(
            "first full inventory (new asset)",
            &tally,
            wall,
        ));
        state::save_agents(&o.data_dir, &state, &agents)?;
    }
    sum.db_after_first = server::database_bytes(&o.data_dir);

    // 3. Full inventories of known machines (the server asked, or an agent lost its state).
    let sample: Vec<usize> = (0..agents.len())
        .step_by((agents.len() / 2_000).max(1))
        .collect();
    eprintln!("full re-reports of {} known machines", sample.len());
    let fulls = if o.draw_while_sending {
        drive::Fulls::Draw(sample)
    } else {
        let agents = agents.clone();
        drive::Fulls::Prepared(
            tokio::task::spawn_blocking(move || drive::prepare_full(&agents, &sample)).await?,
        )
    };
    let (tally, wall) =
        drive::full_reports(&ctx, fulls, o.inventory_clients, "full re-reports").await;
    sum.rows.push(Row::from_tally(
        "full inventory (known asset)",
        &tally,
        wall,
    ));

    // 4. The check-in mix at the configured rate.
    let cpu_before = srv.stats().cpu_secs;
    let db_before = server::database_bytes(&o.data_dir);
    eprintln!("check-in mix at {}/s for {:?}", o.rate, o.duration);
    let probe = Probe::start(
        http.clone(),
        srv.base.clone(),
        state.tech_token.clone(),
        Duration::from_millis(100),
    );
    let (tally, wall) = drive::open_loop(&ctx, o.mix, o.rate, o.duration, o.max_in_flight).await;
    sum.probe("check-in mix", probe.finish().await);
    sum.mix_cpu_secs = srv.stats().cpu_secs - cpu_before;
    sum.mix_db_growth = server::database_bytes(&o.data_dir).saturating_sub(db_before);
    sum.mix_acknowledged = tally.acknowledged();
    sum.rows.push(Row::from_tally(
        &format!("check-in mix at {}/s (open loop)", o.rate),
        &tally,
        wall,
    ));

    // 5. The most it takes.
    eprintln!("check-in mix, {} clients as fast as answered", o.clients);
    let (tally, wall) =
        drive::closed_loop(&ctx, o.mix, o.clients, Duration::from_secs(20), None).await;
    let max_rate = tally.acknowledged() as f64 / wall.as_secs_f64();
    sum.max_rate = max_rate;
    sum.rows.push(Row::from_tally(
        "check-in mix, maximum (closed loop)",
        &tally,
        wall,
    ));

    // 6. Overload: offered well past the maximum.
    let offered = (max_rate * o.overload_factor).max(100.0);
    eprintln!(
        "overload burst at {offered:.0}/s for {:?}",
        o.overload_duration
    );
    let probe = Probe::start(
        http.clone(),
        srv.base.clone(),
        state.tech_token.clone(),
        Duration::from_millis(100),
    );
    let (tally, wall) = drive::open_loop(
        &ctx,
        o.mix,
        offered,
        o.overload_duration,
        o.max_in_flight * 8,
    )
    .await;
    sum.probe("overload burst", probe.finish().await);
    sum.rows.push(Row::from_tally(
        &format!("overload at {offered:.0}/s offered"),
        &tally,
        wall,
    ));
    sum.overload_busy = tally.busy;

    // 7. Ceilings.
    eprintln!("ceilings: /healthz and raw SQLite");
    let (rate, times) =
        ceiling::healthz(&http, &srv.base, o.clients, Duration::from_secs(10)).await;
    sum.healthz_rate = rate;
    sum.rows.push(Row::from_latencies(
        "/healthz (ceiling)",
        times,
        Duration::from_secs(10),
        0,
        0,
    ));
    sum.writer = summary::Writer::scrape(&http, &srv.base).await;
    sum.server = srv.stats();
    sum.db_end = server::database_bytes(&o.data_dir);
    sum.wal_end = server::wal_bytes(&o.data_dir);
    srv.stop()?;
    sum.raw = Some(ceiling::raw_sqlite(
        &o.data_dir,
        agents.len() as u64,
        Duration::from_secs(5),
    )?);

    // 8. Nothing acknowledged is missing.
    sum.lost = state::lost_reports(&o.data_dir, &agents)?;
    state::save_agents(&o.data_dir, &state, &agents)?;
    sum.print();
    Ok(())
}

/// Agents and clients as a compact label, e.g. `100,000 agents, 64 clients`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
