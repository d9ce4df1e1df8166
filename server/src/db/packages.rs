//! Machines' installed software (migration 0016): each distinct package once in
//! `software_packages` with an integer id, each machine's packages as (asset, package)
//! rows, and the catalog's counts per title and version.
//!
//! The counts are kept here, not by triggers: [`store`] works out which titles and
//! versions a machine gained or lost and adds that to the pending counts. Outside the
//! writer thread they are written at the end of [`store`]. On the writer thread
//! (see `writer.rs`) they wait, and a batch's counts are written once before its commit
//! (or logged, see `package_counts.rs`): 32 first inventories share most of their titles,
//! so that is a few thousand upserts instead of ~30,000. The writer thread also caches
//! package ids.
//!
//! A machine has at most one row per (source, name, arch, version); the last publisher
//! reported wins, as the text-keyed table before 0016 kept it.

use super::DbResult;
use super::package_counts::{
    Counts, FOLD_EVERY, fold_log, fold_log_with, log_counts, write_counts,
};
use foldhash::{HashMap, HashSet};
use rusqlite::{Connection, params};
use std::cell::RefCell;
use std::time::Instant;
use steward_shared::Software;

/// Most package ids the writer thread keeps; past it the cache starts again.
const MAX_CACHED_IDS: usize = 250_000;

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
    /// The open batch is shared (`writer::Mode::Shared`): kept or rolled back whole, so
    /// its jobs' counts need not be kept apart.
    shared: bool,
    /// What the open batch does with its counts before committing.
    batch_counts: CountsWent,
    /// When the oldest change still in the log was committed.
    logged_since: Option<Instant>,
    /// The changes this thread logged and committed, added up, and their log rows.
    logged: Counts,
    logged_ids: Vec<i64>,
    /// What the open batch logged (its changes and row), once it commits.
    batch_logged: Option<(Counts, i64)>,
}

/// Where a batch's counts went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum CountsWent {
    #[default]
    Nowhere,
    /// Appended to the log.
    Logged,
    /// Written to the tables, with the log folded in.
    Written,
}

thread_local! {
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

/// The writer thread defers counts and caches ids from now on.
pub(super) fn defer_on_this_thread() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Deferred::default()));
}

/// A batch starts; `shared` when its jobs are kept or rolled back together.
pub(super) fn batch_started(shared: bool) {
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            d.shared = shared;
        }
    });
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

/// Writes the batch's counts, with the log folded in; call before committing it. In a
/// `wave` of whole inventories (see `writer.rs`), the counts are logged instead, unless
/// the log has held changes for [`FOLD_EVERY`].
pub(super) fn before_commit(c: &Connection, wave: bool) -> DbResult<()> {
    enum Plan {
        Log(Counts),
        Write {
            batch: Counts,
            memory: Counts,
            ids: Vec<i64>,
        },
        Fold,
    }
    let plan = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        None => Plan::Fold,
        Some(d) => {
            let batch = std::mem::take(&mut d.batch.counts);
            if log_now(wave && d.shared, d.logged_since, Instant::now()) {
                d.batch_counts = CountsWent::Logged;
                Plan::Log(batch)
            } else {
                d.batch_counts = CountsWent::Written;
                // Taken: if the batch fails, the log's rows are read back instead.
                Plan::Write {
                    batch,
                    memory: std::mem::take(&mut d.logged),
                    ids: std::mem::take(&mut d.logged_ids),
                }
            }
        }
    });
    match plan {
        Plan::Log(counts) if counts.is_empty() => Ok(()),
        Plan::Log(counts) => {
            let id = log_counts(c, &counts)?;
            DEFERRED.with(|d| {
                if let Some(d) = d.borrow_mut().as_mut() {
                    d.batch_logged = Some((counts, id));
                }
            });
            Ok(())
        }
        Plan::Write { batch, memory, ids } => fold_log_with(c, memory, &ids, batch),
        Plan::Fold => fold_log(c),
    }
}

/// Whether a batch logs its counts: only in a wave of shared batches, and while the
/// oldest logged change is younger than [`FOLD_EVERY`].
fn log_now(shared_wave: bool, logged_since: Option<Instant>, now: Instant) -> bool {
    shared_wave && logged_since.is_none_or(|t| now.duration_since(t) < FOLD_EVERY)
}

/// Whether this writer thread left counts in the log.
pub(super) fn counts_logged() -> bool {
    DEFERRED.with(|d| {
        d.borrow()
            .as_ref()
            .is_some_and(|d| d.logged_since.is_some())
    })
}

/// The writer has had nothing to do for a while: counts a wave left in the log are
/// folded, in a transaction of their own. A failure is logged and tried again later.
pub(super) fn fold_when_idle(conn: &mut Connection) {
    if !counts_logged() {
        return;
    }
    let (memory, ids) = DEFERRED.with(|d| {
        d.borrow_mut().as_mut().map_or_else(Default::default, |d| {
            (
                std::mem::take(&mut d.logged),
                std::mem::take(&mut d.logged_ids),
            )
        })
    });
    let folded = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(super::DbError::from)
        .and_then(|tx| {
            fold_log_with(&tx, memory, &ids, Counts::default())?;
            Ok(tx.commit()?)
        });
    match folded {
        Ok(()) => DEFERRED.with(|d| {
            if let Some(d) = d.borrow_mut().as_mut() {
                d.logged_since = None;
            }
        }),
        Err(e) => {
            tracing::warn!(error = %e, "folding the software counts failed; the next pause tries again")
        }
    }
}

/// The batch ended: its ids are cached if it committed; everything pending is dropped.
pub(super) fn batch_ended(committed: bool) {
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            let batch = std::mem::take(&mut d.batch);
            d.job = Pending::default();
            d.shared = false;
            let went = std::mem::take(&mut d.batch_counts);
            let logged = d.batch_logged.take();
            if committed {
                match went {
                    CountsWent::Logged => {
                        d.logged_since.get_or_insert_with(Instant::now);
                        if let Some((counts, id)) = logged {
                            d.logged.merge(counts);
                            d.logged_ids.push(id);
                        }
                    }
                    CountsWent::Written => d.logged_since = None,
                    CountsWent::Nowhere => {}
                }
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
    // The rows have no foreign keys (migration 0022): the asset is checked once here.
    let exists = c
        .prepare_cached("SELECT 1 FROM assets WHERE id = ?1")?
        .exists([asset_id])?;
    if !exists {
        return Err(super::DbError::Task(format!(
            "software for asset {asset_id}, which does not exist"
        )));
    }
    let (new, new_keys) = dedup(new);
    let old_keys: HashSet<_> = old.iter().map(key).collect();
    let mut del = c.prepare_cached(
        "DELETE FROM asset_packages WHERE asset_id = ?1 AND package_id IN
             (SELECT id FROM software_packages WHERE name = ?2 AND version = ?3 AND arch = ?4 AND source = ?5)",
    )?;
    for s in old.iter().filter(|s| !new_keys.contains_key(&key(s))) {
        del.execute(params![asset_id, s.name, s.version, s.arch, s.source])?;
    }
    let mut added: Vec<(i64, i64)> = Vec::new();
    let mut buf = Vec::new();
    for s in new.iter().filter(|s| !old_keys.contains(&key(s))) {
        added.push((package_id(c, s, &mut buf)?, s.install_date));
    }
    // In package order: neighbouring rows land on the same pages.
    added.sort_unstable();
    insert_rows(c, asset_id, &added)?;
    let deferred = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(d) => {
            // A shared batch is kept or dropped whole: its jobs count straight into it.
            let counts = if d.shared {
                &mut d.batch.counts
            } else {
                &mut d.job.counts
            };
            counts.add_change(old, &new);
            true
        }
        None => false,
    });
    if deferred {
        Ok(())
    } else {
        let mut counts = Counts::default();
        counts.add_change(old, &new);
        write_counts(c, counts)
    }
}

/// Rows per INSERT statement in [`insert_rows`]: a first inventory's ~500 rows take a
/// handful of statements instead of ~500 (a third of the writer's time went to running
/// the one-row statement).
const ROWS_PER_INSERT: usize = 64;

/// Inserts machine `asset_id`'s rows `(package, install date)`.
fn insert_rows(c: &Connection, asset_id: i64, rows: &[(i64, i64)]) -> DbResult<()> {
    static MANY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let many = MANY.get_or_init(|| {
        let values = vec!["(?, ?, ?)"; ROWS_PER_INSERT].join(", ");
        format!("INSERT INTO asset_packages (asset_id, package_id, install_date) VALUES {values}")
    });
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    let mut stmt = c.prepare_cached(many)?;
    let mut values: Vec<i64> = Vec::with_capacity(3 * ROWS_PER_INSERT);
    for chunk in &mut chunks {
        values.clear();
        for &(package, installed) in chunk {
            values.extend([asset_id, package, installed]);
        }
        stmt.execute(rusqlite::params_from_iter(&values))?;
    }
    let mut one = c.prepare_cached(
        "INSERT INTO asset_packages (asset_id, package_id, install_date) VALUES (?1, ?2, ?3)",
    )?;
    for &(package, installed) in chunks.remainder() {
        one.execute(params![asset_id, package, installed])?;
    }
    Ok(())
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
    let mut seen: HashMap<(&str, &str, &str, &str), usize> =
        HashMap::with_capacity_and_hasher(list.len(), Default::default());
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

/// Consecutive asset ids per block of the (block, package) index, `asset_packages_block`
/// (migration 0022): its expression is `asset_id / 256`, and queries must spell it so.
pub const HOLDER_BLOCK: i64 = 256;

/// The machines that have one of `packages`, from asset `from_asset` on: block by block
/// of [`HOLDER_BLOCK`] assets, in asset order, `each` gets a block's (asset, package)
/// pairs (ordered by package, then asset) and says whether to read the next block. A
/// caller that wants a page stops once it has one; later blocks hold only later assets.
pub fn holders(
    c: &Connection,
    packages: &[i64],
    from_asset: i64,
    mut each: impl FnMut(&[(i64, i64)]) -> bool,
) -> DbResult<()> {
    if packages.is_empty() {
        return Ok(());
    }
    let last: Option<i64> =
        c.query_row("SELECT max(asset_id) FROM asset_packages", [], |r| r.get(0))?;
    let Some(last) = last else { return Ok(()) };
    let mut stmt = c.prepare_cached(
        "SELECT asset_id FROM asset_packages
         WHERE asset_id / 256 = ?1 AND package_id = ?2 AND asset_id >= ?3 ORDER BY asset_id",
    )?;
    let mut rows: Vec<(i64, i64)> = Vec::new();
    for block in from_asset.max(0) / HOLDER_BLOCK..=last / HOLDER_BLOCK {
        rows.clear();
        for &package in packages {
            for asset in stmt.query_map(params![block, package, from_asset], |r| r.get(0))? {
                rows.push((asset?, package));
            }
        }
        if !each(&rows) {
            break;
        }
    }
    Ok(())
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
