//! The printed result: one table row per phase, the technician's page times under load,
//! the ratios to the ceilings, memory, database size and growth, and the loss check.

use super::ceiling::RawSqlite;
use super::drive::Tally;
use super::server::ProcStats;
use super::{Options, thousands};
use std::time::Duration;

/// Check-ins per agent per month at the agent's default schedule (every 30 minutes).
const CHECKINS_PER_MONTH: f64 = 2.0 * 24.0 * 30.0;

/// The server's single writer, from `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Writer {
    pub jobs: f64,
    pub batches: f64,
    pub refused: f64,
    pub busy_secs: f64,
}

impl Writer {
    pub async fn scrape(http: &reqwest::Client, base: &str) -> Writer {
        let text = match http.get(format!("{base}/metrics")).send().await {
            Ok(r) => r.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        let get = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or(0.0)
        };
        Writer {
            jobs: get("steward_writer_jobs_total"),
            batches: get("steward_writer_batches_total"),
            refused: get("steward_writer_refused_total"),
            busy_secs: get("steward_writer_busy_seconds_total"),
        }
    }
}

pub struct Row {
    label: String,
    count: usize,
    rate: f64,
    sorted: Vec<Duration>,
    busy: usize,
    errors: usize,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

impl Row {
    pub fn from_latencies(
        label: &str,
        mut times: Vec<Duration>,
        wall: Duration,
        busy: usize,
        errors: usize,
    ) -> Row {
        times.sort_unstable();
        Row {
            label: label.to_owned(),
            count: times.len(),
            rate: times.len() as f64 / wall.as_secs_f64().max(1e-9),
            sorted: times,
            busy,
            errors,
        }
    }

    pub fn from_tally(label: &str, t: &Tally, wall: Duration) -> Row {
        for s in &t.shown {
            eprintln!("  {label}: {s}");
        }
        if t.skipped > 0 {
            eprintln!(
                "  {label}: {} reports not sent: the client had too many in flight",
                t.skipped
            );
        }
        if t.full_requested > 0 {
            eprintln!(
                "  {label}: {} replies asked for a full report",
                t.full_requested
            );
        }
        Row::from_latencies(label, t.latencies.clone(), wall, t.busy, t.errors)
    }
}

/// CPU seconds spent in the first-inventory phase, by the server and by the generator
/// (drawing each machine, JSON, gzip: what real agents do on their own machines).
#[derive(Debug, Clone, Copy)]
pub struct FirstCpu {
    pub inventories: usize,
    pub server_secs: f64,
    pub client_secs: f64,
}

/// First inventories encoded before the phase (`drive::prepare_full`).
#[derive(Debug, Clone, Copy)]
pub struct Prepared {
    pub reports: usize,
    pub bytes: u64,
    pub secs: f64,
    pub cpu_secs: f64,
}

pub struct Summary {
    agents: usize,
    clients: usize,
    inventory_clients: usize,
    pub rows: Vec<Row>,
    probes: Vec<(String, Vec<Duration>, usize)>,
    pub mix_cpu_secs: f64,
    pub mix_acknowledged: usize,
    pub mix_db_growth: u64,
    pub max_rate: f64,
    pub overload_busy: usize,
    pub healthz_rate: f64,
    pub raw: Option<RawSqlite>,
    pub server: ProcStats,
    pub db_start: u64,
    pub db_after_first: u64,
    pub db_end: u64,
    pub wal_end: u64,
    pub lost: usize,
    pub writer: Writer,
    /// Inventories per transaction in the first-inventory phase.
    pub first_per_commit: f64,
    /// CPU the server and this generator used in the first-inventory phase.
    pub first_cpu: Option<FirstCpu>,
    pub prepared: Option<Prepared>,
    rate_target: f64,
}

impl Summary {
    pub fn new(o: &Options) -> Summary {
        Summary {
            agents: o.agents,
            clients: o.clients,
            inventory_clients: o.inventory_clients,
            rows: Vec::new(),
            probes: Vec::new(),
            mix_cpu_secs: 0.0,
            first_cpu: None,
            prepared: None,
            mix_acknowledged: 0,
            mix_db_growth: 0,
            max_rate: 0.0,
            overload_busy: 0,
            healthz_rate: 0.0,
            raw: None,
            server: ProcStats::default(),
            db_start: 0,
            db_after_first: 0,
            db_end: 0,
            wal_end: 0,
            lost: 0,
            writer: Writer::default(),
            first_per_commit: 0.0,
            rate_target: o.rate,
        }
    }

    pub fn probe(&mut self, phase: &str, (times, errors): (Vec<Duration>, usize)) {
        let mut times = times;
        times.sort_unstable();
        self.probes.push((phase.to_owned(), times, errors));
    }

    pub fn print(&self) {
        println!(
            "\n## loadgen: {} agents, {} clients ({} for whole inventories), release server on this machine ({} cores)\n",
            thousands(self.agents as u64),
            self.clients,
            self.inventory_clients,
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!(
            "| phase | acknowledged | per second | p50 ms | p95 ms | p99 ms | max ms | 503 busy | errors |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &self.rows {
            println!(
                "| {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} |",
                r.label,
                thousands(r.count as u64),
                r.rate,
                pct(&r.sorted, 50.0),
                pct(&r.sorted, 95.0),
                pct(&r.sorted, 99.0),
                pct(&r.sorted, 100.0),
                r.busy,
                r.errors
            );
        }
        println!(
            "\nA technician's pages meanwhile (/assets, /, and the asset and ticket API lists):\n"
        );
        println!("| during | requests | p50 ms | p95 ms | max ms | errors |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (phase, t, e) in &self.probes {
            println!(
                "| {phase} | {} | {:.2} | {:.2} | {:.2} | {e} |",
                t.len(),
                pct(t, 50.0),
                pct(t, 95.0),
                pct(t, 100.0)
            );
        }
        let mb = |b: u64| b as f64 / 1_048_576.0;
        println!();
        println!(
            "- check-ins/s sustained at the target: {:.0} offered, p99 {:.2} ms (target 2,000/s, p99 < 100 ms)",
            self.rate_target,
            self.rows
                .iter()
                .find(|r| r.label.contains("open loop"))
                .map_or(0.0, |r| pct(&r.sorted, 99.0))
        );
        println!(
            "- maximum check-ins/s: {:.0}; /healthz ceiling {:.0}/s: ratio {:.2}",
            self.max_rate,
            self.healthz_rate,
            self.max_rate / self.healthz_rate.max(1e-9)
        );
        if let Some(raw) = self.raw {
            println!(
                "- raw SQLite, one heartbeat's rows: {:.0}/s one commit each, {:.0}/s 64 per commit: ratio {:.2} and {:.2}",
                raw.per_commit,
                raw.batched,
                self.max_rate / raw.per_commit.max(1e-9),
                self.max_rate / raw.batched.max(1e-9)
            );
        }
        if let Some(p) = self.prepared.filter(|p| p.reports > 0) {
            println!(
                "- first inventories were drawn, encoded and gzipped before the clock started, as agents do on their own machines: {} reports, {:.1} KB each on the wire, {:.2} ms of CPU each, {:.0} s in all",
                thousands(p.reports as u64),
                p.bytes as f64 / p.reports as f64 / 1024.0,
                p.cpu_secs * 1e3 / p.reports as f64,
                p.secs
            );
        }
        if let Some(f) = self.first_cpu.filter(|f| f.inventories > 0) {
            let ms = |secs: f64| secs * 1e3 / f.inventories as f64;
            let client = if self.prepared.is_some() {
                "sending them"
            } else {
                "drawing, JSON and gzip, which agents do on their own machines"
            };
            println!(
                "- first inventories: the server used {:.2} ms of CPU each (HTTP, gzip, JSON and the writer; {:.0}/s per core), the load generator {:.2} ms each on the same cores ({client})",
                ms(f.server_secs),
                1e3 / ms(f.server_secs).max(1e-9),
                ms(f.client_secs)
            );
        }
        if self.mix_acknowledged > 0 {
            let per_1000 = self.mix_cpu_secs * 1000.0 / self.mix_acknowledged as f64;
            // The fleet's own rate: every agent once per 30 minutes.
            let fleet_rate = self.agents as f64 / 1_800.0;
            println!(
                "- server CPU in the mix: {:.2} s per 1,000 check-ins; this fleet at 30-minute check-ins sends {:.0}/s, {:.1}% of one core",
                per_1000,
                fleet_rate,
                fleet_rate * per_1000 / 1000.0 * 100.0
            );
            let per_checkin = self.mix_db_growth as f64 / self.mix_acknowledged as f64;
            println!(
                "- database growth in the mix: {:.0} bytes per check-in = {:.1} MB per agent per month at 30-minute check-ins (before retention)",
                per_checkin,
                per_checkin * CHECKINS_PER_MONTH / 1_048_576.0
            );
        }
        println!(
            "- server RSS: peak {:.1} MB, at the end {:.1} MB (target: peak < 300 MB); CPU {:.1} s in all",
            self.server.hwm_kib as f64 / 1024.0,
            self.server.rss_kib as f64 / 1024.0,
            self.server.cpu_secs
        );
        println!(
            "- database: {:.1} MB at start, {:.1} MB after first inventories ({:.1} KB per agent), {:.1} MB at the end, WAL file {:.1} MB",
            mb(self.db_start),
            mb(self.db_after_first),
            self.db_after_first as f64 / 1024.0 / self.agents.max(1) as f64,
            mb(self.db_end),
            mb(self.wal_end)
        );
        let w = self.writer;
        println!(
            "- the single writer: {} writes in {} transactions ({:.1} per commit on average; first inventories {:.1} per commit), busy {:.0} s; {} reports refused with 503",
            thousands(w.jobs as u64),
            thousands(w.batches as u64),
            w.jobs / w.batches.max(1.0),
            self.first_per_commit,
            w.busy_secs,
            thousands(w.refused as u64)
        );
        println!(
            "- overload: {} replies were 503 with Retry-After; acknowledged reports missing from the database: {}",
            self.overload_busy, self.lost
        );
    }
}
