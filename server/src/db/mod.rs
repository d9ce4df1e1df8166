//! The SQLite gateway: one writer connection, a pool of readers, migrations, and
//! `read`/`write` helpers that run SQL on the blocking thread pool.
//!
//! SQL lives in plain sync functions over `&Connection`, one module per resource.

pub mod agent_releases;
pub mod agents;
pub mod alerts;
pub mod asset_export;
pub mod asset_records;
pub mod asset_types;
pub mod assets;
pub mod attachments;
pub mod audit;
pub mod audits;
pub mod canned;
pub mod checkin;
pub mod checkouts;
pub mod commands;
pub mod comments;
pub mod dashboard;
pub mod enrollment;
pub mod events;
pub mod groups;
pub mod inventory;
pub mod legacy;
pub mod licenses;
pub mod locations;
pub mod maintenance;
pub mod migrations;
pub mod package_counts;
pub mod packages;
pub mod retention;
pub mod sessions;
pub mod software;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod views;
pub mod webhooks;
pub mod work_orders;
mod writer;

#[cfg(test)]
mod dashboard_tests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod search_tests;

pub use writer::{Lane, Mode, WriterSnapshot};

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Errors from the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error(
        "the database was written by a newer Steward (schema {found}, this build knows {known}); upgrade steward-server"
    )]
    TooNew { found: u32, known: u32 },
    #[error("database task failed: {0}")]
    Task(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The bulk write queue is full; try again after `retry_after_secs`.
    #[error("the server is busy writing; try again in {retry_after_secs} s")]
    Busy { retry_after_secs: u64 },
}

pub type DbResult<T> = Result<T, DbError>;

/// Cheap to clone; all clones share the connections.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    busy_timeout: Duration,
    max_readers: usize,
    writer: Arc<writer::Queue>,
    conn: Arc<Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
    /// One per pooled reader: [`Db::read`] waits for one instead of opening a connection
    /// past the pool, whose first statement would parse the whole schema (with 128 agents
    /// reporting at once that took a fifth of the request handlers' CPU).
    read_permits: Arc<tokio::sync::Semaphore>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer thread finishes what is queued, then closes its connection.
        self.writer.close();
    }
}

/// Bulk writes (agent reports) queued before new ones are refused with
/// [`DbError::Busy`]; see `server.write_queue_limit`.
pub const DEFAULT_BULK_LIMIT: usize = 512;

impl Db {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path, busy_timeout: Duration, max_readers: usize) -> DbResult<Db> {
        Self::open_with_limit(path, busy_timeout, max_readers, DEFAULT_BULK_LIMIT)
    }

    /// [`Db::open`] with `bulk_limit` bulk writes queued at most.
    pub fn open_with_limit(
        path: &Path,
        busy_timeout: Duration,
        max_readers: usize,
        bulk_limit: usize,
    ) -> DbResult<Db> {
        let mut conn = open_connection(path, busy_timeout, false)?;
        migrations::migrate(&mut conn)?;
        // Catalog count changes a stopped server left in the log (see package_counts.rs).
        {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            package_counts::fold_log(&tx)?;
            tx.commit()?;
        }
        // The writer touches the big indexes (software, history) on every report; keep
        // more of them in memory than SQLite's 2 MB default.
        conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
        // Savepoints (one per queued write) and statement journals stay in memory instead
        // of a temporary file written and deleted for every report.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // The checkpointer thread copies the WAL into the database while the writer goes
        // on (see `writer::checkpoint_once`). The writer checkpoints itself only if the
        // WAL passes 256 MiB, should the checkpointer fall behind. The WAL file is reused
        // from its start, not cut back: truncating it stalled the writer for up to
        // 760 ms under load.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        let checkpointer = open_connection(path, busy_timeout, false)?;
        let conn = Arc::new(Mutex::new(conn));
        let queue = writer::Queue::new(bulk_limit);
        let (thread_queue, thread_conn) = (queue.clone(), conn.clone());
        std::thread::Builder::new()
            .name("steward-writer".into())
            .spawn(move || writer::run(thread_conn, thread_queue, busy_timeout))
            .map_err(|e| DbError::Task(format!("cannot start the writer thread: {e}")))?;
        let checkpoint_queue = queue.clone();
        std::thread::Builder::new()
            .name("steward-checkpoint".into())
            .spawn(move || writer::checkpoint(checkpointer, checkpoint_queue))
            .map_err(|e| DbError::Task(format!("cannot start the checkpointer: {e}")))?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                busy_timeout,
                max_readers,
                writer: queue,
                conn,
                readers: Mutex::new(Vec::new()),
                read_permits: Arc::new(tokio::sync::Semaphore::new(max_readers.max(1))),
            }),
        })
    }

    /// The writer's counters and queue depth.
    pub fn writer_stats(&self) -> WriterSnapshot {
        self.inner.writer.snapshot()
    }

    /// Write batches take jobs until they are full, however long they run, so that
    /// tests counting batches do not depend on the machine's speed.
    #[cfg(test)]
    pub(crate) fn untimed_batches(&self) {
        self.inner.writer.untimed_batches();
    }

    /// How long the writer waits idle before folding the software counts a wave logged.
    #[cfg(test)]
    pub(crate) fn set_idle_fold(&self, after: Duration) {
        self.inner.writer.set_idle_fold(after);
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on a read connection, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> DbResult<T> + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        let permit = self
            .inner
            .read_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| DbError::Task(e.to_string()))?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            span.in_scope(|| db.read_blocking(f))
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Runs `f` in a transaction of its own on the single writer, off the async runtime:
    /// committed when it returns `Ok`, rolled back otherwise. People's writes go first.
    pub async fn write<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.submit(Lane::Interactive, Mode::Alone, f).await
    }

    /// [`Db::write`] in the given lane: a bulk write is refused with [`DbError::Busy`]
    /// while the bulk lane is full.
    pub async fn write_in<T, F>(&self, lane: Lane, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.submit(lane, Mode::Alone, f).await
    }

    /// A small, frequent bulk write (a heartbeat, a delta, an enrollment): it runs in a
    /// savepoint inside a transaction shared with the others queued at the time (group
    /// commit). Its changes are kept when it returns `Ok` and rolled back otherwise, and
    /// the answer comes after the shared commit. Refused with [`DbError::Busy`] while the
    /// bulk lane is full.
    pub async fn write_grouped<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.submit(Lane::Bulk, Mode::Savepoint, f).await
    }

    /// A large, frequent bulk write (a whole inventory): it shares a transaction with the
    /// others of its kind queued at the time, without savepoints, so that the index pages
    /// they all touch are written once. If any of them fails, none is kept: the failed
    /// one returns its error, the others [`DbError::Busy`] (send again). Use it only for
    /// writes whose failure is exceptional.
    pub async fn write_shared<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.submit(Lane::Bulk, Mode::Shared, f).await
    }

    async fn submit<T, F>(&self, lane: Lane, mode: Mode, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let job = writer::job(
            mode,
            move |t| span.in_scope(|| f(t)),
            move |r| {
                let _ = tx.send(r);
            },
        );
        self.inner.writer.push(lane, job)?;
        rx.await.unwrap_or_else(|_| Err(lost_write()))
    }

    /// Blocking form of [`Db::read`], for CLI commands and blocking tasks.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let conn = self.take_reader()?;
        let result = f(&conn);
        self.return_reader(conn);
        result
    }

    /// Blocking form of [`Db::write`], for CLI commands and blocking tasks. It runs on
    /// the caller's thread, in a transaction of its own between the writer's batches.
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        // A poisoned lock means a panic mid-transaction; SQLite rolled it back, so the
        // connection is still usable.
        let mut conn = self.inner.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        // An asset deleted here logged its software counts (see `package_counts.rs`).
        package_counts::fold_log(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Writes a consistent copy of the database to `to` (which must not exist).
    pub fn backup_to(&self, to: &Path) -> DbResult<()> {
        let target = to.to_string_lossy().into_owned();
        self.read_blocking(move |c| {
            c.execute("VACUUM INTO ?1", [target])?;
            Ok(())
        })
    }

    fn take_reader(&self) -> DbResult<Connection> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        match pooled {
            Some(c) => Ok(c),
            None => open_connection(&self.inner.path, self.inner.busy_timeout, true),
        }
    }

    fn return_reader(&self, conn: Connection) {
        let mut pool = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < self.inner.max_readers {
            pool.push(conn);
        }
    }
}

/// WAL pages after which the writer checkpoints itself (SQLite's default is 1,000).
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 65_536;

/// The writer's page cache, in KiB (negative `cache_size` is KiB in SQLite).
const WRITER_CACHE_KIB: i64 = -32_768;

fn lost_write() -> DbError {
    DbError::Task("the write did not complete (it failed or panicked; see the server log)".into())
}

fn open_connection(path: &Path, busy_timeout: Duration, read_only: bool) -> DbResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(busy_timeout)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// Sets `column` of row `id` in `table` to `value` unless it already is; returns the old
/// value as history text (`Some(None)` for NULL), or `None` when nothing changed.
/// `table` and `column` come from fixed lists in the callers, never from input.
pub fn replace_column(
    c: &Connection,
    table: &str,
    id: i64,
    column: &str,
    value: &rusqlite::types::Value,
    now: i64,
) -> DbResult<Option<Option<String>>> {
    use rusqlite::types::Value;
    let old: Value = c.query_row(
        &format!("SELECT {column} FROM {table} WHERE id = ?1"),
        [id],
        |r| r.get(0),
    )?;
    if &old == value {
        return Ok(None);
    }
    c.execute(
        &format!("UPDATE {table} SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
        rusqlite::params![id, value, now],
    )?;
    Ok(Some(match old {
        Value::Null | Value::Blob(_) => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Text(t) => Some(t),
    }))
}

/// Maps "no row" to `None`.
/// A JSON text column, or the type's default when it is NULL or does not parse.
pub fn json_column<T: serde::de::DeserializeOwned + Default>(r: &rusqlite::Row<'_>, i: usize) -> T {
    r.get::<_, String>(i)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// `Connection::query_row` on the connection's cached statement for `sql`: the check-in
/// path runs the same statements for every report, and preparing one that writes to
/// `assets` compiles its triggers and indexes each time (a twentieth of the writer's
/// time for first inventories).
pub(crate) fn query_row_cached<T, P, F>(
    c: &Connection,
    sql: &str,
    params: P,
    f: F,
) -> rusqlite::Result<T>
where
    P: rusqlite::Params,
    F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
{
    c.prepare_cached(sql)?.query_row(params, f)
}

/// `Connection::execute` on a cached statement; see [`query_row_cached`].
pub(crate) fn execute_cached<P: rusqlite::Params>(
    c: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

pub fn optional<T>(r: rusqlite::Result<T>) -> DbResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
