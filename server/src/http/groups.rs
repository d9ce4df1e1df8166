//! `/api/v1/groups`: technician groups, their members and how they assign new tickets.
//! Staff read them; admins create, rename and staff them.

use super::ApiPath;
use super::Routes;
use super::auth::CurrentUser;
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, groups::Group};
use crate::domain::assignment::Strategy;
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use serde::Deserialize;
use steward_shared::Page;

/// Groups are few; the list is never paged, so creation stops here.
pub const MAX_GROUPS: u32 = 1000;
/// Members per group.
pub const MAX_MEMBERS: usize = 500;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/groups", get(list).post(create))
        .route("/api/v1/groups/{id}", get(one).patch(update))
        .route("/api/v1/groups/{id}/members", put(set_members))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/groups",
        "List support groups",
        Access::Staff,
    )
    .ok::<Page<Group>>();
    api.op(
        "POST",
        "/api/v1/groups",
        "Create a support group",
        Access::Admin,
    )
    .body::<NewGroup>()
    .created::<Group>();
    api.op(
        "GET",
        "/api/v1/groups/{id}",
        "One support group",
        Access::Staff,
    )
    .ok::<Group>();
    api.op(
        "PATCH",
        "/api/v1/groups/{id}",
        "Change a support group",
        Access::Admin,
    )
    .body::<GroupPatch>()
    .ok::<Group>();
    api.op(
        "PUT",
        "/api/v1/groups/{id}/members",
        "Set a group's members",
        Access::Admin,
    )
    .body::<Members>()
    .ok::<Group>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

fn conflict(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, m)
}

/// A trimmed name of 1-80 characters.
fn check_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    match name.chars().count() {
        1..=80 => Ok(name),
        _ => Err(bad("invalid_name", "a group name needs 1 to 80 characters")),
    }
}

fn strategy(s: &str) -> ApiResult<Strategy> {
    s.parse().map_err(|e: String| bad("invalid_assignment", e))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewGroup {
    name: String,
    /// `manual` (default), `round_robin` or `least_loaded`.
    assignment: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct GroupPatch {
    name: Option<String>,
    assignment: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct Members {
    user_ids: Vec<i64>,
}

async fn list(user: CurrentUser, State(state): State<AppState>) -> ApiResult<Json<Page<Group>>> {
    user.require(Role::Technician)?;
    let items = state.db.read(|c| db::groups::list(c, MAX_GROUPS)).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Group>> {
    user.require(Role::Technician)?;
    let found = state.db.read(move |c| db::groups::get(c, id)).await?;
    found.map(Json).ok_or_else(|| AppError::not_found("group"))
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewGroup>,
) -> ApiResult<(StatusCode, Json<Group>)> {
    user.require(Role::Admin)?;
    let created = create_group(&state, &b.name, b.assignment.as_deref()).await?;
    tracing::info!(
        group_id = created.id,
        user_id = user.user.id,
        "group created"
    );
    Ok((StatusCode::CREATED, Json(created)))
}

/// Creates a group (`assignment` defaults to manual); the caller has checked the role.
pub async fn create_group(
    state: &AppState,
    name: &str,
    assignment: Option<&str>,
) -> ApiResult<Group> {
    let name = check_name(name)?.to_owned();
    let assignment = match assignment {
        None => Strategy::Manual,
        Some(s) => strategy(s)?,
    };
    let now = crate::clock::now();
    state
        .db
        .write(move |tx| {
            if db::groups::count(tx)? >= i64::from(MAX_GROUPS) {
                return Ok(Err(conflict(
                    "too_many_groups",
                    format!("there are already {MAX_GROUPS} groups"),
                )));
            }
            if db::groups::id_by_name(tx, &name)?.is_some() {
                return Ok(Err(conflict(
                    "group_exists",
                    format!("there is already a group called {name:?}"),
                )));
            }
            let id = db::groups::insert(tx, &name, assignment, now)?;
            db::groups::get(tx, id).map(|g| g.ok_or_else(AppError::internal))
        })
        .await?
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<GroupPatch>,
) -> ApiResult<Json<Group>> {
    user.require(Role::Admin)?;
    let g = update_group(&state, id, b.name.as_deref(), b.assignment.as_deref()).await?;
    Ok(Json(g))
}

/// Renames a group and/or changes its assignment rule; the caller has checked the role.
pub async fn update_group(
    state: &AppState,
    id: i64,
    name: Option<&str>,
    assignment: Option<&str>,
) -> ApiResult<Group> {
    let name = name.map(check_name).transpose()?.map(str::to_owned);
    let assignment = assignment.map(strategy).transpose()?;
    state
        .db
        .write(move |tx| {
            if let Some(n) = &name
                && db::groups::id_by_name(tx, n)?.is_some_and(|other| other != id)
            {
                return Ok(Err(conflict(
                    "group_exists",
                    format!("there is already a group called {n:?}"),
                )));
            }
            if !db::groups::update(tx, id, name.as_deref(), assignment)? {
                return Ok(Err(AppError::not_found("group")));
            }
            db::groups::get(tx, id).map(|g| g.ok_or_else(AppError::internal))
        })
        .await?
}

async fn set_members(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<Members>,
) -> ApiResult<Json<Group>> {
    user.require(Role::Admin)?;
    Ok(Json(set_group_members(&state, id, b.user_ids).await?))
}

/// Replaces a group's members (active staff only); the caller has checked the role.
pub async fn set_group_members(state: &AppState, id: i64, mut ids: Vec<i64>) -> ApiResult<Group> {
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_MEMBERS {
        return Err(bad(
            "invalid_members",
            format!("a group has at most {MAX_MEMBERS} members"),
        ));
    }
    let updated = state
        .db
        .write(move |tx| {
            if !db::groups::exists(tx, id)? {
                return Ok(Err(AppError::not_found("group")));
            }
            for &uid in &ids {
                match db::users::by_id(tx, uid)? {
                    Some(u) if u.role.is_staff() && !u.disabled => {}
                    Some(_) => {
                        return Ok(Err(bad(
                            "invalid_member",
                            format!("user {uid} is not an active technician or admin"),
                        )));
                    }
                    None => {
                        return Ok(Err(bad(
                            "invalid_member",
                            format!("user {uid} does not exist"),
                        )));
                    }
                }
            }
            db::groups::set_members(tx, id, &ids)?;
            db::groups::get(tx, id).map(|g| g.ok_or_else(AppError::internal))
        })
        .await??;
    tracing::info!(
        group_id = id,
        members = updated.members.len(),
        "group members set"
    );
    Ok(updated)
}
