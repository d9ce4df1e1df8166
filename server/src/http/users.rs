//! `/api/v1/users`: the people. Staff list and read them (to hand out assets, staff
//! groups); admins add them, change roles, disable them, lift a sign-in lockout and
//! place them in a location. Role, disabled and unlock changes are audited.
//! Sessions and tokens of a disabled user stop working at once (the auth checks
//! `disabled` on every request).

use super::Routes;
use super::auth::{ClientIp, CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::{
    self,
    audit::{Actor, Entry, action},
    users::User,
};
use crate::domain::lockout::Failures;
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", get(one).patch(update))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("GET", "/api/v1/users", "List users", Access::Staff)
        .query::<ListQuery>()
        .ok::<Page<User>>();
    api.op("POST", "/api/v1/users", "Create a user", Access::Admin)
        .body::<NewUser>()
        .created::<User>();
    api.op("GET", "/api/v1/users/{id}", "One user", Access::Staff)
        .ok::<User>();
    api.op(
        "PATCH",
        "/api/v1/users/{id}",
        "Change a user (role, name, disabled)",
        Access::Admin,
    )
    .body::<UserPatch>()
    .ok::<User>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Part of an email or name.
    q: Option<String>,
    role: Option<String>,
    /// A location id; the places below it count too.
    location: Option<i64>,
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<User>>> {
    staff_only(&user)?;
    let limit = super::assets::limit(q.limit)?;
    let after = super::assets::id_cursor(q.cursor.as_deref())?.unwrap_or(0);
    let text = q.q.filter(|s| !s.trim().is_empty());
    if text.as_ref().is_some_and(|t| t.len() > 200) {
        return Err(bad("invalid_query", "q is limited to 200 characters"));
    }
    let role = q
        .role
        .filter(|r| !r.is_empty())
        .map(|r| r.parse::<Role>().map(|r| r.as_str()))
        .transpose()
        .map_err(|e: String| bad("invalid_role", e))?;
    let location = q.location;
    let items = state
        .db
        .read(move |c| {
            let places = match location {
                Some(l) => db::locations::subtree_ids(c, l)?,
                None => Vec::new(),
            };
            db::users::list(c, text.as_deref(), role, &places, after, limit)
        })
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|u| u.id.to_string()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<User>> {
    staff_only(&user)?;
    let found = state.db.read(move |c| db::users::by_id(c, id)).await?;
    found.map(Json).ok_or_else(|| AppError::not_found("user"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    name: String,
    role: String,
    /// Without one the person cannot sign in until an admin sets it (`steward-server user
    /// add` or a later version of this API); they can still be a requester or holder.
    password: Option<String>,
    location_id: Option<i64>,
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(b): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    user.require(Role::Admin)?;
    let email = b.email.trim().to_owned();
    if !db::users::valid_email(&email) {
        return Err(bad(
            "invalid_email",
            format!("{email:?} is not an email address"),
        ));
    }
    let name = b.name.trim().to_owned();
    if !(1..=200).contains(&name.chars().count()) {
        return Err(bad("invalid_name", "the name needs 1 to 200 characters"));
    }
    let role: Role = b.role.parse().map_err(|e: String| bad("invalid_role", e))?;
    let hash = match b.password {
        None => None,
        Some(p) => {
            crate::crypto::check_password_policy(&p).map_err(|e| bad("weak_password", e))?;
            let hashed = tokio::task::spawn_blocking(move || crate::crypto::hash_password(&p))
                .await
                .map_err(|_| AppError::internal())?
                .map_err(|_| AppError::internal())?;
            Some(hashed)
        }
    };
    let now = crate::clock::now();
    let location = b.location_id;
    let actor = user.actor(&ip);
    let created = state
        .db
        .write(move |tx| {
            if db::users::by_email(tx, &email)?.is_some() {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "user_exists",
                    format!("a user with email {email} already exists"),
                )));
            }
            if let Some(l) = location
                && db::locations::get(tx, l)?.is_none()
            {
                return Ok(Err(bad(
                    "invalid_location",
                    format!("there is no location {l}"),
                )));
            }
            let id = db::users::insert(tx, &email, &name, role, hash.as_deref(), now)?;
            db::users::update(tx, id, None, None, None, Some(location))?;
            let e = Entry::new(now, &actor, action::USER_CREATED)
                .target(format!("user:{id}"))
                .detail(json!({ "email": email, "role": role.as_str() }));
            db::audit::record(tx, &e)?;
            Ok(db::users::by_id(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    tracing::info!(user_id = created.id, by = user.user.id, "user created");
    Ok((StatusCode::CREATED, Json(created)))
}

/// Distinguishes "absent" from "null" for `location_id`.
fn double<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct UserPatch {
    name: Option<String>,
    role: Option<String>,
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "double")]
    location_id: Option<Option<i64>>,
    /// `true` lifts a sign-in lockout (and forgets the failures counted so far).
    #[serde(default)]
    unlock: bool,
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<UserPatch>,
) -> ApiResult<Json<User>> {
    user.require(Role::Admin)?;
    let name = b.name.map(|n| n.trim().to_owned());
    if name
        .as_ref()
        .is_some_and(|n| !(1..=200).contains(&n.chars().count()))
    {
        return Err(bad("invalid_name", "the name needs 1 to 200 characters"));
    }
    let role = b
        .role
        .map(|r| r.parse::<Role>())
        .transpose()
        .map_err(|e: String| bad("invalid_role", e))?;
    let now = crate::clock::now();
    let actor = user.actor(&ip);
    let updated = state
        .db
        .write(move |tx| {
            let Some(cur) = db::users::by_id(tx, id)? else {
                return Ok(Err(AppError::not_found("user")));
            };
            let stops_being_admin = cur.role == Role::Admin
                && (role.is_some_and(|r| r != Role::Admin) || b.disabled == Some(true));
            if stops_being_admin && db::users::other_admins(tx, id)? == 0 {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "last_admin",
                    "this is the only active admin; make someone else admin first",
                )));
            }
            if let Some(Some(l)) = b.location_id
                && db::locations::get(tx, l)?.is_none()
            {
                return Ok(Err(bad(
                    "invalid_location",
                    format!("there is no location {l}"),
                )));
            }
            db::users::update(tx, id, name.as_deref(), role, b.disabled, b.location_id)?;
            let unlocked = b.unlock && db::users::failures(tx, id)? != Failures::cleared();
            if unlocked {
                db::users::set_failures(tx, id, &Failures::cleared())?;
            }
            record_changes(tx, &actor, &cur, role, b.disabled, unlocked, now)?;
            Ok(db::users::by_id(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(updated))
}

/// Audits what an update changed that matters for security: role, disabled, lockout.
fn record_changes(
    tx: &rusqlite::Connection,
    actor: &Actor,
    before: &User,
    role: Option<Role>,
    disabled: Option<bool>,
    unlocked: bool,
    now: i64,
) -> db::DbResult<()> {
    let target = format!("user:{}", before.id);
    if let Some(r) = role.filter(|r| *r != before.role) {
        let e = Entry::new(now, actor, action::USER_ROLE_CHANGED)
            .target(&target)
            .detail(json!({ "old": before.role.as_str(), "new": r.as_str() }));
        db::audit::record(tx, &e)?;
    }
    match disabled {
        Some(true) if !before.disabled => {
            let e = Entry::new(now, actor, action::USER_DISABLED).target(&target);
            db::audit::record(tx, &e)?;
        }
        Some(false) if before.disabled => {
            let e = Entry::new(now, actor, action::USER_ENABLED).target(&target);
            db::audit::record(tx, &e)?;
        }
        _ => {}
    }
    if unlocked {
        let e = Entry::new(now, actor, action::USER_UNLOCKED)
            .target(&target)
            .detail(json!({ "locked_until": before.locked_until }));
        db::audit::record(tx, &e)?;
    }
    Ok(())
}
