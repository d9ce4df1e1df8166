//! Crash safety: the real `steward-server` binary on a real SQLite file is killed with
//! SIGKILL at seeded-random points while real agents (the agent's own report queue, spool
//! and HTTP client) report to it from several tasks at once, and restarted on the same
//! data directory. After every kill, every report that was acknowledged (HTTP 2xx) is in
//! the database and `PRAGMA integrity_check` says ok.
//!
//! Kill points are counted in acknowledged reports, not in time, and every wait is for a
//! real event (the server's "running at" line, an acknowledgement, every agent having
//! noticed the server is gone), so the test is deterministic in what it checks and takes
//! a few seconds. `STEWARD_CRASH_SEED=<n>` replays another sequence of kill points.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

use rusqlite::{Connection, OpenFlags};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use steward_agent::client::{Client, ClientError};
use steward_agent::config::AgentConfig;
use steward_agent::report::{ReportQueue, SpoolLimits};
use steward_agent::run::RunError;
use steward_agent::state::Credentials;
use steward_shared::{Health, Inventory, Software};
use tokio::sync::watch;

mod common;
use common::{DEADLINE, binary, start};

const AGENTS: usize = 4;
const DEFAULT_SEED: u64 = 0x5eed_c4a5;

/// SplitMix64: a tiny seeded generator, so the kill points replay exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `lo..=hi`.
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// One acknowledged report: which agent, its sequence number, and the package it added.
#[derive(Debug, Clone)]
struct Ack {
    agent: usize,
    seq: u64,
    package: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    acked: usize,
    /// Agents waiting for the server to come back.
    blocked: usize,
}

struct Shared {
    acks: Mutex<Vec<Ack>>,
    counts: watch::Sender<Counts>,
    /// The generation (0, 1, ...) of the running server and its URL.
    server: watch::Sender<(u64, String)>,
    /// The generation most recently killed, set just before the kill.
    killed: Mutex<Option<u64>>,
    stop: std::sync::atomic::AtomicBool,
}

fn inventory(agent: usize) -> Inventory {
    let mut inv = Inventory {
        hostname: format!("crash-pc-{agent}"),
        agent_version: "crash-test".into(),
        ..Default::default()
    };
    inv.hardware.uuid = format!("c4a5e000-0000-0000-0000-{agent:012}");
    inv.hardware.vendor = "Test Vendor".into();
    inv.os.name = "Debian GNU/Linux".into();
    inv.memory.total_bytes = 8 << 30;
    inv
}

fn package(agent: usize, n: u64) -> String {
    format!("crash-a{agent}-p{n:05}")
}

/// One agent: produce a report that adds a package, deliver the spool (one report at a
/// time, so each acknowledgement is recorded the moment it arrives), and when the server
/// is gone wait for the next one.
async fn agent(i: usize, state_dir: PathBuf, shared: Arc<Shared>) {
    let creds = Credentials::load(&state_dir).unwrap().unwrap();
    let mut queue = ReportQueue::open(&state_dir, SpoolLimits::default()).unwrap();
    let mut inv = inventory(i);
    let mut packages: BTreeMap<u64, String> = BTreeMap::new();
    let mut n = 0u64;
    let mut server_rx = shared.server.subscribe();
    loop {
        if queue.pending().is_empty() {
            if shared.stop.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            n += 1;
            let name = package(i, n);
            inv.software.push(Software {
                name: name.clone(),
                version: "1.0".into(),
                arch: "amd64".into(),
                source: "dpkg".into(),
                ..Default::default()
            });
            let produced = queue
                .produce(inv.clone(), Health::default(), 1_800_000_000 + n as i64)
                .unwrap();
            packages.insert(produced.seq, name);
        }
        let (generation, url) = server_rx.borrow_and_update().clone();
        let client = Client::new(&url, None, Duration::from_secs(30)).unwrap();
        match queue.deliver(&client, &creds).await {
            Ok(d) => {
                assert!(
                    !d.full_requested && d.dropped == 0,
                    "agent {i}: the server lost its place in the report chain: {d:?}"
                );
                let mut acks = shared.acks.lock().unwrap();
                for seq in &d.delivered {
                    acks.push(Ack {
                        agent: i,
                        seq: *seq,
                        package: packages[seq].clone(),
                    });
                }
                let acked = acks.len();
                drop(acks);
                shared.counts.send_modify(|c| c.acked = acked);
            }
            Err(e) => {
                assert!(
                    matches!(&e, RunError::Client(ClientError::Transport(_))),
                    "agent {i}: unexpected error: {e}"
                );
                assert_eq!(
                    *shared.killed.lock().unwrap(),
                    Some(generation),
                    "agent {i}: delivery failed while the server was up: {e}"
                );
                shared.counts.send_modify(|c| c.blocked += 1);
                tokio::time::timeout(DEADLINE, server_rx.wait_for(|(g, _)| *g > generation))
                    .await
                    .expect("the server never came back")
                    .unwrap();
                shared.counts.send_modify(|c| c.blocked -= 1);
            }
        }
    }
}

/// Opens the database of a stopped server read-only, checks its integrity and that every
/// acknowledged report is in it; returns how many were checked.
fn check(db: &Path, acks: &[Ack], agent_ids: &[String], when: &str) -> usize {
    let c = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "integrity_check {when}");
    let mut lost = Vec::new();
    for (i, id) in agent_ids.iter().enumerate() {
        let (last_seq, asset): (i64, Option<i64>) = c
            .query_row(
                "SELECT last_seq, asset_id FROM agents WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let stored: BTreeSet<String> = match asset {
            None => BTreeSet::new(),
            Some(asset) => {
                let mut st = c
                    .prepare("SELECT name FROM asset_software WHERE asset_id = ?1")
                    .unwrap();
                st.query_map([asset], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
        };
        for a in acks.iter().filter(|a| a.agent == i) {
            if a.seq as i64 > last_seq || !stored.contains(&a.package) {
                lost.push(format!(
                    "agent {i} seq {} ({}; stored last_seq {last_seq})",
                    a.seq, a.package
                ));
            }
        }
    }
    assert!(
        lost.is_empty(),
        "{} acknowledged reports are not in the database {when}: {lost:?}",
        lost.len()
    );
    acks.len()
}

/// Waits until `pred` holds for the counts.
async fn until(shared: &Shared, what: &str, pred: impl FnMut(&Counts) -> bool) {
    let mut rx = shared.counts.subscribe();
    let waited = tokio::time::timeout(DEADLINE, rx.wait_for(pred)).await;
    assert!(
        waited.is_ok(),
        "timed out waiting for {what}: {:?}",
        *shared.counts.borrow()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_reports_survive_sigkill_at_random_points() {
    let started = std::time::Instant::now();
    let seed = std::env::var("STEWARD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let db = data.join(steward_server::DB_FILE);

    // An enrollment token from the real CLI (which creates the database).
    let out = binary()
        .arg("--data-dir")
        .arg(&data)
        .args(["enrollment", "create", "--uses", &AGENTS.to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let mut server = start(&data);
    let mut state_dirs = Vec::new();
    let mut agent_ids = Vec::new();
    for i in 0..AGENTS {
        let state_dir = dir.path().join(format!("agent-{i}"));
        let config = AgentConfig {
            server_url: server.url.clone(),
            ..Default::default()
        };
        let creds = steward_agent::run::enroll(&config, &server.url, &token, &state_dir)
            .await
            .unwrap();
        agent_ids.push(creds.agent_id);
        state_dirs.push(state_dir);
    }

    let shared = Arc::new(Shared {
        acks: Mutex::new(Vec::new()),
        counts: watch::channel(Counts::default()).0,
        server: watch::channel((0, server.url.clone())).0,
        killed: Mutex::new(None),
        stop: false.into(),
    });
    let tasks: Vec<_> = state_dirs
        .into_iter()
        .enumerate()
        .map(|(i, d)| tokio::spawn(agent(i, d, shared.clone())))
        .collect();

    let kills = rng.between(8, 15);
    let mut checks = 0;
    for generation in 0..kills {
        // Kill after K more acknowledged reports.
        let k = rng.between(3, 40) as usize;
        let target = shared.counts.borrow().acked + k;
        until(&shared, "acknowledged reports", |c| c.acked >= target).await;
        *shared.killed.lock().unwrap() = Some(generation);
        server.kill();
        // Every agent has noticed (so every acknowledgement that arrived is recorded).
        until(&shared, "every agent to notice the kill", |c| {
            c.blocked == AGENTS
        })
        .await;
        let acks = shared.acks.lock().unwrap().clone();
        checks += check(
            &db,
            &acks,
            &agent_ids,
            &format!("after kill {}", generation + 1),
        );
        server = start(&data);
        shared
            .server
            .send_replace((generation + 1, server.url.clone()));
    }
    // Some more reports on the last server, then stop the agents and the server.
    let target = shared.counts.borrow().acked + AGENTS * 3;
    until(&shared, "acknowledged reports", |c| c.acked >= target).await;
    shared.stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for t in tasks {
        t.await.unwrap();
    }
    *shared.killed.lock().unwrap() = Some(kills);
    server.kill();
    let acks = shared.acks.lock().unwrap().clone();
    let total = check(&db, &acks, &agent_ids, "after the final stop");
    checks += total;
    println!(
        "seed {seed:#x}: kills survived: {kills}, acknowledged reports checked: {total} \
         ({checks} report checks after the kills and the final stop), lost: 0, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
