//! Maintenance plans, what they apply to, each asset's schedule under a plan, and meter
//! readings. Work orders are in `db::work_orders`; the evaluator in `crate::maintenance`.

use super::{DbResult, optional};
use crate::domain::maintenance::{PairState, Trigger};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// Plans in one list; never paged beyond this.
pub const MAX_PLANS: u32 = 5_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub name: String,
    #[serde(default = "one")]
    pub quantity: f64,
}

fn one() -> f64 {
    1.0
}

/// What a plan applies to: an asset, every asset of a type, every asset at a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// asset, type or location
    pub kind: String,
    pub id: i64,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Plan {
    pub id: i64,
    pub title: String,
    pub instructions: String,
    pub checklist: Vec<String>,
    pub parts: Vec<Part>,
    pub estimated_minutes: Option<i64>,
    pub trigger: Trigger,
    pub timezone: Option<String>,
    #[serde(rename = "lead_hours", serialize_with = "hours")]
    pub lead_secs: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub priority: i64,
    #[serde(rename = "escalate_after_hours", serialize_with = "maybe_hours")]
    pub escalate_after_secs: Option<i64>,
    pub escalate_group_id: Option<i64>,
    pub active: bool,
    pub targets: Vec<Target>,
    /// Assets the plan applies to now.
    pub asset_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

fn hours<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(secs / 3600)
}

fn maybe_hours<S: serde::Serializer>(secs: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match secs {
        Some(v) => s.serialize_some(&(v / 3600)),
        None => s.serialize_none(),
    }
}

/// The fields a plan is written from (checked by the HTTP layer).
#[derive(Debug, Clone)]
pub struct PlanFields {
    pub title: String,
    pub instructions: String,
    pub checklist: Vec<String>,
    pub parts: Vec<Part>,
    pub estimated_minutes: Option<i64>,
    pub trigger: Trigger,
    pub timezone: Option<String>,
    pub lead_secs: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub priority: i64,
    pub escalate_after_secs: Option<i64>,
    pub escalate_group_id: Option<i64>,
    pub active: bool,
    pub targets: Vec<Target>,
}

macro_rules! plan_columns {
    () => {
        "p.id, p.title, p.instructions, p.checklist, p.parts, p.estimated_minutes, p.trigger,
        p.timezone, p.lead_secs, p.assignee_id, p.group_id, p.priority, p.escalate_after_secs,
        p.escalate_group_id, p.active, p.created_at, p.updated_at"
    };
}

/// A plan with how many assets it applies to.
const COLUMNS: &str = concat!(
    plan_columns!(),
    ", (SELECT count(*) FROM maintenance_schedules s WHERE s.plan_id = p.id)"
);
/// A plan for the evaluator, without the count (0).
const RULE_COLUMNS: &str = concat!(plan_columns!(), ", 0");

fn plan_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Plan> {
    Ok(Plan {
        id: r.get(0)?,
        title: r.get(1)?,
        instructions: r.get(2)?,
        checklist: super::json_column(r, 3),
        parts: super::json_column(r, 4),
        estimated_minutes: r.get(5)?,
        trigger: super::json_column(r, 6),
        timezone: r.get(7)?,
        lead_secs: r.get(8)?,
        assignee_id: r.get(9)?,
        group_id: r.get(10)?,
        priority: r.get(11)?,
        escalate_after_secs: r.get(12)?,
        escalate_group_id: r.get(13)?,
        active: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        asset_count: r.get(17)?,
        targets: Vec::new(),
    })
}

fn targets(c: &Connection, plan_id: i64) -> DbResult<Vec<Target>> {
    let mut stmt = c.prepare_cached(
        "SELECT kind, ref_id FROM maintenance_targets WHERE plan_id = ?1 ORDER BY kind, ref_id",
    )?;
    let rows = stmt.query_map([plan_id], |r| {
        Ok(Target {
            kind: r.get(0)?,
            id: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Plan>> {
    let found = optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM maintenance_plans p WHERE p.id = ?1"),
        [id],
        plan_row,
    ))?;
    match found {
        Some(mut p) => {
            p.targets = targets(c, id)?;
            Ok(Some(p))
        }
        None => Ok(None),
    }
}

/// Active plans without their targets and counts: what the evaluator needs.
pub fn active_rules(c: &Connection) -> DbResult<Vec<Plan>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {RULE_COLUMNS} FROM maintenance_plans p WHERE p.active = 1"
    ))?;
    let rows = stmt.query_map([], plan_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One active plan for the evaluator, without its targets and count.
pub fn active_rule(c: &Connection, id: i64) -> DbResult<Option<Plan>> {
    optional(
        c.prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM maintenance_plans p WHERE p.id = ?1 AND p.active = 1"
        ))?
        .query_row([id], plan_row),
    )
}

/// Plans by title; archived ones only when `include_inactive`.
pub fn list(c: &Connection, include_inactive: bool, limit: u32) -> DbResult<Vec<Plan>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM maintenance_plans p WHERE ?1 OR p.active = 1
         ORDER BY p.title COLLATE NOCASE, p.id LIMIT ?2"
    ))?;
    let mut plans: Vec<Plan> = stmt
        .query_map(params![include_inactive, limit], plan_row)?
        .collect::<Result<_, _>>()?;
    for p in &mut plans {
        p.targets = targets(c, p.id)?;
    }
    Ok(plans)
}

fn meter_of(t: &Trigger) -> Option<String> {
    t.meter.as_ref().map(|m| m.meter.clone())
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub fn insert(c: &Connection, f: &PlanFields, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO maintenance_plans (title, instructions, checklist, parts, estimated_minutes, trigger, meter,
            timezone, lead_secs, assignee_id, group_id, priority, escalate_after_secs, escalate_group_id,
            active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
        params![
            f.title, f.instructions, json(&f.checklist), json(&f.parts), f.estimated_minutes,
            json(&f.trigger), meter_of(&f.trigger), f.timezone, f.lead_secs, f.assignee_id,
            f.group_id, f.priority, f.escalate_after_secs, f.escalate_group_id, f.active, now
        ],
    )?;
    let id = c.last_insert_rowid();
    set_targets(c, id, &f.targets)?;
    Ok(id)
}

/// Rewrites a plan. A changed trigger, time zone or lead time makes every asset's next due
/// date be computed again.
pub fn update(c: &Connection, id: i64, f: &PlanFields, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE maintenance_plans SET title = ?2, instructions = ?3, checklist = ?4, parts = ?5,
            estimated_minutes = ?6, trigger = ?7, meter = ?8, timezone = ?9, lead_secs = ?10,
            assignee_id = ?11, group_id = ?12, priority = ?13, escalate_after_secs = ?14,
            escalate_group_id = ?15, active = ?16, updated_at = ?17
         WHERE id = ?1",
        params![
            id,
            f.title,
            f.instructions,
            json(&f.checklist),
            json(&f.parts),
            f.estimated_minutes,
            json(&f.trigger),
            meter_of(&f.trigger),
            f.timezone,
            f.lead_secs,
            f.assignee_id,
            f.group_id,
            f.priority,
            f.escalate_after_secs,
            f.escalate_group_id,
            f.active,
            now
        ],
    )?;
    set_targets(c, id, &f.targets)?;
    c.execute(
        "UPDATE maintenance_schedules SET stale = 1 WHERE plan_id = ?1",
        [id],
    )?;
    Ok(())
}

fn set_targets(c: &Connection, id: i64, targets: &[Target]) -> DbResult<()> {
    c.execute("DELETE FROM maintenance_targets WHERE plan_id = ?1", [id])?;
    let mut stmt = c.prepare_cached(
        "INSERT OR IGNORE INTO maintenance_targets (plan_id, kind, ref_id) VALUES (?1, ?2, ?3)",
    )?;
    for t in targets {
        stmt.execute(params![id, t.kind, t.id])?;
    }
    Ok(())
}

/// Whether a plan has work orders (then it is archived, not deleted).
pub fn has_work_orders(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(optional(c.query_row(
        "SELECT 1 FROM work_orders WHERE plan_id = ?1 LIMIT 1",
        [id],
        |_| Ok(()),
    ))?
    .is_some())
}

pub fn delete(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(c.execute("DELETE FROM maintenance_plans WHERE id = ?1", [id])? > 0)
}

/// Whether the thing a target names exists.
pub fn target_exists(c: &Connection, t: &Target) -> DbResult<bool> {
    let table = match t.kind.as_str() {
        "asset" => "assets",
        "type" => "asset_types",
        "location" => "locations",
        _ => return Ok(false),
    };
    Ok(optional(c.query_row(
        &format!("SELECT 1 FROM {table} WHERE id = ?1"),
        [t.id],
        |_| Ok(()),
    ))?
    .is_some())
}

/// The (plan, asset) pairs active plans apply to now: named assets, assets of a type,
/// assets at a place or below it; never an archived (retired, disposed) asset.
const WANTED: &str = "WITH RECURSIVE sub(plan_id, loc) AS (
        SELECT mt.plan_id, mt.ref_id FROM maintenance_targets mt WHERE mt.kind = 'location'
        UNION
        SELECT sub.plan_id, l.id FROM locations l JOIN sub ON l.parent_id = sub.loc
    ),
    wanted(plan_id, asset_id) AS (
        SELECT mt.plan_id, mt.ref_id FROM maintenance_targets mt WHERE mt.kind = 'asset'
        UNION
        SELECT mt.plan_id, a.id FROM maintenance_targets mt
            JOIN asset_types ty ON ty.id = mt.ref_id JOIN assets a ON a.kind = ty.key
            WHERE mt.kind = 'type'
        UNION
        SELECT sub.plan_id, a.id FROM sub JOIN assets a ON a.location_id = sub.loc
    )
    SELECT w.plan_id, w.asset_id FROM wanted w
        JOIN maintenance_plans p ON p.id = w.plan_id AND p.active = 1
        JOIN assets a ON a.id = w.asset_id
        LEFT JOIN asset_states st ON st.id = a.state_id
    WHERE coalesce(st.kind, '') <> 'archived'";

/// Brings the schedules in line with the plans' targets: a schedule for every pair that
/// should have one (anchored at `now`), none for pairs that no longer apply; only when
/// something that decides the pairs changed. Returns (added, removed).
pub fn sync_schedules(c: &Connection, now: i64) -> DbResult<(usize, usize)> {
    // Nothing that decides the pairs changed since the last sync (migration 0013's
    // triggers set the flag). Cleared in this transaction, so a change committed later
    // sets it again.
    let dirty: bool = c.query_row("SELECT dirty FROM maintenance_sync WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    if !dirty {
        return Ok((0, 0));
    }
    c.execute("UPDATE maintenance_sync SET dirty = 0 WHERE id = 1", [])?;
    c.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS maintenance_wanted (plan_id INTEGER, asset_id INTEGER,
            PRIMARY KEY (plan_id, asset_id)) WITHOUT ROWID;
         DELETE FROM temp.maintenance_wanted;",
    )?;
    c.execute(
        &format!("INSERT OR IGNORE INTO temp.maintenance_wanted (plan_id, asset_id) {WANTED}"),
        [],
    )?;
    let added = c.execute(
        "INSERT INTO maintenance_schedules (plan_id, asset_id, anchor_at)
         SELECT w.plan_id, w.asset_id, ?1 FROM temp.maintenance_wanted w
         WHERE NOT EXISTS (SELECT 1 FROM maintenance_schedules s
                           WHERE s.plan_id = w.plan_id AND s.asset_id = w.asset_id)",
        [now],
    )?;
    let removed = c.execute(
        "DELETE FROM maintenance_schedules WHERE NOT EXISTS (
            SELECT 1 FROM temp.maintenance_wanted w
            WHERE w.plan_id = maintenance_schedules.plan_id AND w.asset_id = maintenance_schedules.asset_id)",
        [],
    )?;
    c.execute("DELETE FROM temp.maintenance_wanted", [])?;
    Ok((added, removed))
}

/// One asset's schedule under a plan, with what the evaluator needs.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub plan_id: i64,
    pub asset_id: i64,
    pub state: PairState,
    pub next_due_at: Option<i64>,
    pub next_cause: Option<String>,
    pub meter_next: Option<f64>,
    /// The plan's zone, else the asset's site's; `None` for the server's default.
    pub timezone: Option<String>,
}

/// The columns of a schedule with its time zone, for queries over `s` (schedules) and `p`.
const SCHEDULE: &str = "s.plan_id, s.asset_id, s.anchor_at, s.cursor_at, s.waiting, s.last_done_at,
    s.next_due_at, s.next_cause, s.meter_next,
    coalesce(p.timezone, l3.timezone, l2.timezone, l1.timezone, l0.timezone)";
const SCHEDULE_JOINS: &str = "JOIN maintenance_plans p ON p.id = s.plan_id
    JOIN assets a ON a.id = s.asset_id
    LEFT JOIN locations l0 ON l0.id = a.location_id
    LEFT JOIN locations l1 ON l1.id = l0.parent_id
    LEFT JOIN locations l2 ON l2.id = l1.parent_id
    LEFT JOIN locations l3 ON l3.id = l2.parent_id";

fn schedule_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Schedule> {
    Ok(Schedule {
        plan_id: r.get(0)?,
        asset_id: r.get(1)?,
        state: PairState {
            anchor_at: r.get(2)?,
            cursor_at: r.get(3)?,
            waiting: r.get(4)?,
            last_done_at: r.get(5)?,
        },
        next_due_at: r.get(6)?,
        next_cause: r.get(7)?,
        meter_next: r.get(8)?,
        timezone: r.get(9)?,
    })
}

/// Up to `limit` schedules whose next due date must be computed.
pub fn stale(c: &Connection, limit: u32) -> DbResult<Vec<Schedule>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SCHEDULE} FROM maintenance_schedules s {SCHEDULE_JOINS}
         WHERE s.stale = 1 LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], schedule_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Up to `limit` schedules whose work order should be generated by `now`.
pub fn due(c: &Connection, now: i64, limit: u32) -> DbResult<Vec<Schedule>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SCHEDULE} FROM maintenance_schedules s {SCHEDULE_JOINS}
         WHERE s.generate_at <= ?1 AND s.stale = 0 ORDER BY s.generate_at LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now, limit], schedule_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One schedule.
pub fn schedule(c: &Connection, plan_id: i64, asset_id: i64) -> DbResult<Option<Schedule>> {
    optional(c.query_row(
        &format!(
            "SELECT {SCHEDULE} FROM maintenance_schedules s {SCHEDULE_JOINS}
             WHERE s.plan_id = ?1 AND s.asset_id = ?2"
        ),
        params![plan_id, asset_id],
        schedule_row,
    ))
}

/// The schedules of an asset under plans metering `meter`.
pub fn metered(c: &Connection, asset_id: i64, meter: &str) -> DbResult<Vec<Schedule>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SCHEDULE} FROM maintenance_schedules s {SCHEDULE_JOINS}
         WHERE s.asset_id = ?1 AND p.meter = ?2 AND p.active = 1"
    ))?;
    let rows = stmt.query_map(params![asset_id, meter], schedule_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores a schedule's computed state.
#[allow(clippy::too_many_arguments)]
pub fn store(
    c: &Connection,
    plan_id: i64,
    asset_id: i64,
    state: &PairState,
    next: Option<(i64, &str)>,
    generate_at: Option<i64>,
    meter_next: Option<f64>,
) -> DbResult<()> {
    let mut stmt = c.prepare_cached(
        "UPDATE maintenance_schedules SET cursor_at = ?3, waiting = ?4, last_done_at = ?5,
            next_due_at = ?6, next_cause = ?7, generate_at = ?8, meter_next = ?9, stale = 0
         WHERE plan_id = ?1 AND asset_id = ?2",
    )?;
    stmt.execute(params![
        plan_id,
        asset_id,
        state.cursor_at,
        state.waiting,
        state.last_done_at,
        next.map(|n| n.0),
        next.map(|n| n.1),
        generate_at,
        meter_next
    ])?;
    Ok(())
}

/// A schedule as shown on a plan's page.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct AssetSchedule {
    pub asset_id: i64,
    pub asset_name: String,
    pub asset_tag: Option<String>,
    pub last_done_at: Option<i64>,
    pub next_due_at: Option<i64>,
    pub next_cause: Option<String>,
    pub meter_next: Option<f64>,
    pub timezone: String,
}

/// A plan's assets by next due date.
pub fn plan_assets(
    c: &Connection,
    plan_id: i64,
    default_tz: &str,
    limit: u32,
) -> DbResult<Vec<AssetSchedule>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT s.asset_id, a.name, a.asset_tag, s.last_done_at, s.next_due_at, s.next_cause,
            s.meter_next, coalesce(p.timezone, l3.timezone, l2.timezone, l1.timezone, l0.timezone, ?3)
         FROM maintenance_schedules s {SCHEDULE_JOINS}
         WHERE s.plan_id = ?1 ORDER BY s.next_due_at IS NULL, s.next_due_at, s.asset_id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![plan_id, limit, default_tz], |r| {
        Ok(AssetSchedule {
            asset_id: r.get(0)?,
            asset_name: r.get(1)?,
            asset_tag: r.get(2)?,
            last_done_at: r.get(3)?,
            next_due_at: r.get(4)?,
            next_cause: r.get(5)?,
            meter_next: r.get(6)?,
            timezone: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A plan's upcoming due dates for the calendar: (plan, asset, due, cause).
pub fn upcoming(
    c: &Connection,
    from: i64,
    to: i64,
    limit: u32,
) -> DbResult<Vec<(i64, i64, i64, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT plan_id, asset_id, next_due_at, coalesce(next_cause, 'schedule') FROM maintenance_schedules
         WHERE generate_at IS NOT NULL AND next_due_at >= ?1 AND next_due_at < ?2
         ORDER BY next_due_at LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![from, to, limit], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Reading {
    pub id: i64,
    pub asset_id: i64,
    pub meter: String,
    pub value: f64,
    pub read_at: i64,
    pub source: String,
}

pub fn insert_reading(
    c: &Connection,
    asset_id: i64,
    meter: &str,
    value: f64,
    read_at: i64,
    source: &str,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO meter_readings (asset_id, meter, value, read_at, source) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![asset_id, meter, value, read_at, source],
    )?;
    Ok(c.last_insert_rowid())
}

/// The latest reading of an asset's meter.
pub fn latest_reading(c: &Connection, asset_id: i64, meter: &str) -> DbResult<Option<Reading>> {
    optional(c.query_row(
        "SELECT id, asset_id, meter, value, read_at, source FROM meter_readings
         WHERE asset_id = ?1 AND meter = ?2 ORDER BY read_at DESC, id DESC LIMIT 1",
        params![asset_id, meter],
        reading_row,
    ))
}

fn reading_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Reading> {
    Ok(Reading {
        id: r.get(0)?,
        asset_id: r.get(1)?,
        meter: r.get(2)?,
        value: r.get(3)?,
        read_at: r.get(4)?,
        source: r.get(5)?,
    })
}

/// An asset's readings, newest first.
pub fn readings(c: &Connection, asset_id: i64, limit: u32) -> DbResult<Vec<Reading>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, asset_id, meter, value, read_at, source FROM meter_readings
         WHERE asset_id = ?1 ORDER BY read_at DESC, id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![asset_id, limit], reading_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the evaluator last ran, then records `now` as its latest run.
pub fn heartbeat(c: &Connection, now: i64) -> DbResult<Option<i64>> {
    let last = optional(c.query_row(
        "SELECT last_run_at FROM maintenance_runs WHERE id = 1",
        [],
        |r| r.get::<_, i64>(0),
    ))?;
    c.execute(
        "INSERT INTO maintenance_runs (id, last_run_at) VALUES (1, ?1)
         ON CONFLICT (id) DO UPDATE SET last_run_at = max(last_run_at, excluded.last_run_at)",
        [now],
    )?;
    Ok(last)
}
