//! Machines' installed software (migration 0016): each distinct package once in
//! `software_packages` with an integer id, each machine's packages as (asset, package)
//! rows, and the catalog's counts per title and version.
//!
//! The counts are kept here, not by triggers: [`store`] works out which titles and
//! versions a machine gained or lost and adds that to the pending counts. Outside the
//! writer thread they are written at the end of [`store`]. On the writer thread
//! (see `writer.rs`) they wait, and a batch's counts are written once before its commit:
//! 32 first inventories share most of their titles, so that is a few thousand upserts
//! instead of ~30,000. The writer thread also caches package ids.
//!
//! A machine has at most one row per (source, name, arch, version); the last publisher
//! reported wins, as the text-keyed table before 0016 kept it.

use super::DbResult;
use rusqlite::{Connection, params};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use steward_shared::Software;

/// Most package ids the writer thread keeps; past it the cache starts again.
const MAX_CACHED_IDS: usize = 250_000;

/// What changed in the catalog counts: machines gained (+) or lost (-) per title and per
/// (title, version).
#[derive(Debug, Default)]
struct Counts {
    titles: BTreeMap<String, i64>,
    versions: BTreeMap<(String, String), i64>,
}

impl Counts {
    fn merge(&mut self, other: Counts) {
        for (k, d) in other.titles {
            *self.titles.entry(k).or_default() += d;
        }
        for (k, d) in other.versions {
            *self.versions.entry(k).or_default() += d;
        }
    }

    fn is_empty(&self) -> bool {
        self.titles.is_empty() && self.versions.is_empty()
    }

    /// Adds what replacing the rows `old` by `new` does to one machine: every title and
    /// every version it has in one and not the other.
    fn add_change(&mut self, old: &[Software], new: &[&Software]) {
        let old_names: HashSet<&str> = old.iter().map(|s| s.name.as_str()).collect();
        let new_names: HashSet<&str> = new.iter().map(|s| s.name.as_str()).collect();
        for (from, to, d) in [(&old_names, &new_names, 1), (&new_names, &old_names, -1)] {
            for n in to.difference(from) {
                self.add_title(n, d);
            }
        }
        let old_pairs: HashSet<(&str, &str)> = old.iter().map(name_version).collect();
        let new_pairs: HashSet<(&str, &str)> = new.iter().map(|s| name_version(s)).collect();
        for (from, to, d) in [(&old_pairs, &new_pairs, 1), (&new_pairs, &old_pairs, -1)] {
            for (n, v) in to.difference(from) {
                *self
                    .versions
                    .entry(((*n).to_owned(), (*v).to_owned()))
                    .or_default() += d;
            }
        }
    }

    fn add_title(&mut self, name: &str, d: i64) {
        match self.titles.get_mut(name) {
            Some(n) => *n += d,
            None => {
                self.titles.insert(name.to_owned(), d);
            }
        }
    }
}

#[derive(Debug, Default)]
struct Pending {
    /// Package ids looked up or created in this scope: cached once committed.
    ids: Vec<(Box<[u8]>, i64)>,
    counts: Counts,
}

impl Pending {
    fn merge(&mut self, other: Pending) {
        self.ids.extend(other.ids);
        self.counts.merge(other.counts);
    }
}

/// The writer thread's state: committed package ids, and what the open batch and the
/// running job added.
#[derive(Debug, Default)]
struct Deferred {
    ids: HashMap<Box<[u8]>, i64>,
    batch: Pending,
    job: Pending,
}

thread_local! {
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

/// The writer thread defers counts and caches ids from now on.
pub(super) fn defer_on_this_thread() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Deferred::default()));
}

/// The running job ended: its counts and ids join the batch if it was kept (released
/// savepoint), or are dropped (rolled back).
pub(super) fn job_ended(kept: bool) {
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            let job = std::mem::take(&mut d.job);
            if kept {
                d.batch.merge(job);
            }
        }
    });
}

/// Writes the batch's counts; call before committing it.
pub(super) fn before_commit(c: &Connection) -> DbResult<()> {
    let counts = DEFERRED.with(|d| {
        d.borrow_mut()
            .as_mut()
            .map(|d| std::mem::take(&mut d.batch.counts))
    });
    match counts {
        Some(counts) => write_counts(c, counts),
        None => Ok(()),
    }
}

/// The batch ended: its ids are cached if it committed; everything pending is dropped.
pub(super) fn batch_ended(committed: bool) {
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            let batch = std::mem::take(&mut d.batch);
            d.job = Pending::default();
            if committed {
                if d.ids.len() + batch.ids.len() > MAX_CACHED_IDS {
                    d.ids.clear();
                }
                d.ids.extend(batch.ids);
            }
        }
    });
}

/// Runs `f` (many [`store`] calls in the caller's transaction) with the counts added up
/// and written once at the end, as the writer does for a batch. For bulk loaders.
pub fn with_deferred_counts<T>(c: &Connection, f: impl FnOnce() -> DbResult<T>) -> DbResult<T> {
    if DEFERRED.with(|d| d.borrow().is_some()) {
        return f();
    }
    DEFERRED.with(|d| *d.borrow_mut() = Some(Deferred::default()));
    let out = f();
    let pending = DEFERRED.with(|d| d.borrow_mut().take());
    let value = out?;
    if let Some(mut d) = pending {
        d.batch.merge(std::mem::take(&mut d.job));
        write_counts(c, d.batch.counts)?;
    }
    Ok(value)
}

/// Replaces the stored rows `old` of machine `asset_id` by `new`: deletes the rows whose
/// key went, inserts the new ones, and counts the titles and versions that changed.
/// `old` must be what is stored for the titles `new` covers (every title, or only some).
pub fn store(c: &Connection, asset_id: i64, old: &[Software], new: &[Software]) -> DbResult<()> {
    let (new, new_keys) = dedup(new);
    let old_keys: HashSet<_> = old.iter().map(key).collect();
    let mut del = c.prepare_cached(
        "DELETE FROM asset_packages WHERE asset_id = ?1 AND package_id IN
             (SELECT id FROM software_packages WHERE name = ?2 AND version = ?3 AND arch = ?4 AND source = ?5)",
    )?;
    for s in old.iter().filter(|s| !new_keys.contains_key(&key(s))) {
        del.execute(params![asset_id, s.name, s.version, s.arch, s.source])?;
    }
    let mut ins = c.prepare_cached(
        "INSERT INTO asset_packages (asset_id, package_id, install_date) VALUES (?1, ?2, ?3)",
    )?;
    let mut added: Vec<(i64, i64)> = Vec::new();
    let mut buf = Vec::new();
    for s in new.iter().filter(|s| !old_keys.contains(&key(s))) {
        added.push((package_id(c, s, &mut buf)?, s.install_date));
    }
    // In package order: neighbouring rows land on the same pages.
    added.sort_unstable();
    for (package, installed) in added {
        ins.execute(params![asset_id, package, installed])?;
    }
    let mut counts = Counts::default();
    counts.add_change(old, &new);
    let deferred = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(d) => {
            d.job.counts.merge(std::mem::take(&mut counts));
            true
        }
        None => false,
    });
    if deferred {
        Ok(())
    } else {
        write_counts(c, counts)
    }
}

fn name_version(s: &Software) -> (&str, &str) {
    (&s.name, &s.version)
}

/// What identifies a package on one machine.
fn key(s: &Software) -> (&str, &str, &str, &str) {
    (&s.source, &s.name, &s.arch, &s.version)
}

/// A digest of what identifies `list`'s rows on a machine (their keys, in any order,
/// repeats ignored): equal digests mean a report changes no software row, so the stored
/// rows need not be loaded and compared.
pub fn digest(list: &[Software]) -> String {
    use sha2::{Digest, Sha256};
    let mut keys: Vec<(&str, &str, &str, &str)> = list.iter().map(key).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut h = Sha256::new();
    for (a, b, c, d) in keys {
        for f in [a, b, c, d] {
            h.update((f.len() as u32).to_le_bytes());
            h.update(f.as_bytes());
        }
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `list` with one row per (source, name, arch, version), the last of each kept, and
/// their keys.
#[allow(clippy::type_complexity)]
fn dedup(list: &[Software]) -> (Vec<&Software>, HashMap<(&str, &str, &str, &str), usize>) {
    let mut seen: HashMap<(&str, &str, &str, &str), usize> = HashMap::with_capacity(list.len());
    let mut out: Vec<&Software> = Vec::with_capacity(list.len());
    for s in list {
        let k = key(s);
        match seen.get(&k) {
            Some(&i) => out[i] = s,
            None => {
                seen.insert(k, out.len());
                out.push(s);
            }
        }
    }
    (out, seen)
}

/// The cache key of a package: each field after its length, so no two packages share one.
fn cache_key<'b>(s: &Software, buf: &'b mut Vec<u8>) -> &'b [u8] {
    buf.clear();
    for f in [&s.name, &s.version, &s.arch, &s.source, &s.publisher] {
        buf.extend_from_slice(&(f.len() as u32).to_le_bytes());
        buf.extend_from_slice(f.as_bytes());
    }
    buf
}

/// The id of package `s`, created if new.
fn package_id(c: &Connection, s: &Software, buf: &mut Vec<u8>) -> DbResult<i64> {
    let cached = DEFERRED.with(|d| {
        d.borrow()
            .as_ref()
            .and_then(|d| d.ids.get(cache_key(s, buf)).copied())
    });
    if let Some(id) = cached {
        return Ok(id);
    }
    let found = super::optional(
        c.prepare_cached(
            "SELECT id FROM software_packages
             WHERE name = ?1 AND version = ?2 AND arch = ?3 AND source = ?4 AND publisher = ?5",
        )?
        .query_row(
            params![s.name, s.version, s.arch, s.source, s.publisher],
            |r| r.get(0),
        ),
    )?;
    let id = match found {
        Some(id) => id,
        None => {
            c.prepare_cached(
                "INSERT INTO software_packages (name, version, arch, source, publisher)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![s.name, s.version, s.arch, s.source, s.publisher])?;
            c.last_insert_rowid()
        }
    };
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            d.job.ids.push((cache_key(s, buf).into(), id));
        }
    });
    Ok(id)
}

/// Adds `counts` to software_versions and software_titles: a version whose count reaches
/// 0 leaves (its title has one version fewer), a new one is added (one more). Plain
/// UPDATE, then INSERT when no row was there: an upsert with RETURNING costs SQLite a
/// temporary table per statement.
fn write_counts(c: &Connection, counts: Counts) -> DbResult<()> {
    if counts.is_empty() {
        return Ok(());
    }
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
    for ((name, version), d) in counts.versions {
        if d == 0 {
            continue;
        }
        if update.execute(params![name, version, d])? == 0 {
            if d > 0 {
                insert.execute(params![name, version, d])?;
                *version_changes.entry(name).or_default() += 1;
            }
        } else if d < 0 && drop_version.execute(params![name, version])? > 0 {
            *version_changes.entry(name).or_default() -= 1;
        }
    }
    let mut titles = counts.titles;
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

fn software_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Software> {
    Ok(Software {
        name: r.get(0)?,
        version: r.get(1)?,
        arch: r.get(2)?,
        publisher: r.get(3)?,
        install_date: r.get(4)?,
        source: r.get(5)?,
    })
}

/// Every package of machine `asset_id`.
pub fn load(c: &Connection, asset_id: i64) -> DbResult<Vec<Software>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.name, p.version, p.arch, p.publisher, a.install_date, p.source
         FROM asset_packages a JOIN software_packages p ON p.id = a.package_id
         WHERE a.asset_id = ?1",
    )?;
    let rows = stmt.query_map([asset_id], software_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The packages of machine `asset_id` with one of the titles `names`: each title's
/// packages in the catalog, each probed in the machine's rows.
pub fn load_titles(c: &Connection, asset_id: i64, names: &[&str]) -> DbResult<Vec<Software>> {
    let mut stmt = c.prepare_cached(
        "SELECT p.name, p.version, p.arch, p.publisher, a.install_date, p.source
         FROM software_packages p JOIN asset_packages a ON a.asset_id = ?1 AND a.package_id = p.id
         WHERE p.name = ?2",
    )?;
    let mut out = Vec::new();
    for name in names {
        for row in stmt.query_map(params![asset_id, name], software_row)? {
            out.push(row?);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "packages_tests.rs"]
mod tests;
