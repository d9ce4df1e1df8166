//! Where a pass spends its time: the steps of `steward_server::maintenance::evaluate_blocking`
//! run one by one through the same public functions, in the same transactions, each timed.
//! Only for the breakdown printed after the real passes; the figures judged against the
//! target always come from `evaluate_blocking` itself.

use std::time::{Duration, Instant};
use steward_server::AppState;
use steward_server::db::maintenance::{heartbeat, sync_schedules};
use steward_server::maintenance::{
    CHUNK, Ctx, compute_stale, escalate_overdue, generate_due, load_plans, sweep_missed,
};

/// One step: its total time, how often it ran, and the rows it handled.
#[derive(Debug, Clone)]
pub struct Phase {
    pub name: &'static str,
    pub wall: Duration,
    pub calls: usize,
    pub rows: usize,
}

#[derive(Default)]
struct Clock {
    sync: Duration,
    compute_plans: Duration,
    compute: Duration,
    generate_plans: Duration,
    generate: Duration,
    sweep: Duration,
    escalate: Duration,
    /// Transactions' begin and commit: each write's time less the steps inside it.
    commit: Duration,
}

fn time<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let out = f();
    *slot += started.elapsed();
    out
}

/// Runs one pass at `now` step by step; returns the steps and the whole pass's time.
pub fn breakdown(state: &AppState, now: i64) -> anyhow::Result<(Vec<Phase>, Duration)> {
    let ctx = Ctx::of(state);
    let db = &state.db;
    let mut k = Clock::default();
    let (mut compute_calls, mut computed, mut generate_calls, mut handled) = (0, 0, 0, 0);
    let (mut synced, mut missed, mut escalated) = (0, 0, 0);
    let started = Instant::now();

    let t = Instant::now();
    let last_run = db.write_blocking(|tx| {
        time(&mut k.sync, || -> steward_server::db::DbResult<_> {
            let (added, removed) = sync_schedules(tx, now)?;
            synced = added + removed;
            heartbeat(tx, now)
        })
    })?;
    k.commit += t.elapsed().saturating_sub(k.sync);

    loop {
        let t = Instant::now();
        let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
        let n = db.write_blocking(|tx| {
            let plans = time(&mut a, || load_plans(tx))?;
            time(&mut b, || compute_stale(tx, &ctx, &plans))
        })?;
        k.compute_plans += a;
        k.compute += b;
        k.commit += t.elapsed().saturating_sub(a + b);
        compute_calls += 1;
        computed += n;
        if n < CHUNK as usize {
            break;
        }
    }
    loop {
        let t = Instant::now();
        let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
        let (n, _, _) = db.write_blocking(|tx| {
            let plans = time(&mut a, || load_plans(tx))?;
            time(&mut b, || generate_due(tx, &ctx, &plans, now, last_run))
        })?;
        k.generate_plans += a;
        k.generate += b;
        k.commit += t.elapsed().saturating_sub(a + b);
        generate_calls += 1;
        handled += n;
        if n < CHUNK as usize {
            break;
        }
    }
    let t = Instant::now();
    let (mut a, mut b) = (Duration::ZERO, Duration::ZERO);
    db.write_blocking(|tx| {
        missed = time(&mut a, || sweep_missed(tx, &ctx, now))?;
        escalated = time(&mut b, || escalate_overdue(tx, &ctx, now))?;
        Ok(())
    })?;
    k.sweep += a;
    k.escalate += b;
    k.commit += t.elapsed().saturating_sub(a + b);
    let total = started.elapsed();

    let phase = |name, wall, calls, rows| Phase {
        name,
        wall,
        calls,
        rows,
    };
    Ok((
        vec![
            phase(
                "db::maintenance::sync_schedules + heartbeat",
                k.sync,
                1,
                synced,
            ),
            phase(
                "load_plans (before compute_stale)",
                k.compute_plans,
                compute_calls,
                0,
            ),
            phase(
                "compute_stale (rows: computed)",
                k.compute,
                compute_calls,
                computed,
            ),
            phase(
                "load_plans (before generate_due)",
                k.generate_plans,
                generate_calls,
                0,
            ),
            phase(
                "generate_due (rows: schedules due)",
                k.generate,
                generate_calls,
                handled,
            ),
            phase("sweep_missed", k.sweep, 1, missed),
            phase("escalate_overdue", k.escalate, 1, escalated),
            phase(
                "begin + commit of the write transactions",
                k.commit,
                2 + compute_calls + generate_calls,
                0,
            ),
        ],
        total,
    ))
}
