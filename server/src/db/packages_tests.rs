//! Tests of the normalized software rows and the catalog counts kept beside them.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::db::migrations;
use crate::db::package_counts::logged_changes;
use crate::db::software::{title, versions};
use crate::db::writer::tests::Holder;
use crate::db::{Db, DbError};
use std::time::Duration;

fn db() -> Connection {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::migrate(&mut c).unwrap();
    assets(&c);
    c
}

fn assets(c: &Connection) {
    for id in 1..=6 {
        c.execute(
            "INSERT INTO assets (id, name, hostname, created_at, updated_at) VALUES (?1, ?2, ?3, 0, 0)",
            params![id, format!("PC-{id}"), format!("pc-{id}")],
        )
        .unwrap();
    }
}

fn sw(name: &str, arch: &str, version: &str) -> Software {
    Software {
        name: name.into(),
        version: version.into(),
        arch: arch.into(),
        source: "dpkg".into(),
        ..Default::default()
    }
}

/// The machine's rows with `s` added (as a full report would send them).
fn add(c: &Connection, asset: i64, s: Software) {
    let old = load(c, asset).unwrap();
    let mut new = old.clone();
    new.push(s);
    store(c, asset, &old, &new).unwrap();
}

fn remove(c: &Connection, asset: i64, name: &str, arch: &str, version: &str) {
    let old = load(c, asset).unwrap();
    let new: Vec<Software> = old
        .iter()
        .filter(|s| !(s.name == name && s.arch == arch && s.version == version))
        .cloned()
        .collect();
    store(c, asset, &old, &new).unwrap();
}

type Kept = (Vec<(String, i64, i64)>, Vec<(String, String, i64)>);

/// The counters as db::packages keeps them, and as a scan of the rows computes them.
fn kept_and_scanned(c: &Connection) -> (Kept, Kept) {
    let q = |sql: &str| -> Vec<(String, i64, i64)> {
        let mut s = c.prepare(sql).unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let qv = |sql: &str| -> Vec<(String, String, i64)> {
        let mut s = c.prepare(sql).unwrap();
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let kept = (
        q("SELECT name, installs, versions FROM software_titles ORDER BY name"),
        qv("SELECT name, version, installs FROM software_versions ORDER BY name, version"),
    );
    let scanned = (
        q(
            "SELECT name, count(DISTINCT asset_id), count(DISTINCT version) FROM asset_software
           GROUP BY name ORDER BY name",
        ),
        qv(
            "SELECT name, version, count(DISTINCT asset_id) FROM asset_software
            GROUP BY name, version ORDER BY name, version",
        ),
    );
    (kept, scanned)
}

fn assert_consistent(c: &Connection, step: &str) {
    let (kept, scanned) = kept_and_scanned(c);
    assert_eq!(kept, scanned, "after {step}");
}

#[test]
fn counts_follow_reports_and_asset_deletes() {
    let c = db();
    add(&c, 1, sw("openssl", "amd64", "1.1.1n"));
    add(&c, 1, sw("openssl", "i386", "1.1.1n"));
    add(&c, 2, sw("openssl", "amd64", "3.0.11"));
    add(&c, 3, sw("openssl", "amd64", "3.0.11"));
    add(&c, 3, sw("curl", "amd64", "7.88"));
    assert_consistent(&c, "inserts");
    assert_eq!(
        title(&c, "openssl")
            .unwrap()
            .map(|t| (t.installs, t.versions)),
        Some((3, 2))
    );
    // Reported twice in one report, or again: one row, nothing counted.
    add(&c, 1, sw("openssl", "amd64", "1.1.1n"));
    assert_eq!(load(&c, 1).unwrap().len(), 2);
    assert_consistent(&c, "again");
    // One architecture goes: the machine still has the version.
    remove(&c, 1, "openssl", "i386", "1.1.1n");
    assert_consistent(&c, "one arch removed");
    remove(&c, 1, "openssl", "amd64", "1.1.1n");
    assert_consistent(&c, "last version removed");
    assert_eq!(versions(&c, "openssl").unwrap().len(), 1);
    // A failed store (unknown asset) counts nothing.
    assert!(store(&c, 99, &[], &[sw("ghost", "a", "1")]).is_err());
    assert_consistent(&c, "failed insert");
    assert_eq!(title(&c, "ghost").unwrap(), None);
    // Deleting an asset releases its software (the trigger of migrations 0016 and 0022).
    c.execute("DELETE FROM assets WHERE id = 3", []).unwrap();
    let logged: i64 = c
        .query_row("SELECT count(*) FROM software_count_log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        logged, 4,
        "openssl and curl, each as a title and as a version"
    );
    crate::db::package_counts::fold_log(&c).unwrap();
    assert_consistent(&c, "asset deleted");
    assert_eq!(
        title(&c, "curl").unwrap(),
        None,
        "a title no machine has leaves"
    );
    c.execute("DELETE FROM assets", []).unwrap();
    crate::db::package_counts::fold_log(&c).unwrap();
    assert_consistent(&c, "all gone");
    let n: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM software_titles) + (SELECT count(*) FROM software_versions)
                  + (SELECT count(*) FROM asset_packages)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "titles, versions and rows with no machine leave");
}

/// A publisher is part of a package: the same key with another publisher on another
/// machine is another package; on the same machine the last reported wins.
#[test]
fn publishers_make_packages_and_the_last_one_wins_on_a_machine() {
    let c = db();
    let mut a = sw("zoom", "x64", "6.1");
    a.publisher = "Zoom Video".into();
    let mut b = a.clone();
    b.publisher = "Zoom Communications".into();
    store(&c, 1, &[], &[a.clone(), b.clone()]).unwrap();
    assert_eq!(load(&c, 1).unwrap(), vec![b.clone()]);
    store(&c, 2, &[], std::slice::from_ref(&a)).unwrap();
    assert_eq!(load(&c, 2).unwrap(), vec![a]);
    let packages: i64 = c
        .query_row("SELECT count(*) FROM software_packages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(packages, 2);
    assert_consistent(&c, "publishers");
}

/// Random whole and per-title reports, half of them with the counts added up and
/// written once per group (as the writer does per batch).
#[test]
fn counts_stay_right_under_many_random_reports() {
    let c = db();
    let mut x: u64 = 0x1234_5678;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let names = ["a", "b", "c", "d"];
    let archs = ["amd64", "i386"];
    let vers = ["1.0", "1.1", "2.0~rc1"];
    for round in 0..60 {
        let group = |next: &mut dyn FnMut(u64) -> u64| -> DbResult<()> {
            for _ in 0..10 {
                let asset = 1 + next(6) as i64;
                let mut new = Vec::new();
                for _ in 0..next(8) {
                    let mut s = sw(
                        names[next(4) as usize],
                        archs[next(2) as usize],
                        vers[next(3) as usize],
                    );
                    s.publisher = ["", "p"][next(2) as usize].into();
                    new.push(s);
                }
                if next(2) == 0 {
                    store(&c, asset, &load(&c, asset)?, &new)?;
                } else {
                    // Only the titles the report touches, each whole.
                    let mut touched: Vec<&str> = new.iter().map(|s| s.name.as_str()).collect();
                    touched.sort_unstable();
                    touched.dedup();
                    let old = load_titles(&c, asset, &touched)?;
                    store(&c, asset, &old, &new)?;
                }
            }
            Ok(())
        };
        if round % 2 == 0 {
            group(&mut next).unwrap();
        } else {
            with_deferred_counts(&c, || group(&mut next)).unwrap();
        }
        assert_consistent(&c, &format!("round {round}"));
    }
}

#[test]
fn migration_moves_text_rows_to_packages() {
    let mut c = Connection::open_in_memory().unwrap();
    c.pragma_update(None, "foreign_keys", "ON").unwrap();
    for &(version, sql) in migrations::MIGRATIONS.iter().filter(|m| m.0 < 16) {
        c.execute_batch(sql).unwrap();
        c.pragma_update(None, "user_version", version).unwrap();
    }
    assets(&c);
    for (asset, name, arch, version, publisher) in [
        (1, "openssl", "amd64", "1.1.1n", "OpenSSL"),
        (1, "openssl", "i386", "1.1.1n", "OpenSSL"),
        (2, "openssl", "amd64", "3.0.11", ""),
        (2, "curl", "amd64", "7.88", "curl"),
        (3, "curl", "amd64", "7.88", "curl"),
    ] {
        c.execute(
            "INSERT INTO asset_software (asset_id, source, name, arch, version, publisher, install_date)
             VALUES (?1, 'dpkg', ?2, ?3, ?4, ?5, 1700000000)",
            params![asset, name, arch, version, publisher],
        )
        .unwrap();
    }
    migrations::migrate(&mut c).unwrap();
    assert_consistent(&c, "migration");
    let rows: i64 = c
        .query_row(
            "SELECT count(*) FROM asset_software WHERE install_date = 1700000000",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 5);
    let packages: i64 = c
        .query_row("SELECT count(*) FROM software_packages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(packages, 4);
    assert_eq!(title(&c, "curl").unwrap().map(|t| t.installs), Some(2));
    // The old table is a read-only view now.
    assert!(
        c.execute(
            "INSERT INTO asset_software (asset_id, source, name, arch, version) VALUES (1, 'x', 'y', 'z', '1')",
            [],
        )
        .is_err()
    );
}

/// Waits until `n` writes were taken by the writer (which then waits for the held
/// connection) or queued behind it since `before`.
/// Batches run since `before`, once at least `n` are counted: the writer counts a batch
/// just after its callers hear back.
async fn batches_since(db: &Db, before: &crate::db::WriterSnapshot, n: u64) -> u64 {
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ran = db.writer_stats().batches - before.batches;
        if ran >= n || std::time::Instant::now() >= give_up {
            return ran;
        }
        tokio::task::yield_now().await;
    }
}

async fn until_pending(db: &Db, before: &crate::db::WriterSnapshot, n: u64) {
    // A safety net, not a timing: a broken count fails here instead of hanging CI.
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let now = db.writer_stats();
        if now.taken - before.taken + now.queued_bulk as u64 >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < give_up,
            "{n} writes never queued"
        );
        tokio::task::yield_now().await;
    }
}

/// In the writer, a batch's counts are written once before its commit; a job that
/// fails adds nothing, and the package ids of a batch that rolled back are not kept
/// (SQLite hands the same ids out again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_counts_per_batch_and_forgets_rolled_back_ids() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("p.db"), Duration::from_secs(5), 2).unwrap();
    db.untimed_batches();
    db.write(|tx| {
        assets(tx);
        Ok(())
    })
    .await
    .unwrap();
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let stores = [(1, "vim"), (2, "vim"), (3, "emacs")].map(|(asset, name)| {
        let db = db.clone();
        tokio::spawn(async move {
            db.write_grouped(move |tx| store(tx, asset, &[], &[sw(name, "amd64", "9.0")]))
                .await
        })
    });
    let fails = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_grouped(|tx| {
                store(tx, 4, &[], &[sw("nano", "amd64", "7.2")])?;
                Err::<(), _>(DbError::Corrupt("refused".into()))
            })
            .await
        }
    });
    until_pending(&db, &before, 4).await;
    holder.release();
    for s in stores {
        s.await.unwrap().unwrap();
    }
    assert!(matches!(fails.await.unwrap(), Err(DbError::Corrupt(_))));
    while db.writer_stats().jobs < before.jobs + 4 {
        tokio::task::yield_now().await;
    }
    assert_eq!(batches_since(&db, &before, 1).await, 1, "one batch");
    let check = |db: &Db| db.read_blocking(|c| Ok(kept_and_scanned(c))).unwrap();
    let (kept, scanned) = check(&db);
    assert_eq!(kept, scanned);
    assert_eq!(kept.0.len(), 2, "vim and emacs, not nano: {kept:?}");

    // A shared batch: a new package stored, then a failure rolls it all back.
    let holder = Holder::hold(&db);
    // Counted before the spawn: the writer may take the job at once.
    let before = db.writer_stats();
    let rolled = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_shared(|tx| store(tx, 5, &[], &[sw("htop", "amd64", "3.3")]))
                .await
        }
    });
    until_pending(&db, &before, 1).await;
    let failing = tokio::spawn({
        let db = db.clone();
        async move {
            db.write_shared(|_| Err::<(), _>(DbError::Corrupt("refused".into())))
                .await
        }
    });
    until_pending(&db, &before, 2).await;
    holder.release();
    assert!(matches!(rolled.await.unwrap(), Err(DbError::Busy { .. })));
    assert!(matches!(failing.await.unwrap(), Err(DbError::Corrupt(_))));
    // Another package takes the id htop had; htop then gets one of its own.
    db.write_grouped(|tx| store(tx, 6, &[], &[sw("tmux", "amd64", "3.4")]))
        .await
        .unwrap();
    db.write_grouped(|tx| store(tx, 5, &[], &[sw("htop", "amd64", "3.3")]))
        .await
        .unwrap();
    let five = db.read_blocking(|c| load(c, 5)).unwrap();
    assert_eq!(five, vec![sw("htop", "amd64", "3.3")]);
    let (kept, scanned) = check(&db);
    assert_eq!(kept, scanned);
}

/// A shared batch with more reports queued behind it logs its counts; the next batch
/// that ends with nothing waiting writes its own and folds the log in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_writer_logs_counts_and_folds_them_when_the_wave_pauses() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("p.db"), Duration::from_secs(5), 2).unwrap();
    db.untimed_batches();
    let n: i64 = 70;
    db.write(move |tx| {
        for id in 1..=n {
            tx.execute(
                "INSERT INTO assets (id, name, created_at, updated_at) VALUES (?1, 'pc', 0, 0)",
                [id],
            )?;
        }
        Ok(())
    })
    .await
    .unwrap();
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let mut jobs = Vec::new();
    for asset in 1..=n {
        let shared = db.clone();
        // Each report also reads how many changes the log holds when it runs.
        jobs.push(tokio::spawn(async move {
            shared
                .write_shared(move |tx| {
                    let logged = logged_changes(tx)?;
                    let v = if asset % 2 == 0 { "9.0" } else { "9.1" };
                    store(
                        tx,
                        asset,
                        &[],
                        &[sw("vim", "amd64", v), sw("curl", "amd64", "8")],
                    )?;
                    Ok(logged)
                })
                .await
        }));
        until_pending(&db, &before, asset as u64).await;
    }
    holder.release();
    let mut logged = Vec::new();
    for j in jobs {
        logged.push(j.await.unwrap().unwrap());
    }
    assert_eq!(batches_since(&db, &before, 2).await, 2, "64 jobs, then 6");
    // The first batch (64 jobs) saw an empty log; the second saw the first's changes:
    // vim (title), vim 9.0, vim 9.1, curl (title), curl 8.
    assert!(logged[..64].iter().all(|&l| l == 0), "{logged:?}");
    assert!(logged[64..].iter().all(|&l| l == 5), "{logged:?}");
    let (kept, scanned) = db.read_blocking(|c| Ok(kept_and_scanned(c))).unwrap();
    assert_eq!(kept, scanned);
    assert_eq!(kept.0.len(), 2);
    let left = db.read_blocking(logged_changes).unwrap();
    assert_eq!(left, 0, "folded when the wave paused");

    // A wave that simply stops (a batch of 16 or more, nothing behind it): its logged
    // counts are folded once the writer has been idle a moment (here: when told).
    db.set_idle_fold(Duration::from_secs(3_600));
    let holder = Holder::hold(&db);
    let before = db.writer_stats();
    let mut jobs = Vec::new();
    for asset in 1..=20 {
        let shared = db.clone();
        jobs.push(tokio::spawn(async move {
            shared
                .write_shared(move |tx| {
                    let old = load(tx, asset)?;
                    let mut new = old.clone();
                    new.push(sw("htop", "amd64", "3.3"));
                    store(tx, asset, &old, &new)
                })
                .await
        }));
        until_pending(&db, &before, asset as u64).await;
    }
    holder.release();
    for j in jobs {
        j.await.unwrap().unwrap();
    }
    let logged = |db: &Db| db.read_blocking(logged_changes).unwrap();
    assert_eq!(logged(&db), 2, "htop as a title and as a version");
    db.set_idle_fold(Duration::ZERO);
    // A safety net, not a timing.
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    while logged(&db) > 0 {
        assert!(std::time::Instant::now() < give_up, "never folded");
        tokio::task::yield_now().await;
    }
    let (kept, scanned) = db.read_blocking(|c| Ok(kept_and_scanned(c))).unwrap();
    assert_eq!(kept, scanned);
    assert_eq!(kept.0.len(), 3, "vim, curl and htop: {kept:?}");
}

#[test]
fn a_log_older_than_fold_every_is_folded_even_while_busy() {
    use crate::db::package_counts::FOLD_EVERY;
    let t0 = std::time::Instant::now();
    assert!(log_now(true, None, t0), "busy, nothing logged yet");
    assert!(log_now(true, Some(t0), t0 + FOLD_EVERY / 2));
    assert!(!log_now(true, Some(t0), t0 + FOLD_EVERY), "due");
    assert!(!log_now(false, None, t0), "nothing waiting: written");
}

#[test]
fn the_digest_is_of_the_key_set() {
    let a = sw("vim", "amd64", "9.0");
    let b = sw("curl", "amd64", "8.1");
    let mut a2 = a.clone();
    a2.publisher = "Bram".into();
    a2.install_date = 5;
    assert_eq!(
        digest(&[a.clone(), b.clone()]),
        digest(&[b.clone(), a2, a.clone()]),
        "order, repeats, publisher and install date do not count"
    );
    assert_ne!(digest(&[a.clone(), b]), digest(std::slice::from_ref(&a)));
    assert_ne!(digest(&[a]), digest(&[sw("vim", "amd64", "9.1")]));
    // Fields cannot run into each other.
    assert_ne!(digest(&[sw("ab", "c", "1")]), digest(&[sw("a", "bc", "1")]));
}

#[path = "packages_log_tests.rs"]
mod log_tests;
