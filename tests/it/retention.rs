//! Retention (`[retention]`): health samples, asset history and resolved alerts older than
//! their period are deleted in chunks; recent rows, open alerts and each asset's "created"
//! history entry stay; 0 days keeps a table forever; a full write queue postpones a pass.

use crate::helpers::*;
use steward_server::db::DbResult;
use steward_server::retention::{CHUNK_ROWS, PruneReport, prune};

const DAY: i64 = 86_400;
/// Old health samples seeded: more than two chunks, so a pass needs three.
const OLD_SAMPLES: i64 = 2 * CHUNK_ROWS as i64 + 7;

/// Checks in once with the real agent; returns the asset id.
async fn checked_in_asset(s: &TestServer) -> i64 {
    let (client, creds) = s.enrolled_agent().await;
    let r = report("pc-retention", "0e7e0000-0000-4000-8000-000000000001", &[]);
    client.checkin(&creds, &r).await.unwrap().asset_id
}

/// Next to what the check-in stored, as of `now`: health samples from 91 days back and
/// older, history entries of 731 and 800 days ago and one of 100 days ago, an alert
/// resolved 366 days ago, one resolved 10 days ago and one long open; and the asset's
/// "created" entry moved 1,000 days back.
async fn seed_old_rows(s: &TestServer, asset: i64, now: i64) {
    s.with_db(move |d| {
        d.write_blocking(|tx| {
            let mut sample = tx.prepare(
                "INSERT INTO health_samples (asset_id, taken_at, load_1, mem_used_percent, max_fs_used_percent, uptime_secs)
                 VALUES (?1, ?2, 0.1, 30.0, 50.0, 60)",
            )?;
            for i in 0..OLD_SAMPLES {
                sample.execute([asset, now - 91 * DAY - i * 1800])?;
            }
            let mut history = tx.prepare(
                "INSERT INTO asset_history (asset_id, at, actor, kind, field, old_value, new_value)
                 VALUES (?1, ?2, 'agent:test', 'changed', 'name', 'a', 'b')",
            )?;
            for days in [800, 731, 100] {
                history.execute([asset, now - days * DAY])?;
            }
            tx.execute(
                "UPDATE asset_history SET at = ?2 WHERE asset_id = ?1 AND kind = 'created'",
                [asset, now - 1000 * DAY],
            )?;
            let mut alert = tx.prepare(
                "INSERT INTO alerts (asset_id, kind, key, severity, message, opened_at, updated_at, resolved_at)
                 VALUES (?1, 'disk_full', ?2, 'warning', 'disk almost full', ?3, ?3, ?4)",
            )?;
            alert.execute(rusqlite::params![asset, "/", now - 400 * DAY, now - 366 * DAY])?;
            alert.execute(rusqlite::params![asset, "/home", now - 20 * DAY, now - 10 * DAY])?;
            alert.execute(rusqlite::params![
                asset,
                "/var",
                now - 500 * DAY,
                None::<i64>
            ])?;
            Ok(())
        })
        .unwrap();
    })
    .await;
}

/// What `asset` has left: how many health samples and the oldest one's time, its history
/// as (kind, at), its alerts' resolution times (-1: open).
#[derive(Debug, PartialEq)]
struct Rows {
    samples: usize,
    oldest_sample: i64,
    history: Vec<(String, i64)>,
    alerts: Vec<i64>,
}

async fn rows(s: &TestServer, asset: i64) -> Rows {
    s.with_db(move |d| {
        d.read_blocking(|c| -> DbResult<Rows> {
            let (samples, oldest_sample) = c.query_row(
                "SELECT count(*), coalesce(min(taken_at), 0) FROM health_samples WHERE asset_id = ?1",
                [asset],
                |r| Ok((r.get::<_, i64>(0)? as usize, r.get(1)?)),
            )?;
            let mut st = c.prepare(
                "SELECT kind, at FROM asset_history WHERE asset_id = ?1 ORDER BY at, id",
            )?;
            let history = st
                .query_map([asset], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let mut st = c.prepare(
                "SELECT coalesce(resolved_at, -1) FROM alerts WHERE asset_id = ?1 ORDER BY id",
            )?;
            let alerts = st
                .query_map([asset], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            Ok(Rows {
                samples,
                oldest_sample,
                history,
                alerts,
            })
        })
        .unwrap()
    })
    .await
}

#[tokio::test]
async fn old_rows_go_recent_ones_and_created_entries_stay() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let asset = checked_in_asset(&s).await;
    let now = steward_server::clock::now();
    let fresh = rows(&s, asset).await;
    assert_eq!(
        fresh.samples, 1,
        "the check-in stored one sample: {fresh:?}"
    );
    seed_old_rows(&s, asset, now).await;

    let report = prune(&s.state, now).await.unwrap();
    assert_eq!(
        report,
        PruneReport {
            health_samples: OLD_SAMPLES as usize,
            asset_history: 2,
            resolved_alerts: 1,
            interrupted: false,
        }
    );
    let after = rows(&s, asset).await;
    assert_eq!(after.samples, 1, "only the check-in's sample is left");
    assert_eq!(after.oldest_sample, fresh.oldest_sample);
    assert_eq!(
        after.history,
        vec![
            ("created".to_owned(), now - 1000 * DAY),
            ("changed".to_owned(), now - 100 * DAY),
        ]
    );
    assert_eq!(after.alerts, vec![now - 10 * DAY, -1]);

    // The asset page's history still starts with how the asset came to be.
    let (status, history) = s
        .get_json(&format!("/api/v1/assets/{asset}/history"), &admin)
        .await;
    assert_eq!(status, 200, "{history}");
    let kinds: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["changed", "created"]);

    // Nothing more is due: a second pass deletes nothing.
    assert_eq!(prune(&s.state, now).await.unwrap(), PruneReport::default());
    s.stop().await;
}

#[tokio::test]
async fn zero_days_keeps_health_samples_forever() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.retention.health_days = 0;
    })
    .await;
    let asset = checked_in_asset(&s).await;
    let now = steward_server::clock::now();
    seed_old_rows(&s, asset, now).await;

    let report = prune(&s.state, now).await.unwrap();
    assert_eq!(report.health_samples, 0);
    // The other tables keep their own periods.
    assert_eq!((report.asset_history, report.resolved_alerts), (2, 1));
    let after = rows(&s, asset).await;
    assert_eq!(after.samples, OLD_SAMPLES as usize + 1);
    assert_eq!(
        after.oldest_sample,
        now - 91 * DAY - (OLD_SAMPLES - 1) * 1800
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_write_queue_postpones_the_pass() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.database.write_queue_limit = 1;
    })
    .await;
    let asset = checked_in_asset(&s).await;
    let now = steward_server::clock::now();
    seed_old_rows(&s, asset, now).await;

    // Hold the writer's connection; the writer thread takes one bulk write and waits
    // behind it, the next one fills the bulk lane.
    let (gate, wait) = std::sync::mpsc::channel::<()>();
    let (held_tx, held) = std::sync::mpsc::channel::<()>();
    let db = s.state.db.clone();
    let holder = std::thread::spawn(move || {
        db.write_blocking(|_| {
            held_tx.send(()).unwrap();
            let _ = wait.recv();
            Ok(())
        })
    });
    held.recv().unwrap();
    let filler = || {
        let db = s.state.db.clone();
        tokio::spawn(async move { db.write_grouped(|_| Ok(())).await })
    };
    let taken = s.state.db.writer_stats().taken;
    let first = filler();
    until_writer(&s, |w| w.taken > taken).await;
    let second = filler();
    until_writer(&s, |w| w.queued_bulk == 1).await;

    let report = prune(&s.state, now).await.unwrap();
    assert!(report.interrupted, "{report:?}");
    assert_eq!(report.total(), 0);

    gate.send(()).unwrap();
    holder.join().unwrap().unwrap();
    let _ = first.await.unwrap();
    let _ = second.await.unwrap();
    assert_eq!(rows(&s, asset).await.samples, OLD_SAMPLES as usize + 1);
    // The next pass does the work.
    let report = prune(&s.state, now).await.unwrap();
    assert!(!report.interrupted);
    assert_eq!(report.health_samples, OLD_SAMPLES as usize);
    assert_eq!(rows(&s, asset).await.samples, 1);
    s.stop().await;
}
