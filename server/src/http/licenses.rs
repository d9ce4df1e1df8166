//! `/api/v1/licenses`: software licenses, their seats assigned to machines or people, and
//! over-use (installs in the fleet or assignments beyond the seats bought). Technicians
//! read; admins write.

use super::Routes;
use super::auth::CurrentUser;
use super::software::{check_title, limit, path, query, search};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::licenses::{self, Holder, License, LicensePatch, NewLicense, Seat};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use steward_shared::Page;

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_TITLES: usize = 50;
pub const MAX_SEATS: i64 = 10_000_000;
pub const MAX_COST_CENTS: i64 = 1_000_000_000_000_000;
pub const MAX_NOTES_CHARS: usize = 10_000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/licenses", get(list).post(create))
        .route(
            "/api/v1/licenses/{id}",
            get(one).patch(update).delete(remove),
        )
        .route("/api/v1/licenses/{id}/seats", get(seats).post(assign))
        .route("/api/v1/licenses/{id}/seats/{seat_id}", delete(unassign))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/licenses",
        "List software licenses",
        Access::Staff,
    )
    .query::<ListQuery>()
    .ok::<Page<LicenseView>>();
    api.op(
        "POST",
        "/api/v1/licenses",
        "Create a license",
        Access::Admin,
    )
    .body::<NewBody>()
    .created::<LicenseView>();
    api.op("GET", "/api/v1/licenses/{id}", "One license", Access::Staff)
        .ok::<LicenseView>();
    api.op(
        "PATCH",
        "/api/v1/licenses/{id}",
        "Change a license",
        Access::Admin,
    )
    .body::<PatchBody>()
    .ok::<LicenseView>();
    api.op(
        "DELETE",
        "/api/v1/licenses/{id}",
        "Delete a license",
        Access::Admin,
    )
    .no_content();
    api.op(
        "GET",
        "/api/v1/licenses/{id}/seats",
        "A license's seats",
        Access::Staff,
    )
    .query::<SeatQuery>()
    .ok::<Page<Seat>>();
    api.op(
        "POST",
        "/api/v1/licenses/{id}/seats",
        "Assign a seat",
        Access::Admin,
    )
    .body::<SeatBody>()
    .created::<Seat>();
    api.op(
        "DELETE",
        "/api/v1/licenses/{id}/seats/{seat_id}",
        "Free a seat",
        Access::Admin,
    )
    .no_content();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

fn conflict(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::new(StatusCode::CONFLICT, code, m)
}

/// A license as the API shows it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct LicenseView {
    #[serde(flatten)]
    pub license: License,
    /// Seats not assigned yet (0 when over-assigned).
    pub available: i64,
    /// Installs or assignments beyond the seats.
    pub over_use: bool,
    /// By how many (the larger of installs and assignments, less the seats), 0 if none.
    pub over_by: i64,
    /// The expiry date has passed (UTC).
    pub expired: bool,
}

impl LicenseView {
    pub fn new(license: License, today: NaiveDate) -> LicenseView {
        let over_by = (license.installs.max(license.assigned) - license.seats).max(0);
        let expired = license
            .expires_on
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| d < today);
        LicenseView {
            available: (license.seats - license.assigned).max(0),
            over_use: over_by > 0,
            over_by,
            expired,
            license,
        }
    }
}

fn today() -> NaiveDate {
    chrono::DateTime::from_timestamp(crate::clock::now(), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default()
}

fn id_param(p: Result<Path<i64>, PathRejection>) -> ApiResult<i64> {
    path(p).map_err(|_| bad("invalid_id", "the license id is a number"))
}

fn id_cursor(c: Option<&str>) -> ApiResult<Option<i64>> {
    c.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>()
                .map_err(|_| bad("invalid_cursor", "cursor must come from next_cursor"))
        })
        .transpose()
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    match name.chars().count() {
        1..=MAX_NAME_CHARS => Ok(name.to_owned()),
        _ => Err(bad(
            "invalid_name",
            format!("a license name has 1 to {MAX_NAME_CHARS} characters"),
        )),
    }
}

fn check_titles(titles: Vec<String>) -> ApiResult<Vec<String>> {
    if titles.is_empty() || titles.len() > MAX_TITLES {
        return Err(bad(
            "invalid_titles",
            format!("a license covers 1 to {MAX_TITLES} software titles"),
        ));
    }
    let mut out = Vec::with_capacity(titles.len());
    for t in titles {
        check_title(&t).map_err(|e| bad("invalid_titles", e.message))?;
        out.push(t);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn check_seats(n: i64) -> ApiResult<i64> {
    if (0..=MAX_SEATS).contains(&n) {
        Ok(n)
    } else {
        Err(bad(
            "invalid_seats",
            format!("seats must be from 0 to {MAX_SEATS}"),
        ))
    }
}

fn check_expiry(d: String) -> ApiResult<String> {
    NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| bad("invalid_expires_on", "expires_on is a date: YYYY-MM-DD"))
}

fn check_cost(c: i64) -> ApiResult<i64> {
    if (0..=MAX_COST_CENTS).contains(&c) {
        Ok(c)
    } else {
        Err(bad(
            "invalid_cost",
            "cost_cents is a whole number of cents, not negative",
        ))
    }
}

fn check_notes(n: String) -> ApiResult<String> {
    if n.chars().count() > MAX_NOTES_CHARS {
        return Err(bad(
            "invalid_notes",
            format!("notes are limited to {MAX_NOTES_CHARS} characters"),
        ));
    }
    Ok(n)
}

/// Tells a field set to `null` (`Some(None)`) from one left out (`None`).
fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewBody {
    name: String,
    titles: Vec<String>,
    seats: i64,
    expires_on: Option<String>,
    cost_cents: Option<i64>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    titles: Option<Vec<String>>,
    seats: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    expires_on: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    cost_cents: Option<Option<i64>>,
    notes: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    /// Licenses covering this exact title.
    title: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Page<LicenseView>>> {
    user.require(Role::Technician)?;
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let after = id_cursor(q.cursor.as_deref())?;
    let search = search(q.q)?;
    let title = q
        .title
        .filter(|t| !t.is_empty())
        .map(|t| check_title(&t).map(str::to_owned))
        .transpose()?;
    let items = state
        .db
        .read(move |c| licenses::list(c, search.as_deref(), title.as_deref(), after, limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|l| l.id.to_string()))
        .flatten();
    let today = today();
    Ok(Json(Page {
        items: items
            .into_iter()
            .map(|l| LicenseView::new(l, today))
            .collect(),
        next_cursor,
    }))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<Json<LicenseView>> {
    user.require(Role::Technician)?;
    let id = id_param(id)?;
    let found = state.db.read(move |c| licenses::get(c, id)).await?;
    let l = found.ok_or_else(|| AppError::not_found("license"))?;
    Ok(Json(LicenseView::new(l, today())))
}

fn actor(user: &CurrentUser) -> String {
    format!("user:{}", user.user.id)
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewBody>,
) -> ApiResult<(StatusCode, Json<LicenseView>)> {
    user.require(Role::Admin)?;
    let new = NewLicense {
        name: check_name(&b.name)?,
        titles: check_titles(b.titles)?,
        seats: check_seats(b.seats)?,
        expires_on: b.expires_on.map(check_expiry).transpose()?,
        cost_cents: b.cost_cents.map(check_cost).transpose()?,
        notes: check_notes(b.notes.unwrap_or_default())?,
    };
    let now = crate::clock::now();
    let created = state
        .db
        .write(move |tx| {
            let id = licenses::insert(tx, &new, now)?;
            licenses::get(tx, id)
        })
        .await?
        .ok_or_else(AppError::internal)?;
    tracing::info!(
        license_id = created.id,
        user_id = user.user.id,
        "license created"
    );
    Ok((
        StatusCode::CREATED,
        Json(LicenseView::new(created, today())),
    ))
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    ApiJson(b): ApiJson<PatchBody>,
) -> ApiResult<Json<LicenseView>> {
    user.require(Role::Admin)?;
    let id = id_param(id)?;
    let patch = LicensePatch {
        name: b.name.as_deref().map(check_name).transpose()?,
        titles: b.titles.map(check_titles).transpose()?,
        seats: b.seats.map(check_seats).transpose()?,
        expires_on: b
            .expires_on
            .map(|e| e.map(check_expiry).transpose())
            .transpose()?,
        cost_cents: b
            .cost_cents
            .map(|c| c.map(check_cost).transpose())
            .transpose()?,
        notes: b.notes.map(check_notes).transpose()?,
    };
    let now = crate::clock::now();
    let updated = state
        .db
        .write(move |tx| {
            if !licenses::update(tx, id, &patch, now)? {
                return Ok(None);
            }
            licenses::get(tx, id)
        })
        .await?
        .ok_or_else(|| AppError::not_found("license"))?;
    Ok(Json(LicenseView::new(updated, today())))
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    let id = id_param(id)?;
    let (who, now) = (actor(&user), crate::clock::now());
    if !state
        .db
        .write(move |tx| licenses::delete(tx, id, &who, now))
        .await?
    {
        return Err(AppError::not_found("license"));
    }
    tracing::info!(license_id = id, user_id = user.user.id, "license deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SeatQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

async fn seats(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<SeatQuery>, QueryRejection>,
) -> ApiResult<Json<Page<Seat>>> {
    user.require(Role::Technician)?;
    let id = id_param(id)?;
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let after = id_cursor(q.cursor.as_deref())?;
    let items = state
        .db
        .read(move |c| {
            if licenses::get(c, id)?.is_none() {
                return Ok(None);
            }
            licenses::seats(c, id, after, limit).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::not_found("license"))?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|s| s.id.to_string()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

/// A seat for exactly one of a machine or a person.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SeatBody {
    asset_id: Option<i64>,
    user_id: Option<i64>,
}

async fn assign(
    user: CurrentUser,
    State(state): State<AppState>,
    id: Result<Path<i64>, PathRejection>,
    ApiJson(b): ApiJson<SeatBody>,
) -> ApiResult<(StatusCode, Json<Seat>)> {
    user.require(Role::Admin)?;
    let id = id_param(id)?;
    let holder = match (b.asset_id, b.user_id) {
        (Some(a), None) => Holder::Asset(a),
        (None, Some(u)) => Holder::User(u),
        _ => {
            return Err(bad(
                "invalid_holder",
                "give exactly one of asset_id and user_id",
            ));
        }
    };
    let (who, now) = (actor(&user), crate::clock::now());
    let seat = state
        .db
        .write(move |tx| {
            let Some(l) = licenses::get(tx, id)? else {
                return Ok(Err(AppError::not_found("license")));
            };
            let exists = match holder {
                Holder::Asset(a) => crate::db::assets::exists(tx, a)?,
                Holder::User(u) => crate::db::users::by_id(tx, u)?.is_some_and(|u| !u.disabled),
            };
            if !exists {
                let (code, what) = match holder {
                    Holder::Asset(_) => ("invalid_asset", "asset_id names no asset"),
                    Holder::User(_) => ("invalid_user", "user_id names no active user"),
                };
                return Ok(Err(bad(code, what)));
            }
            if licenses::holds(tx, id, holder)? {
                return Ok(Err(conflict(
                    "already_assigned",
                    "this license already has a seat there",
                )));
            }
            if l.assigned >= l.seats {
                return Ok(Err(conflict(
                    "no_free_seats",
                    format!("all {} seats of this license are assigned", l.seats),
                )));
            }
            let seat_id = licenses::assign(tx, id, holder, &who, now)?;
            Ok(licenses::seat(tx, id, seat_id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok((StatusCode::CREATED, Json(seat)))
}

async fn unassign(
    user: CurrentUser,
    State(state): State<AppState>,
    ids: Result<Path<(i64, i64)>, PathRejection>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    let (id, seat_id) = path(ids).map_err(|_| bad("invalid_id", "ids are numbers"))?;
    let (who, now) = (actor(&user), crate::clock::now());
    if !state
        .db
        .write(move |tx| licenses::unassign(tx, id, seat_id, &who, now))
        .await?
    {
        return Err(AppError::not_found("seat"));
    }
    Ok(StatusCode::NO_CONTENT)
}
