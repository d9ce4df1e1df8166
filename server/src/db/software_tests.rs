use super::*;
use crate::db::migrations;

fn db() -> Connection {
    let mut c = Connection::open_in_memory().expect("open");
    c.pragma_update(None, "foreign_keys", "ON").expect("fk");
    migrations::migrate(&mut c).expect("migrate");
    for id in 1..=6 {
        c.execute(
            "INSERT INTO assets (id, name, hostname, created_at, updated_at) VALUES (?1, ?2, ?3, 0, 0)",
            params![id, format!("PC-{id}"), format!("pc-{id}")],
        )
        .expect("asset");
    }
    c
}

fn add(c: &Connection, verb: &str, asset: i64, name: &str, arch: &str, version: &str) {
    c.execute(
        &format!(
            "{verb} INTO asset_software (asset_id, source, name, arch, version) VALUES (?1, 'dpkg', ?2, ?3, ?4)"
        ),
        params![asset, name, arch, version],
    )
    .expect("insert");
}

fn remove(c: &Connection, asset: i64, name: &str, arch: &str, version: &str) {
    c.execute(
        "DELETE FROM asset_software WHERE asset_id = ?1 AND name = ?2 AND arch = ?3 AND version = ?4",
        params![asset, name, arch, version],
    )
    .expect("delete");
}

type Counts = (Vec<(String, i64, i64)>, Vec<(String, String, i64)>);

/// The counters as the triggers keep them, and as a scan computes them.
fn kept_and_scanned(c: &Connection) -> (Counts, Counts) {
    let q3 = |sql: &str| -> Vec<(String, i64, i64)> {
        let mut s = c.prepare(sql).expect("prepare");
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let q3v = |sql: &str| -> Vec<(String, String, i64)> {
        let mut s = c.prepare(sql).expect("prepare");
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    let kept = (
        q3("SELECT name, installs, versions FROM software_titles ORDER BY name"),
        q3v("SELECT name, version, installs FROM software_versions ORDER BY name, version"),
    );
    let scanned = (
        q3(
            "SELECT name, count(DISTINCT asset_id), count(DISTINCT version) FROM asset_software GROUP BY name ORDER BY name",
        ),
        q3v(
            "SELECT name, version, count(DISTINCT asset_id) FROM asset_software GROUP BY name, version ORDER BY name, version",
        ),
    );
    (kept, scanned)
}

fn assert_consistent(c: &Connection, step: &str) {
    let (kept, scanned) = kept_and_scanned(c);
    assert_eq!(kept, scanned, "after {step}");
}

#[test]
fn counts_follow_inserts_replaces_deletes_rekeys_and_cascades() {
    let c = db();
    add(&c, "INSERT", 1, "openssl", "amd64", "1.1.1n");
    add(&c, "INSERT", 1, "openssl", "i386", "1.1.1n");
    add(&c, "INSERT", 2, "openssl", "amd64", "3.0.11");
    add(&c, "INSERT", 3, "openssl", "amd64", "3.0.11");
    add(&c, "INSERT", 3, "curl", "amd64", "7.88");
    assert_consistent(&c, "inserts");
    assert_eq!(
        title(&c, "openssl").expect("title"),
        Some(Title {
            name: "openssl".into(),
            installs: 3,
            versions: 2
        })
    );
    // Replacing a row that is there changes nothing; ignoring one neither.
    add(&c, "INSERT OR REPLACE", 1, "openssl", "amd64", "1.1.1n");
    add(&c, "INSERT OR IGNORE", 2, "openssl", "amd64", "3.0.11");
    assert_consistent(&c, "replace");
    // One architecture goes: the machine still has the version.
    remove(&c, 1, "openssl", "i386", "1.1.1n");
    assert_consistent(&c, "one arch removed");
    remove(&c, 1, "openssl", "amd64", "1.1.1n");
    assert_consistent(&c, "last version removed");
    assert_eq!(versions(&c, "openssl").expect("versions").len(), 1);
    // A failed insert (unknown asset) leaves the counts alone.
    assert!(
        c.execute(
            "INSERT INTO asset_software (asset_id, source, name, arch, version) VALUES (99, 'x', 'ghost', 'a', '1')",
            [],
        )
        .is_err()
    );
    assert_consistent(&c, "failed insert");
    assert_eq!(title(&c, "ghost").expect("title"), None);
    // Re-keying in place.
    c.execute(
        "UPDATE asset_software SET version = '3.0.13' WHERE asset_id = 2 AND name = 'openssl'",
        [],
    )
    .expect("update");
    assert_consistent(&c, "version updated in place");
    c.execute(
        "UPDATE asset_software SET asset_id = 4 WHERE asset_id = 3 AND name = 'curl'",
        [],
    )
    .expect("update");
    assert_consistent(&c, "moved to another asset");
    c.execute(
        "UPDATE asset_software SET publisher = 'OpenSSL' WHERE name = 'openssl'",
        [],
    )
    .expect("update");
    assert_consistent(&c, "publisher updated");
    // Deleting an asset removes its software through the cascade.
    c.execute("DELETE FROM assets WHERE id = 3", [])
        .expect("delete asset");
    assert_consistent(&c, "asset deleted");
    c.execute("DELETE FROM asset_software", []).expect("clear");
    assert_consistent(&c, "all gone");
    let n: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM software_titles) + (SELECT count(*) FROM software_versions)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(n, 0, "titles and versions with no installs leave");
}

#[test]
fn counts_stay_right_under_many_random_changes() {
    let c = db();
    let mut x: u64 = 0x1234_5678;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let names = ["a", "b", "c"];
    let archs = ["amd64", "i386"];
    let vers = ["1.0", "1.1", "2.0~rc1"];
    for i in 0..3000 {
        let asset = 1 + next(6) as i64;
        let name = names[next(3) as usize];
        let arch = archs[next(2) as usize];
        let version = vers[next(3) as usize];
        match next(6) {
            0 | 1 => add(&c, "INSERT OR IGNORE", asset, name, arch, version),
            2 => add(&c, "INSERT OR REPLACE", asset, name, arch, version),
            3 => remove(&c, asset, name, arch, version),
            4 => {
                let to = 1 + next(6) as i64;
                let _ = c.execute(
                    "UPDATE OR IGNORE asset_software SET asset_id = ?4, name = ?5
                     WHERE asset_id = ?1 AND name = ?2 AND arch = ?3",
                    params![asset, name, arch, to, names[next(3) as usize]],
                );
            }
            _ => {
                let to = vers[next(3) as usize];
                let _ = c.execute(
                    "UPDATE OR IGNORE asset_software SET version = ?4
                     WHERE asset_id = ?1 AND name = ?2 AND arch = ?3",
                    params![asset, name, arch, to],
                );
            }
        }
        if i % 100 == 0 {
            assert_consistent(&c, &format!("step {i}"));
        }
    }
    assert_consistent(&c, "the end");
}

#[test]
fn migration_backfills_existing_software() {
    let mut c = Connection::open_in_memory().expect("open");
    c.pragma_update(None, "foreign_keys", "ON").expect("fk");
    // Up to 9, with software already reported, then 10.
    for &(version, sql) in migrations::MIGRATIONS.iter().filter(|m| m.0 < 10) {
        c.execute_batch(sql).expect("migration");
        c.pragma_update(None, "user_version", version)
            .expect("version");
    }
    c.execute(
        "INSERT INTO assets (id, name, created_at, updated_at) VALUES (1, 'a', 0, 0), (2, 'b', 0, 0)",
        [],
    )
    .expect("assets");
    add(&c, "INSERT", 1, "openssl", "amd64", "1.1.1n");
    add(&c, "INSERT", 1, "openssl", "i386", "1.1.1n");
    add(&c, "INSERT", 2, "openssl", "amd64", "3.0.11");
    migrations::migrate(&mut c).expect("migrate");
    assert_consistent(&c, "backfill");
    assert_eq!(
        title(&c, "openssl").expect("title").map(|t| t.installs),
        Some(2)
    );
}

#[test]
fn versions_are_listed_newest_first() {
    let c = db();
    for (asset, v) in [
        (1, "1.1.1n"),
        (2, "3.0.11"),
        (3, "3.0.0~alpha1"),
        (4, "3.0.11"),
        (5, "1:0.9"),
    ] {
        add(&c, "INSERT", asset, "openssl", "amd64", v);
    }
    let got: Vec<(String, i64)> = versions(&c, "openssl")
        .expect("versions")
        .into_iter()
        .map(|v| (v.version, v.installs))
        .collect();
    assert_eq!(
        got,
        vec![
            ("1:0.9".to_owned(), 1),
            ("3.0.11".to_owned(), 2),
            ("3.0.0~alpha1".to_owned(), 1),
            ("1.1.1n".to_owned(), 1)
        ]
    );
}

#[test]
fn holders_merge_versions_in_asset_order_and_page() {
    let c = db();
    for (asset, v) in [
        (1, "1.1.1n"),
        (2, "3.0.11"),
        (3, "1.1.1w"),
        (4, "1.1.1n"),
        (5, "1.1.1w"),
    ] {
        add(&c, "INSERT", asset, "openssl", "amd64", v);
    }
    // Asset 5 has two matching versions: it is listed once per version.
    add(&c, "INSERT", 5, "openssl", "amd64", "1.1.1n");
    add(&c, "INSERT", 5, "openssl", "i386", "1.1.1n");
    let below: Vec<String> = vec!["1.1.1n".into(), "1.1.1w".into()];
    let all = holders(&c, "openssl", &below, None, 100).expect("holders");
    let keys: Vec<(i64, &str)> = all
        .iter()
        .map(|h| (h.asset_id, h.version.as_str()))
        .collect();
    assert_eq!(
        keys,
        vec![
            (1, "1.1.1n"),
            (3, "1.1.1w"),
            (4, "1.1.1n"),
            (5, "1.1.1n"),
            (5, "1.1.1w")
        ]
    );
    assert_eq!(all[0].hostname, "pc-1");
    // Two at a time, each page after the last key of the one before.
    let mut paged = Vec::new();
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = holders(
            &c,
            "openssl",
            &below,
            after.as_ref().map(|(a, v)| (*a, v.as_str())),
            2,
        )
        .expect("page");
        if page.is_empty() {
            break;
        }
        after = page.last().map(|h| (h.asset_id, h.version.clone()));
        paged.extend(page);
    }
    assert_eq!(paged, all);
}

fn sw(name: &str, version: &str) -> Software {
    Software {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "dpkg".into(),
        ..Default::default()
    }
}

#[test]
fn reports_add_up_per_day() {
    let c = db();
    let day1 = 20_000 * DAY + 3600;
    let old = vec![sw("openssl", "1.1.1n"), sw("vim", "9.0")];
    let new = vec![sw("openssl", "3.0.11"), sw("htop", "3.2")];
    record_report(&c, &old, &new, day1).expect("record");
    record_report(&c, &[], &[sw("htop", "3.2")], day1 + 60).expect("record");
    record_report(&c, &new, &new, day1 + 120).expect("nothing changed");
    record_report(&c, &[sw("htop", "3.2")], &[], day1 + DAY).expect("record");
    let h = history(&c, "htop", 19_999, 20_002).expect("history");
    let ints: Vec<(i64, i64, i64)> = h.iter().map(|d| (d.day, d.installed, d.removed)).collect();
    assert_eq!(
        ints,
        vec![
            (19_999, 0, 0),
            (20_000, 2, 0),
            (20_001, 0, 1),
            (20_002, 0, 0)
        ]
    );
    let o = history(&c, "openssl", 20_000, 20_000).expect("history");
    assert_eq!((o[0].upgraded, o[0].downgraded), (1, 0));
    assert!(
        known(&c, "vim").expect("known"),
        "removed everywhere, still in history"
    );
    assert!(!known(&c, "emacs").expect("known"));
}
