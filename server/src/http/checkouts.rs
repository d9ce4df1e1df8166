//! Check-out and check-in: `POST /api/v1/assets/{id}/checkout` to a person, a location
//! or another asset; `/checkin`; the person answers with `/accept` or `/decline`; they
//! see what waits for them at `GET /api/v1/me/checkouts`.

use super::ApiPath;
use super::Routes;
use super::asset_records::actor;
use super::auth::{ClientIp, CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, checkouts::Checkout, checkouts::NewCheckout};
use crate::domain::assets::StateKind;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/assets/{id}/checkout", post(check_out))
        .route("/api/v1/assets/{id}/checkin", post(check_in))
        .route("/api/v1/assets/{id}/accept", post(accept))
        .route("/api/v1/assets/{id}/decline", post(decline))
        .route("/api/v1/assets/{id}/checkouts", get(history))
        .route("/api/v1/me/checkouts", get(mine))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        "/api/v1/assets/{id}/checkout",
        "Check an asset out to a person or place",
        Access::Staff,
    )
    .body::<CheckoutBody>()
    .ok::<super::assets::FullAsset>();
    api.op(
        "POST",
        "/api/v1/assets/{id}/checkin",
        "Check an asset back in",
        Access::Staff,
    )
    .body::<CheckinBody>()
    .ok::<super::assets::FullAsset>();
    api.op(
        "POST",
        "/api/v1/assets/{id}/accept",
        "Accept an asset checked out to you",
        Access::User,
    )
    .ok::<Checkout>();
    api.op(
        "POST",
        "/api/v1/assets/{id}/decline",
        "Decline an asset checked out to you",
        Access::User,
    )
    .ok::<Checkout>();
    api.op(
        "GET",
        "/api/v1/assets/{id}/checkouts",
        "An asset's checkouts",
        Access::Staff,
    )
    .ok::<Page<Checkout>>();
    api.op(
        "GET",
        "/api/v1/me/checkouts",
        "Assets checked out to the caller",
        Access::User,
    )
    .ok::<Page<Checkout>>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

fn conflict(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, m)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CheckoutBody {
    /// Exactly one of these.
    user_id: Option<i64>,
    location_id: Option<i64>,
    asset_id: Option<i64>,
    /// When it should come back, YYYY-MM-DD.
    expected_back: Option<String>,
    #[serde(default)]
    note: String,
}

async fn check_out(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckoutBody>,
) -> ApiResult<Json<super::assets::FullAsset>> {
    staff_only(&user)?;
    let (kind, target) = match (b.user_id, b.location_id, b.asset_id) {
        (Some(u), None, None) => ("user", u),
        (None, Some(l), None) => ("location", l),
        (None, None, Some(a)) => ("asset", a),
        _ => {
            return Err(bad(
                "invalid_target",
                "give exactly one of user_id, location_id, asset_id",
            ));
        }
    };
    let expected_back = b
        .expected_back
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|d| crate::domain::assets::parse_date(d).map(|d| d.format("%Y-%m-%d").to_string()))
        .transpose()
        .map_err(|e| bad("invalid_date", format!("expected_back: {e}")))?;
    if b.note.chars().count() > 1000 {
        return Err(bad("invalid_note", "the note is at most 1000 characters"));
    }
    let now = crate::clock::now();
    let who = actor(&user);
    state
        .db
        .write(move |tx| {
            let target = Target {
                kind,
                id: target,
                expected_back: expected_back.as_deref(),
                note: b.note.trim(),
            };
            check_out_one(tx, id, &target, &who, now)
        })
        .await??;
    Ok(Json(super::assets::full_asset(&state, id).await?))
}

/// Who or where an asset is checked out to, and on what terms.
pub struct Target<'a> {
    /// "user", "location" or "asset".
    pub kind: &'a str,
    pub id: i64,
    /// YYYY-MM-DD, checked.
    pub expected_back: Option<&'a str>,
    pub note: &'a str,
}

/// Checks asset `id` out to `t`, as `POST /api/v1/assets/{id}/checkout` and the asset
/// list's "with selected" do: refused when it is already out or not deployable, or the
/// target does not exist; otherwise the asset becomes deployed there, with a history
/// entry by `who`. The caller has checked the role.
pub fn check_out_one(
    tx: &rusqlite::Connection,
    id: i64,
    t: &Target,
    who: &str,
    now: i64,
) -> db::DbResult<Result<(), AppError>> {
    let (kind, target) = (t.kind, t.id);
    let Some(rec) = db::asset_records::record(tx, id)? else {
        return Ok(Err(AppError::not_found("asset")));
    };
    if db::checkouts::open(tx, id)?.is_some() {
        return Ok(Err(conflict(
            "already_checked_out",
            "check the asset in first",
        )));
    }
    if rec.state_kind.as_deref() != Some(StateKind::Deployable.as_str()) {
        return Ok(Err(conflict(
            "not_deployable",
            format!(
                "the asset is {}; only a deployable asset (in stock) can be checked out",
                rec.state.as_deref().unwrap_or("in no state")
            ),
        )));
    }
    // The target, how the history names it, and where the asset now is.
    let (label, location) = match kind {
        "user" => match db::users::by_id(tx, target)? {
            Some(u) if !u.disabled => (u.email, db_user_location(tx, target)?),
            _ => {
                return Ok(Err(bad(
                    "invalid_target",
                    format!("no active user {target}"),
                )));
            }
        },
        "location" => match db::locations::get(tx, target)? {
            Some(l) => (l.path, Some(target)),
            None => return Ok(Err(bad("invalid_target", format!("no location {target}")))),
        },
        _ => {
            if target == id {
                return Ok(Err(bad("invalid_target", "an asset cannot hold itself")));
            }
            match db::asset_records::record(tx, target)? {
                Some(r) => (format!("asset {target}"), r.location_id),
                None => {
                    return Ok(Err(bad("invalid_target", format!("no asset {target}"))));
                }
            }
        }
    };
    let Some(deployed) = db::asset_types::first_state_of(tx, StateKind::Deployed)? else {
        return Ok(Err(conflict(
            "no_deployed_state",
            "define a state of kind deployed first",
        )));
    };
    db::checkouts::check_out(
        tx,
        &NewCheckout {
            asset_id: id,
            target_kind: kind,
            target_id: target,
            target_label: &label,
            expected_back: t.expected_back,
            note: t.note,
            state_id: deployed.id,
            state_name: &deployed.name,
            location_id: location,
        },
        who,
        now,
    )?;
    Ok(Ok(()))
}

fn db_user_location(c: &rusqlite::Connection, user_id: i64) -> db::DbResult<Option<i64>> {
    Ok(c.query_row(
        "SELECT location_id FROM users WHERE id = ?1",
        [user_id],
        |r| r.get(0),
    )
    .unwrap_or(None))
}

/// `{}` takes the defaults.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CheckinBody {
    /// The state it returns to (default: the first deployable one, "In stock").
    state_id: Option<i64>,
    #[serde(default)]
    note: String,
}

async fn check_in(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CheckinBody>,
) -> ApiResult<Json<super::assets::FullAsset>> {
    staff_only(&user)?;
    if b.note.chars().count() > 1000 {
        return Err(bad("invalid_note", "the note is at most 1000 characters"));
    }
    let now = crate::clock::now();
    let who = actor(&user);
    let auditor = user.actor(&ip);
    state
        .db
        .write(move |tx| {
            let Some(before) = db::asset_records::record(tx, id)? else {
                return Ok(Err(AppError::not_found("asset")));
            };
            let back = match b.state_id {
                Some(s) => db::asset_types::state(tx, s)?,
                None => db::asset_types::first_state_of(tx, StateKind::Deployable)?,
            };
            let Some(back) = back else {
                return Ok(Err(bad("invalid_state", "no such state")));
            };
            if !db::checkouts::check_in(tx, id, back.id, &back.name, b.note.trim(), &who, now)? {
                return Ok(Err(conflict(
                    "not_checked_out",
                    "the asset is not checked out",
                )));
            }
            let kind = before.state_kind.as_deref();
            super::asset_records::audit_if_archived(tx, &auditor, id, kind, now)?;
            Ok(Ok(()))
        })
        .await??;
    Ok(Json(super::assets::full_asset(&state, id).await?))
}

/// The person's answer to a check-out to them.
pub async fn answer(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    accept: bool,
) -> ApiResult<Checkout> {
    let now = crate::clock::now();
    let (uid, who) = (user.user.id, actor(user));
    state
        .db
        .write(move |tx| {
            if !db::checkouts::answer(tx, id, uid, accept, &who, now)? {
                return Ok(Err(AppError::not_found(
                    "check-out waiting for your answer",
                )));
            }
            Ok(db::checkouts::for_asset(tx, id, 1)?
                .into_iter()
                .next()
                .ok_or_else(AppError::internal))
        })
        .await?
}

async fn accept(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Checkout>> {
    Ok(Json(answer(&state, &user, id, true).await?))
}

async fn decline(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Checkout>> {
    Ok(Json(answer(&state, &user, id, false).await?))
}

async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Page<Checkout>>> {
    staff_only(&user)?;
    let items = state
        .db
        .read(move |c| {
            if !db::assets::exists(c, id)? {
                return Ok(None);
            }
            db::checkouts::for_asset(c, id, 500).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::not_found("asset"))?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Check-outs waiting for the signed-in person's answer.
async fn mine(user: CurrentUser, State(state): State<AppState>) -> ApiResult<Json<Page<Checkout>>> {
    let uid = user.user.id;
    let items = state
        .db
        .read(move |c| db::checkouts::pending_for(c, uid))
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}
