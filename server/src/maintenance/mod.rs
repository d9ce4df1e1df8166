//! The maintenance evaluator: keeps every asset's schedule under every plan up to date,
//! generates work orders (tickets of type maintenance) a plan's lead time before they are
//! due, records occurrences that were missed, and escalates overdue work.
//!
//! Generation is idempotent: a work order is unique per plan, asset and due date, and is
//! inserted in the same transaction as the schedule advances, so restarts and two servers
//! on one database never duplicate one. After downtime the evaluator walks every
//! occurrence that fell due while it was not running: each gets its work order, marked
//! late with the reason; an older one still open when a newer one comes due is recorded as
//! missed, never silently skipped.
//!
//! Work happens in chunks of [`CHUNK`] schedules per transaction, so the writer is never
//! held for long.

use crate::db::{self, DbResult, maintenance::Schedule};
use crate::domain::maintenance::{Cause, Compiled, Due, PairState, meter_crossing};
use crate::http::AppState;
use crate::service_desk::Rules;
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

mod meters;
mod work_orders;

pub use meters::{UPTIME_METER, record_agent_meters, record_reading};
pub use work_orders::{
    CompleteRefused, cancel, complete, escalate_overdue, finish_ticket, sweep_missed,
};

/// Schedules handled per write transaction.
pub const CHUNK: u32 = 2_000;
/// Occurrences generated for one schedule in one pass (a year of daily work); beyond it,
/// the evaluator logs how many it stepped over.
pub const MAX_CATCH_UP: usize = 400;
/// The account that files work orders.
pub const PLANNER_EMAIL: &str = "maintenance@steward.local";
pub(crate) const ACTOR: &str = "maintenance";

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Pass {
    pub schedules_added: usize,
    pub schedules_removed: usize,
    pub computed: usize,
    pub generated: usize,
    pub missed: usize,
    pub escalated: usize,
    pub stepped_over: usize,
}

/// A plan as the evaluator needs it.
#[derive(Debug, Clone)]
pub struct PlanRules {
    pub id: i64,
    pub title: String,
    pub instructions: String,
    pub checklist: Vec<String>,
    pub parts: Vec<db::maintenance::Part>,
    pub compiled: Compiled,
    pub lead_secs: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub priority: i64,
}

/// Everything a pass needs besides the database.
#[derive(Clone)]
pub struct Ctx<'a> {
    pub desk: &'a Rules,
    /// The zone of assets with no site and plans with no zone.
    pub default_tz: Tz,
    /// A work order generated more than this after it was due is marked late.
    pub slack_secs: i64,
}

impl<'a> Ctx<'a> {
    pub fn of(state: &'a AppState) -> Ctx<'a> {
        Ctx::new(&state.desk, &state.config)
    }

    pub fn new(desk: &'a Rules, config: &crate::config::ServerConfig) -> Ctx<'a> {
        Ctx {
            desk,
            default_tz: desk.calendar.tz(),
            slack_secs: 2 * config.maintenance.interval_secs as i64,
        }
    }

    fn tz(&self, name: Option<&str>) -> Tz {
        name.and_then(|n| n.parse().ok()).unwrap_or(self.default_tz)
    }
}

/// A stored plan, compiled; `None` (logged) when its trigger no longer compiles: its
/// schedules wait.
fn rules_of(p: db::maintenance::Plan) -> Option<PlanRules> {
    match p.trigger.compile() {
        Ok(compiled) => Some(PlanRules {
            id: p.id,
            title: p.title,
            instructions: p.instructions,
            checklist: p.checklist,
            parts: p.parts,
            compiled,
            lead_secs: p.lead_secs,
            assignee_id: p.assignee_id,
            group_id: p.group_id,
            priority: p.priority,
        }),
        Err(e) => {
            tracing::error!(plan_id = p.id, error = %e, "maintenance plan cannot be evaluated");
            None
        }
    }
}

/// Active plans by id, compiled (see [`rules_of`]).
pub fn load_plans(c: &Connection) -> DbResult<HashMap<i64, PlanRules>> {
    Ok(db::maintenance::active_rules(c)?
        .into_iter()
        .filter_map(rules_of)
        .map(|p| (p.id, p))
        .collect())
}

/// One active plan, compiled.
pub fn load_plan(c: &Connection, id: i64) -> DbResult<Option<PlanRules>> {
    Ok(db::maintenance::active_rule(c, id)?.and_then(rules_of))
}

/// Memoised `next_due`: assets under one plan in one zone share most states.
#[derive(Default)]
struct Memo(HashMap<(i64, Tz, PairState), Option<Due>>);

impl Memo {
    fn next_due(&mut self, plan: &PlanRules, tz: Tz, s: &PairState) -> Option<Due> {
        *self
            .0
            .entry((plan.id, tz, *s))
            .or_insert_with(|| plan.compiled.next_due(tz, s))
    }
}

pub(crate) fn store_next(
    c: &Connection,
    plan: &PlanRules,
    s: &Schedule,
    state: &PairState,
    next: Option<Due>,
    meter_next: Option<f64>,
) -> DbResult<()> {
    db::maintenance::store(
        c,
        s.plan_id,
        s.asset_id,
        state,
        next.map(|d| (d.at, d.cause.as_str())),
        next.map(|d| d.at - plan.lead_secs),
        meter_next,
    )
}

/// Computes the next due date of up to [`CHUNK`] stale schedules. Returns how many.
pub fn compute_stale(
    c: &Connection,
    ctx: &Ctx<'_>,
    plans: &HashMap<i64, PlanRules>,
) -> DbResult<usize> {
    let rows = db::maintenance::stale(c, CHUNK)?;
    let mut memo = Memo::default();
    for s in &rows {
        let Some(plan) = plans.get(&s.plan_id) else {
            db::maintenance::store(c, s.plan_id, s.asset_id, &s.state, None, None, s.meter_next)?;
            continue;
        };
        let tz = ctx.tz(s.timezone.as_deref());
        let next = memo.next_due(plan, tz, &s.state);
        let meter_next = match (&plan.compiled.meter, s.meter_next) {
            (Some(rule), None) => db::maintenance::latest_reading(c, s.asset_id, &rule.meter)?
                .map(|r| meter_crossing(rule, None, r.value).1),
            (Some(_), known) => known,
            (None, _) => None,
        };
        store_next(c, plan, s, &s.state, next, meter_next)?;
    }
    Ok(rows.len())
}

/// Generates the work orders of up to [`CHUNK`] schedules due by `now`, walking every
/// occurrence missed while the server was not running. `last_run` is when the evaluator
/// ran before this pass. Returns (schedules handled, generated, stepped over).
pub fn generate_due(
    c: &Connection,
    ctx: &Ctx<'_>,
    plans: &HashMap<i64, PlanRules>,
    now: i64,
    last_run: Option<i64>,
) -> DbResult<(usize, usize, usize)> {
    let rows = db::maintenance::due(c, now, CHUNK)?;
    let mut memo = Memo::default();
    let (mut generated, mut stepped) = (0, 0);
    for s in &rows {
        let Some(plan) = plans.get(&s.plan_id) else {
            db::maintenance::store(c, s.plan_id, s.asset_id, &s.state, None, None, s.meter_next)?;
            continue;
        };
        let tz = ctx.tz(s.timezone.as_deref());
        let mut state = s.state;
        let mut next = match (
            s.next_due_at,
            s.next_cause.as_deref().and_then(Cause::parse),
        ) {
            (Some(at), Some(cause)) => Some(Due { at, cause }),
            _ => memo.next_due(plan, tz, &state),
        };
        let mut walked = 0;
        while let Some(due) = next.filter(|d| d.at - plan.lead_secs <= now) {
            if walked < MAX_CATCH_UP {
                let late = late_reason(ctx, plan, due.at, now, last_run, tz);
                let made = generate(c, ctx, plan, s.asset_id, due, late, None, now)?;
                generated += usize::from(made.is_some());
            } else {
                stepped += 1;
            }
            walked += 1;
            state.cursor_at = Some(due.at);
            state.waiting = true;
            next = memo.next_due(plan, tz, &state);
        }
        if walked > MAX_CATCH_UP {
            tracing::warn!(
                plan_id = plan.id,
                asset_id = s.asset_id,
                stepped_over = walked - MAX_CATCH_UP,
                "maintenance catch-up capped; older occurrences were not generated"
            );
        }
        store_next(c, plan, s, &state, next, s.meter_next)?;
    }
    Ok((rows.len(), generated, stepped))
}

pub(crate) fn local_text(tz: Tz, at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// Why a work order comes after its due date, or `None` when it is on time.
fn late_reason(
    ctx: &Ctx<'_>,
    plan: &PlanRules,
    due: i64,
    now: i64,
    last_run: Option<i64>,
    tz: Tz,
) -> Option<String> {
    if now <= due + ctx.slack_secs {
        return None;
    }
    let should_have = due - plan.lead_secs;
    Some(match last_run {
        Some(r) if r < should_have => format!(
            "Steward was not running when this work order was due: nothing was evaluated between {} and {}.",
            local_text(tz, r),
            local_text(tz, now)
        ),
        None => format!(
            "Steward was not running when this work order was due; generated at {}.",
            local_text(tz, now)
        ),
        Some(_) => format!(
            "Generated after its due date (at {}): the plan or the asset changed after it was due.",
            local_text(tz, now)
        ),
    })
}

fn planner(c: &Connection, now: i64) -> DbResult<i64> {
    let known = db::optional(
        c.prepare_cached("SELECT id FROM users WHERE email = ?1")?
            .query_row([PLANNER_EMAIL], |r| r.get::<_, i64>(0)),
    )?;
    Ok(match known {
        Some(id) => id,
        None => db::users::insert(
            c,
            PLANNER_EMAIL,
            "Maintenance planner",
            crate::domain::roles::Role::Employee,
            None,
            now,
        )?,
    })
}

/// Generates one work order and its ticket unless it exists. Returns its id when new.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    c: &Connection,
    ctx: &Ctx<'_>,
    plan: &PlanRules,
    asset_id: i64,
    due: Due,
    late_reason: Option<String>,
    meter_value: Option<f64>,
    now: i64,
) -> DbResult<Option<i64>> {
    let new = db::work_orders::NewWorkOrder {
        plan_id: plan.id,
        asset_id,
        due_at: due.at,
        cause: due.cause.as_str(),
        late_reason: late_reason.clone(),
        meter_value,
        checklist: &plan.checklist,
    };
    let Some(id) = db::work_orders::insert(c, &new, now)? else {
        return Ok(None);
    };
    let (asset_name, tz_name): (String, Option<String>) = c
        .prepare_cached(
        "SELECT a.name, coalesce(l3.timezone, l2.timezone, l1.timezone, l0.timezone)
         FROM assets a LEFT JOIN locations l0 ON l0.id = a.location_id
         LEFT JOIN locations l1 ON l1.id = l0.parent_id LEFT JOIN locations l2 ON l2.id = l1.parent_id
         LEFT JOIN locations l3 ON l3.id = l2.parent_id WHERE a.id = ?1",
        )?
        .query_row([asset_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let tz = ctx.tz(tz_name.as_deref());
    let mut description = format!(
        "Preventive maintenance due {} ({}).",
        local_text(tz, due.at),
        match due.cause {
            Cause::Schedule => "on schedule".to_owned(),
            Cause::Meter => format!(
                "meter reading {}",
                meter_value.map(|v| v.to_string()).unwrap_or_default()
            ),
            Cause::MaxInterval => "the maximum interval since it was last done".to_owned(),
            Cause::Manual => "requested by hand".to_owned(),
        }
    );
    if let Some(r) = &late_reason {
        description.push_str("\n\n");
        description.push_str(r);
    }
    if !plan.instructions.is_empty() {
        description.push_str("\n\n");
        description.push_str(&plan.instructions);
    }
    if !plan.checklist.is_empty() {
        description.push_str("\n\nChecklist:");
        for item in &plan.checklist {
            description.push_str("\n- [ ] ");
            description.push_str(item);
        }
    }
    if !plan.parts.is_empty() {
        description.push_str("\n\nParts:");
        for p in &plan.parts {
            description.push_str(&format!("\n- {} x {}", p.quantity, p.name));
        }
    }
    let level = crate::domain::tickets::Level::Medium.value();
    let ticket = db::tickets::NewTicket {
        ticket_type: "maintenance".into(),
        title: format!("{}: {}", plan.title, asset_name),
        description,
        requester_id: planner(c, now)?,
        assignee_id: plan.assignee_id,
        group_id: plan.group_id,
        impact: i64::from(level),
        urgency: i64::from(level),
        priority: plan.priority,
        source: "maintenance".into(),
        asset_ids: vec![asset_id],
        tags: vec!["maintenance".into()],
        ..Default::default()
    };
    let actor = format!("{ACTOR}:plan:{}", plan.id);
    let ticket_id = db::tickets::insert(c, &ticket, &actor, now)?;
    if plan.assignee_id.is_none() && plan.group_id.is_some() {
        db::groups::auto_assign(c, ticket_id, &actor, now)?;
    }
    crate::service_desk::refresh_sla(c, ctx.desk, ticket_id, now)?;
    crate::events::ticket_created(c, ticket_id, &actor, now)?;
    db::work_orders::set_ticket(c, id, ticket_id)?;
    Ok(Some(id))
}

/// One full pass at `now`, in chunked transactions.
pub async fn evaluate(state: &AppState, now: i64) -> DbResult<Pass> {
    let state = state.clone();
    let db = state.db.clone();
    tokio::task::spawn_blocking(move || evaluate_blocking(&db, &Ctx::of(&state), now))
        .await
        .map_err(|e| db::DbError::Task(e.to_string()))?
}

/// [`evaluate`] for blocking callers (the CLI, benchmarks).
pub fn evaluate_blocking(db: &db::Db, ctx: &Ctx<'_>, now: i64) -> DbResult<Pass> {
    let mut pass = Pass::default();
    let last_run = db.write_blocking(|tx| {
        let (added, removed) = db::maintenance::sync_schedules(tx, now)?;
        pass.schedules_added = added;
        pass.schedules_removed = removed;
        db::maintenance::heartbeat(tx, now)
    })?;
    loop {
        let n = db.write_blocking(|tx| {
            let plans = load_plans(tx)?;
            compute_stale(tx, ctx, &plans)
        })?;
        pass.computed += n;
        if n < CHUNK as usize {
            break;
        }
    }
    loop {
        let (n, made, stepped) = db.write_blocking(|tx| {
            let plans = load_plans(tx)?;
            generate_due(tx, ctx, &plans, now, last_run)
        })?;
        pass.generated += made;
        pass.stepped_over += stepped;
        if n < CHUNK as usize {
            break;
        }
    }
    db.write_blocking(|tx| {
        pass.missed = sweep_missed(tx, ctx, now)?;
        pass.escalated = escalate_overdue(tx, ctx, now)?;
        Ok(())
    })?;
    Ok(pass)
}

/// Evaluates every `maintenance.interval_secs` until `shutdown`.
pub async fn run(state: AppState, shutdown: CancellationToken) {
    let mut tick =
        tokio::time::interval(Duration::from_secs(state.config.maintenance.interval_secs));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {
                match evaluate(&state, crate::clock::now()).await {
                    Ok(p) if p.generated + p.missed + p.escalated > 0 => tracing::info!(
                        generated = p.generated, missed = p.missed, escalated = p.escalated,
                        "maintenance evaluated"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "maintenance evaluation failed"),
                }
            }
        }
    }
}
