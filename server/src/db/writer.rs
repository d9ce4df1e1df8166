//! The single writer: one thread owns the write connection and runs queued jobs in
//! batches. Each job runs in its own savepoint (a job that fails rolls back only its own
//! changes); the batch commits once (group commit); every job's caller hears back only
//! after that commit, so nothing is acknowledged before it is durable.
//!
//! Two lanes: interactive writes (people, the API, the CLI) always queue and go first;
//! bulk writes (agent reports) are refused with [`DbError::Busy`] when their lane is full,
//! which the HTTP layer answers with 503 and `Retry-After`.

use super::{DbError, DbResult};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Most jobs in one batch.
const MAX_BATCH: usize = 64;
/// A batch takes no more jobs once it has run this long, to bound the latency it adds.
const MAX_BATCH_TIME: Duration = Duration::from_millis(25);
/// The same for batches of whole inventories, which take a few milliseconds each.
const MAX_SHARED_BATCH_TIME: Duration = Duration::from_millis(200);

/// A queued write's work: runs on the writer thread, returns whether it succeeded and
/// what to do once the commit is known.
type Work = Box<dyn FnOnce(&Transaction<'_>) -> (bool, Finish) + Send>;

/// How a queued write shares a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A transaction of its own (people's writes, anything unusual).
    Alone,
    /// Small and frequent (a heartbeat, a delta, an enrollment): runs in a savepoint
    /// inside a transaction shared with other such jobs. A job that fails loses only its
    /// own changes.
    Savepoint,
    /// Large and frequent (a whole inventory): shares a transaction with other such jobs
    /// without savepoints, because a savepoint around a large write makes SQLite keep,
    /// and rescan for every statement, a journal of every page it touched. The jobs share
    /// their fate: when one fails, the transaction rolls back and the others fail with
    /// [`DbError::Busy`] (their callers answer 503 and the agents send again).
    /// What they gain: the pages of the big indexes that they all touch are written to
    /// the WAL once per batch instead of once per job.
    Shared,
}

/// A queued write.
pub(super) struct Job {
    mode: Mode,
    work: Work,
}

/// Delivers a job's result, given the batch's commit outcome.
pub(super) type Finish = Box<dyn FnOnce(Result<(), Abort>) + Send>;

/// Why a job that succeeded was not kept.
#[derive(Debug, Clone)]
pub(super) enum Abort {
    /// The commit (or the whole transaction) failed.
    Failed(String),
    /// Another job of its shared batch failed; it should be sent again.
    Retry,
}

/// Which queue a write joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// People and the API: never refused, served first.
    Interactive,
    /// Agent reports: refused with [`DbError::Busy`] when the lane holds its limit.
    Bulk,
}

#[derive(Default)]
struct Lanes {
    interactive: VecDeque<Job>,
    bulk: VecDeque<Job>,
    closed: bool,
}

/// Counters for `/metrics` and the load generator.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Jobs taken off the queue (counted when taken, before they run).
    pub taken: AtomicU64,
    pub batches: AtomicU64,
    pub jobs: AtomicU64,
    pub refused: AtomicU64,
    /// Time spent running batches, in microseconds.
    pub busy_micros: AtomicU64,
}

/// A snapshot of [`WriterStats`] plus the queue depth now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterSnapshot {
    pub taken: u64,
    pub batches: u64,
    pub jobs: u64,
    pub refused: u64,
    pub busy_micros: u64,
    pub queued_interactive: usize,
    pub queued_bulk: usize,
}

pub(super) struct Queue {
    /// Set by the checkpointer when the WAL should start over.
    restart_wanted: AtomicBool,
    lanes: Mutex<Lanes>,
    ready: Condvar,
    /// Signalled when the queue closes (wakes the checkpointer).
    closing: Condvar,
    bulk_limit: usize,
    stats: WriterStats,
    /// Tests that count batches turn the batch time limits off, so that a slow machine
    /// does not split a batch they expect to be whole.
    untimed: AtomicBool,
    /// How long the writer waits without a job before folding logged counts, in ms
    /// ([`IDLE_FOLD`]; tests change it).
    idle_fold_ms: AtomicU64,
}

impl Queue {
    pub(super) fn new(bulk_limit: usize) -> Arc<Queue> {
        Arc::new(Queue {
            restart_wanted: AtomicBool::new(false),
            lanes: Mutex::new(Lanes::default()),
            ready: Condvar::new(),
            closing: Condvar::new(),
            bulk_limit: bulk_limit.max(1),
            stats: WriterStats::default(),
            untimed: AtomicBool::new(false),
            idle_fold_ms: AtomicU64::new(IDLE_FOLD.as_millis() as u64),
        })
    }

    /// Sets how long the writer waits idle before folding logged counts, and wakes it.
    #[cfg(test)]
    pub(super) fn set_idle_fold(&self, after: Duration) {
        self.idle_fold_ms
            .store(after.as_millis() as u64, Ordering::Relaxed);
        let _lanes = self.lock();
        self.ready.notify_all();
    }

    /// Batches take jobs until [`MAX_BATCH`], however long they run (for tests).
    #[cfg(test)]
    pub(super) fn untimed_batches(&self) {
        self.untimed.store(true, Ordering::Relaxed);
    }

    /// Whether a batch that started at `started` may take another job.
    fn may_grow(&self, mode: Mode, started: Instant, jobs: usize) -> bool {
        jobs < MAX_BATCH
            && (self.untimed.load(Ordering::Relaxed) || started.elapsed() < batch_time(mode))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lanes> {
        self.lanes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `job`; a full bulk lane refuses it with a suggested wait in seconds.
    pub(super) fn push(&self, lane: Lane, job: Job) -> DbResult<()> {
        let mut lanes = self.lock();
        if lanes.closed {
            return Err(DbError::Task("the database is closed".into()));
        }
        match lane {
            Lane::Interactive => lanes.interactive.push_back(job),
            Lane::Bulk if lanes.bulk.len() >= self.bulk_limit => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                let depth = lanes.bulk.len() + lanes.interactive.len();
                return Err(DbError::Busy {
                    retry_after_secs: self.retry_after(depth),
                });
            }
            Lane::Bulk => lanes.bulk.push_back(job),
        }
        drop(lanes);
        self.ready.notify_one();
        Ok(())
    }

    /// How long a refused writer should wait: the time the queue takes to drain at the
    /// rate measured so far, at least 1 s and at most a minute.
    fn retry_after(&self, depth: usize) -> u64 {
        let jobs = self.stats.jobs.load(Ordering::Relaxed).max(1);
        let per_job = self.stats.busy_micros.load(Ordering::Relaxed) / jobs;
        let drain_secs = (depth as u64).saturating_mul(per_job) / 1_000_000;
        (drain_secs + 1).min(60)
    }

    fn pop_now(&self, lanes: &mut Lanes) -> Option<Job> {
        let job = lanes
            .interactive
            .pop_front()
            .or_else(|| lanes.bulk.pop_front());
        if job.is_some() {
            self.stats.taken.fetch_add(1, Ordering::Relaxed);
        }
        job
    }

    /// The next job, waiting for one; `None` once closed and drained. With `idle_fold`,
    /// gives up after the idle-fold time without a job (`Some(None)`: the writer is idle).
    fn pop_wait(&self, idle_fold: bool) -> Option<Option<Job>> {
        let mut lanes = self.lock();
        let since = Instant::now();
        loop {
            let deadline = idle_fold
                .then(|| since + Duration::from_millis(self.idle_fold_ms.load(Ordering::Relaxed)));
            if let Some(job) = self.pop_now(&mut lanes) {
                return Some(Some(job));
            }
            if lanes.closed {
                return None;
            }
            lanes = match deadline {
                None => self.ready.wait(lanes).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Some(None);
                    }
                    self.ready
                        .wait_timeout(lanes, left)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            };
        }
    }

    /// The next job if it may join a batch of `mode`.
    fn try_pop_like(&self, mode: Mode) -> Option<Job> {
        let mut lanes = self.lock();
        let next = lanes.interactive.front().or_else(|| lanes.bulk.front());
        if next.is_some_and(|j| j.mode == mode) {
            self.pop_now(&mut lanes)
        } else {
            None
        }
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
        self.closing.notify_all();
    }

    pub(super) fn snapshot(&self) -> WriterSnapshot {
        // Read under the lanes' lock, which `pop_now` holds while counting a job taken:
        // a job is then either queued or taken, never both or neither.
        let (queued_interactive, queued_bulk, taken) = {
            let lanes = self.lock();
            let taken = self.stats.taken.load(Ordering::Relaxed);
            (lanes.interactive.len(), lanes.bulk.len(), taken)
        };
        WriterSnapshot {
            taken,
            batches: self.stats.batches.load(Ordering::Relaxed),
            jobs: self.stats.jobs.load(Ordering::Relaxed),
            refused: self.stats.refused.load(Ordering::Relaxed),
            busy_micros: self.stats.busy_micros.load(Ordering::Relaxed),
            queued_interactive,
            queued_bulk,
        }
    }
}

/// A batch or WAL restart that holds the writer this long is logged: it is what a
/// check-in's latency waits behind.
const SLOW: Duration = Duration::from_millis(100);

#[path = "checkpoint.rs"]
mod checkpoint;
pub(super) use checkpoint::checkpoint;
use checkpoint::restart_wal;

/// The writer thread's loop: runs until the queue is closed and drained.
/// The connection is shared with [`super::Db::write_blocking`], which runs its own
/// transaction on the caller's thread between batches.
pub(super) fn run(conn: Arc<Mutex<Connection>>, queue: Arc<Queue>, busy_timeout: Duration) {
    super::packages::defer_on_this_thread();
    loop {
        // Counts a wave of inventories logged are folded once it pauses (see
        // package_counts.rs): after IDLE_FOLD without a job.
        let first = match queue.pop_wait(super::packages::counts_logged()) {
            None => break,
            Some(None) => {
                let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                super::packages::fold_when_idle(&mut conn);
                continue;
            }
            Some(Some(job)) => job,
        };
        let mut conn = conn.lock().unwrap_or_else(|p| p.into_inner());
        let started = Instant::now();
        // A panic outside the jobs' own guard (in a commit, say) must not stop the writer:
        // the batch's callers hear of it through their dropped reply channels.
        let ran = catch_unwind(AssertUnwindSafe(|| {
            run_batch(&mut conn, &queue, first, started)
        }))
        .unwrap_or_else(|_| {
            tracing::error!("the writer panicked; its batch failed");
            super::packages::batch_ended(false);
            1
        });
        let batch_took = started.elapsed();
        if queue.restart_wanted.swap(false, Ordering::AcqRel) {
            let restart = Instant::now();
            restart_wal(&conn, busy_timeout);
            let took = restart.elapsed();
            if took >= SLOW {
                tracing::warn!(
                    ms = took.as_millis() as u64,
                    "restarting the WAL held the writer"
                );
            }
        }
        drop(conn);
        if batch_took >= SLOW {
            tracing::warn!(
                ms = batch_took.as_millis() as u64,
                jobs = ran,
                "a write batch held the writer"
            );
        }
        let stats = &queue.stats;
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(ran as u64, Ordering::Relaxed);
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats.busy_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

/// How long a batch keeps taking jobs, by mode: it bounds the latency a batch adds.
fn batch_time(mode: Mode) -> Duration {
    match mode {
        Mode::Shared => MAX_SHARED_BATCH_TIME,
        _ => MAX_BATCH_TIME,
    }
}

/// One transaction: `first` alone, or with the jobs of its mode that queued meanwhile, up
/// to the batch limits. Returns how many jobs ran.
fn run_batch(conn: &mut Connection, queue: &Queue, first: Job, started: Instant) -> usize {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            // Another process holds the write lock past busy_timeout, or the disk failed:
            // this job fails; the next batch tries again.
            tracing::error!(error = %e, "cannot start a write transaction");
            refuse(first, &e.to_string());
            return 1;
        }
    };
    let mode = first.mode;
    super::packages::batch_started(mode == Mode::Shared);
    if mode == Mode::Alone {
        return run_alone(tx, first);
    }
    let mut finishes: Vec<Finish> = Vec::new();
    let mut next = Some(first);
    let mut ran = 0;
    // In a shared batch: the job that failed (its finish, unless it panicked).
    let mut failed: Option<Option<Finish>> = None;
    while let Some(job) = next.take() {
        ran += 1;
        match mode {
            Mode::Shared => match run_shared(&tx, job) {
                Ok(finish) => {
                    super::packages::job_ended(true);
                    finishes.push(finish);
                }
                Err(finish) => {
                    failed = Some(finish);
                    break;
                }
            },
            _ => finishes.extend(run_job(&tx, job)),
        }
        if tx.is_autocommit() {
            // SQLite rolled the whole transaction back (disk full, I/O error): every job
            // of this batch lost its writes, so none may be acknowledged.
            tracing::error!("the write transaction was rolled back by SQLite; failing its batch");
            super::packages::batch_ended(false);
            for finish in finishes {
                finish(Err(Abort::Failed(
                    "the transaction was rolled back by the database".into(),
                )));
            }
            return ran;
        }
        if queue.may_grow(mode, started, finishes.len()) {
            next = queue.try_pop_like(mode);
        }
    }
    if let Some(culprit) = failed {
        // A job of a shared batch failed: nothing of the batch is kept. The failed job's
        // caller hears its own error; the others are told to send again.
        drop(tx);
        super::packages::batch_ended(false);
        tracing::warn!(
            jobs = finishes.len(),
            "a write of a shared batch failed; the others will be sent again"
        );
        for finish in finishes {
            finish(Err(Abort::Retry));
        }
        if let Some(finish) = culprit {
            finish(Ok(()));
        }
        return ran;
    }
    // A wave of whole inventories: the catalog counts may wait in the log.
    let wave =
        mode == Mode::Shared && (finishes.len() >= WAVE_JOBS || !queue.lock().bulk.is_empty());
    let commit = commit(tx, wave);
    for finish in finishes {
        finish(commit.clone());
    }
    ran
}

/// How long the writer waits without a job before folding logged counts: longer than a
/// wave's clients take to send their next reports, short enough that people see
/// current counts as soon as it ends.
const IDLE_FOLD: Duration = Duration::from_millis(50);

/// A shared batch this big, or with more queued behind it, is part of a wave of whole
/// inventories (enrollment of a fleet): its catalog counts may wait in the log.
const WAVE_JOBS: usize = 16;

/// Writes the batch's deferred software counts (may log them in a `wave`, see
/// `package_counts.rs`) and commits; rolls back if either fails.
fn commit(tx: Transaction<'_>, wave: bool) -> Result<(), Abort> {
    let result = match super::packages::before_commit(&tx, wave) {
        Ok(()) => tx.commit().map_err(|e| {
            tracing::error!(error = %e, "commit failed");
            Abort::Failed(format!("commit failed: {e}"))
        }),
        Err(e) => {
            tracing::error!(error = %e, "writing the software counts failed");
            Err(Abort::Failed(format!(
                "writing the software counts failed: {e}"
            )))
        }
    };
    super::packages::batch_ended(result.is_ok());
    result
}

/// Runs a job of a shared batch, with no savepoint: `Ok` with its finish when it
/// succeeded, `Err` when it failed (with its finish) or panicked (without).
fn run_shared(tx: &Transaction<'_>, job: Job) -> Result<Finish, Option<Finish>> {
    match catch_unwind(AssertUnwindSafe(|| (job.work)(tx))) {
        Ok((true, finish)) => Ok(finish),
        Ok((false, finish)) => Err(Some(finish)),
        Err(_) => {
            tracing::error!("a write panicked; its batch was rolled back");
            Err(None)
        }
    }
}

/// A job with the transaction to itself: committed when it succeeds, rolled back
/// otherwise.
fn run_alone(tx: Transaction<'_>, job: Job) -> usize {
    let outcome = catch_unwind(AssertUnwindSafe(|| (job.work)(&tx)));
    match outcome {
        Ok((true, finish)) => {
            super::packages::job_ended(true);
            finish(commit(tx, false));
        }
        Ok((false, finish)) => {
            drop(tx);
            super::packages::batch_ended(false);
            // The job's own error is what its caller hears.
            finish(Ok(()));
        }
        Err(_) => {
            super::packages::batch_ended(false);
            tracing::error!("a write panicked; its changes were rolled back");
        }
    }
    1
}

/// Runs one job in a savepoint; `None` when it panicked (its caller hears of it through
/// its dropped reply channel).
fn run_job(tx: &Transaction<'_>, job: Job) -> Option<Finish> {
    if let Err(e) = tx.execute_batch("SAVEPOINT steward_job") {
        tracing::error!(error = %e, "cannot open a savepoint");
        return None;
    }
    let outcome = catch_unwind(AssertUnwindSafe(|| (job.work)(tx)));
    let (keep, finish) = match outcome {
        Ok((ok, finish)) => (ok, Some(finish)),
        Err(_) => {
            tracing::error!("a write panicked; its changes were rolled back");
            (false, None)
        }
    };
    super::packages::job_ended(keep);
    let end = if keep {
        "RELEASE steward_job"
    } else {
        "ROLLBACK TO steward_job; RELEASE steward_job"
    };
    if let Err(e) = tx.execute_batch(end) {
        tracing::error!(error = %e, "cannot close a savepoint");
    }
    finish
}

/// Fails a job without running it: its closure is dropped, so its caller's reply
/// channel closes, and the caller reports `error`.
fn refuse(job: Job, error: &str) {
    tracing::debug!(error, "write refused");
    drop(job);
}

/// Wraps a caller's closure as a [`Job`] that hands its result to `deliver` after commit.
pub(super) fn job<T, F, D>(mode: Mode, f: F, deliver: D) -> Job
where
    T: Send + 'static,
    F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    D: FnOnce(DbResult<T>) + Send + 'static,
{
    let work: Work = Box::new(move |tx| {
        let result = f(tx);
        let ok = result.is_ok();
        let finish: Finish = Box::new(move |commit| {
            deliver(match (result, commit) {
                (Ok(value), Ok(())) => Ok(value),
                (Ok(_), Err(Abort::Failed(e))) => Err(DbError::Task(e)),
                (Ok(_), Err(Abort::Retry)) => Err(DbError::Busy {
                    retry_after_secs: 1,
                }),
                (Err(e), _) => Err(e),
            });
        });
        (ok, finish)
    });
    Job { mode, work }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
pub(super) mod tests;
