//! The catalog-count log across a stop and a fold by another thread: what a stopped
//! server left in it is folded when the database opens, and changes are never counted
//! twice.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::db::package_counts::{Counts, log_counts};

/// A database a stopped server left behind: migrated, six assets, then `left` run on a
/// plain connection. Opened again, with what the open folded checked against a scan.
fn reopened_after(left: impl FnOnce(&Connection)) -> (tempfile::TempDir, Db, Kept) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    drop(Db::open(&path, Duration::from_secs(5), 2).unwrap());
    {
        let c = Connection::open(&path).unwrap();
        assets(&c);
        left(&c);
    }
    let db = Db::open(&path, Duration::from_secs(5), 2).unwrap();
    let (kept, scanned) = db.read_blocking(|c| Ok(kept_and_scanned(c))).unwrap();
    assert_eq!(kept, scanned);
    (dir, db, kept)
}

/// Changes a stopped server left in the log are folded when the database opens.
#[test]
fn opening_the_database_folds_a_left_over_log() {
    let (_dir, _db, kept) = reopened_after(|c| {
        c.execute_batch(
            "INSERT INTO software_packages (id, name, version, arch, source, publisher)
                 VALUES (1, 'vim', '9.0', 'amd64', 'dpkg', '');
             INSERT INTO asset_packages (asset_id, package_id) VALUES (1, 1), (2, 1);
             INSERT INTO software_count_log (name, version, d)
                 VALUES ('vim', NULL, 1), ('vim', '9.0', 1), ('vim', NULL, 1), ('vim', '9.0', 1);",
        )
        .unwrap();
    });
    assert_eq!(kept.0, vec![("vim".to_owned(), 2, 1)]);
}

/// A wave's counts logged as encoded rows and left there by a stopped server are folded
/// when the database opens, from the rows (the writer's sum in memory is gone).
#[test]
fn opening_the_database_folds_left_over_encoded_batches() {
    let (_dir, db, kept) = reopened_after(|c| {
        for (asset, software) in [
            (1, vec![sw("vim", "amd64", "9.0"), sw("curl", "amd64", "8")]),
            (2, vec![sw("vim", "amd64", "9.1"), sw("vim", "i386", "9.1")]),
        ] {
            // What a first inventory stores, with its counts logged instead of written.
            let mut counts = Counts::default();
            let new: Vec<&Software> = software.iter().collect();
            counts.add_change(&[], &new);
            let mut buf = Vec::new();
            let mut rows: Vec<(i64, i64)> = Vec::new();
            for s in &software {
                rows.push((package_id(c, s, &mut buf).unwrap(), 0));
            }
            insert_rows(c, asset, &rows).unwrap();
            log_counts(c, &counts).unwrap();
        }
        // Summed over both rows: vim, vim 9.0, vim 9.1, curl, curl 8.
        assert_eq!(logged_changes(c).unwrap(), 5);
    });
    assert_eq!(kept.0.len(), 2, "vim and curl: {kept:?}");
    assert_eq!(db.read_blocking(logged_changes).unwrap(), 0);
}

/// The log folded by someone else (`write_blocking`, on another thread) while the writer
/// still has the same changes in memory: the writer's next fold must not count them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_folded_elsewhere_is_not_counted_twice() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("p.db"), Duration::from_secs(5), 2).unwrap();
    db.untimed_batches();
    db.set_idle_fold(Duration::from_secs(3_600));
    db.write(|tx| {
        assets(tx);
        Ok(())
    })
    .await
    .unwrap();
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let mut jobs = Vec::new();
    for asset in 1..=6 {
        let shared = db.clone();
        jobs.push(tokio::spawn(async move {
            shared
                .write_shared(move |tx| store(tx, asset, &[], &[sw("vim", "amd64", "9.0")]))
                .await
        }));
        until_pending(&db, &before, asset as u64).await;
    }
    // Enough behind them to make their batch part of a wave.
    for _ in 0..16 {
        let shared = db.clone();
        jobs.push(tokio::spawn(async move {
            shared.write_shared(|_| Ok(())).await
        }));
    }
    until_pending(&db, &before, 22).await;
    holder.release();
    for j in jobs {
        j.await.unwrap().unwrap();
    }
    assert_eq!(
        db.read_blocking(logged_changes).unwrap(),
        2,
        "vim as a title and as a version, logged"
    );
    db.write_blocking(|_| Ok(())).unwrap();
    assert_eq!(db.read_blocking(logged_changes).unwrap(), 0);
    // A batch that is not part of a wave writes its counts and folds the writer's.
    db.write(|tx| store(tx, 6, &[sw("vim", "amd64", "9.0")], &[]))
        .await
        .unwrap();
    let (kept, scanned) = db.read_blocking(|c| Ok(kept_and_scanned(c))).unwrap();
    assert_eq!(kept, scanned);
    assert_eq!(kept.0, vec![("vim".to_owned(), 5, 1)]);
}
