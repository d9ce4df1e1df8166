//! The load generator's own records: the enrollment and technician tokens and, per agent,
//! its credentials and where its chain stands, in `<data-dir>/loadgen.tsv`. Also the
//! enrollment phase and the final check that nothing acknowledged is missing.

use super::Options;
use super::drive::{Tally, lock, progress_task};
use super::fleet::Agent;
use super::server;
use anyhow::{Context, bail};
use reqwest::header::CONTENT_TYPE;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use steward_shared::{ENROLL_PATH, EnrollRequest, EnrollResponse};

const FILE: &str = "loadgen.tsv";

pub struct State {
    pub enrollment_token: String,
    pub tech_token: String,
    pub agents: Vec<Agent>,
}

impl State {
    /// Reads the records of an earlier run, or sets up a new database: a technician and
    /// an enrollment token for `o.agents` machines.
    pub fn load_or_create(o: &Options) -> anyhow::Result<State> {
        let path = o.data_dir.join(FILE);
        if let Ok(text) = std::fs::read_to_string(&path) {
            return parse(&text).with_context(|| format!("cannot read {}", path.display()));
        }
        if o.data_dir.join("steward.db").exists() {
            bail!(
                "{} holds a database but no {FILE}; point --data-dir at an empty directory",
                o.data_dir.display()
            );
        }
        eprintln!("setting up a new database in {}", o.data_dir.display());
        let bin = &o.server_bin;
        let tech_token = server::technician_token(bin, &o.data_dir)?;
        let uses = o.agents.clamp(1, 1_000_000).to_string();
        let enrollment_token = server::cli(
            bin,
            &o.data_dir,
            &["enrollment", "create", "--uses", &uses],
            &[],
        )?;
        let state = State {
            enrollment_token,
            tech_token,
            agents: Vec::new(),
        };
        state.save(&o.data_dir)?;
        Ok(state)
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        write(dir, self, &self.agents)
    }
}

/// Saves the records with `agents` (held apart from `state` while the phases run).
pub fn save_agents(dir: &Path, state: &State, agents: &[Agent]) -> anyhow::Result<()> {
    write(dir, state, agents)
}

fn write(dir: &Path, state: &State, agents: &[Agent]) -> anyhow::Result<()> {
    use std::fmt::Write as _;
    let mut out = format!("tokens\t{}\t{}\n", state.enrollment_token, state.tech_token);
    for a in agents {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}",
            a.index,
            a.id,
            a.secret,
            a.seq.load(Ordering::Acquire),
            a.version.load(Ordering::Acquire),
            a.acked.load(Ordering::Acquire),
            u8::from(a.has_full.load(Ordering::Acquire)),
        );
    }
    let tmp = dir.join(format!("{FILE}.tmp"));
    std::fs::write(&tmp, out)?;
    std::fs::rename(tmp, dir.join(FILE))?;
    Ok(())
}

fn parse(text: &str) -> anyhow::Result<State> {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let [_, enrollment, tech] = head[..] else {
        bail!("the first line must hold the tokens");
    };
    let mut agents = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let [index, id, secret, seq, version, acked, full] = f[..] else {
            bail!("bad line {line:?}");
        };
        let a = Agent::new(index.parse()?, id.to_owned(), secret.to_owned());
        a.seq.store(seq.parse()?, Ordering::Release);
        a.version.store(version.parse()?, Ordering::Release);
        a.acked.store(acked.parse()?, Ordering::Release);
        a.has_full.store(full == "1", Ordering::Release);
        agents.push(a);
    }
    Ok(State {
        enrollment_token: enrollment.to_owned(),
        tech_token: tech.to_owned(),
        agents,
    })
}

/// Enrolls agents `first..first + count` with `clients` clients; 503s are retried.
pub async fn enroll(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    first: usize,
    count: usize,
    clients: usize,
) -> (Vec<Agent>, Tally, Duration) {
    let next = Arc::new(AtomicUsize::new(first));
    let end = first + count;
    let out = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, url, token) = (
            http.clone(),
            format!("{base}{ENROLL_PATH}"),
            token.to_owned(),
        );
        let (next, out, done) = (next.clone(), out.clone(), done.clone());
        tasks.spawn(async move {
            let mut t = Tally::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let body = serde_json::to_vec(&EnrollRequest {
                    token: token.clone(),
                    hostname: format!("loadgen-{i:06}"),
                    agent_version: "0.1.0".into(),
                })
                .unwrap_or_default();
                loop {
                    let started = Instant::now();
                    let r = http
                        .post(&url)
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    let resp = match r {
                        Ok(r) => r,
                        Err(e) => {
                            t.errors += 1;
                            t.shown.push(format!("enroll: {e}"));
                            break;
                        }
                    };
                    let status = resp.status();
                    let bytes = resp.bytes().await.unwrap_or_default();
                    if status.as_u16() == 503 {
                        t.busy += 1;
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    match serde_json::from_slice::<EnrollResponse>(&bytes) {
                        Ok(e) if status.is_success() => {
                            t.latencies.push(started.elapsed());
                            lock(&out).push(Agent::new(i as u64, e.agent_id, e.secret));
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            t.errors += 1;
                            if t.shown.len() < 5 {
                                t.shown.push(format!(
                                    "enroll {status}: {}",
                                    String::from_utf8_lossy(&bytes)
                                ));
                            }
                        }
                    }
                    break;
                }
            }
            t
        });
    }
    let reporter = progress_task("enrolled".into(), done, count, start);
    let mut tally = Tally::default();
    while let Some(t) = tasks.join_next().await {
        tally.merge(t.unwrap_or_default());
    }
    reporter.abort();
    eprintln!();
    let wall = start.elapsed();
    let mut agents = std::mem::take(&mut *lock(&out));
    agents.sort_by_key(|a| a.index);
    (agents, tally, wall)
}

/// Agents whose acknowledged report is not in the database (the server's `last_seq` is
/// below the highest seq it acknowledged). Reads the database file directly.
pub fn lost_reports(dir: &Path, agents: &[Agent]) -> anyhow::Result<usize> {
    let c = rusqlite::Connection::open_with_flags(
        dir.join("steward.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut stmt = c.prepare("SELECT id, last_seq FROM agents")?;
    let stored: HashMap<String, i64> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(agents
        .iter()
        .filter(|a| {
            let acked = a.acked.load(Ordering::Acquire) as i64;
            stored.get(&a.id).copied().unwrap_or(-1) < acked
        })
        .count())
}
