//! The machine's ceilings, so check-in figures read as a ratio: the server's `/healthz`
//! rate under the same client, and raw SQLite inserts of what one heartbeat stores (a
//! health sample and the agent's last-seen update) with no HTTP, JSON or logic.

use super::drive::lock;
use rusqlite::{Connection, params};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `/healthz` requests per second with `clients` clients for `duration`, and their p99.
pub async fn healthz(
    http: &reqwest::Client,
    base: &str,
    clients: usize,
    duration: Duration,
) -> (f64, Vec<Duration>) {
    let start = Instant::now();
    let all = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (http, url, all) = (http.clone(), format!("{base}/healthz"), all.clone());
        tasks.spawn(async move {
            let mut times = Vec::new();
            while start.elapsed() < duration {
                let t = Instant::now();
                if let Ok(r) = http.get(&url).send().await
                    && r.status().is_success()
                    && r.bytes().await.is_ok()
                {
                    times.push(t.elapsed());
                }
            }
            lock(&all).extend(times);
        });
    }
    while tasks.join_next().await.is_some() {}
    let times = std::mem::take(&mut *lock(&all));
    (times.len() as f64 / start.elapsed().as_secs_f64(), times)
}

/// What raw SQLite sustains for one heartbeat's rows on this disk.
#[derive(Debug, Clone, Copy)]
pub struct RawSqlite {
    /// One transaction per heartbeat.
    pub per_commit: f64,
    /// 64 heartbeats per transaction, as the server's group commit does at best.
    pub batched: f64,
}

/// Inserts heartbeat rows for `agents` agents into a fresh database in `dir` (WAL,
/// synchronous=NORMAL, as the server runs), for about `duration` in each mode.
pub fn raw_sqlite(
    dir: &std::path::Path,
    agents: u64,
    duration: Duration,
) -> anyhow::Result<RawSqlite> {
    let path = dir.join("ceiling.db");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("ceiling.db-wal"));
    let mut c = Connection::open(&path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "NORMAL")?;
    c.execute_batch(
        "CREATE TABLE agents (id TEXT PRIMARY KEY, last_seen_at INTEGER, last_ip TEXT, last_seq INTEGER) WITHOUT ROWID;
         CREATE TABLE health_samples (asset_id INTEGER NOT NULL, taken_at INTEGER NOT NULL, load_1 REAL NOT NULL,
             mem_used_percent REAL NOT NULL, max_fs_used_percent REAL NOT NULL, uptime_secs INTEGER NOT NULL,
             PRIMARY KEY (asset_id, taken_at)) WITHOUT ROWID;",
    )?;
    {
        let tx = c.transaction()?;
        let mut ins = tx.prepare("INSERT INTO agents VALUES (?1, 0, '', 0)")?;
        for i in 0..agents {
            ins.execute([format!("agt_{i:024x}")])?;
        }
        drop(ins);
        tx.commit()?;
    }
    let mut n = 0u64;
    let mut run = |batch: u64| -> anyhow::Result<f64> {
        let start = Instant::now();
        let mut rows = 0u64;
        while start.elapsed() < duration {
            let tx = c.transaction()?;
            {
                let mut sample = tx.prepare_cached(
                    "INSERT OR REPLACE INTO health_samples VALUES (?1, ?2, 0.5, 40.0, 60.0, 3600)",
                )?;
                let mut seen = tx.prepare_cached(
                    "UPDATE agents SET last_seen_at = ?2, last_ip = '10.0.0.1', last_seq = last_seq + 1 WHERE id = ?1",
                )?;
                for _ in 0..batch {
                    n += 1;
                    let a = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) % agents;
                    sample.execute(params![a as i64, n as i64])?;
                    seen.execute(params![format!("agt_{a:024x}"), n as i64])?;
                }
            }
            tx.commit()?;
            rows += batch;
        }
        Ok(rows as f64 / start.elapsed().as_secs_f64())
    };
    let per_commit = run(1)?;
    let batched = run(64)?;
    drop(c);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(dir.join("ceiling.db-wal"));
    let _ = std::fs::remove_file(dir.join("ceiling.db-shm"));
    Ok(RawSqlite {
        per_commit,
        batched,
    })
}
