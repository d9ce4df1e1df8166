//! Work orders: one per plan, asset and due date, each with a ticket of type maintenance,
//! and the evidence of the work (checklist, notes, time, parts, cost, who and when).

use super::maintenance::Part;
use super::{DbResult, optional};
use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

/// A work order counts as on time when done within this long after its due time.
pub const ON_TIME_GRACE_SECS: i64 = 86_400;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub item: String,
    #[serde(default)]
    pub done: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorkOrder {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub ticket_status: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub plan_id: i64,
    pub plan_title: String,
    pub asset_id: i64,
    pub asset_name: String,
    pub due_at: i64,
    pub cause: String,
    /// open, done, missed or cancelled.
    pub state: String,
    /// Open and past its due date.
    pub overdue: bool,
    pub generated_at: i64,
    pub late_reason: Option<String>,
    pub meter_value: Option<f64>,
    pub checklist: Vec<ChecklistItem>,
    pub notes: String,
    pub minutes_spent: Option<i64>,
    pub parts_used: Vec<Part>,
    pub cost_cents: Option<i64>,
    pub completed_at: Option<i64>,
    pub completed_by: Option<i64>,
    pub completed_by_name: Option<String>,
    pub missed_at: Option<i64>,
    pub missed_reason: Option<String>,
    pub escalated_at: Option<i64>,
}

const COLUMNS: &str = "w.id, w.ticket_id, t.status, t.assignee_id, au.name, w.plan_id, p.title,
    w.asset_id, a.name, w.due_at, w.cause, w.state, w.generated_at, w.late_reason, w.meter_value,
    w.checklist, w.notes, w.minutes_spent, w.parts_used, w.cost_cents, w.completed_at,
    w.completed_by, cu.name, w.missed_at, w.missed_reason, w.escalated_at";
const JOINS: &str = "JOIN maintenance_plans p ON p.id = w.plan_id
    JOIN assets a ON a.id = w.asset_id
    LEFT JOIN tickets t ON t.id = w.ticket_id
    LEFT JOIN users au ON au.id = t.assignee_id
    LEFT JOIN users cu ON cu.id = w.completed_by";

fn row(now: i64) -> impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<WorkOrder> {
    move |r| {
        let state: String = r.get(11)?;
        let due_at: i64 = r.get(9)?;
        Ok(WorkOrder {
            id: r.get(0)?,
            ticket_id: r.get(1)?,
            ticket_status: r.get(2)?,
            assignee_id: r.get(3)?,
            assignee_name: r.get(4)?,
            plan_id: r.get(5)?,
            plan_title: r.get(6)?,
            asset_id: r.get(7)?,
            asset_name: r.get(8)?,
            due_at,
            cause: r.get(10)?,
            overdue: state == "open" && due_at < now,
            state,
            generated_at: r.get(12)?,
            late_reason: r.get(13)?,
            meter_value: r.get(14)?,
            checklist: super::json_column(r, 15),
            notes: r.get(16)?,
            minutes_spent: r.get(17)?,
            parts_used: super::json_column(r, 18),
            cost_cents: r.get(19)?,
            completed_at: r.get(20)?,
            completed_by: r.get(21)?,
            completed_by_name: r.get(22)?,
            missed_at: r.get(23)?,
            missed_reason: r.get(24)?,
            escalated_at: r.get(25)?,
        })
    }
}

pub fn get(c: &Connection, id: i64, now: i64) -> DbResult<Option<WorkOrder>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM work_orders w {JOINS} WHERE w.id = ?1"),
        [id],
        row(now),
    ))
}

/// The work order behind a ticket, if it is one.
pub fn by_ticket(c: &Connection, ticket_id: i64, now: i64) -> DbResult<Option<WorkOrder>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM work_orders w {JOINS} WHERE w.ticket_id = ?1"),
        [ticket_id],
        row(now),
    ))
}

/// Which work orders to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// open, overdue, done, missed, cancelled; `None` for all.
    pub state: Option<String>,
    pub plan_id: Option<i64>,
    pub asset_id: Option<i64>,
    pub due_from: Option<i64>,
    pub due_to: Option<i64>,
    /// Keyset cursor: (due_at, id) of the last row seen.
    pub after: Option<(i64, i64)>,
}

/// Work orders by due date, oldest first.
pub fn list(c: &Connection, f: &Filter, now: i64, limit: u32) -> DbResult<Vec<WorkOrder>> {
    let (state, overdue) = match f.state.as_deref() {
        Some("overdue") => (Some("open"), true),
        other => (other, false),
    };
    let (after_due, after_id) = f.after.unwrap_or((i64::MIN, i64::MIN));
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM work_orders w {JOINS}
         WHERE (?1 IS NULL OR w.state = ?1) AND (?2 = 0 OR w.due_at < ?3)
           AND (?4 IS NULL OR w.plan_id = ?4) AND (?5 IS NULL OR w.asset_id = ?5)
           AND (?6 IS NULL OR w.due_at >= ?6) AND (?7 IS NULL OR w.due_at < ?7)
           AND (w.due_at, w.id) > (?8, ?9)
         ORDER BY w.due_at, w.id LIMIT ?10"
    ))?;
    let rows = stmt.query_map(
        params![
            state, overdue, now, f.plan_id, f.asset_id, f.due_from, f.due_to, after_due, after_id,
            limit
        ],
        row(now),
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A work order to generate.
#[derive(Debug, Clone)]
pub struct NewWorkOrder<'a> {
    pub plan_id: i64,
    pub asset_id: i64,
    pub due_at: i64,
    pub cause: &'a str,
    pub late_reason: Option<String>,
    pub meter_value: Option<f64>,
    pub checklist: &'a [String],
}

/// Inserts a work order unless one exists for the same plan, asset and due date (then
/// `None`): this is what makes generation idempotent.
pub fn insert(c: &Connection, w: &NewWorkOrder<'_>, now: i64) -> DbResult<Option<i64>> {
    let checklist: Vec<ChecklistItem> = w
        .checklist
        .iter()
        .map(|i| ChecklistItem {
            item: i.clone(),
            done: false,
        })
        .collect();
    let mut stmt = c.prepare_cached(
        "INSERT INTO work_orders (plan_id, asset_id, due_at, cause, generated_at, late_reason, meter_value, checklist)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (plan_id, asset_id, due_at) DO NOTHING",
    )?;
    let n = stmt.execute(params![
        w.plan_id,
        w.asset_id,
        w.due_at,
        w.cause,
        now,
        w.late_reason,
        w.meter_value,
        serde_json::to_string(&checklist).unwrap_or_else(|_| "[]".into())
    ])?;
    Ok((n == 1).then(|| c.last_insert_rowid()))
}

pub fn set_ticket(c: &Connection, id: i64, ticket_id: i64) -> DbResult<()> {
    c.execute(
        "UPDATE work_orders SET ticket_id = ?2 WHERE id = ?1",
        params![id, ticket_id],
    )?;
    Ok(())
}

/// The work done so far (any field `None` stays).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub checklist: Option<Vec<ChecklistItem>>,
    pub notes: Option<String>,
    pub minutes_spent: Option<i64>,
    pub parts_used: Option<Vec<Part>>,
    pub cost_cents: Option<i64>,
}

pub fn record_progress(c: &Connection, id: i64, p: &Progress) -> DbResult<()> {
    let checklist = p.checklist.as_ref().map(serde_json::to_string).transpose();
    let parts = p.parts_used.as_ref().map(serde_json::to_string).transpose();
    c.execute(
        "UPDATE work_orders SET checklist = coalesce(?2, checklist), notes = coalesce(?3, notes),
            minutes_spent = coalesce(?4, minutes_spent), parts_used = coalesce(?5, parts_used),
            cost_cents = coalesce(?6, cost_cents)
         WHERE id = ?1",
        params![
            id,
            checklist.unwrap_or_default(),
            p.notes,
            p.minutes_spent,
            parts.unwrap_or_default(),
            p.cost_cents
        ],
    )?;
    Ok(())
}

/// Marks an open work order done. Returns false when it was not open.
pub fn complete(c: &Connection, id: i64, by: i64, now: i64) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE work_orders SET state = 'done', completed_at = ?2, completed_by = ?3
         WHERE id = ?1 AND state = 'open'",
        params![id, now, by],
    )? == 1)
}

/// Marks an open work order cancelled. Returns false when it was not open.
pub fn cancel(c: &Connection, id: i64, reason: &str, now: i64) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE work_orders SET state = 'cancelled', missed_at = ?2, missed_reason = ?3
         WHERE id = ?1 AND state = 'open'",
        params![id, now, reason],
    )? == 1)
}

/// Open work orders overtaken by a later occurrence of the same plan and asset that has
/// come due by `now`: (work order, ticket, the later due date).
pub fn superseded(c: &Connection, now: i64) -> DbResult<Vec<(i64, Option<i64>, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT w.id, w.ticket_id, min(n.due_at) FROM work_orders w
         JOIN work_orders n ON n.plan_id = w.plan_id AND n.asset_id = w.asset_id
             AND n.due_at > w.due_at AND n.due_at <= ?1
         WHERE w.state = 'open'
         GROUP BY w.id",
    )?;
    let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn mark_missed(c: &Connection, id: i64, reason: &str, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE work_orders SET state = 'missed', missed_at = ?2, missed_reason = ?3 WHERE id = ?1",
        params![id, now, reason],
    )?;
    Ok(())
}

/// An open work order to escalate: (work order, ticket, escalation group).
pub type Escalation = (i64, Option<i64>, Option<i64>);

/// Open work orders past their plan's escalation time and not yet escalated.
pub fn to_escalate(c: &Connection, now: i64) -> DbResult<Vec<Escalation>> {
    let mut stmt = c.prepare_cached(
        "SELECT w.id, w.ticket_id, p.escalate_group_id FROM work_orders w
         JOIN maintenance_plans p ON p.id = w.plan_id
         WHERE w.state = 'open' AND w.escalated_at IS NULL AND p.escalate_after_secs IS NOT NULL
           AND w.due_at + p.escalate_after_secs <= ?1",
    )?;
    let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn mark_escalated(c: &Connection, id: i64, now: i64) -> DbResult<()> {
    c.execute(
        "UPDATE work_orders SET escalated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// On-time figures for one group of work orders.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Compliance {
    /// The plan's, site's or asset type's name.
    pub name: String,
    pub id: Option<i64>,
    /// Work orders that came due in the period (cancelled ones aside).
    pub due: i64,
    pub on_time: i64,
    pub late: i64,
    pub missed: i64,
    pub overdue: i64,
    /// on_time / due, or `None` when nothing came due.
    pub on_time_rate: Option<f64>,
}

/// How to group the compliance report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Plan,
    Site,
    AssetType,
}

/// On-time rates of work orders due in `[from, to)` (and by `now`), grouped.
pub fn compliance(
    c: &Connection,
    by: GroupBy,
    from: i64,
    to: i64,
    now: i64,
) -> DbResult<Vec<Compliance>> {
    // Each work order's own figures are summed per plan or per asset first, on the
    // `work_orders_due` index alone; only those groups are joined to plans, assets and
    // their places (not every work order).
    let (key, name, joins) = match by {
        GroupBy::Plan => (
            "w.plan_id",
            "p.title",
            "JOIN maintenance_plans p ON p.id = w.plan_id",
        ),
        GroupBy::AssetType => (
            "ty.id",
            "coalesce(ty.name, a.kind)",
            "JOIN assets a ON a.id = w.asset_id LEFT JOIN asset_types ty ON ty.key = a.kind",
        ),
        GroupBy::Site => (
            "coalesce(l3.id, l2.id, l1.id, l0.id)",
            "coalesce(l3.name, l2.name, l1.name, l0.name, '(no site)')",
            "JOIN assets a ON a.id = w.asset_id
             LEFT JOIN locations l0 ON l0.id = a.location_id
             LEFT JOIN locations l1 ON l1.id = l0.parent_id
             LEFT JOIN locations l2 ON l2.id = l1.parent_id
             LEFT JOIN locations l3 ON l3.id = l2.parent_id",
        ),
    };
    let per = match by {
        GroupBy::Plan => "plan_id",
        GroupBy::AssetType | GroupBy::Site => "asset_id",
    };
    let mut stmt = c.prepare(&format!(
        "WITH w AS (
            SELECT {per},
                count(*) AS due,
                sum(state = 'done' AND completed_at <= due_at + ?4) AS on_time,
                sum(state = 'done' AND completed_at > due_at + ?4) AS late,
                sum(state = 'missed') AS missed,
                sum(state = 'open') AS overdue
            FROM work_orders
            WHERE due_at >= ?1 AND due_at < ?2 AND due_at <= ?3 AND state <> 'cancelled'
            GROUP BY {per})
         SELECT {key}, {name},
            sum(w.due), sum(w.on_time), sum(w.late), sum(w.missed), sum(w.overdue)
         FROM w {joins}
         GROUP BY 1 ORDER BY 2"
    ))?;
    let rows = stmt.query_map(params![from, to, now, ON_TIME_GRACE_SECS], |r| {
        let due: i64 = r.get(2)?;
        let on_time: i64 = r.get(3)?;
        Ok(Compliance {
            id: r.get(0)?,
            name: r.get(1)?,
            due,
            on_time,
            late: r.get(4)?,
            missed: r.get(5)?,
            overdue: r.get(6)?,
            on_time_rate: (due > 0).then(|| on_time as f64 / due as f64),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
