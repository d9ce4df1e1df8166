//! `/api/v1/work-orders`: the work orders maintenance plans generate (each with a ticket
//! of type maintenance): list and read them, record the work (checklist, notes, time,
//! parts, cost), complete or cancel them. Staff only.

use super::Routes;
use super::asset_input::Money;
use super::auth::{CurrentUser, staff_only};
use super::tickets::actor_label;
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::{
    self,
    maintenance::Part,
    work_orders::{ChecklistItem, Filter, Progress, WorkOrder},
};
use crate::maintenance::{self as planner, CompleteRefused, Ctx};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rusqlite::Connection;
use serde::Deserialize;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/work-orders", get(list))
        .route("/api/v1/work-orders/{id}", get(one).patch(update))
        .route("/api/v1/work-orders/{id}/complete", post(complete))
        .route("/api/v1/work-orders/{id}/cancel", post(cancel))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/work-orders",
        "List work orders",
        Access::Staff,
    )
    .query::<ListQuery>()
    .ok::<Page<WorkOrder>>();
    api.op(
        "GET",
        "/api/v1/work-orders/{id}",
        "One work order",
        Access::Staff,
    )
    .ok::<WorkOrder>();
    api.op(
        "PATCH",
        "/api/v1/work-orders/{id}",
        "Record progress on a work order",
        Access::Staff,
    )
    .body::<ProgressInput>()
    .ok::<WorkOrder>();
    api.op(
        "POST",
        "/api/v1/work-orders/{id}/complete",
        "Complete a work order",
        Access::Staff,
    )
    .ok::<WorkOrder>();
    api.op(
        "POST",
        "/api/v1/work-orders/{id}/cancel",
        "Cancel a work order",
        Access::Staff,
    )
    .body::<CancelBody>()
    .ok::<WorkOrder>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

const STATES: &[&str] = &["open", "overdue", "done", "missed", "cancelled"];

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    plan_id: Option<i64>,
    asset_id: Option<i64>,
    /// Unix seconds.
    due_from: Option<i64>,
    due_to: Option<i64>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn parse_cursor(s: &str) -> Option<(i64, i64)> {
    let (due, id) = s.split_once('_')?;
    Some((due.parse().ok()?, id.parse().ok()?))
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<WorkOrder>>> {
    staff_only(&user)?;
    if let Some(s) = &q.state
        && !STATES.contains(&s.as_str())
    {
        return Err(bad(
            "invalid_state",
            format!("state is one of {}", STATES.join(", ")),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(bad("invalid_limit", "limit is 1 to 500"));
    }
    let after = match &q.cursor {
        None => None,
        Some(c) => Some(
            parse_cursor(c)
                .ok_or_else(|| bad("invalid_cursor", "use the next_cursor of the previous page"))?,
        ),
    };
    let filter = Filter {
        state: q.state,
        plan_id: q.plan_id,
        asset_id: q.asset_id,
        due_from: q.due_from,
        due_to: q.due_to,
        after,
    };
    let now = crate::clock::now();
    let items = state
        .db
        .read(move |c| db::work_orders::list(c, &filter, now, limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|w| format!("{}_{}", w.due_at, w.id)))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<WorkOrder>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    state
        .db
        .read(move |c| db::work_orders::get(c, id, now))
        .await?
        .map(Json)
        .ok_or_else(|| AppError::not_found("work order"))
}

/// The work done so far, as the API takes it.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgressInput {
    /// The work order's checklist with each item's state, items in the same order; or
    /// just the states, as booleans.
    pub checklist: Option<ChecklistInput>,
    pub notes: Option<String>,
    pub minutes_spent: Option<i64>,
    pub parts_used: Option<Vec<Part>>,
    pub cost: Option<Money>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum ChecklistInput {
    Items(Vec<ChecklistItem>),
    Done(Vec<bool>),
}

/// Checks progress against the work order. `Err` is the refusal.
pub fn check_progress(w: &WorkOrder, p: &ProgressInput) -> Result<Progress, AppError> {
    let checklist = match &p.checklist {
        None => None,
        Some(input) => {
            let done: Vec<bool> = match input {
                ChecklistInput::Done(d) => d.clone(),
                ChecklistInput::Items(items) => {
                    let same = items.len() == w.checklist.len()
                        && items
                            .iter()
                            .zip(&w.checklist)
                            .all(|(a, b)| a.item == b.item);
                    if !same {
                        return Err(bad(
                            "checklist_mismatch",
                            "send the work order's checklist items in the same order, with done set",
                        ));
                    }
                    items.iter().map(|i| i.done).collect()
                }
            };
            if done.len() != w.checklist.len() {
                return Err(bad(
                    "checklist_mismatch",
                    format!("the checklist has {} items", w.checklist.len()),
                ));
            }
            Some(
                w.checklist
                    .iter()
                    .zip(done)
                    .map(|(i, done)| ChecklistItem {
                        item: i.item.clone(),
                        done,
                    })
                    .collect(),
            )
        }
    };
    if p.notes.as_ref().is_some_and(|n| n.chars().count() > 20_000) {
        return Err(bad("invalid_notes", "notes are at most 20000 characters"));
    }
    if p.minutes_spent.is_some_and(|m| !(0..=100_000).contains(&m)) {
        return Err(bad("invalid_minutes_spent", "minutes_spent is 0 to 100000"));
    }
    if let Some(parts) = &p.parts_used
        && (parts.len() > 100
            || parts.iter().any(|x| {
                x.name.trim().is_empty()
                    || x.name.chars().count() > 200
                    || !(x.quantity.is_finite() && x.quantity > 0.0 && x.quantity <= 1e6)
            }))
    {
        return Err(bad(
            "invalid_parts_used",
            "at most 100 parts, each with a name and a quantity above 0",
        ));
    }
    let cost_cents = match &p.cost {
        None => None,
        Some(m) => Some(m.cents().map_err(|e| bad("invalid_cost", e))?),
    };
    Ok(Progress {
        checklist,
        notes: p.notes.clone(),
        minutes_spent: p.minutes_spent,
        parts_used: p.parts_used.clone(),
        cost_cents,
    })
}

/// Records progress on an open work order inside a transaction.
pub fn record(
    c: &Connection,
    id: i64,
    p: &ProgressInput,
    now: i64,
) -> db::DbResult<Result<WorkOrder, AppError>> {
    let Some(w) = db::work_orders::get(c, id, now)? else {
        return Ok(Err(AppError::not_found("work order")));
    };
    if w.state != "open" {
        return Ok(Err(not_open(&w.state)));
    }
    let progress = match check_progress(&w, p) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    db::work_orders::record_progress(c, id, &progress)?;
    Ok(db::work_orders::get(c, id, now)?.ok_or_else(AppError::internal))
}

fn not_open(state: &str) -> AppError {
    AppError::new(
        StatusCode::CONFLICT,
        "work_order_not_open",
        format!("the work order is {state}; only an open one changes"),
    )
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ProgressInput>,
) -> ApiResult<Json<WorkOrder>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let w = state
        .db
        .write(move |tx| record(tx, id, &body, now))
        .await??;
    Ok(Json(w))
}

/// Completes a work order as `user`, recording `body` first. The caller checked the role.
pub async fn complete_work_order(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: ProgressInput,
) -> ApiResult<WorkOrder> {
    let now = crate::clock::now();
    let (user_id, actor) = (user.user.id, actor_label(user));
    let st = state.clone();
    state
        .db
        .write(move |tx| {
            if let Err(e) = record(tx, id, &body, now)? {
                return Ok(Err(e));
            }
            match planner::complete(tx, &Ctx::of(&st), id, user_id, &actor, now)? {
                Ok(()) => Ok(db::work_orders::get(tx, id, now)?.ok_or_else(AppError::internal)),
                Err(CompleteRefused::NotFound) => Ok(Err(AppError::not_found("work order"))),
                Err(CompleteRefused::NotOpen(s)) => Ok(Err(not_open(&s))),
                Err(CompleteRefused::ChecklistIncomplete(left)) => Ok(Err(AppError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "checklist_incomplete",
                    format!("tick every checklist item first; left: {}", left.join("; ")),
                ))),
            }
        })
        .await?
}

async fn complete(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<WorkOrder>> {
    staff_only(&user)?;
    // The body is optional: progress to record along with the completion.
    let body: ProgressInput = if body.iter().all(u8::is_ascii_whitespace) {
        ProgressInput::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| bad("invalid_body", format!("the body is not valid JSON: {e}")))?
    };
    Ok(Json(complete_work_order(&state, &user, id, body).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    reason: String,
}

async fn cancel(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CancelBody>,
) -> ApiResult<Json<WorkOrder>> {
    staff_only(&user)?;
    let reason = body.reason.trim().to_owned();
    if !(1..=1000).contains(&reason.chars().count()) {
        return Err(bad(
            "invalid_reason",
            "say why the work order is cancelled (1 to 1000 characters)",
        ));
    }
    let now = crate::clock::now();
    let (user_id, actor) = (user.user.id, actor_label(&user));
    let st = state.clone();
    let w = state
        .db
        .write(move |tx| {
            let Some(w) = db::work_orders::get(tx, id, now)? else {
                return Ok(Err(AppError::not_found("work order")));
            };
            if !planner::cancel(tx, &w, &reason, now)? {
                return Ok(Err(not_open(&w.state)));
            }
            if let Some(t) = w.ticket_id {
                planner::finish_ticket(
                    tx,
                    &Ctx::of(&st),
                    t,
                    "closed",
                    &format!("Work order cancelled: {reason}"),
                    false,
                    Some(user_id),
                    &actor,
                    now,
                )?;
            }
            Ok(db::work_orders::get(tx, id, now)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(w))
}
