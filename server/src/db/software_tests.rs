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

fn add(c: &Connection, asset: i64, name: &str, arch: &str, version: &str) {
    let old = crate::db::packages::load(c, asset).expect("load");
    let mut new = old.clone();
    new.push(Software {
        name: name.into(),
        arch: arch.into(),
        version: version.into(),
        source: "dpkg".into(),
        ..Default::default()
    });
    crate::db::packages::store(c, asset, &old, &new).expect("store");
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
    for (asset, arch, version) in [
        (1, "amd64", "1.1.1n"),
        (1, "i386", "1.1.1n"),
        (2, "amd64", "3.0.11"),
    ] {
        c.execute(
            "INSERT INTO asset_software (asset_id, source, name, arch, version) VALUES (?1, 'dpkg', 'openssl', ?2, ?3)",
            params![asset, arch, version],
        )
        .expect("insert");
    }
    migrations::migrate(&mut c).expect("migrate");
    assert_eq!(
        versions(&c, "openssl").expect("versions").len(),
        2,
        "0010 counted them and 0016 kept them"
    );
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
        add(&c, asset, "openssl", "amd64", v);
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
        add(&c, asset, "openssl", "amd64", v);
    }
    // Asset 5 has two matching versions: it is listed once per version.
    add(&c, 5, "openssl", "amd64", "1.1.1n");
    add(&c, 5, "openssl", "i386", "1.1.1n");
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
    assert_eq!(all_pages(&c, "openssl", &below, 2), all);
}

/// Every holder of `name` in `versions`, read `size` at a time, each page after the last
/// key of the one before.
fn all_pages(c: &Connection, name: &str, versions: &[String], size: u32) -> Vec<Holder> {
    let mut paged: Vec<Holder> = Vec::new();
    loop {
        let after = paged.last().map(|h| (h.asset_id, h.version.as_str()));
        let page = holders(c, name, versions, after, size).expect("page");
        assert!(page.len() <= size as usize);
        if page.is_empty() {
            return paged;
        }
        paged.extend(page);
    }
}

#[test]
fn holders_page_across_asset_blocks() {
    use crate::db::packages::HOLDER_BLOCK;
    let c = db();
    // Machines in the first, the third and the ninth block, at their edges and between,
    // with blocks that hold none; and one machine with the other title only.
    let b = HOLDER_BLOCK;
    let mut holders_by_scan: Vec<(i64, &str)> = Vec::new();
    for (i, asset) in [1, b - 1, 2 * b, 2 * b + 7, 3 * b - 1, 8 * b, 8 * b + 200]
        .into_iter()
        .enumerate()
    {
        if asset > 6 {
            c.execute(
                "INSERT INTO assets (id, name, hostname, created_at, updated_at) VALUES (?1, 'x', 'x', 0, 0)",
                [asset],
            )
            .expect("asset");
        }
        let v = if i % 2 == 0 { "1.1.1n" } else { "1.1.1w" };
        add(&c, asset, "openssl", "amd64", v);
        holders_by_scan.push((asset, v));
    }
    add(&c, 2, "curl", "amd64", "8.0");
    let below: Vec<String> = vec!["1.1.1n".into(), "1.1.1w".into()];
    for size in [1, 2, 3, 100] {
        let paged: Vec<(i64, String)> = all_pages(&c, "openssl", &below, size)
            .into_iter()
            .map(|h| (h.asset_id, h.version))
            .collect();
        let want: Vec<(i64, String)> = holders_by_scan
            .iter()
            .map(|(a, v)| (*a, (*v).to_owned()))
            .collect();
        assert_eq!(paged, want, "pages of {size}");
    }
    let only_w = holders(&c, "openssl", &["1.1.1w".into()], None, 100).expect("one version");
    let ids: Vec<i64> = only_w.iter().map(|h| h.asset_id).collect();
    assert_eq!(ids, vec![b - 1, 2 * b + 7, 8 * b]);
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
