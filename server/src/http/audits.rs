//! Physical audits: `POST /api/v1/audits` starts one in a room, each scanned code (an
//! asset tag or the QR label's URL) is `POST`ed to `/scans`, `GET` gives expected / found
//! / missing / misplaced, `/finish` stamps the audit dates (and may move misplaced assets
//! here).

use super::ApiPath;
use super::Routes;
use super::asset_records::actor;
use super::auth::{CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, audits::Audit, audits::AuditReport};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use rusqlite::Connection;
use rusqlite::types::Value;
use serde::{Deserialize, Serialize};

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/audits", post(start))
        .route("/api/v1/audits/{id}", get(one))
        .route("/api/v1/audits/{id}/scans", post(scan))
        .route("/api/v1/audits/{id}/finish", post(finish))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        "/api/v1/audits",
        "Start a physical inventory audit",
        Access::Staff,
    )
    .body::<StartBody>()
    .created::<AuditView>();
    api.op(
        "GET",
        "/api/v1/audits/{id}",
        "One audit and its progress",
        Access::Staff,
    )
    .ok::<AuditView>();
    api.op(
        "POST",
        "/api/v1/audits/{id}/scans",
        "Record a scanned asset tag",
        Access::Staff,
    )
    .body::<ScanBody>()
    .ok::<ScanResult>();
    api.op(
        "POST",
        "/api/v1/audits/{id}/finish",
        "Finish an audit",
        Access::Staff,
    )
    .body::<FinishBody>()
    .ok::<AuditView>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// The asset a scanned code names: a QR label URL (`.../p/<token>`), a bare token, or an
/// asset tag.
pub fn resolve(c: &Connection, code: &str) -> db::DbResult<Option<i64>> {
    if let Some(i) = code.rfind("/p/") {
        let token = code[i + 3..]
            .split(['/', '?', '#'])
            .next()
            .unwrap_or_default();
        return db::asset_records::id_by_public_token(c, token);
    }
    match db::asset_records::id_by_tag(c, code)? {
        Some(id) => Ok(Some(id)),
        None => db::asset_records::id_by_public_token(c, code),
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AuditView {
    #[serde(flatten)]
    pub audit: Audit,
    pub location_path: String,
    #[serde(flatten)]
    pub report: AuditReport,
}

fn view(c: &Connection, id: i64) -> db::DbResult<Option<AuditView>> {
    let Some(audit) = db::audits::get(c, id)? else {
        return Ok(None);
    };
    let location_path = db::locations::get(c, audit.location_id)?
        .map(|l| l.path)
        .unwrap_or_default();
    let report = db::audits::report(c, &audit)?;
    Ok(Some(AuditView {
        audit,
        location_path,
        report,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct StartBody {
    location_id: i64,
}

async fn start(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<StartBody>,
) -> ApiResult<(StatusCode, Json<AuditView>)> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let who = actor(&user);
    let started = state
        .db
        .write(move |tx| {
            if db::locations::get(tx, b.location_id)?.is_none() {
                return Ok(Err(bad(
                    "invalid_location",
                    format!("there is no location {}", b.location_id),
                )));
            }
            let id = db::audits::start(tx, b.location_id, &who, now)?;
            Ok(view(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(started)))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<AuditView>> {
    staff_only(&user)?;
    let found = state.db.read(move |c| view(c, id)).await?;
    found.map(Json).ok_or_else(|| AppError::not_found("audit"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScanBody {
    code: String,
}

/// What one scan turned out to be.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ScanResult {
    /// "found", "misplaced" or "unknown".
    pub result: &'static str,
    pub asset_id: Option<i64>,
    /// For a misplaced asset: where the records say it is.
    pub recorded_location: Option<String>,
}

async fn scan(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ScanBody>,
) -> ApiResult<Json<ScanResult>> {
    staff_only(&user)?;
    let code = b.code.trim().to_owned();
    if code.is_empty() || code.len() > 500 {
        return Err(bad("invalid_code", "a scanned code is 1 to 500 characters"));
    }
    let now = crate::clock::now();
    state
        .db
        .write(move |tx| {
            let Some(audit) = db::audits::get(tx, id)? else {
                return Ok(Err(AppError::not_found("audit")));
            };
            if audit.finished_at.is_some() {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "audit_finished",
                    "this audit is finished; start a new one",
                )));
            }
            let asset = resolve(tx, &code)?;
            db::audits::scan(tx, id, &code, asset, now)?;
            let Some(asset_id) = asset else {
                return Ok(Ok(Json(ScanResult {
                    result: "unknown",
                    asset_id: None,
                    recorded_location: None,
                })));
            };
            let recorded = db::asset_records::record(tx, asset_id)?.and_then(|r| r.location_id);
            if recorded == Some(audit.location_id) {
                return Ok(Ok(Json(ScanResult {
                    result: "found",
                    asset_id: Some(asset_id),
                    recorded_location: None,
                })));
            }
            let path = match recorded {
                Some(l) => db::locations::get(tx, l)?.map(|l| l.path),
                None => None,
            };
            Ok(Ok(Json(ScanResult {
                result: "misplaced",
                asset_id: Some(asset_id),
                recorded_location: Some(path.unwrap_or_else(|| "nowhere".into())),
            })))
        })
        .await?
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct FinishBody {
    /// Record the misplaced assets as being in this room from now on.
    #[serde(default)]
    move_misplaced: bool,
}

async fn finish(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<FinishBody>,
) -> ApiResult<Json<AuditView>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let who = actor(&user);
    let done = state
        .db
        .write(move |tx| {
            let Some(audit) = db::audits::get(tx, id)? else {
                return Ok(Err(AppError::not_found("audit")));
            };
            let report = db::audits::report(tx, &audit)?;
            if !db::audits::finish(tx, id, now)? {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "audit_finished",
                    "this audit is already finished",
                )));
            }
            // Everything seen gets its audit date; the next is due after the type's interval.
            for item in report.found.iter().chain(&report.misplaced) {
                let months = db::audits::audit_every_months(tx, item.asset_id)?;
                let due = now + months * 30 * 86_400;
                let set = |col, v| {
                    db::asset_records::set(
                        tx,
                        item.asset_id,
                        col,
                        Value::Integer(v),
                        None,
                        &who,
                        now,
                    )
                };
                set("last_audit_at", now)?;
                set("audit_due_at", due)?;
                if b.move_misplaced {
                    set("location_id", audit.location_id)?;
                }
            }
            Ok(view(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(done))
}
