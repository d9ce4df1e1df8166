//! `/api/v1/canned-responses`: reply texts staff share. Technicians list and add them;
//! the author or an admin deletes one.

use super::ApiPath;
use super::Routes;
use super::auth::CurrentUser;
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, canned::CannedResponse};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::Deserialize;
use steward_shared::Page;

/// The list is never paged, so creation stops here.
pub const MAX_CANNED: u32 = 1000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/canned-responses", get(list).post(create))
        .route("/api/v1/canned-responses/{id}", delete(remove))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/canned-responses",
        "List canned responses",
        Access::Staff,
    )
    .ok::<Page<CannedResponse>>();
    api.op(
        "POST",
        "/api/v1/canned-responses",
        "Create a canned response",
        Access::Staff,
    )
    .body::<NewCanned>()
    .created::<CannedResponse>();
    api.op(
        "DELETE",
        "/api/v1/canned-responses/{id}",
        "Delete a canned response",
        Access::Staff,
    )
    .no_content();
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewCanned {
    title: String,
    body: String,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<CannedResponse>>> {
    user.require(Role::Technician)?;
    let items = state.db.read(|c| db::canned::list(c, MAX_CANNED)).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewCanned>,
) -> ApiResult<(StatusCode, Json<CannedResponse>)> {
    user.require(Role::Technician)?;
    super::tickets::check_text(Some(&b.title), Some(&b.body))?;
    if b.body.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_body_text",
            "a canned response needs some text",
        ));
    }
    let now = crate::clock::now();
    let by = user.user.id;
    let created = state
        .db
        .write(move |tx| {
            if db::canned::count(tx)? >= i64::from(MAX_CANNED) {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "too_many_canned_responses",
                    format!("there are already {MAX_CANNED} canned responses; delete some first"),
                )));
            }
            let id = db::canned::insert(tx, b.title.trim(), &b.body, by, now)?;
            db::canned::get(tx, id).map(|r| r.ok_or_else(AppError::internal))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    user.require(Role::Technician)?;
    let me = user.clone();
    state
        .db
        .write(move |tx| {
            let Some(r) = db::canned::get(tx, id)? else {
                return Ok(Err(AppError::not_found("canned response")));
            };
            let author = r.created_by.map(|u| u.id) == Some(me.user.id);
            if !author && !me.user.role.allows(Role::Admin) {
                return Ok(Err(AppError::forbidden(
                    "only its author or an admin may delete a canned response",
                )));
            }
            db::canned::delete(tx, id)?;
            Ok(Ok(()))
        })
        .await??;
    tracing::info!(
        canned_id = id,
        user_id = user.user.id,
        "canned response deleted"
    );
    Ok(StatusCode::NO_CONTENT)
}
