//! Tests of the single writer: batching, failures within a batch, the bulk lane's limit.
#![allow(clippy::unwrap_used)]

use crate::db::{Db, DbError, Lane};
use std::time::Duration;

fn count(db: &Db) -> i64 {
    db.read_blocking(|c| Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?))
        .unwrap()
}

/// Holds the write connection (a blocking write waiting on a gate) until released, so
/// that queued writes pile up behind it.
pub(crate) struct Holder {
    gate: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<crate::db::DbResult<()>>,
}

impl Holder {
    /// Holds the write connection once the writer's counters include every job it
    /// took (they follow the answers by a moment), so that snapshots taken next are
    /// a clean start.
    pub(crate) fn hold(db: &Db) -> Holder {
        loop {
            let s = db.writer_stats();
            if s.jobs == s.taken {
                break;
            }
            std::thread::yield_now();
        }
        let (gate, wait) = std::sync::mpsc::channel::<()>();
        let (held_tx, held) = std::sync::mpsc::channel::<()>();
        let db = db.clone();
        let thread = std::thread::spawn(move || {
            db.write_blocking(|_| {
                held_tx.send(()).unwrap();
                let _ = wait.recv();
                Ok(())
            })
        });
        held.recv().unwrap();
        Holder { gate, thread }
    }

    pub(crate) fn release(self) {
        self.gate.send(()).unwrap();
        self.thread.join().unwrap().unwrap();
    }
}

/// Jobs queued while the writer was held run as one batch, one commit; a job that
/// fails or panics loses only its own changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_one_commit_and_failures_stay_contained() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("w.db"), Duration::from_secs(5), 2).unwrap();
    db.untimed_batches();
    db.write(|tx| Ok(tx.execute_batch("CREATE TABLE t (x INTEGER)")?))
        .await
        .unwrap();
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let ok = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_grouped(|tx| Ok(tx.execute("INSERT INTO t VALUES (1)", [])?))
                .await
        }
    });
    while db.writer_stats().taken == before.taken {
        tokio::task::yield_now().await;
    }
    let fails = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_grouped(|tx| {
                tx.execute("INSERT INTO t VALUES (2)", [])?;
                Err::<(), _>(DbError::Corrupt("refused".into()))
            })
            .await
        }
    });
    while db.writer_stats().queued_bulk < 1 {
        tokio::task::yield_now().await;
    }
    let also_ok = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_grouped(|tx| Ok(tx.execute("INSERT INTO t VALUES (4)", [])?))
                .await
        }
    });
    while db.writer_stats().queued_bulk < 2 {
        tokio::task::yield_now().await;
    }
    let panics = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_grouped(|tx| -> crate::db::DbResult<()> {
                tx.execute("INSERT INTO t VALUES (3)", [])?;
                panic!("a bug in a write")
            })
            .await
        }
    });
    while db.writer_stats().queued_bulk < 3 {
        tokio::task::yield_now().await;
    }
    holder.release();
    assert_eq!(ok.await.unwrap().unwrap(), 1);
    assert!(matches!(fails.await.unwrap(), Err(DbError::Corrupt(_))));
    assert!(matches!(panics.await.unwrap(), Err(DbError::Task(_))));
    assert_eq!(also_ok.await.unwrap().unwrap(), 1);
    let values: Vec<i64> = db
        .read_blocking(|c| {
            let mut st = c.prepare("SELECT x FROM t ORDER BY x")?;
            let v = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(v)
        })
        .unwrap();
    assert_eq!(values, vec![1, 4]);
    // The counters follow the answers by a moment.
    while db.writer_stats().jobs < before.jobs + 4 {
        tokio::task::yield_now().await;
    }
    let after = db.writer_stats();
    assert_eq!(after.jobs - before.jobs, 4);
    // (The panicking job runs last: a panic's backtrace can outlast MAX_BATCH_TIME in
    // a debug build, which would rightly start a new batch.)
    assert_eq!(
        after.batches - before.batches,
        1,
        "the four jobs shared one transaction"
    );
    // The writer goes on after a panic.
    db.write(|tx| Ok(tx.execute("INSERT INTO t VALUES (5)", [])?))
        .await
        .unwrap();
    assert_eq!(count(&db), 3);
}

/// Shared batches keep all or nothing: a failure rolls back the jobs before it, which
/// are told to send again; jobs after it run in the next batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_in_a_shared_batch_sends_the_others_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("w.db"), Duration::from_secs(5), 2).unwrap();
    db.untimed_batches();
    db.write(|tx| Ok(tx.execute_batch("CREATE TABLE t (x INTEGER)")?))
        .await
        .unwrap();
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let mut tasks = Vec::new();
    for x in 1..=3_i64 {
        let db2 = db.clone();
        tasks.push(tokio::spawn(async move {
            db2.write_shared(move |tx| {
                tx.execute("INSERT INTO t VALUES (?1)", [x])?;
                if x == 2 {
                    return Err(DbError::Corrupt("bad inventory".into()));
                }
                Ok(x)
            })
            .await
        }));
        // One at a time, so the queue order is 1, 2, 3 (1 is taken and waits).
        let want = x as u64;
        let seen = |w: crate::db::WriterSnapshot| w.taken + w.queued_bulk as u64;
        while seen(db.writer_stats()) < before.taken + want {
            tokio::task::yield_now().await;
        }
    }
    holder.release();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert!(
        matches!(results[0], Err(DbError::Busy { .. })),
        "{:?}",
        results[0]
    );
    assert!(matches!(results[1], Err(DbError::Corrupt(_))));
    assert_eq!(results[2].as_ref().unwrap(), &3);
    assert_eq!(count(&db), 1, "only the job after the failure is kept");
}

#[tokio::test]
async fn a_full_bulk_lane_refuses_but_people_still_queue() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open_with_limit(&dir.path().join("w.db"), Duration::from_secs(5), 2, 1).unwrap();
    let queue = &db.inner.writer;
    // Nothing drains while we hold the lanes' state by pushing faster than a thread
    // that waits for the connection we hold.
    let conn = db.inner.conn.lock().unwrap();
    let taken = db.writer_stats().taken;
    queue
        .push(
            Lane::Bulk,
            super::job(
                super::Mode::Savepoint,
                |_| Ok(()),
                |_: crate::db::DbResult<()>| {},
            ),
        )
        .unwrap();
    while db.writer_stats().taken == taken {
        std::thread::yield_now();
    }
    queue
        .push(
            Lane::Bulk,
            super::job(
                super::Mode::Savepoint,
                |_| Ok(()),
                |_: crate::db::DbResult<()>| {},
            ),
        )
        .unwrap();
    let refused = queue
        .push(
            Lane::Bulk,
            super::job(
                super::Mode::Savepoint,
                |_| Ok(()),
                |_: crate::db::DbResult<()>| {},
            ),
        )
        .unwrap_err();
    assert!(
        matches!(refused, DbError::Busy { retry_after_secs } if (1..=60).contains(&retry_after_secs))
    );
    queue
        .push(
            Lane::Interactive,
            super::job(
                super::Mode::Savepoint,
                |_| Ok(()),
                |_: crate::db::DbResult<()>| {},
            ),
        )
        .unwrap();
    assert_eq!(db.writer_stats().refused, 1);
    drop(conn);
}
