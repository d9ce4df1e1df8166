//! `/api/v1/software`: the fleet's software catalog. Titles with install counts, a title's
//! versions, the machines that have it in a range of versions, and its installs and
//! removals per day. Technicians and admins only. Licenses are in `licenses.rs`.

use super::Routes;
use super::auth::CurrentUser;
use super::{ApiResult, AppError, AppState};
use crate::db::software::{self, DAY, Holder, Title, VersionCount};
use crate::domain::roles::Role;
use crate::domain::versions::{self, Range};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use steward_shared::Page;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;
/// Longest software title accepted in a path or a license.
pub const MAX_TITLE_LEN: usize = 512;
/// Longest `q=`.
pub const MAX_QUERY_LEN: usize = 200;
pub const DEFAULT_DAYS: i64 = 30;
pub const MAX_DAYS: i64 = 366;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/software", get(list))
        .route("/api/v1/software/{name}/versions", get(versions_of))
        .route("/api/v1/software/{name}/assets", get(holders))
        .route("/api/v1/software/{name}/history", get(history))
        .merge(super::licenses::router())
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/software",
        "The fleet's software catalog",
        Access::Staff,
    )
    .query::<ListQuery>()
    .ok::<Page<Title>>();
    api.op(
        "GET",
        "/api/v1/software/{name}/versions",
        "Versions of a title and their counts",
        Access::Staff,
    )
    .query::<PageQuery>()
    .ok::<Page<VersionCount>>();
    api.op(
        "GET",
        "/api/v1/software/{name}/assets",
        "Machines that have a title",
        Access::Staff,
    )
    .query::<HoldersQuery>()
    .ok::<HoldersPage>();
    api.op(
        "GET",
        "/api/v1/software/{name}/history",
        "Installs and removals of a title over time",
        Access::Staff,
    )
    .query::<HistoryQuery>()
    .ok::<HistoryView>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// The query string, or 400 `invalid_query` naming what is wrong (unknown parameters too).
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(t)| t)
        .map_err(|r| bad("invalid_query", r.body_text()))
}

/// The path parameters, or 400 `invalid_path`.
pub fn path<T>(p: Result<Path<T>, PathRejection>) -> ApiResult<T> {
    p.map(|Path(t)| t)
        .map_err(|r| bad("invalid_path", r.body_text()))
}

/// `?limit=`: absent or empty means the default.
pub fn limit(l: Option<&str>) -> ApiResult<u32> {
    match l.filter(|s| !s.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(s) => match s.parse::<u32>() {
            Ok(n @ 1..=MAX_LIMIT) => Ok(n),
            _ => Err(bad(
                "invalid_limit",
                format!("limit must be a number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// Cursors are the hex of the last item's sort key as JSON.
pub fn encode_cursor<T: Serialize>(key: &T) -> String {
    hex::encode(serde_json::to_vec(key).unwrap_or_default())
}

/// The key in a `?cursor=` from [`encode_cursor`]; absent or empty means the start.
pub fn decode_cursor<T: DeserializeOwned>(c: Option<&str>) -> ApiResult<Option<T>> {
    c.filter(|s| !s.is_empty())
        .map(|s| {
            hex::decode(s)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| bad("invalid_cursor", "cursor must come from next_cursor"))
        })
        .transpose()
}

/// A software title as agents report it: matched exactly, so not trimmed.
pub fn check_title(name: &str) -> ApiResult<&str> {
    if name.trim().is_empty() || name.len() > MAX_TITLE_LEN || name.chars().any(char::is_control) {
        return Err(bad(
            "invalid_name",
            format!(
                "a software title has 1 to {MAX_TITLE_LEN} bytes, not only spaces, and no control characters"
            ),
        ));
    }
    Ok(name)
}

/// `?q=`: at most [`MAX_QUERY_LEN`] characters; blank means none.
pub fn search(q: Option<String>) -> ApiResult<Option<String>> {
    if q.as_ref()
        .is_some_and(|q| q.chars().count() > MAX_QUERY_LEN)
    {
        return Err(bad(
            "invalid_query",
            format!("q is limited to {MAX_QUERY_LEN} characters"),
        ));
    }
    Ok(q.filter(|s| !s.trim().is_empty()))
}

fn no_title(name: &str) -> AppError {
    AppError::not_found(&format!("software {name:?}"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// Titles by name, with the machines that have each and how many versions.
async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Json<Page<Title>>> {
    user.require(Role::Technician)?;
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let after: Option<String> = decode_cursor(q.cursor.as_deref())?;
    let search = search(q.q)?;
    let items = state
        .db
        .read(move |c| software::titles(c, search.as_deref(), after.as_deref(), limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|t| encode_cursor(&t.name)))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<String>,
    cursor: Option<String>,
}

/// A title's versions with their installs, newest first.
async fn versions_of(
    user: CurrentUser,
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> ApiResult<Json<Page<VersionCount>>> {
    user.require(Role::Technician)?;
    let name = path(name)?;
    check_title(&name)?;
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let after: Option<String> = decode_cursor(q.cursor.as_deref())?;
    let all = {
        let name = name.clone();
        state.db.read(move |c| software::versions(c, &name)).await?
    };
    if all.is_empty() {
        return Err(no_title(&name));
    }
    // Newest first: the next page holds the versions below the cursor.
    let items: Vec<VersionCount> = all
        .into_iter()
        .filter(|v| {
            after
                .as_deref()
                .is_none_or(|a| versions::compare_total(&v.version, a) == Ordering::Less)
        })
        .take(limit as usize + 1)
        .collect();
    Ok(Json(page(items, limit, |v| encode_cursor(&v.version))))
}

/// The first `limit` of `items` (fetched one over) and the cursor after them if more exist.
fn page<T>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(key)).flatten();
    Page { items, next_cursor }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct HoldersQuery {
    below: Option<String>,
    at_or_above: Option<String>,
    version: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// A page of the machines that have a title in the asked versions.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HoldersPage {
    pub name: String,
    /// The versions that match, newest first, with their installs.
    pub versions: Vec<VersionCount>,
    /// The matching versions' installs added up (a machine with two of them counts twice).
    pub installs: i64,
    pub items: Vec<Holder>,
    pub next_cursor: Option<String>,
}

fn bound(param: &'static str, v: Option<String>) -> ApiResult<Option<String>> {
    v.map(|v| {
        versions::check(&v)
            .map(str::to_owned)
            .map_err(|e| bad("invalid_version", format!("{param}: {e}")))
    })
    .transpose()
}

/// "Which machines have openssl below 3.0": the title's distinct versions are compared
/// here, then each matching version's machines read from the index.
async fn holders(
    user: CurrentUser,
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<HoldersQuery>, QueryRejection>,
) -> ApiResult<Json<HoldersPage>> {
    user.require(Role::Technician)?;
    let name = path(name)?;
    check_title(&name)?;
    let q = query(q)?;
    let limit = limit(q.limit.as_deref())?;
    let after: Option<(i64, String)> = decode_cursor(q.cursor.as_deref())?;
    let range = Range::new(
        bound("below", q.below)?,
        bound("at_or_above", q.at_or_above)?,
        bound("version", q.version)?,
    )
    .map_err(|e| bad("invalid_range", e))?;
    let found = {
        let name = name.clone();
        state
            .db
            .read(move |c| {
                let all = software::versions(c, &name)?;
                if all.is_empty() {
                    return Ok(None);
                }
                let matching: Vec<VersionCount> = all
                    .into_iter()
                    .filter(|v| range.contains(&v.version))
                    .collect();
                let keys: Vec<String> = matching.iter().map(|v| v.version.clone()).collect();
                let after = after.as_ref().map(|(a, v)| (*a, v.as_str()));
                let items = software::holders(c, &name, &keys, after, limit + 1)?;
                Ok(Some((matching, items)))
            })
            .await?
    };
    let (matching, items) = found.ok_or_else(|| no_title(&name))?;
    let Page { items, next_cursor } = page(items, limit, |h| {
        encode_cursor(&(h.asset_id, h.version.as_str()))
    });
    Ok(Json(HoldersPage {
        installs: matching.iter().map(|v| v.installs).sum(),
        name,
        versions: matching,
        items,
        next_cursor,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    days: Option<String>,
}

/// One day of a title's history.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct DayView {
    /// `YYYY-MM-DD`, UTC.
    pub date: String,
    pub installed: i64,
    pub removed: i64,
    pub upgraded: i64,
    pub downgraded: i64,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct HistoryView {
    pub name: String,
    pub from: String,
    pub to: String,
    /// Every day from `from` to `to`, oldest first.
    pub items: Vec<DayView>,
}

fn date(day: i64) -> String {
    chrono::DateTime::from_timestamp(day.saturating_mul(DAY), 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

/// Installs, removals, upgrades and downgrades of a title per UTC day, for the last
/// `days` days (today included).
async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<Json<HistoryView>> {
    user.require(Role::Technician)?;
    let name = path(name)?;
    check_title(&name)?;
    let q = query(q)?;
    let days = match q.days.as_deref().filter(|s| !s.is_empty()) {
        None => DEFAULT_DAYS,
        Some(s) => match s.parse::<i64>() {
            Ok(n @ 1..=MAX_DAYS) => n,
            _ => {
                return Err(bad(
                    "invalid_days",
                    format!("days must be a number from 1 to {MAX_DAYS}"),
                ));
            }
        },
    };
    let to = crate::clock::now().div_euclid(DAY);
    let from = to - days + 1;
    let rows = {
        let name = name.clone();
        state
            .db
            .read(move |c| {
                if !software::known(c, &name)? {
                    return Ok(None);
                }
                software::history(c, &name, from, to).map(Some)
            })
            .await?
    };
    let rows = rows.ok_or_else(|| no_title(&name))?;
    Ok(Json(HistoryView {
        name,
        from: date(from),
        to: date(to),
        items: rows
            .into_iter()
            .map(|d| DayView {
                date: date(d.day),
                installed: d.installed,
                removed: d.removed,
                upgraded: d.upgraded,
                downgraded: d.downgraded,
            })
            .collect(),
    }))
}
