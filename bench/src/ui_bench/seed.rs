//! One data directory with everything the web UI shows, from the other benchmarks'
//! seeders: the fleet's machines with their installed software, locations, catalog history
//! and licenses (`seed::fleet`'s parts); the desk's people and its other devices (monitors,
//! phones, printers, network gear, more computers and servers: `seed::assets`); the
//! maintenance benchmark's sites, facility assets and plans (`maintenance::seed`); then the
//! desk's tickets (`seed::insert_tickets`), linked to the requester's computer or a server.
//! On top: open and resolved alerts on some machines, work orders from evaluating the plans
//! at a few past moments (most of them done), and one problem reported from a QR label.

use crate::maintenance::seed as maintenance_seed;
use crate::report::thousands;
use crate::rng::Rng;
use crate::seed::assets::{Computer, Fleet};
use crate::seed::{self, SeedOptions, SeedSummary, machines, packages, people};
use anyhow::Context;
use rusqlite::{Connection, params};
use std::path::Path;
use std::time::{Duration, Instant};
use steward_server::AppState;
use steward_server::domain::alerts::Condition;

/// How much to seed.
#[derive(Debug, Clone)]
pub struct UiSeedOptions {
    /// All assets; split into [`MACHINE_SHARE`] agent-reported machines, [`MAINTENANCE_SHARE`]
    /// maintained facility and IT assets, and the rest desk devices.
    pub assets: u64,
    pub tickets: u64,
    pub software_per_asset: usize,
    pub comments_per_ticket: f64,
    pub employees: u64,
    pub technicians: u64,
    pub history_days: i64,
}

/// Percent of the assets that are machines with agents and software.
pub const MACHINE_SHARE: u64 = 50;
/// Percent of the assets under maintenance plans (the maintenance benchmark's sites).
pub const MAINTENANCE_SHARE: u64 = 10;
/// Plans for the maintenance assets (as the maintenance benchmark's default).
const PLANS: usize = 33;
/// Machines per transaction while inserting software.
const SOFTWARE_BATCH: usize = 1_000;
/// Percent of the machines with open alerts, and with resolved ones.
const ALERTING: u64 = 3;
const RESOLVED_ALERTS: u64 = 10;
/// The follow token of the QR report seeded on the first machine (its hash is stored, as
/// the server stores it; the benchmark opens `/p/{token}/t/{FOLLOW}`).
pub const FOLLOW: &str = "0b5e55ed0b5e55ed0b5e55ed0b5e55ed";

const DAY: i64 = 86_400;

/// What seeding wrote and how long it took.
#[derive(Debug, Clone, Default)]
pub struct UiSeedSummary {
    pub machines: u64,
    pub desk_assets: u64,
    pub maintained_assets: u64,
    pub software_rows: u64,
    pub desk: SeedSummary,
    pub alerts: u64,
    pub work_orders: u64,
    pub audit_entries: u64,
    pub elapsed: Duration,
}

fn connect(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path).with_context(|| format!("opening {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "OFF")?;
    conn.pragma_update(None, "cache_size", -1_048_576)?; // 1 GiB
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

/// Stores a last inventory and health report for each machine that has none (a database
/// seeded before the reports were gets them on its next run).
pub fn reports(path: &Path, now: i64) -> anyhow::Result<u64> {
    crate::seed::reports::fill(&mut connect(path)?, now)
}

/// Seeds the (migrated, empty) database at `path`; `now` is the newest ticket's time.
/// The work orders come from the server's own evaluator, on `state`.
pub fn seed(
    path: &Path,
    state: &AppState,
    o: &UiSeedOptions,
    now: i64,
) -> anyhow::Result<UiSeedSummary> {
    let started = Instant::now();
    let mut s = UiSeedSummary {
        machines: o.assets * MACHINE_SHARE / 100,
        maintained_assets: o.assets * MAINTENANCE_SHARE / 100,
        ..Default::default()
    };
    s.desk_assets = o.assets - s.machines - s.maintained_assets;

    // The maintenance sites, assets and plans first: their seeder opens its own connection
    // and writes plans as of 90 days ago, so the evaluation below has history to work on.
    if s.maintained_assets > 0 {
        maintenance_seed::seed(path, s.maintained_assets, PLANS, now - 90 * DAY)?;
    }

    let mut conn = connect(path)?;
    let mut rng = Rng::new(0x0B5E_55ED);
    let tx = conn.transaction()?;
    let (people, rows) = people::insert(&tx, o.employees, o.technicians, now)?;
    s.desk.rows += rows;
    s.desk.users = o.employees + o.technicians;
    let rooms = machines::insert_locations(&tx, now)?;
    let fleet = machines::insert(
        &tx,
        &mut rng,
        s.machines,
        o.software_per_asset as i64,
        &rooms,
        now,
    )?;
    let mut computers = assign_machines(&tx, &fleet, &people)?;
    let (desk, rows) = crate::seed::assets::insert(
        &tx,
        &mut rng,
        s.desk_assets,
        people.first_employee,
        o.employees,
        now,
    )?;
    s.desk.rows += rows;
    for (mine, more) in computers.computers.iter_mut().zip(desk.computers) {
        mine.extend(more);
    }
    computers.servers.extend(desk.servers);
    tx.commit()?;
    eprintln!(
        "seed: {} machines, {} desk devices, {} maintained assets, {} users in {:.1} s",
        thousands(s.machines),
        thousands(s.desk_assets),
        thousands(s.maintained_assets),
        thousands(s.desk.users),
        started.elapsed().as_secs_f64()
    );

    let software_started = Instant::now();
    let mut catalog = packages::Packages::new(o.software_per_asset);
    for (i, chunk) in fleet.chunks(SOFTWARE_BATCH).enumerate() {
        let tx = conn.transaction()?;
        s.software_rows += catalog.insert(&tx, &mut rng, chunk, now)?;
        tx.commit()?;
        let done = i * SOFTWARE_BATCH + chunk.len();
        if done.is_multiple_of(10 * SOFTWARE_BATCH) || done == fleet.len() {
            let secs = software_started.elapsed().as_secs_f64().max(1e-9);
            eprintln!(
                "seed: software of {:>7} / {} machines, {} rows, {:.1} s, {} rows/s",
                thousands(done as u64),
                thousands(fleet.len() as u64),
                thousands(s.software_rows),
                secs,
                thousands((s.software_rows as f64 / secs) as u64)
            );
        }
    }
    let tx = conn.transaction()?;
    packages::insert_history(&tx, &mut rng, now, o.history_days)?;
    packages::insert_licenses(&tx, now)?;
    s.alerts = insert_alerts(&tx, &mut rng, &fleet, now)?;
    tx.commit()?;
    eprintln!(
        "seed: catalog history and licenses, {} alerts",
        thousands(s.alerts)
    );

    let desk_options = SeedOptions {
        tickets: o.tickets,
        assets: 0,
        comments_per_ticket: o.comments_per_ticket,
        employees: o.employees,
        technicians: o.technicians,
    };
    s.desk.assets = s.desk_assets;
    seed::insert_tickets(
        &mut conn,
        &people,
        &computers,
        rng.next_u64(),
        &desk_options,
        now,
        Instant::now(),
        &mut s.desk,
    )?;
    s.audit_entries = insert_audit(&conn, &mut rng)?;
    eprintln!("seed: {} audit log entries", thousands(s.audit_entries));
    report_from_qr_label(&conn, now)?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);

    if s.maintained_assets > 0 {
        s.work_orders = work_orders(state, &mut rng, now)?;
    }
    s.desk.elapsed = started.elapsed();
    s.elapsed = started.elapsed();
    Ok(s)
}

/// Gives each employee in turn one of the machines that are computers (servers stay
/// unassigned); returns them as the tickets' fleet.
fn assign_machines(
    c: &Connection,
    fleet: &[machines::Machine],
    people: &people::People,
) -> anyhow::Result<Fleet> {
    let mut out = Fleet {
        computers: vec![Vec::new(); people.employees as usize],
        servers: Vec::new(),
    };
    let (Some(first), Some(last)) = (fleet.first(), fleet.last()) else {
        return Ok(out);
    };
    let mut stmt = c.prepare(
        "SELECT id, kind, name, model FROM assets WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    )?;
    let rows: Vec<(i64, String, String, String)> = stmt
        .query_map([first.id, last.id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut assign = c.prepare("UPDATE assets SET assigned_user_id = ?2 WHERE id = ?1")?;
    let mut next = 0u64;
    for (id, kind, name, model) in rows {
        if kind == "server" || people.employees == 0 {
            out.servers.push(id);
            continue;
        }
        let e = next % people.employees;
        next += 1;
        assign.execute(params![id, people.first_employee + e as i64])?;
        out.computers[e as usize].push(Computer { id, name, model });
    }
    Ok(out)
}

/// Open alerts on [`ALERTING`]% of the machines and resolved ones on [`RESOLVED_ALERTS`]%,
/// raised with the server's `db::alerts::raise`. Returns the alerts written.
fn insert_alerts(
    c: &Connection,
    rng: &mut Rng,
    fleet: &[machines::Machine],
    now: i64,
) -> anyhow::Result<u64> {
    let kinds: [(&str, &str, &str); 4] = [
        ("disk_full", "/", "disk / is 96% full"),
        ("memory_full", "", "memory is 97% used"),
        ("failed_services", "", "2 services failed: cups, fwupd"),
        ("pending_reboot", "", "a reboot is pending after updates"),
    ];
    let mut n = 0;
    let mut resolve = c.prepare(
        "UPDATE alerts SET resolved_at = ?2, updated_at = ?2
         WHERE asset_id = ?1 AND resolved_at IS NULL",
    )?;
    for m in fleet {
        let roll = rng.below(100);
        if roll >= ALERTING + RESOLVED_ALERTS {
            continue;
        }
        let (kind, key, message) = kinds[rng.below(kinds.len() as u64) as usize];
        let opened = now - rng.range(3_600, 60 * DAY);
        let cond = Condition {
            kind,
            key: key.to_owned(),
            severity: if rng.chance(0.3) {
                "critical"
            } else {
                "warning"
            },
            message: message.to_owned(),
        };
        steward_server::db::alerts::raise(c, m.id, &cond, opened)?;
        if roll >= ALERTING {
            resolve.execute(params![m.id, opened + rng.range(600, 3 * DAY)])?;
        }
        n += 1;
    }
    Ok(n)
}

/// The audit log of the employees' sign-ins: one before each ticket they filed, and a
/// failed attempt before one in fifty, in time order (the log's ids are its order).
fn insert_audit(c: &Connection, rng: &mut Rng) -> anyhow::Result<u64> {
    let salt = rng.below(1_000) as i64;
    let failed = c.execute(
        "INSERT INTO audit_log (at, actor_user_id, actor_label, ip, action, target, detail)
         SELECT at, uid, email, ip, action, 'user:' || uid, NULL FROM (
             SELECT t.created_at - 120 AS at, u.id AS uid, u.email, '10.20.' || (t.id % 250) || '.' || (u.id % 250) AS ip,
                    'auth.login_failed' AS action, t.id AS o
             FROM tickets t JOIN users u ON u.id = t.requester_id
             WHERE u.role = 'employee' AND (t.id + ?1) % 50 = 0
             UNION ALL
             SELECT t.created_at - 60, u.id, u.email, '10.20.' || (t.id % 250) || '.' || (u.id % 250),
                    'auth.login', t.id
             FROM tickets t JOIN users u ON u.id = t.requester_id
             WHERE u.role = 'employee'
         ) ORDER BY at, o",
        [salt],
    )?;
    Ok(failed as u64)
}

/// A problem reported from the first machine's QR label, as `ui::public::report` files
/// it, with the known follow token [`FOLLOW`].
fn report_from_qr_label(c: &Connection, now: i64) -> anyhow::Result<()> {
    let found: Option<(i64, i64)> = c
        .query_row(
            "SELECT a.id, t.ticket_id FROM assets a JOIN ticket_assets t ON t.asset_id = a.id
             WHERE a.public_token IS NOT NULL ORDER BY t.ticket_id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok();
    let Some((asset, ticket)) = found else {
        return Ok(());
    };
    c.execute(
        "INSERT INTO public_reports (asset_id, client, at, ticket_id, follow_hash)
         VALUES (?1, '127.0.0.1', ?2, ?3, ?4)",
        params![
            asset,
            now,
            ticket,
            steward_server::crypto::token_hash(FOLLOW)
        ],
    )?;
    Ok(())
}

/// Runs the server's maintenance evaluator at moments over the last 90 days, completing
/// most of what came due before the next one (some late, some never: those the evaluator
/// later marks missed). Returns the work orders there are.
fn work_orders(state: &AppState, rng: &mut Rng, now: i64) -> anyhow::Result<u64> {
    let (db, ctx) = (&state.db, steward_server::maintenance::Ctx::of(state));
    let moments: Vec<i64> = (0..=12).rev().map(|w| now - w * 7 * DAY).collect();
    let mut technician = None;
    for (i, &at) in moments.iter().enumerate() {
        let pass = steward_server::maintenance::evaluate_blocking(db, &ctx, at)?;
        let next = moments.get(i + 1).copied().unwrap_or(now);
        let done_by: i64 = match technician {
            Some(t) => t,
            None => {
                let t = db.read_blocking(|c| {
                    Ok(c.query_row(
                        "SELECT id FROM users WHERE email LIKE 'facilities-1@%'",
                        [],
                        |r| r.get(0),
                    )?)
                })?;
                technician = Some(t);
                t
            }
        };
        let due: Vec<(i64, i64)> = db.read_blocking(|c| {
            let mut stmt = c.prepare(
                "SELECT id, due_at FROM work_orders WHERE state = 'open' AND due_at < ?1",
            )?;
            let rows = stmt
                .query_map([next], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })?;
        let mut finished: Vec<(i64, i64)> = Vec::new();
        for (id, due_at) in due {
            if rng.below(100) < 85 {
                finished.push((id, (due_at - DAY + rng.range(0, 3 * DAY)).min(now)));
            }
        }
        db.write_blocking(|tx| {
            for (id, at) in &finished {
                steward_server::db::work_orders::complete(tx, *id, done_by, *at)?;
            }
            Ok(())
        })?;
        eprintln!(
            "seed: maintenance pass at -{} days: {} work orders generated, {} completed",
            (now - at) / DAY,
            pass.generated,
            finished.len()
        );
    }
    let n: i64 = db.read_blocking(|c| {
        Ok(c.query_row("SELECT count(*) FROM work_orders", [], |r| r.get(0))?)
    })?;
    Ok(n.max(0) as u64)
}
