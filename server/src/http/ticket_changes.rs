//! Changing tickets: the staff patch (status through the workflow, assignment, priority,
//! fields, links), and bulk actions that apply it ticket by ticket.

use super::ApiPath;
use super::Routes;
use super::auth::CurrentUser;
use super::tickets::{
    TicketView, actor_label, actor_of, category_id, check_assets, check_tags, check_text, level,
    view,
};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db;
use crate::domain::roles::Role;
use crate::domain::tickets::{Level, Status};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{patch, post};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/tickets/bulk", post(bulk))
        .route("/api/v1/tickets/{id}", patch(update))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        "/api/v1/tickets/bulk",
        "Change many tickets at once",
        Access::Staff,
    )
    .body::<BulkBody>()
    .ok::<BulkResult>();
    api.op(
        "PATCH",
        "/api/v1/tickets/{id}",
        "Change a ticket",
        Access::Staff,
    )
    .body::<Patch>()
    .ok::<TicketView>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub status: Option<String>,
    /// A user id; `0` unassigns.
    pub assignee_id: Option<i64>,
    /// A group id; `0` clears.
    pub group_id: Option<i64>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub asset_ids: Option<Vec<i64>>,
}

/// A work order's ticket resolved from the queue completes the work order (refused while
/// its checklist is not done). (Staff cannot close an unresolved ticket; cancelling a work
/// order is `POST /api/v1/work-orders/{id}/cancel`, which closes its ticket.)
fn settle_work_order(
    c: &Connection,
    state: &AppState,
    ticket_id: i64,
    to: Status,
    user: &CurrentUser,
    now: i64,
) -> db::DbResult<Result<(), AppError>> {
    use crate::maintenance::{CompleteRefused, Ctx};
    let Some(w) = db::work_orders::by_ticket(c, ticket_id, now)? else {
        return Ok(Ok(()));
    };
    if w.state != "open" {
        return Ok(Ok(()));
    }
    let ctx = Ctx::of(state);
    match to {
        Status::Resolved => {
            match crate::maintenance::complete(
                c,
                &ctx,
                w.id,
                user.user.id,
                &actor_label(user),
                now,
            )? {
                Err(CompleteRefused::ChecklistIncomplete(left)) => Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "checklist_incomplete",
                    format!(
                        "this ticket is work order {}: tick its checklist first (left: {})",
                        w.id,
                        left.join("; ")
                    ),
                ))),
                _ => Ok(Ok(())),
            }
        }
        _ => Ok(Ok(())),
    }
}

/// Applies a staff patch inside a transaction; `Err` is the refusal to send back.
pub fn apply_patch(
    c: &Connection,
    state: &AppState,
    id: i64,
    p: &Patch,
    user: &CurrentUser,
    now: i64,
) -> db::DbResult<Result<(), AppError>> {
    use rusqlite::types::Value;
    let Some(t) = db::tickets::get(c, id)? else {
        return Ok(Err(AppError::not_found("ticket")));
    };
    let actor = actor_label(user);
    if let Some(s) = &p.status {
        let to: Status = match s.parse() {
            Ok(s) => s,
            Err(e) => return Ok(Err(bad("invalid_status", e))),
        };
        let from: Status = t.summary.status.parse().unwrap_or(Status::Open);
        if from != to {
            let since = db::tickets::status_history(c, id)?
                .last()
                .map(|(at, _)| *at)
                .unwrap_or(t.summary.created_at);
            if let Err(e) = crate::domain::tickets::transition(
                from,
                to,
                actor_of(user),
                chrono::TimeDelta::seconds(now - since),
                &state.desk.workflow,
            ) {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "invalid_transition",
                    e.to_string(),
                )));
            }
            db::tickets::set_field(
                c,
                id,
                "status",
                Value::Text(to.as_str().into()),
                Some(to.as_str()),
                &actor,
                now,
            )?;
            let stamp = match to {
                Status::Resolved => Some("resolved_at"),
                Status::Closed => Some("closed_at"),
                _ => None,
            };
            if let Some(col) = stamp {
                c.execute(
                    &format!("UPDATE tickets SET {col} = ?2 WHERE id = ?1"),
                    rusqlite::params![id, now],
                )?;
            }
            if let Err(e) = settle_work_order(c, state, id, to, user, now)? {
                return Ok(Err(e));
            }
        }
    }
    if let Some(a) = p.assignee_id {
        let value = if a == 0 {
            Value::Null
        } else {
            match db::users::by_id(c, a)? {
                Some(u) if u.role.is_staff() => Value::Integer(a),
                _ => {
                    return Ok(Err(bad(
                        "invalid_assignee",
                        "tickets are assigned to technicians or admins",
                    )));
                }
            }
        };
        db::tickets::set_field(c, id, "assignee_id", value, None, &actor, now)?;
    }
    if let Some(g) = p.group_id {
        let value = if g == 0 {
            Value::Null
        } else {
            Value::Integer(g)
        };
        if g != 0
            && db::optional(c.query_row("SELECT 1 FROM groups WHERE id = ?1", [g], |_| Ok(())))?
                .is_none()
        {
            return Ok(Err(bad("invalid_group", "no such group")));
        }
        db::tickets::set_field(c, id, "group_id", value, None, &actor, now)?;
        if g != 0 && p.assignee_id.is_none() {
            db::groups::auto_assign(c, id, &actor, now)?;
        }
    }
    if p.impact.is_some() || p.urgency.is_some() {
        let cur = |n: i64| Level::from_value(n as u8).unwrap_or(Level::Medium);
        let impact = match &p.impact {
            Some(_) => match level(&p.impact, "impact") {
                Ok(l) => l,
                Err(e) => return Ok(Err(e)),
            },
            None => cur(t.impact),
        };
        let urgency = match &p.urgency {
            Some(_) => match level(&p.urgency, "urgency") {
                Ok(l) => l,
                Err(e) => return Ok(Err(e)),
            },
            None => cur(t.urgency),
        };
        let priority = state.desk.matrix.priority(impact, urgency);
        db::tickets::set_field(
            c,
            id,
            "impact",
            Value::Integer(i64::from(impact.value())),
            Some(impact.as_str()),
            &actor,
            now,
        )?;
        db::tickets::set_field(
            c,
            id,
            "urgency",
            Value::Integer(i64::from(urgency.value())),
            Some(urgency.as_str()),
            &actor,
            now,
        )?;
        db::tickets::set_field(
            c,
            id,
            "priority",
            Value::Integer(i64::from(priority.number())),
            Some(priority.as_str()),
            &actor,
            now,
        )?;
    }
    if let Some(title) = &p.title {
        if let Err(e) = check_text(Some(title), None) {
            return Ok(Err(e));
        }
        db::tickets::set_field(
            c,
            id,
            "title",
            Value::Text(title.trim().into()),
            Some(title.trim()),
            &actor,
            now,
        )?;
    }
    if let Some(cat) = &p.category {
        let cid = match category_id(c, Some(cat), true, now)? {
            Ok(v) => v,
            Err(m) => return Ok(Err(bad("invalid_category", m))),
        };
        db::tickets::set_field(
            c,
            id,
            "category_id",
            cid.map_or(Value::Null, Value::Integer),
            Some(cat),
            &actor,
            now,
        )?;
    }
    if let Some(tags) = &p.tags {
        let tags = match check_tags(tags) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        c.execute("DELETE FROM ticket_tags WHERE ticket_id = ?1", [id])?;
        for tag in &tags {
            c.execute(
                "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)",
                rusqlite::params![id, tag],
            )?;
        }
        db::tickets::history(
            c,
            id,
            now,
            &actor,
            "tags",
            Some(&t.tags.join(", ")),
            Some(&tags.join(", ")),
        )?;
    }
    if let Some(assets) = &p.asset_ids {
        if let Err(m) = check_assets(c, assets, user)? {
            return Ok(Err(bad("invalid_assets", m)));
        }
        c.execute("DELETE FROM ticket_assets WHERE ticket_id = ?1", [id])?;
        for a in assets {
            c.execute(
                "INSERT OR IGNORE INTO ticket_assets (ticket_id, asset_id) VALUES (?1, ?2)",
                rusqlite::params![id, a],
            )?;
        }
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        db::tickets::history(
            c,
            id,
            now,
            &actor,
            "assets",
            Some(&list(&t.asset_ids)),
            Some(&list(assets)),
        )?;
    }
    crate::service_desk::refresh_sla(c, &state.desk, id, now)?;
    crate::events::ticket_changed(c, &t, &actor, now)?;
    Ok(Ok(()))
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<Patch>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(update_ticket(&state, &user, id, p).await?))
}

/// Applies a staff patch to one ticket.
pub async fn update_ticket(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    p: Patch,
) -> ApiResult<TicketView> {
    user.require(Role::Technician)?;
    let now = crate::clock::now();
    let (st, user) = (state.clone(), user.clone());
    let out = state
        .db
        .write(move |tx| {
            // A refusal leaves the ticket untouched, even when earlier fields were applied.
            tx.execute_batch("SAVEPOINT patch")?;
            if let Err(e) = apply_patch(tx, &st, id, &p, &user, now)? {
                tx.execute_batch("ROLLBACK TO patch; RELEASE patch")?;
                return Ok(Err(e));
            }
            tx.execute_batch("RELEASE patch")?;
            match db::tickets::get(tx, id)? {
                Some(t) => Ok(Ok(view(tx, &st, t, &user, now)?)),
                None => Ok(Err(AppError::not_found("ticket"))),
            }
        })
        .await??;
    Ok(out)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    ids: Vec<i64>,
    status: Option<String>,
    assignee_id: Option<i64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct BulkResult {
    pub updated: Vec<i64>,
    /// Tickets left unchanged, with why.
    pub refused: Vec<serde_json::Value>,
}

async fn bulk(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<BulkBody>,
) -> ApiResult<Json<BulkResult>> {
    bulk_update(&state, user, b.ids, b.status, b.assignee_id)
        .await
        .map(Json)
}

/// Sets the status and/or assignee of up to 500 tickets, each alone: a ticket that
/// refuses the change is left as it was and listed with why. Staff only (the API's
/// bulk endpoint and the queue's "with selected" form).
pub async fn bulk_update(
    state: &AppState,
    user: CurrentUser,
    ids: Vec<i64>,
    status: Option<String>,
    assignee_id: Option<i64>,
) -> ApiResult<BulkResult> {
    user.require(Role::Technician)?;
    if ids.is_empty() || ids.len() > 500 {
        return Err(bad("invalid_ids", "between 1 and 500 ticket ids"));
    }
    let now = crate::clock::now();
    let st = state.clone();
    let result = state
        .db
        .write(move |tx| {
            let patch = Patch {
                status,
                assignee_id,
                ..Default::default()
            };
            let mut out = BulkResult {
                updated: Vec::new(),
                refused: Vec::new(),
            };
            for id in ids {
                // Each ticket succeeds or fails alone; a refusal leaves that ticket untouched.
                tx.execute_batch("SAVEPOINT one")?;
                match apply_patch(tx, &st, id, &patch, &user, now)? {
                    Ok(()) => {
                        tx.execute_batch("RELEASE one")?;
                        out.updated.push(id);
                    }
                    Err(e) => {
                        tx.execute_batch("ROLLBACK TO one; RELEASE one")?;
                        out.refused.push(
                            serde_json::json!({"id": id, "code": e.code, "message": e.message}),
                        );
                    }
                }
            }
            Ok(out)
        })
        .await?;
    Ok(result)
}
