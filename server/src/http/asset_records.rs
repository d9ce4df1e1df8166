//! Assets people enter (monitors, printers, HVAC units): `POST /api/v1/assets`,
//! `PATCH /api/v1/assets/{id}`, and the asset types and lifecycle states behind them.
//! Technicians create and edit assets; admins define types and states.

use super::ApiPath;
use super::Routes;
use super::asset_input::{AssetInput, apply, new_asset};
use super::auth::{ClientIp, CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::audit::{Actor, Entry, action};
use crate::db::{self, asset_types::AssetState, asset_types::AssetType};
use crate::domain::assets::{FieldDef, StateKind, check_defs, valid_key};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use serde::Deserialize;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/assets", post(create))
        .route("/api/v1/assets/{id}", patch(update))
        .route("/api/v1/asset-types", get(types).post(create_type))
        .route("/api/v1/asset-types/{key}", patch(update_type))
        .route("/api/v1/asset-states", get(states).post(create_state))
        .route(
            "/api/v1/asset-states/{id}",
            patch(update_state).delete(delete_state),
        )
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("POST", "/api/v1/assets", "Create an asset", Access::Staff)
        .body::<AssetInput>()
        .created::<super::assets::FullAsset>();
    api.op(
        "PATCH",
        "/api/v1/assets/{id}",
        "Change an asset",
        Access::Staff,
    )
    .body::<AssetInput>()
    .ok::<super::assets::FullAsset>();
    api.op(
        "GET",
        "/api/v1/asset-types",
        "List asset types",
        Access::Staff,
    )
    .ok::<Page<AssetType>>();
    api.op(
        "POST",
        "/api/v1/asset-types",
        "Create an asset type",
        Access::Admin,
    )
    .body::<TypeBody>()
    .created::<AssetType>();
    api.op(
        "PATCH",
        "/api/v1/asset-types/{key}",
        "Change an asset type",
        Access::Admin,
    )
    .body::<TypeBody>()
    .ok::<AssetType>();
    api.op(
        "GET",
        "/api/v1/asset-states",
        "List asset states",
        Access::Staff,
    )
    .ok::<Page<AssetState>>();
    api.op(
        "POST",
        "/api/v1/asset-states",
        "Create an asset state",
        Access::Admin,
    )
    .body::<StateBody>()
    .created::<AssetState>();
    api.op(
        "PATCH",
        "/api/v1/asset-states/{id}",
        "Change an asset state",
        Access::Admin,
    )
    .body::<StatePatch>()
    .ok::<AssetState>();
    api.op(
        "DELETE",
        "/api/v1/asset-states/{id}",
        "Delete an unused asset state",
        Access::Admin,
    )
    .no_content();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// Who did it, as the history shows it.
pub fn actor(user: &CurrentUser) -> String {
    format!("user:{}", user.user.email)
}

/// Creates an asset; returns its id. The caller has checked the role.
pub async fn create_asset(
    state: &AppState,
    user: &CurrentUser,
    input: AssetInput,
) -> ApiResult<i64> {
    let now = crate::clock::now();
    let who = actor(user);
    state
        .db
        .write(move |tx| match new_asset(tx, &input)? {
            Ok(a) => db::asset_records::create(tx, &a, &who, now).map(Ok),
            Err(e) => Ok(Err(e)),
        })
        .await?
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<AssetInput>,
) -> ApiResult<(StatusCode, Json<super::assets::FullAsset>)> {
    staff_only(&user)?;
    let id = create_asset(&state, &user, input).await?;
    tracing::info!(asset_id = id, user_id = user.user.id, "asset created");
    Ok((
        StatusCode::CREATED,
        Json(super::assets::full_asset(&state, id).await?),
    ))
}

/// Audits `asset.archived` when the asset's state became one of kind archived (retired,
/// disposed: the way an asset leaves service; assets are never deleted). `before` is the
/// state kind before the change.
pub fn audit_if_archived(
    tx: &rusqlite::Connection,
    actor: &Actor,
    id: i64,
    before: Option<&str>,
    now: i64,
) -> db::DbResult<()> {
    let archived = Some(StateKind::Archived.as_str());
    if before == archived {
        return Ok(());
    }
    if let Some(r) = db::asset_records::record(tx, id)?
        && r.state_kind.as_deref() == archived
    {
        let e = Entry::new(now, actor, action::ASSET_ARCHIVED)
            .target(format!("asset:{id}"))
            .detail(serde_json::json!({ "state": r.state, "asset_tag": r.asset_tag }));
        db::audit::record(tx, &e)?;
    }
    Ok(())
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AssetInput>,
) -> ApiResult<Json<super::assets::FullAsset>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let who = actor(&user);
    let auditor = user.actor(&ip);
    state
        .db
        .write(move |tx| update_one(tx, id, &input, &who, &auditor, now))
        .await??;
    Ok(Json(super::assets::full_asset(&state, id).await?))
}

/// One asset's edit, as `PATCH /api/v1/assets/{id}` and the asset list's "with selected"
/// make it: the change with its history entries (by `who`) and, when it archives the
/// asset, the audit entry (by `auditor`). The caller has checked the role.
pub fn update_one(
    tx: &rusqlite::Connection,
    id: i64,
    input: &AssetInput,
    who: &str,
    auditor: &Actor,
    now: i64,
) -> db::DbResult<Result<bool, AppError>> {
    let (Some(a), Some(r)) = (db::assets::get(tx, id)?, db::asset_records::record(tx, id)?) else {
        return Ok(Err(AppError::not_found("asset")));
    };
    let done = apply(tx, id, &a.summary.kind, &r, input, who, now)?;
    if done.is_ok() {
        audit_if_archived(tx, auditor, id, r.state_kind.as_deref(), now)?;
    }
    Ok(done)
}

async fn types(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<AssetType>>> {
    staff_only(&user)?;
    let items = state.db.read(db::asset_types::list).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct TypeBody {
    key: Option<String>,
    name: Option<String>,
    /// "it", "facility" or "other".
    category: Option<String>,
    fields: Option<Vec<FieldDef>>,
    expected_life_months: Option<i64>,
    audit_every_months: Option<i64>,
}

/// Checks a type's name, category, fields and defaults in place.
fn check_type(t: &AssetType) -> ApiResult<()> {
    if !(1..=80).contains(&t.name.trim().chars().count()) {
        return Err(bad("invalid_name", "a type name needs 1 to 80 characters"));
    }
    if !["it", "facility", "other"].contains(&t.category.as_str()) {
        return Err(bad("invalid_category", "category is it, facility or other"));
    }
    check_defs(&t.fields).map_err(|e| bad("invalid_fields", e))?;
    for (what, v) in [
        ("expected_life_months", t.expected_life_months),
        ("audit_every_months", t.audit_every_months),
    ] {
        if v.is_some_and(|m| !(1..=1200).contains(&m)) {
            return Err(bad(
                "invalid_field",
                format!("{what} is between 1 and 1200"),
            ));
        }
    }
    Ok(())
}

fn conflict(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, m)
}

async fn create_type(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<TypeBody>,
) -> ApiResult<(StatusCode, Json<AssetType>)> {
    user.require(Role::Admin)?;
    let key = b.key.unwrap_or_default();
    if !valid_key(&key) {
        return Err(bad(
            "invalid_key",
            "key: 1-40 lowercase letters, digits or _, starting with a letter",
        ));
    }
    let t = AssetType {
        id: 0,
        key,
        name: b.name.unwrap_or_default().trim().to_owned(),
        category: b.category.unwrap_or_else(|| "it".into()),
        fields: b.fields.unwrap_or_default(),
        expected_life_months: b.expected_life_months,
        audit_every_months: b.audit_every_months,
    };
    check_type(&t)?;
    let now = crate::clock::now();
    let created = state
        .db
        .write(move |tx| {
            if db::asset_types::by_key(tx, &t.key)?.is_some()
                || db::asset_types::find(tx, &t.name)?.is_some()
            {
                return Ok(Err(conflict(
                    "type_exists",
                    "a type with this key or name exists",
                )));
            }
            db::asset_types::insert(tx, &t, now)?;
            Ok(db::asset_types::by_key(tx, &t.key)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn update_type(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(key): ApiPath<String>,
    ApiJson(b): ApiJson<TypeBody>,
) -> ApiResult<Json<AssetType>> {
    user.require(Role::Admin)?;
    if b.key.as_ref().is_some_and(|k| k != &key) {
        return Err(bad("invalid_key", "a type's key cannot change"));
    }
    let updated = state
        .db
        .write(move |tx| {
            let Some(mut t) = db::asset_types::by_key(tx, &key)? else {
                return Ok(Err(AppError::not_found("asset type")));
            };
            if let Some(n) = b.name {
                t.name = n.trim().to_owned();
            }
            if let Some(c) = b.category {
                t.category = c;
            }
            if let Some(f) = b.fields {
                t.fields = f;
            }
            if b.expected_life_months.is_some() {
                t.expected_life_months = b.expected_life_months;
            }
            if b.audit_every_months.is_some() {
                t.audit_every_months = b.audit_every_months;
            }
            if let Err(e) = check_type(&t) {
                return Ok(Err(e));
            }
            if db::asset_types::find(tx, &t.name)?.is_some_and(|o| o.id != t.id) {
                return Ok(Err(conflict("type_exists", "another type has this name")));
            }
            db::asset_types::update(tx, &t)?;
            Ok(db::asset_types::by_key(tx, &t.key)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(updated))
}

async fn states(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<AssetState>>> {
    staff_only(&user)?;
    let items = state.db.read(db::asset_types::states).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct StateBody {
    name: String,
    /// deployable, deployed, undeployable or archived.
    kind: String,
}

async fn create_state(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<StateBody>,
) -> ApiResult<(StatusCode, Json<AssetState>)> {
    user.require(Role::Admin)?;
    let name = b.name.trim().to_owned();
    if !(1..=60).contains(&name.chars().count()) {
        return Err(bad("invalid_name", "a state name needs 1 to 60 characters"));
    }
    let kind: StateKind = b.kind.parse().map_err(|e: String| bad("invalid_kind", e))?;
    let now = crate::clock::now();
    let created = state
        .db
        .write(move |tx| {
            if db::asset_types::state_by_name(tx, &name)?.is_some() {
                return Ok(Err(conflict(
                    "state_exists",
                    format!("there is already a state {name:?}"),
                )));
            }
            let id = db::asset_types::insert_state(tx, &name, kind, now)?;
            Ok(db::asset_types::state(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct StatePatch {
    name: Option<String>,
    kind: Option<String>,
}

/// Check-out needs a deployed state and check-in a deployable one: the last of each
/// stays.
fn keeps_needed_kinds(
    tx: &rusqlite::Connection,
    current: &AssetState,
    new_kind: Option<StateKind>,
) -> db::DbResult<Result<(), AppError>> {
    let leaves = new_kind.is_none_or(|k| k != current.kind);
    if leaves
        && matches!(current.kind, StateKind::Deployable | StateKind::Deployed)
        && db::asset_types::states_of(tx, current.kind)? == 1
    {
        return Ok(Err(conflict(
            "last_state_of_kind",
            format!(
                "{:?} is the only {} state; check-out and check-in need one",
                current.name, current.kind
            ),
        )));
    }
    Ok(Ok(()))
}

async fn update_state(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<StatePatch>,
) -> ApiResult<Json<AssetState>> {
    user.require(Role::Admin)?;
    let name = b.name.map(|n| n.trim().to_owned());
    if name
        .as_ref()
        .is_some_and(|n| !(1..=60).contains(&n.chars().count()))
    {
        return Err(bad("invalid_name", "a state name needs 1 to 60 characters"));
    }
    let kind = b
        .kind
        .map(|k| k.parse::<StateKind>())
        .transpose()
        .map_err(|e| bad("invalid_kind", e))?;
    let updated = state
        .db
        .write(move |tx| {
            let Some(cur) = db::asset_types::state(tx, id)? else {
                return Ok(Err(AppError::not_found("state")));
            };
            if kind.is_some()
                && let Err(e) = keeps_needed_kinds(tx, &cur, kind)?
            {
                return Ok(Err(e));
            }
            if let Some(n) = &name
                && db::asset_types::state_by_name(tx, n)?.is_some_and(|o| o.id != id)
            {
                return Ok(Err(conflict(
                    "state_exists",
                    format!("there is already a state {n:?}"),
                )));
            }
            db::asset_types::update_state(tx, id, name.as_deref(), kind)?;
            Ok(db::asset_types::state(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(updated))
}

async fn delete_state(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    state
        .db
        .write(move |tx| {
            let Some(cur) = db::asset_types::state(tx, id)? else {
                return Ok(Err(AppError::not_found("state")));
            };
            let used = db::asset_types::assets_in_state(tx, id)?;
            if used > 0 {
                return Ok(Err(conflict(
                    "state_in_use",
                    format!("{used} assets are {:?}; move them first", cur.name),
                )));
            }
            if let Err(e) = keeps_needed_kinds(tx, &cur, None)? {
                return Ok(Err(e));
            }
            db::asset_types::delete_state(tx, id)?;
            Ok(Ok(StatusCode::NO_CONTENT))
        })
        .await?
}
