//! The SQLite gateway: one writer connection, a pool of readers, migrations, and
//! `read`/`write` helpers that run SQL on the blocking thread pool.
//!
//! SQL lives in plain sync functions over `&Connection`, one module per resource.

pub mod agents;
pub mod alerts;
pub mod asset_export;
pub mod asset_records;
pub mod asset_types;
pub mod assets;
pub mod attachments;
pub mod audits;
pub mod canned;
pub mod checkin;
pub mod checkouts;
pub mod commands;
pub mod comments;
pub mod enrollment;
pub mod events;
pub mod groups;
pub mod inventory;
pub mod legacy;
pub mod licenses;
pub mod locations;
pub mod maintenance;
pub mod migrations;
pub mod sessions;
pub mod software;
pub mod tickets;
pub mod tokens;
pub mod users;
pub mod views;
pub mod webhooks;
pub mod work_orders;

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
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path, busy_timeout: Duration, max_readers: usize) -> DbResult<Db> {
        let mut writer = open_connection(path, busy_timeout, false)?;
        migrations::migrate(&mut writer)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_owned(),
                busy_timeout,
                max_readers,
                writer: Mutex::new(writer),
                readers: Mutex::new(Vec::new()),
            }),
        })
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
        tokio::task::spawn_blocking(move || span.in_scope(|| db.read_blocking(f)))
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Runs `f` inside one transaction on the single writer connection, off the async runtime.
    /// The transaction commits when `f` returns `Ok`, and rolls back otherwise.
    pub async fn write<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(|| db.write_blocking(f)))
            .await
            .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Blocking form of [`Db::read`], for CLI commands and blocking tasks.
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> DbResult<T>) -> DbResult<T> {
        let conn = self.take_reader()?;
        let result = f(&conn);
        self.return_reader(conn);
        result
    }

    /// Blocking form of [`Db::write`].
    pub fn write_blocking<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        // A poisoned lock means a panic mid-transaction; SQLite rolled it back, so the
        // connection is still usable.
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
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
    conn.set_prepared_statement_cache_capacity(64);
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

pub fn optional<T>(r: rusqlite::Result<T>) -> DbResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
