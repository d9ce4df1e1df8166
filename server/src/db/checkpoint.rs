//! The checkpointer thread, and the WAL restarts it asks the writer for (see `writer.rs`).

use super::Queue;
use rusqlite::Connection;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the checkpointer copies committed pages from the WAL into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The checkpointer's loop: a PASSIVE checkpoint every [`CHECKPOINT_EVERY`] on its own
/// connection, so that the writer seldom stops to copy pages and fsync itself. PASSIVE
/// never blocks the writer or readers.
pub(in crate::db) fn checkpoint(conn: Connection, queue: Arc<Queue>) {
    let mut lanes = queue.lock();
    loop {
        if lanes.closed {
            return;
        }
        let (guard, _) = queue
            .closing
            .wait_timeout(lanes, CHECKPOINT_EVERY)
            .unwrap_or_else(|p| p.into_inner());
        lanes = guard;
        if lanes.closed {
            return;
        }
        drop(lanes);
        if let Err(e) = checkpoint_once(&conn, &queue) {
            tracing::warn!(error = %e, "checkpoint failed; the next one tries again");
        }
        lanes = queue.lock();
    }
}

/// WAL frames past which the checkpointer restarts the WAL (64 MiB of 4 KiB pages).
const RESTART_FRAMES: i64 = 16_384;

/// A PASSIVE checkpoint; and when the WAL has grown long, a request for a RESTART. Under
/// constant writes a PASSIVE checkpoint never quite catches up (the writer appends while
/// it copies), and the WAL only starts over once a checkpoint has copied everything
/// between two write transactions. The writer runs that RESTART itself between batches;
/// the PASSIVE runs before it have copied nearly everything, so it costs the rest and one
/// fsync.
fn checkpoint_once(conn: &Connection, queue: &Queue) -> rusqlite::Result<()> {
    let log: i64 = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))?;
    if log >= RESTART_FRAMES {
        // The writer takes its lock again the moment it commits, so a RESTART from here
        // would wait for it in vain; the writer runs it between two batches instead.
        queue.restart_wanted.store(true, Ordering::Release);
    }
    Ok(())
}

/// Longest the writer waits for readers to leave the WAL before giving up a restart.
const RESTART_WAIT: Duration = Duration::from_millis(200);

/// Copies the rest of the WAL into the database and has the next write start it over.
/// Readers still on old pages are waited for at most [`RESTART_WAIT`]; if they stay, the
/// checkpointer asks again later.
pub(super) fn restart_wal(conn: &Connection, busy_timeout: Duration) {
    let ran = conn.busy_timeout(RESTART_WAIT).and_then(|()| {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0))
    });
    match ran {
        Ok(0) => {}
        Ok(_) => tracing::debug!("readers kept the WAL busy; restart postponed"),
        Err(e) => {
            tracing::warn!(error = %e, "restarting the WAL failed; the checkpointer asks again")
        }
    }
    let _ = conn.busy_timeout(busy_timeout);
}
