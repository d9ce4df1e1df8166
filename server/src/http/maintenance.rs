//! `/api/v1/maintenance/...`: plans (what to do, when, on which assets), a preview of
//! their next due dates, each asset's schedule, and a pass of the evaluator on demand. Staff read and write plans; admins delete them and run passes.
//! Work orders are in `http::work_orders`; calendar and compliance in
//! `http::maintenance_reports`.

use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::maintenance_input::bad;
pub use super::maintenance_input::{PlanInput, check_plan};
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::{self, maintenance::Plan};
use crate::domain::maintenance::{Cause, Due, dst_note};
use crate::domain::roles::Role;
use crate::maintenance::{self as planner, Ctx};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/maintenance/plans", get(list).post(create))
        .route(
            "/api/v1/maintenance/plans/{id}",
            get(one).patch(update).delete(remove),
        )
        .route("/api/v1/maintenance/plans/{id}/preview", get(preview))
        .route("/api/v1/maintenance/plans/{id}/assets", get(assets))
        .route(
            "/api/v1/maintenance/plans/{id}/work-orders",
            post(manual_work_order),
        )
        .route("/api/v1/maintenance/evaluate", post(evaluate))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/maintenance/plans",
        "List maintenance plans",
        Access::Staff,
    )
    .query::<ListQuery>()
    .ok::<Page<Plan>>();
    api.op(
        "POST",
        "/api/v1/maintenance/plans",
        "Create a maintenance plan",
        Access::Staff,
    )
    .body::<PlanInput>()
    .created::<Plan>();
    api.op(
        "GET",
        "/api/v1/maintenance/plans/{id}",
        "One maintenance plan",
        Access::Staff,
    )
    .ok::<Plan>();
    api.op(
        "PATCH",
        "/api/v1/maintenance/plans/{id}",
        "Change a maintenance plan (fields of PlanInput)",
        Access::Staff,
    )
    .body::<serde_json::Map<String, serde_json::Value>>()
    .ok::<Plan>();
    api.op(
        "DELETE",
        "/api/v1/maintenance/plans/{id}",
        "Delete a maintenance plan",
        Access::Admin,
    )
    .ok::<Removed>();
    api.op(
        "GET",
        "/api/v1/maintenance/plans/{id}/preview",
        "When a plan will next fall due",
        Access::Staff,
    )
    .query::<PreviewQuery>()
    .ok::<Preview>();
    api.op(
        "GET",
        "/api/v1/maintenance/plans/{id}/assets",
        "A plan's assets and their schedules",
        Access::Staff,
    )
    .ok::<Page<db::maintenance::AssetSchedule>>();
    api.op(
        "POST",
        "/api/v1/maintenance/plans/{id}/work-orders",
        "Open a work order from a plan now",
        Access::Staff,
    )
    .body::<ManualOrder>()
    .created::<db::work_orders::WorkOrder>();
    api.op(
        "POST",
        "/api/v1/maintenance/evaluate",
        "Run the maintenance planner now",
        Access::Admin,
    )
    .ok::<planner::Pass>();
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    include_archived: bool,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<Plan>>> {
    staff_only(&user)?;
    let items = state
        .db
        .read(move |c| db::maintenance::list(c, q.include_archived, db::maintenance::MAX_PLANS))
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn load(state: &AppState, id: i64) -> ApiResult<Plan> {
    state
        .db
        .read(move |c| db::maintenance::get(c, id))
        .await?
        .ok_or_else(|| AppError::not_found("maintenance plan"))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Plan>> {
    staff_only(&user)?;
    Ok(Json(load(&state, id).await?))
}

/// Writes a plan (new when `id` is `None`), then brings its schedules up to date. The
/// caller checked the role. Returns the plan as stored.
pub async fn save_plan(state: &AppState, id: Option<i64>, input: PlanInput) -> ApiResult<Plan> {
    let now = crate::clock::now();
    let saved = state
        .db
        .write(move |tx| {
            let fields = match check_plan(tx, &input)? {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            let id = match id {
                Some(id) => {
                    if db::maintenance::get(tx, id)?.is_none() {
                        return Ok(Err(AppError::not_found("maintenance plan")));
                    }
                    db::maintenance::update(tx, id, &fields, now)?;
                    id
                }
                None => db::maintenance::insert(tx, &fields, now)?,
            };
            Ok(Ok(id))
        })
        .await??;
    // New schedules get their next due dates now, so the plan's page shows them at once.
    if let Err(e) = planner::evaluate(state, now).await {
        tracing::error!(error = %e, "maintenance evaluation after a plan change failed");
    }
    load(state, saved).await
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PlanInput>,
) -> ApiResult<(StatusCode, Json<Plan>)> {
    staff_only(&user)?;
    let plan = save_plan(&state, None, input).await?;
    Ok((StatusCode::CREATED, Json(plan)))
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<Plan>> {
    staff_only(&user)?;
    let current = load(&state, id).await?;
    let mut merged = match serde_json::to_value(PlanInput::of(&current)) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => return Err(AppError::internal()),
    };
    merged.extend(patch);
    let input: PlanInput = serde_json::from_value(serde_json::Value::Object(merged))
        .map_err(|e| bad("invalid_body", format!("the plan does not read right: {e}")))?;
    Ok(Json(save_plan(&state, Some(id), input).await?))
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct Removed {
    /// `deleted`, or `archived` when the plan has work orders (their evidence stays).
    outcome: &'static str,
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Removed>> {
    user.require(Role::Admin)?;
    let now = crate::clock::now();
    let outcome = state
        .db
        .write(move |tx| {
            let Some(plan) = db::maintenance::get(tx, id)? else {
                return Ok(None);
            };
            if db::maintenance::has_work_orders(tx, id)? {
                let mut fields = match check_plan(tx, &PlanInput::of(&plan))? {
                    Ok(f) => f,
                    Err(_) => return Ok(Some("archived")),
                };
                fields.active = false;
                db::maintenance::update(tx, id, &fields, now)?;
                db::maintenance::sync_schedules(tx, now)?;
                Ok(Some("archived"))
            } else {
                db::maintenance::delete(tx, id)?;
                Ok(Some("deleted"))
            }
        })
        .await?;
    outcome
        .map(|outcome| Json(Removed { outcome }))
        .ok_or_else(|| AppError::not_found("maintenance plan"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    n: Option<usize>,
    /// The zone to preview in (default: the plan's, else the server's).
    timezone: Option<String>,
}

/// One previewed due date.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct PreviewItem {
    pub due_at: i64,
    /// On the preview zone's clock, e.g. "2027-03-28 03:30 CEST".
    pub local: String,
    pub cause: &'static str,
    /// Set when the clocks change that day.
    pub dst_note: Option<String>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Preview {
    pub timezone: String,
    pub items: Vec<PreviewItem>,
}

/// The next `n` due dates of `plan` for an asset starting now, on `tz`'s clock.
pub fn preview_of(plan: &Plan, tz: chrono_tz::Tz, now: i64, n: usize) -> Result<Preview, String> {
    let compiled = plan.trigger.compile()?;
    let items = compiled
        .preview(tz, now, n)
        .into_iter()
        .map(|d: Due| PreviewItem {
            due_at: d.at,
            local: chrono::DateTime::from_timestamp(d.at, 0)
                .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
                .unwrap_or_default(),
            cause: d.cause.as_str(),
            dst_note: dst_note(tz, d.at),
        })
        .collect();
    Ok(Preview {
        timezone: tz.name().to_owned(),
        items,
    })
}

async fn preview(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> ApiResult<Json<Preview>> {
    staff_only(&user)?;
    let n = q.n.unwrap_or(10);
    if !(1..=500).contains(&n) {
        return Err(bad("invalid_n", "n is 1 to 500"));
    }
    let plan = load(&state, id).await?;
    let zone = q.timezone.or_else(|| plan.timezone.clone());
    let tz = match zone {
        Some(z) => z.parse::<chrono_tz::Tz>().map_err(|_| {
            bad(
                "invalid_timezone",
                format!("{z:?} is not an IANA time zone like Europe/Berlin"),
            )
        })?,
        None => state.desk.calendar.tz(),
    };
    preview_of(&plan, tz, crate::clock::now(), n)
        .map(Json)
        .map_err(|e| bad("invalid_trigger", e))
}

async fn assets(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Page<db::maintenance::AssetSchedule>>> {
    staff_only(&user)?;
    load(&state, id).await?;
    let tz = state.desk.calendar.tz().name().to_owned();
    let items = state
        .db
        .read(move |c| db::maintenance::plan_assets(c, id, &tz, 10_000))
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ManualOrder {
    asset_id: i64,
}

async fn manual_work_order(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ManualOrder>,
) -> ApiResult<(StatusCode, Json<db::work_orders::WorkOrder>)> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let st = state.clone();
    let made = state
        .db
        .write(move |tx| {
            let Some(plan) = planner::load_plan(tx, id)? else {
                return Ok(Err(AppError::not_found("active maintenance plan")));
            };
            if db::assets::get(tx, body.asset_id)?.is_none() {
                return Ok(Err(bad("invalid_asset", "no such asset")));
            }
            let due = Due {
                at: now,
                cause: Cause::Manual,
            };
            match planner::generate(
                tx,
                &Ctx::of(&st),
                &plan,
                body.asset_id,
                due,
                None,
                None,
                now,
            )? {
                Some(w) => Ok(Ok(db::work_orders::get(tx, w, now)?)),
                None => Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "work_order_exists",
                    "a work order for this plan and asset is already due now",
                ))),
            }
        })
        .await??;
    made.map(|w| (StatusCode::CREATED, Json(w)))
        .ok_or_else(AppError::internal)
}

async fn evaluate(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<planner::Pass>> {
    user.require(Role::Admin)?;
    Ok(Json(planner::evaluate(&state, crate::clock::now()).await?))
}
