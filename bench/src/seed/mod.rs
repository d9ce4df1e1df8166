//! Seeding a migrated database with a big service desk: users, groups, categories, an asset
//! fleet, then tickets with conversations, history and search rows, in large transactions
//! on a connection of our own (the server's schema, triggers and indexes all in place).
//!
//! The seeding connection runs with `PRAGMA synchronous=OFF` (nothing is fsynced until the
//! final checkpoint); the server later opens the file with its own settings.

pub mod assets;
pub mod fleet;
pub mod machines;
pub mod packages;
pub mod people;
pub mod reports;
pub mod store;
pub mod tickets;

use crate::report::thousands;
use crate::rng::Rng;
use anyhow::Context;
use rusqlite::Connection;
use std::path::Path;
use std::time::{Duration, Instant};

/// How much to seed.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub tickets: u64,
    pub assets: u64,
    /// Average; each ticket gets between 0 and twice this many.
    pub comments_per_ticket: f64,
    pub employees: u64,
    pub technicians: u64,
}

/// What seeding wrote and how long it took.
#[derive(Debug, Clone, Default)]
pub struct SeedSummary {
    pub tickets: u64,
    pub comments: u64,
    pub assets: u64,
    pub users: u64,
    /// Rows inserted by the seeder (not counting what triggers and FTS write internally).
    pub rows: u64,
    pub elapsed: Duration,
}

impl SeedSummary {
    pub fn rows_per_sec(&self) -> f64 {
        self.rows as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn tickets_per_sec(&self) -> f64 {
        self.tickets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Tickets per transaction.
const BATCH: u64 = 20_000;
/// Progress is reported every this many tickets.
const PROGRESS_EVERY: u64 = 100_000;

/// Seeds the (migrated, ticket-free) database at `path`. `now` is the newest ticket's time.
pub fn seed(path: &Path, o: &SeedOptions, now: i64) -> anyhow::Result<SeedSummary> {
    let mut conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -1_048_576)?; // 1 GiB
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    let started = Instant::now();
    let mut rng = Rng::new(0x5EED);
    let mut summary = SeedSummary::default();

    let tx = conn.transaction()?;
    let (people, rows) = people::insert(&tx, o.employees, o.technicians, now)?;
    summary.rows += rows;
    summary.users = o.employees + o.technicians;
    let (fleet, rows) = assets::insert(
        &tx,
        &mut rng,
        o.assets,
        people.first_employee,
        o.employees,
        now,
    )?;
    summary.rows += rows;
    summary.assets = o.assets;
    tx.commit()?;
    eprintln!(
        "seed: {} users, {} assets in {:.1} s",
        thousands(summary.users),
        thousands(o.assets),
        started.elapsed().as_secs_f64()
    );

    insert_tickets(
        &mut conn,
        &people,
        &fleet,
        rng.next_u64(),
        o,
        now,
        started,
        &mut summary,
    )?;
    // Fold the write-ahead log into the database file, so its size on disk is the real one.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Writes `o.tickets` tickets (ids after the current maximum; requesters from `people`,
/// linked devices from `fleet`) with their conversations, history and search rows, in
/// transactions of [`BATCH`], reporting progress to stderr against `started`.
#[allow(clippy::too_many_arguments)]
pub fn insert_tickets(
    conn: &mut Connection,
    people: &people::People,
    fleet: &assets::Fleet,
    seed: u64,
    o: &SeedOptions,
    now: i64,
    started: Instant,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    let first: u64 = conn
        .query_row("SELECT coalesce(max(id), 0) FROM tickets", [], |r| {
            r.get::<_, i64>(0)
        })?
        .max(0) as u64;
    let mut generator =
        tickets::Generator::new(people, fleet, seed, now, o.tickets, o.comments_per_ticket);
    let mut next_comment_id: i64 = conn.query_row(
        "SELECT coalesce(max(id), 0) + 1 FROM ticket_comments",
        [],
        |r| r.get(0),
    )?;
    let mut done = 0u64;
    while done < o.tickets {
        let end = (done + BATCH).min(o.tickets);
        let tx = conn.transaction()?;
        {
            let mut store = store::Store::new(&tx, next_comment_id)?;
            for n in done + 1..=end {
                let id = first + n;
                let t = generator.ticket(n as i64);
                let t = tickets::Ticket { id: id as i64, ..t };
                summary.rows += store
                    .insert(&t)
                    .with_context(|| format!("inserting ticket {id}"))?;
                summary.comments += t.comments.len() as u64;
                summary.tickets += 1;
                if n.is_multiple_of(PROGRESS_EVERY) || n == o.tickets {
                    progress(summary, o.tickets, started.elapsed());
                }
            }
            next_comment_id = store.next_comment_id();
        }
        tx.commit()?;
        done = end;
    }
    Ok(())
}

fn progress(s: &SeedSummary, total: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64().max(1e-9);
    eprintln!(
        "seed: {:>9} / {} tickets ({:>3.0}%), {} comments, {:.1} s elapsed, {} tickets/s, {} rows/s",
        thousands(s.tickets),
        thousands(total),
        100.0 * s.tickets as f64 / total.max(1) as f64,
        thousands(s.comments),
        secs,
        thousands((s.tickets as f64 / secs) as u64),
        thousands((s.rows as f64 / secs) as u64),
    );
}
