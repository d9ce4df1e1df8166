//! `/api/v1/locations`: sites, buildings, floors and rooms, and what should be in each.
//! Staff read them; admins create, rename and delete them.

use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::{self, assets::AssetSummary, locations::Location};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/locations", get(list).post(create))
        .route(
            "/api/v1/locations/{id}",
            get(one).patch(update).delete(remove),
        )
        .route("/api/v1/locations/{id}/assets", get(contents))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("GET", "/api/v1/locations", "List locations", Access::Staff)
        .ok::<Page<Location>>();
    api.op(
        "POST",
        "/api/v1/locations",
        "Create a location",
        Access::Admin,
    )
    .body::<NewLocation>()
    .created::<Location>();
    api.op(
        "GET",
        "/api/v1/locations/{id}",
        "One location",
        Access::Staff,
    )
    .ok::<Location>();
    api.op(
        "PATCH",
        "/api/v1/locations/{id}",
        "Change a location",
        Access::Admin,
    )
    .body::<LocationPatch>()
    .ok::<Location>();
    api.op(
        "DELETE",
        "/api/v1/locations/{id}",
        "Delete an empty location",
        Access::Admin,
    )
    .no_content();
    api.op(
        "GET",
        "/api/v1/locations/{id}/assets",
        "What is at a location",
        Access::Staff,
    )
    .query::<ContentsQuery>()
    .ok::<Contents>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

async fn list(user: CurrentUser, State(state): State<AppState>) -> ApiResult<Json<Page<Location>>> {
    staff_only(&user)?;
    let items = state
        .db
        .read(|c| db::locations::list(c, db::locations::MAX_LOCATIONS))
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Location>> {
    staff_only(&user)?;
    let found = state.db.read(move |c| db::locations::get(c, id)).await?;
    found
        .map(Json)
        .ok_or_else(|| AppError::not_found("location"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewLocation {
    /// Absent for a site.
    parent_id: Option<i64>,
    name: String,
    /// A site's IANA time zone (default UTC); places below a site use the site's.
    timezone: Option<String>,
    #[serde(default)]
    address: String,
}

fn check_name(name: &str) -> ApiResult<String> {
    let n = name.trim();
    if !(1..=100).contains(&n.chars().count()) || n.contains('/') {
        return Err(bad(
            "invalid_name",
            "a location name needs 1 to 100 characters, without /",
        ));
    }
    Ok(n.to_owned())
}

fn check_tz(tz: &str) -> ApiResult<()> {
    tz.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        bad(
            "invalid_timezone",
            format!("{tz:?} is not an IANA time zone like Europe/Berlin"),
        )
    })
}

/// Creates a place under `parent` (a site when `None`); the caller checked the role.
pub async fn create_location(
    state: &AppState,
    parent: Option<i64>,
    name: &str,
    timezone: Option<String>,
    address: String,
) -> ApiResult<Location> {
    let name = check_name(name)?;
    if address.chars().count() > 500 {
        return Err(bad(
            "invalid_address",
            "the address is at most 500 characters",
        ));
    }
    if let Some(tz) = &timezone {
        if parent.is_some() {
            return Err(bad(
                "invalid_timezone",
                "only a site has a time zone; the places in it use the site's",
            ));
        }
        check_tz(tz)?;
    }
    let now = crate::clock::now();
    state
        .db
        .write(move |tx| {
            let kind = match parent {
                None => "site",
                Some(p) => match db::locations::get(tx, p)?
                    .and_then(|l| db::locations::child_kind(&l.kind))
                {
                    Some(k) => k,
                    None => {
                        return Ok(Err(bad(
                            "invalid_parent",
                            "the parent must be an existing site, building or floor",
                        )));
                    }
                },
            };
            if db::locations::id_by_name(tx, parent, &name)?.is_some() {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "location_exists",
                    format!("{name:?} already exists there"),
                )));
            }
            let tz = (kind == "site").then(|| timezone.unwrap_or_else(|| "UTC".into()));
            let id = db::locations::insert(tx, parent, kind, &name, tz.as_deref(), &address, now)?;
            Ok(db::locations::get(tx, id)?.ok_or_else(AppError::internal))
        })
        .await?
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewLocation>,
) -> ApiResult<(StatusCode, Json<Location>)> {
    user.require(Role::Admin)?;
    let l = create_location(&state, b.parent_id, &b.name, b.timezone, b.address).await?;
    Ok((StatusCode::CREATED, Json(l)))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct LocationPatch {
    name: Option<String>,
    timezone: Option<String>,
    address: Option<String>,
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<LocationPatch>,
) -> ApiResult<Json<Location>> {
    user.require(Role::Admin)?;
    let name = b.name.as_deref().map(check_name).transpose()?;
    if let Some(tz) = &b.timezone {
        check_tz(tz)?;
    }
    if b.address.as_ref().is_some_and(|a| a.chars().count() > 500) {
        return Err(bad(
            "invalid_address",
            "the address is at most 500 characters",
        ));
    }
    let updated = state
        .db
        .write(move |tx| {
            let Some(cur) = db::locations::get(tx, id)? else {
                return Ok(Err(AppError::not_found("location")));
            };
            if b.timezone.is_some() && cur.kind != "site" {
                return Ok(Err(bad("invalid_timezone", "only a site has a time zone")));
            }
            if let Some(n) = &name
                && db::locations::id_by_name(tx, cur.parent_id, n)?.is_some_and(|o| o != id)
            {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "location_exists",
                    format!("{n:?} already exists there"),
                )));
            }
            db::locations::update(
                tx,
                id,
                name.as_deref(),
                b.timezone.as_deref(),
                b.address.as_deref(),
            )?;
            Ok(db::locations::get(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    Ok(Json(updated))
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    state
        .db
        .write(move |tx| {
            if db::locations::get(tx, id)?.is_none() {
                return Ok(Err(AppError::not_found("location")));
            }
            let (places, assets, people) = db::locations::usage(tx, id)?;
            if places + assets + people > 0 {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "location_in_use",
                    format!("{places} places, {assets} assets and {people} people are here; move them first"),
                )));
            }
            db::locations::delete(tx, id)?;
            Ok(Ok(StatusCode::NO_CONTENT))
        })
        .await?
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ContentsQuery {
    /// Also the places below this one.
    below: Option<bool>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// A room page: the assets that should be here (not archived), and the people based here.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Contents {
    pub location: Location,
    pub items: Vec<AssetSummary>,
    pub next_cursor: Option<String>,
    /// People based here (the first 500; `GET /api/v1/users?location=` pages them all).
    pub people: Vec<db::users::User>,
}

async fn contents(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ContentsQuery>,
) -> ApiResult<Json<Contents>> {
    staff_only(&user)?;
    let limit = super::assets::limit(q.limit)?;
    let after = super::assets::id_cursor(q.cursor.as_deref())?;
    let below = q.below.unwrap_or(false);
    let found = state
        .db
        .read(move |c| {
            let Some(location) = db::locations::get(c, id)? else {
                return Ok(None);
            };
            let places = if below {
                db::locations::subtree_ids(c, id)?
            } else {
                vec![id]
            };
            let filter = db::assets::AssetFilter {
                locations: places,
                active_only: true,
                ..Default::default()
            };
            let items = db::assets::list(c, &filter, after, limit)?;
            let people = db::users::list(c, None, None, &filter.locations, 0, 500)?;
            Ok(Some((location, items, people)))
        })
        .await?;
    let (location, items, people) = found.ok_or_else(|| AppError::not_found("location"))?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Json(Contents {
        location,
        items,
        next_cursor,
        people,
    }))
}
