//! A work order's life after it is generated: completion (with its evidence, and the
//! schedule advanced), missed occurrences, escalation of overdue work, and the ticket
//! that follows each of these.

use super::{ACTOR, Ctx, load_plan, local_text, store_next};
use crate::db::{self, DbResult};
use crate::domain::maintenance::meter_crossing;
use rusqlite::Connection;

/// Moves a work order's ticket to `status` (resolved or closed) with a note.
#[allow(clippy::too_many_arguments)]
pub fn finish_ticket(
    c: &Connection,
    ctx: &Ctx<'_>,
    ticket_id: i64,
    status: &str,
    note: &str,
    internal: bool,
    author: Option<i64>,
    actor: &str,
    now: i64,
) -> DbResult<()> {
    let Some(before) = db::tickets::get(c, ticket_id)? else {
        return Ok(());
    };
    db::comments::insert(c, ticket_id, author, internal, note, now)?;
    let done = ["resolved", "closed"].contains(&before.summary.status.as_str());
    if !done || (status == "closed" && before.summary.status != "closed") {
        db::tickets::set_field(
            c,
            ticket_id,
            "status",
            rusqlite::types::Value::Text(status.into()),
            Some(status),
            actor,
            now,
        )?;
        let col = if status == "closed" {
            "closed_at"
        } else {
            "resolved_at"
        };
        c.execute(
            &format!("UPDATE tickets SET {col} = ?2 WHERE id = ?1"),
            rusqlite::params![ticket_id, now],
        )?;
    }
    crate::service_desk::refresh_sla(c, ctx.desk, ticket_id, now)?;
    crate::events::ticket_changed(c, &before, actor, now)?;
    Ok(())
}

/// Records open work orders overtaken by a newer occurrence as missed, closing their
/// tickets. Returns how many.
pub fn sweep_missed(c: &Connection, ctx: &Ctx<'_>, now: i64) -> DbResult<usize> {
    let rows = db::work_orders::superseded(c, now)?;
    for (id, ticket, next_due) in &rows {
        let Some(w) = db::work_orders::get(c, *id, now)? else {
            continue;
        };
        let reason = format!(
            "Missed: not done before the next occurrence came due ({}).",
            local_text(ctx.default_tz, *next_due)
        );
        db::work_orders::mark_missed(c, *id, &reason, now)?;
        if let Some(t) = ticket {
            finish_ticket(c, ctx, *t, "closed", &reason, true, None, ACTOR, now)?;
        }
        crate::events::emit(
            c,
            crate::events::MAINTENANCE_MISSED,
            *ticket,
            ACTOR,
            serde_json::json!({
                "work_order_id": id, "plan_id": w.plan_id, "asset_id": w.asset_id,
                "due_at": w.due_at, "reason": reason, "late_reason": w.late_reason,
            }),
            now,
        )?;
    }
    Ok(rows.len())
}

/// Escalates open work orders past their plan's escalation time: the escalation group
/// takes the ticket, its priority goes up one step, and `maintenance.overdue` is recorded.
pub fn escalate_overdue(c: &Connection, ctx: &Ctx<'_>, now: i64) -> DbResult<usize> {
    let rows = db::work_orders::to_escalate(c, now)?;
    for (id, ticket, group) in &rows {
        db::work_orders::mark_escalated(c, *id, now)?;
        let Some(w) = db::work_orders::get(c, *id, now)? else {
            continue;
        };
        if let Some(t) = ticket
            && let Some(before) = db::tickets::get(c, *t)?
        {
            if let Some(g) = group {
                db::tickets::set_field(c, *t, "group_id", (*g).into(), None, ACTOR, now)?;
                db::tickets::set_field(
                    c,
                    *t,
                    "assignee_id",
                    rusqlite::types::Value::Null,
                    None,
                    ACTOR,
                    now,
                )?;
                db::groups::auto_assign(c, *t, ACTOR, now)?;
            }
            let raised = (before.summary.priority - 1).max(1);
            db::tickets::set_field(
                c,
                *t,
                "priority",
                raised.into(),
                Some(&raised.to_string()),
                ACTOR,
                now,
            )?;
            db::comments::insert(
                c,
                *t,
                None,
                true,
                &format!(
                    "Overdue since {}: escalated.",
                    local_text(ctx.default_tz, w.due_at)
                ),
                now,
            )?;
            crate::service_desk::refresh_sla(c, ctx.desk, *t, now)?;
            crate::events::ticket_changed(c, &before, ACTOR, now)?;
        }
        crate::events::emit(
            c,
            crate::events::MAINTENANCE_OVERDUE,
            *ticket,
            ACTOR,
            serde_json::json!({
                "work_order_id": id, "plan_id": w.plan_id, "asset_id": w.asset_id,
                "due_at": w.due_at, "escalated_to_group_id": group,
            }),
            now,
        )?;
    }
    Ok(rows.len())
}

/// Why a work order could not be completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompleteRefused {
    NotFound,
    NotOpen(String),
    ChecklistIncomplete(Vec<String>),
}

/// Completes an open work order as `user_id`: the evidence is kept, the ticket resolved,
/// and the asset's schedule advanced (a floating interval counts from now; a meter from
/// its latest reading).
pub fn complete(
    c: &Connection,
    ctx: &Ctx<'_>,
    id: i64,
    user_id: i64,
    actor: &str,
    now: i64,
) -> DbResult<Result<(), CompleteRefused>> {
    let Some(w) = db::work_orders::get(c, id, now)? else {
        return Ok(Err(CompleteRefused::NotFound));
    };
    if w.state != "open" {
        return Ok(Err(CompleteRefused::NotOpen(w.state)));
    }
    let left: Vec<String> = w
        .checklist
        .iter()
        .filter(|i| !i.done)
        .map(|i| i.item.clone())
        .collect();
    if !left.is_empty() {
        return Ok(Err(CompleteRefused::ChecklistIncomplete(left)));
    }
    db::work_orders::complete(c, id, user_id, now)?;
    if let Some(t) = w.ticket_id {
        let note = if w.notes.is_empty() {
            "Work order completed.".to_owned()
        } else {
            format!("Work order completed.\n\n{}", w.notes)
        };
        finish_ticket(
            c,
            ctx,
            t,
            "resolved",
            &note,
            false,
            Some(user_id),
            actor,
            now,
        )?;
    }
    if let (Some(plan), Some(s)) = (
        load_plan(c, w.plan_id)?,
        db::maintenance::schedule(c, w.plan_id, w.asset_id)?,
    ) {
        let mut state = s.state;
        state.last_done_at = Some(now);
        if state.cursor_at.is_none_or(|cur| w.due_at >= cur) {
            state.waiting = false;
        }
        let meter_next = match &plan.compiled.meter {
            Some(rule) => db::maintenance::latest_reading(c, w.asset_id, &rule.meter)?
                .map(|r| meter_crossing(rule, None, r.value).1)
                .or(s.meter_next),
            None => None,
        };
        let next = plan
            .compiled
            .next_due(ctx.tz(s.timezone.as_deref()), &state);
        store_next(c, &plan, &s, &state, next, meter_next)?;
    }
    Ok(Ok(()))
}

/// Cancels an open work order with a reason; a cancelled occurrence no longer holds a
/// floating schedule back. Returns false when it was not open.
pub fn cancel(
    c: &Connection,
    w: &db::work_orders::WorkOrder,
    reason: &str,
    now: i64,
) -> DbResult<bool> {
    if !db::work_orders::cancel(c, w.id, reason, now)? {
        return Ok(false);
    }
    c.execute(
        "UPDATE maintenance_schedules SET waiting = 0, stale = 1
         WHERE plan_id = ?1 AND asset_id = ?2 AND cursor_at = ?3",
        rusqlite::params![w.plan_id, w.asset_id, w.due_at],
    )?;
    Ok(true)
}
