//! Sending reports over real HTTP: one check-in as the agent sends it (a 503 is retried
//! after its `Retry-After`, as the agent does), an open-loop phase at a fixed rate
//! (latency counted from when each report was due, so a slow server cannot hide its
//! queue), a closed-loop phase with a fixed number of clients, and a probe that times
//! what a technician's browser asks for meanwhile.

use super::fleet::{self, Agent, Fleet, Kind};
use crate::rng::Rng;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use steward_shared::{AgentCommand, CHECKIN_PATH, CheckinResponse};

/// Error replies printed in full; the rest are only counted.
const SHOWN_ERRORS: usize = 5;

/// What one phase saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latency of each acknowledged report.
    pub latencies: Vec<Duration>,
    pub by_kind: [usize; 3],
    /// 503 replies (each was retried).
    pub busy: usize,
    pub errors: usize,
    /// Reports due while the client had too many in flight (not sent).
    pub skipped: usize,
    /// Replies asking for a full report.
    pub full_requested: usize,
    pub shown: Vec<String>,
}

impl Tally {
    pub fn merge(&mut self, o: Tally) {
        self.latencies.extend(o.latencies);
        for (a, b) in self.by_kind.iter_mut().zip(o.by_kind) {
            *a += b;
        }
        self.busy += o.busy;
        self.errors += o.errors;
        self.skipped += o.skipped;
        self.full_requested += o.full_requested;
        for s in o.shown {
            if self.shown.len() < SHOWN_ERRORS {
                self.shown.push(s);
            }
        }
    }

    fn error(&mut self, text: String) {
        self.errors += 1;
        if self.shown.len() < SHOWN_ERRORS {
            self.shown.push(text);
        }
    }

    pub fn acknowledged(&self) -> usize {
        self.latencies.len()
    }
}

/// Everything a sender needs.
#[derive(Clone)]
pub struct Ctx {
    pub http: reqwest::Client,
    pub base: String,
    pub agents: Arc<Vec<Agent>>,
}

fn kind_index(k: Kind) -> usize {
    match k {
        Kind::Heartbeat => 0,
        Kind::Delta => 1,
        Kind::Full => 2,
    }
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A report as the agent sends it: JSON, gzipped when large.
pub struct Encoded {
    pub seq: u64,
    pub body: Vec<u8>,
    pub gzip: bool,
}

/// The next report of `agent` of `kind` (a full one while the server has none), encoded.
pub fn encode(fleet: &mut Fleet, agent: &Agent, kind: Kind) -> (Kind, Encoded) {
    let kind = if agent.has_full.load(Ordering::Acquire) {
        kind
    } else {
        Kind::Full
    };
    let req = fleet::report(fleet, agent, kind, now_secs());
    let (body, gzip) = steward_agent::report::wire::encode(&req);
    (
        kind,
        Encoded {
            seq: req.seq,
            body,
            gzip,
        },
    )
}

/// The next full report of every agent in `indexes`, encoded on all cores before a phase
/// sends them: agents draw, encode and compress their reports on their own machines, so
/// the load generator does not take that CPU from the server while the clock runs.
pub fn prepare_full(agents: &[Agent], indexes: &[usize]) -> Vec<(usize, Encoded)> {
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let per = indexes.len().div_ceil(threads).max(1);
    let done = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        let workers: Vec<_> = indexes
            .chunks(per)
            .map(|chunk| {
                let done = &done;
                s.spawn(move || {
                    let mut fleet = Fleet::default();
                    let mut out = Vec::with_capacity(chunk.len());
                    for &i in chunk {
                        let agent = &agents[i];
                        agent.has_full.store(false, Ordering::Release);
                        out.push((i, encode(&mut fleet, agent, Kind::Full).1));
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(10_000) {
                            eprint!(
                                "\rpreparing full reports: {n}/{} ({:.0}/s)   ",
                                indexes.len(),
                                n as f64 / started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    out
                })
            })
            .collect();
        let mut all = Vec::with_capacity(indexes.len());
        for w in workers {
            all.extend(w.join().unwrap_or_default());
        }
        eprintln!();
        all
    })
}

/// Sends one report of `agent` (claimed by the caller), retrying 503s after their
/// `Retry-After`. Latency runs from `due` to the acknowledgement.
async fn deliver(
    ctx: &Ctx,
    fleet: &mut Fleet,
    agent: &Agent,
    kind: Kind,
    due: Instant,
    t: &mut Tally,
) {
    let (kind, report) = encode(fleet, agent, kind);
    send(ctx, agent, kind, report, due, t).await;
}

/// Sends `report` of `agent` of `kind`, retrying 503s after their `Retry-After`.
async fn send(ctx: &Ctx, agent: &Agent, kind: Kind, report: Encoded, due: Instant, t: &mut Tally) {
    let Encoded { seq, body, gzip } = report;
    let mut rng = Rng::new(seq ^ agent.index);
    let mut started = due;
    loop {
        let mut r = ctx
            .http
            .post(format!("{}{CHECKIN_PATH}", ctx.base))
            .header(AUTHORIZATION, agent.bearer())
            .header(CONTENT_TYPE, "application/json")
            .body(body.clone());
        if gzip {
            r = r.header(CONTENT_ENCODING, "gzip");
        }
        let resp = match r.send().await {
            Ok(resp) => resp,
            Err(e) => return t.error(format!("request failed: {e}")),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let bytes = resp.bytes().await.unwrap_or_default();
        if status.as_u16() == 503 {
            // As the agent does: wait what the server asked, spread by up to half again.
            t.busy += 1;
            let wait = Duration::from_secs(retry_after.unwrap_or(5));
            let spread = rng.below(wait.as_millis() as u64 / 2 + 1);
            tokio::time::sleep(wait + Duration::from_millis(spread)).await;
            started = Instant::now();
            continue;
        }
        if !status.is_success() {
            return t.error(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
        let took = started.elapsed();
        match serde_json::from_slice::<CheckinResponse>(&bytes) {
            Ok(reply) => {
                if reply.commands.contains(&AgentCommand::SendFullReport) {
                    t.full_requested += 1;
                    agent.has_full.store(false, Ordering::Release);
                } else {
                    agent.has_full.store(true, Ordering::Release);
                    agent.acked.fetch_max(seq, Ordering::AcqRel);
                }
                t.latencies.push(took);
                t.by_kind[kind_index(kind)] += 1;
            }
            Err(e) => t.error(format!("unexpected reply: {e}")),
        }
        return;
    }
}

/// The share of each kind of report in the mix, in per mille.
#[derive(Debug, Clone, Copy)]
pub struct Mix {
    pub full_per_mille: u64,
    pub delta_per_mille: u64,
}

impl Mix {
    fn pick(&self, rng: &mut Rng) -> Kind {
        let r = rng.below(1000);
        if r < self.full_per_mille {
            Kind::Full
        } else if r < self.full_per_mille + self.delta_per_mille {
            Kind::Delta
        } else {
            Kind::Heartbeat
        }
    }
}

/// Hands out agents in a shuffled cycle, skipping any with a report in flight.
struct Picker {
    order: Vec<u32>,
    next: AtomicUsize,
}

impl Picker {
    fn new(n: usize, seed: u64) -> Picker {
        let mut order: Vec<u32> = (0..n as u32).collect();
        let mut rng = Rng::new(seed);
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i as u64 + 1) as usize);
        }
        Picker {
            order,
            next: AtomicUsize::new(0),
        }
    }

    /// The position of an agent now claimed, if one is free.
    fn claim(&self, agents: &[Agent]) -> Option<usize> {
        for _ in 0..self.order.len().min(10_000) {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.order.len();
            let at = self.order[i] as usize;
            if agents[at].claim() {
                return Some(at);
            }
        }
        None
    }
}

/// Open loop: `rate` reports per second for `duration`, at most `max_in_flight` at once.
pub async fn open_loop(
    ctx: &Ctx,
    mix: Mix,
    rate: f64,
    duration: Duration,
    max_in_flight: usize,
) -> (Tally, Duration) {
    let picker = Arc::new(Picker::new(ctx.agents.len(), 7));
    let total = (rate * duration.as_secs_f64()) as u64;
    let in_flight = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let mut rng = Rng::new(11);
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..total {
        let due = start + Duration::from_secs_f64(k as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Acquire) >= max_in_flight {
            lock(&tally).skipped += 1;
            continue;
        }
        let Some(index) = picker.claim(&ctx.agents) else {
            lock(&tally).skipped += 1;
            continue;
        };
        let kind = mix.pick(&mut rng);
        let (ctx, in_flight, tally) = (ctx.clone(), in_flight.clone(), tally.clone());
        in_flight.fetch_add(1, Ordering::AcqRel);
        tasks.spawn(async move {
            let agent = &ctx.agents[index];
            let mut t = Tally::default();
            deliver(&ctx, &mut Fleet::default(), agent, kind, due, &mut t).await;
            agent.release();
            in_flight.fetch_sub(1, Ordering::AcqRel);
            lock(&tally).merge(t);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let wall = start.elapsed();
    let t = std::mem::take(&mut *lock(&tally));
    (t, wall)
}

/// Closed loop: `clients` senders, each sending the next report as soon as the last
/// was answered, for `duration` or until `limit` reports (when set) were sent.
pub async fn closed_loop(
    ctx: &Ctx,
    mix: Mix,
    clients: usize,
    duration: Duration,
    only: Option<Kind>,
) -> (Tally, Duration) {
    let picker = Arc::new(Picker::new(ctx.agents.len(), 13));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (ctx, picker) = (ctx.clone(), picker.clone());
        tasks.spawn(async move {
            let mut t = Tally::default();
            let mut fleet = Fleet::default();
            let mut rng = Rng::new(100 + c as u64);
            while start.elapsed() < duration {
                let Some(at) = picker.claim(&ctx.agents) else {
                    break;
                };
                let agent = &ctx.agents[at];
                let kind = only.unwrap_or_else(|| mix.pick(&mut rng));
                deliver(&ctx, &mut fleet, agent, kind, Instant::now(), &mut t).await;
                agent.release();
            }
            t
        });
    }
    let mut tally = Tally::default();
    while let Some(t) = tasks.join_next().await {
        tally.merge(t.unwrap_or_default());
    }
    (tally, start.elapsed())
}

/// What a full-report phase sends: agents whose reports are drawn as they go, or reports
/// encoded beforehand ([`prepare_full`]).
pub enum Fulls {
    Draw(Vec<usize>),
    Prepared(Vec<(usize, Encoded)>),
}

/// Every agent in `fulls` sends a full report once: `clients` senders.
pub async fn full_reports(
    ctx: &Ctx,
    fulls: Fulls,
    clients: usize,
    progress: &str,
) -> (Tally, Duration) {
    let items: Vec<(usize, Option<Encoded>)> = match fulls {
        Fulls::Draw(indexes) => indexes.into_iter().map(|i| (i, None)).collect(),
        Fulls::Prepared(reports) => reports.into_iter().map(|(i, r)| (i, Some(r))).collect(),
    };
    let queue = Arc::new(Mutex::new(items));
    let total = lock(&queue).len();
    let start = Instant::now();
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (ctx, queue, done) = (ctx.clone(), queue.clone(), done.clone());
        tasks.spawn(async move {
            let mut t = Tally::default();
            let mut fleet = Fleet::default();
            loop {
                let Some((i, prepared)) = lock(&queue).pop() else {
                    break;
                };
                let agent = &ctx.agents[i];
                if !agent.claim() {
                    continue;
                }
                agent.has_full.store(false, Ordering::Release);
                match prepared {
                    Some(report) => {
                        send(&ctx, agent, Kind::Full, report, Instant::now(), &mut t).await
                    }
                    None => {
                        deliver(&ctx, &mut fleet, agent, Kind::Full, Instant::now(), &mut t).await
                    }
                }
                agent.release();
                done.fetch_add(1, Ordering::Relaxed);
            }
            t
        });
    }
    let reporter = progress_task(progress.to_owned(), done, total, start);
    let mut tally = Tally::default();
    while let Some(t) = tasks.join_next().await {
        tally.merge(t.unwrap_or_default());
    }
    reporter.abort();
    eprintln!();
    (tally, start.elapsed())
}

/// Prints `label: done/total (rate/s)` to stderr every few seconds.
pub fn progress_task(
    label: String,
    done: Arc<AtomicUsize>,
    total: usize,
    start: Instant,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let n = done.load(Ordering::Relaxed);
            let rate = n as f64 / start.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r  {label}: {n}/{total} ({rate:.0}/s)        ");
        }
    })
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Times what a technician's browser requests (the asset list page and the API list
/// behind it) every `every` until stopped; returns the latencies.
pub struct Probe {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<(Vec<Duration>, usize)>,
}

impl Probe {
    pub fn start(http: reqwest::Client, base: String, token: String, every: Duration) -> Probe {
        let stop = tokio_util::sync::CancellationToken::new();
        let s = stop.clone();
        let paths = [
            "/assets",
            "/api/v1/assets?limit=50",
            "/",
            "/api/v1/tickets?limit=50",
        ];
        let task = tokio::spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0);
            let mut i = 0usize;
            while !s.is_cancelled() {
                let started = Instant::now();
                let path = paths[i % paths.len()];
                i += 1;
                let r = http
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        times.push(started.elapsed());
                    }
                    _ => errors += 1,
                }
                tokio::select! {
                    () = s.cancelled() => break,
                    () = tokio::time::sleep(every) => {}
                }
            }
            (times, errors)
        });
        Probe { stop, task }
    }

    pub async fn finish(self) -> (Vec<Duration>, usize) {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}
