//! The software catalog's counts (`software_titles`, `software_versions`): what reports
//! change in them, added up in memory, and how they reach the tables.
//!
//! The writer thread adds a batch's changes up and writes them once before its commit.
//! While a wave of first inventories keeps it busy, a batch appends its changes to the
//! log instead, as one encoded row of `software_count_batches` (migration 0025; a few
//! pages at the end of a table, where the updates dirtied pages all over the catalog).
//! The writer also keeps the logged changes added up in memory, and folds them into the
//! tables at the end of the first batch that is not part of the wave, or at least every
//! [`FOLD_EVERY`], without reading the log back. Deleting an asset logs its titles and
//! versions as lost, as rows of `software_count_log` (the trigger of migration 0022),
//! folded at the end of the same transaction. The log is folded when the database opens,
//! too, from the rows themselves, so a crash loses no count.

use super::DbResult;
use foldhash::{HashMap, HashSet};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;
use std::time::Duration;
use steward_shared::Software;

/// The longest the writer leaves changes in the log while first inventories keep coming.
/// Each fold writes every title and version touched since the last, much the same set
/// whether it is one second's or five's: folding every 5 s instead of every second took
/// a few hundredths of the writer's time off.
pub(super) const FOLD_EVERY: Duration = Duration::from_secs(5);

/// What changed in the catalog counts: machines gained (+) or lost (-) per title and per
/// (title, version). Hash maps, versions under their title: a batch of first
/// inventories adds ~500 titles and versions per machine, and ordered maps keyed by
/// (title, version) strings spent a fifth of the writer's time comparing and copying them.
#[derive(Debug, Default)]
pub(super) struct Counts {
    titles: HashMap<String, TitleCounts>,
}

#[derive(Debug, Default)]
struct TitleCounts {
    machines: i64,
    versions: HashMap<String, i64>,
}

impl Counts {
    pub(super) fn merge(&mut self, other: Counts) {
        if self.is_empty() {
            *self = other;
            return;
        }
        for (name, theirs) in other.titles {
            let mine = self.titles.entry(name).or_default();
            mine.machines += theirs.machines;
            for (v, d) in theirs.versions {
                *mine.versions.entry(v).or_default() += d;
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.titles.is_empty()
    }

    /// Adds what replacing the rows `old` by `new` does to one machine: every title and
    /// every version it has in one and not the other.
    pub(super) fn add_change(&mut self, old: &[Software], new: &[&Software]) {
        if old.is_empty() {
            // A first inventory: everything it has is new. Sorted (title, version) pairs
            // take one lookup per title and one per version.
            let mut pairs: Vec<(&str, &str)> = new
                .iter()
                .map(|s| (s.name.as_str(), s.version.as_str()))
                .collect();
            pairs.sort_unstable();
            pairs.dedup();
            for same_title in pairs.chunk_by(|a, b| a.0 == b.0) {
                let title = self.title(same_title[0].0);
                title.machines += 1;
                for (_, version) in same_title {
                    match title.versions.get_mut(*version) {
                        Some(n) => *n += 1,
                        None => {
                            title.versions.insert((*version).to_owned(), 1);
                        }
                    }
                }
            }
            return;
        }
        let new_names: HashSet<&str> = new.iter().map(|s| s.name.as_str()).collect();
        let new_pairs: HashSet<(&str, &str)> = new
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_str()))
            .collect();
        let old_names: HashSet<&str> = old.iter().map(|s| s.name.as_str()).collect();
        for (from, to, d) in [(&old_names, &new_names, 1), (&new_names, &old_names, -1)] {
            for n in to.difference(from) {
                self.title(n).machines += d;
            }
        }
        let old_pairs: HashSet<(&str, &str)> = old
            .iter()
            .map(|s| (s.name.as_str(), s.version.as_str()))
            .collect();
        for (from, to, d) in [(&old_pairs, &new_pairs, 1), (&new_pairs, &old_pairs, -1)] {
            for (n, v) in to.difference(from) {
                self.add_version(n, v, d);
            }
        }
    }

    /// The changes as bytes for the log: per title its name, machines and number of
    /// versions, then each version's name and count; strings after their length, numbers
    /// little-endian.
    pub(super) fn encode(&self) -> Vec<u8> {
        fn text(out: &mut Vec<u8>, s: &str) {
            out.extend_from_slice(&(s.len() as u32).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        let mut out = Vec::with_capacity(self.titles.len() * 64);
        out.extend_from_slice(&(self.titles.len() as u32).to_le_bytes());
        for (name, t) in &self.titles {
            text(&mut out, name);
            out.extend_from_slice(&t.machines.to_le_bytes());
            out.extend_from_slice(&(t.versions.len() as u32).to_le_bytes());
            for (version, d) in &t.versions {
                text(&mut out, version);
                out.extend_from_slice(&d.to_le_bytes());
            }
        }
        out
    }

    /// What [`Counts::encode`] wrote; `None` when `bytes` are not that.
    fn decode(bytes: &[u8]) -> Option<Counts> {
        struct Reader<'a>(&'a [u8]);
        impl<'a> Reader<'a> {
            fn take(&mut self, n: usize) -> Option<&'a [u8]> {
                let (head, rest) = self.0.split_at_checked(n)?;
                self.0 = rest;
                Some(head)
            }
            fn u32(&mut self) -> Option<usize> {
                let b = self.take(4)?.try_into().ok()?;
                usize::try_from(u32::from_le_bytes(b)).ok()
            }
            fn i64(&mut self) -> Option<i64> {
                Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
            }
            fn text(&mut self) -> Option<&'a str> {
                let n = self.u32()?;
                std::str::from_utf8(self.take(n)?).ok()
            }
        }
        let mut r = Reader(bytes);
        let mut counts = Counts::default();
        for _ in 0..r.u32()? {
            let name = r.text()?;
            let machines = r.i64()?;
            let title = counts.title(name);
            title.machines += machines;
            for _ in 0..r.u32()? {
                let version = r.text()?;
                let d = r.i64()?;
                *title.versions.entry(version.to_owned()).or_default() += d;
            }
        }
        r.0.is_empty().then_some(counts)
    }

    /// The counts of title `name`, added if new (copying the name only then).
    fn title(&mut self, name: &str) -> &mut TitleCounts {
        if !self.titles.contains_key(name) {
            self.titles.insert(name.to_owned(), TitleCounts::default());
        }
        self.titles.get_mut(name).expect("inserted above")
    }

    fn add_version(&mut self, name: &str, version: &str, d: i64) {
        let versions = &mut self.title(name).versions;
        match versions.get_mut(version) {
            Some(n) => *n += d,
            None => {
                versions.insert(version.to_owned(), d);
            }
        }
    }

    /// The changes that are not 0, in key order, so that the writes walk the catalog
    /// tables' pages in order.
    #[allow(clippy::type_complexity)]
    fn sorted(self) -> (Vec<(String, i64)>, Vec<((String, String), i64)>) {
        let mut titles = Vec::with_capacity(self.titles.len());
        let mut versions = Vec::new();
        for (name, t) in self.titles {
            for (v, d) in t.versions {
                if d != 0 {
                    versions.push(((name.clone(), v), d));
                }
            }
            if t.machines != 0 {
                titles.push((name, t.machines));
            }
        }
        titles.sort_unstable();
        versions.sort_unstable();
        (titles, versions)
    }
}

/// Adds `counts` to software_versions and software_titles: a version whose count reaches
/// 0 leaves (its title has one version fewer), a new one is added (one more). Plain
/// UPDATE, then INSERT when no row was there: an upsert with RETURNING costs SQLite a
/// temporary table per statement.
pub(super) fn write_counts(c: &Connection, counts: Counts) -> DbResult<()> {
    if counts.is_empty() {
        return Ok(());
    }
    let (title_changes, version_counts) = counts.sorted();
    let mut version_changes: BTreeMap<String, i64> = BTreeMap::new();
    let mut update = c.prepare_cached(
        "UPDATE software_versions SET installs = installs + ?3 WHERE name = ?1 AND version = ?2",
    )?;
    let mut insert = c.prepare_cached(
        "INSERT INTO software_versions (name, version, installs) VALUES (?1, ?2, ?3)",
    )?;
    let mut drop_version = c.prepare_cached(
        "DELETE FROM software_versions WHERE name = ?1 AND version = ?2 AND installs <= 0",
    )?;
    for ((name, version), d) in version_counts {
        if update.execute(params![name, version, d])? == 0 {
            if d > 0 {
                insert.execute(params![name, version, d])?;
                *version_changes.entry(name).or_default() += 1;
            }
        } else if d < 0 && drop_version.execute(params![name, version])? > 0 {
            *version_changes.entry(name).or_default() -= 1;
        }
    }
    let mut titles: BTreeMap<String, i64> = title_changes.into_iter().collect();
    for name in version_changes.keys() {
        titles.entry(name.clone()).or_default();
    }
    let mut update = c.prepare_cached(
        "UPDATE software_titles SET installs = installs + ?2, versions = versions + ?3 WHERE name = ?1",
    )?;
    let mut insert = c.prepare_cached(
        "INSERT INTO software_titles (name, installs, versions) VALUES (?1, ?2, ?3)",
    )?;
    let mut drop_title =
        c.prepare_cached("DELETE FROM software_titles WHERE name = ?1 AND installs <= 0")?;
    for (name, d) in titles {
        let v = version_changes.get(&name).copied().unwrap_or(0);
        if d == 0 && v == 0 {
            continue;
        }
        if update.execute(params![name, d, v])? == 0 {
            if d > 0 {
                insert.execute(params![name, d, v])?;
            }
        } else if d < 0 {
            drop_title.execute([&name])?;
        }
    }
    Ok(())
}

/// Appends `counts` to the log as one row (see the module's notes); returns its id.
pub(super) fn log_counts(c: &Connection, counts: &Counts) -> DbResult<i64> {
    c.prepare_cached("INSERT INTO software_count_batches (counts) VALUES (?1)")?
        .execute([counts.encode()])?;
    Ok(c.last_insert_rowid())
}

/// Folds the log into the tables and empties it; does nothing when it is empty.
pub fn fold_log(c: &Connection) -> DbResult<()> {
    fold_log_with(c, Counts::default(), &[], Counts::default())
}

/// [`fold_log`] for the writer, with its batch's own changes `batch` written too:
/// `memory` holds the changes it logged as the rows `ids`, added up. When those are the
/// log's rows, `memory` is written instead of reading and decoding them; otherwise
/// (someone else folded meanwhile, or a fold failed) the rows are read.
pub(super) fn fold_log_with(
    c: &Connection,
    memory: Counts,
    ids: &[i64],
    batch: Counts,
) -> DbResult<()> {
    let mut stmt = c.prepare_cached("SELECT id FROM software_count_batches ORDER BY id")?;
    let logged: Vec<i64> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut counts = if logged.as_slice() == ids {
        memory
    } else {
        read_batches(c)?
    };
    counts.merge(batch);
    if !logged.is_empty() {
        c.prepare_cached("DELETE FROM software_count_batches")?
            .execute([])?;
    }
    let any_rows: bool = c
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM software_count_log)")?
        .query_row([], |r| r.get(0))?;
    if any_rows {
        read_rows(c, &mut counts)?;
        c.prepare_cached("DELETE FROM software_count_log")?
            .execute([])?;
    }
    write_counts(c, counts)
}

/// The changes in the log's encoded rows, added up.
fn read_batches(c: &Connection) -> DbResult<Counts> {
    let mut counts = Counts::default();
    let mut stmt = c.prepare_cached("SELECT id, counts FROM software_count_batches")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let decoded = Counts::decode(r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?)
            .ok_or_else(|| {
                super::DbError::Corrupt(format!("software_count_batches row {id} does not decode"))
            })?;
        counts.merge(decoded);
    }
    Ok(counts)
}

/// Changes logged in the log's encoded rows and plain rows (for tests and diagnostics).
pub fn logged_changes(c: &Connection) -> DbResult<usize> {
    let rows: i64 = c.query_row("SELECT count(*) FROM software_count_log", [], |r| r.get(0))?;
    let batches = read_batches(c)?;
    let encoded: usize = batches
        .titles
        .values()
        .map(|t| usize::from(t.machines != 0) + t.versions.values().filter(|d| **d != 0).count())
        .sum();
    Ok(encoded + usize::try_from(rows).unwrap_or(0))
}

/// Adds the log's plain rows (asset deletes) to `counts`.
fn read_rows(c: &Connection, counts: &mut Counts) -> DbResult<()> {
    let mut stmt = c.prepare_cached(
        "SELECT name, version, sum(d) FROM software_count_log GROUP BY name, version",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        match row? {
            (name, None, d) => counts.title(&name).machines += d,
            (name, Some(version), d) => counts.add_version(&name, &version, d),
        }
    }
    Ok(())
}
