//! `/api/v1/assets/{id}/meters`: an asset's meter readings (pages printed, running
//! hours), entered by staff; a reading that crosses a plan's threshold generates its work
//! order. Agents report `uptime_hours` with every check-in (`crate::maintenance`).

use super::ApiPath;
use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db;
use crate::domain::maintenance::Trigger;
use crate::maintenance::{self as planner, Ctx};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new().route(
        "/api/v1/assets/{id}/meters",
        get(readings).post(add_reading),
    )
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/assets/{id}/meters",
        "An asset's meter readings",
        Access::Staff,
    )
    .ok::<Page<db::maintenance::Reading>>();
    api.op(
        "POST",
        "/api/v1/assets/{id}/meters",
        "Record a meter reading",
        Access::Staff,
    )
    .body::<NewReading>()
    .created::<ReadingAdded>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewReading {
    meter: String,
    value: f64,
    /// Unix seconds; default now. Not in the future.
    read_at: Option<i64>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ReadingAdded {
    reading: db::maintenance::Reading,
    /// Work orders this reading made due.
    work_order_ids: Vec<i64>,
}

async fn add_reading(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(asset_id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewReading>,
) -> ApiResult<(StatusCode, Json<ReadingAdded>)> {
    staff_only(&user)?;
    let meter = body.meter.trim().to_owned();
    let probe = Trigger {
        meter: Some(crate::domain::maintenance::MeterRule {
            meter: meter.clone(),
            every: 1.0,
        }),
        ..Default::default()
    };
    if let Err(e) = probe.compile() {
        return Err(bad("invalid_meter", e));
    }
    if !body.value.is_finite() || !(0.0..=1e15).contains(&body.value) {
        return Err(bad(
            "invalid_value",
            "a reading is a number from 0 to 10^15",
        ));
    }
    let now = crate::clock::now();
    let read_at = body.read_at.unwrap_or(now);
    if read_at > now + 300 || read_at < 0 {
        return Err(bad("invalid_read_at", "a reading cannot be in the future"));
    }
    let source = format!("user:{}", user.user.id);
    let st = state.clone();
    let added = state
        .db
        .write(move |tx| {
            if db::assets::get(tx, asset_id)?.is_none() {
                return Ok(None);
            }
            let (id, made) = planner::record_reading(
                tx,
                &Ctx::of(&st),
                asset_id,
                &meter,
                body.value,
                read_at,
                &source,
                now,
            )?;
            let reading = db::maintenance::readings(tx, asset_id, 50)?
                .into_iter()
                .find(|r| r.id == id);
            Ok(reading.map(|reading| ReadingAdded {
                reading,
                work_order_ids: made,
            }))
        })
        .await?;
    added
        .map(|a| (StatusCode::CREATED, Json(a)))
        .ok_or_else(|| AppError::not_found("asset"))
}

async fn readings(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(asset_id): ApiPath<i64>,
) -> ApiResult<Json<Page<db::maintenance::Reading>>> {
    staff_only(&user)?;
    let items = state
        .db
        .read(move |c| {
            if db::assets::get(c, asset_id)?.is_none() {
                return Ok(None);
            }
            db::maintenance::readings(c, asset_id, 500).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::not_found("asset"))?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}
