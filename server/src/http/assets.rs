//! `/api/v1/assets`: the fleet, one asset, its software and its history.

use super::auth::{CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::db::assets::{
    self, AssetDetail, AssetFilter, AssetSummary, HistoryEntry, InstalledSoftware,
};
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use steward_shared::Page;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assets", get(list))
        .route("/api/v1/assets/{id}", get(detail))
        .route("/api/v1/assets/{id}/software", get(software))
        .route("/api/v1/assets/{id}/history", get(history))
}

/// Checks `?limit=`; absent means the default.
pub fn limit(l: Option<u32>) -> ApiResult<u32> {
    match l.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(AppError::bad_request(
            "invalid_limit",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

fn id_cursor(c: Option<&str>) -> ApiResult<Option<i64>> {
    c.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                AppError::bad_request("invalid_cursor", "cursor must come from next_cursor")
            })
        })
        .transpose()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub q: Option<String>,
    pub kind: Option<String>,
    pub vendor: Option<String>,
    pub os: Option<String>,
}

impl ListQuery {
    pub fn filter(&self) -> ApiResult<AssetFilter> {
        if self.q.as_ref().is_some_and(|q| q.len() > 200) {
            return Err(AppError::bad_request(
                "invalid_query",
                "q is limited to 200 characters",
            ));
        }
        let nonempty = |o: &Option<String>| o.clone().filter(|s| !s.trim().is_empty());
        Ok(AssetFilter {
            q: nonempty(&self.q),
            kind: nonempty(&self.kind),
            vendor: nonempty(&self.vendor),
            os: nonempty(&self.os),
        })
    }
}

/// One page of assets and the cursor for the next.
pub async fn list_page(state: &AppState, q: &ListQuery) -> ApiResult<Page<AssetSummary>> {
    let limit = limit(q.limit)?;
    let after = id_cursor(q.cursor.as_deref())?;
    let filter = q.filter()?;
    let items = state
        .db
        .read(move |c| assets::list(c, &filter, after, limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Page { items, next_cursor })
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<AssetSummary>>> {
    staff_only(&user)?;
    Ok(Json(list_page(&state, &q).await?))
}

/// An asset with its open alerts.
#[derive(Debug, serde::Serialize)]
pub struct AssetWithAlerts {
    #[serde(flatten)]
    pub asset: AssetDetail,
    pub alerts: Vec<crate::db::alerts::Alert>,
}

async fn detail(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<AssetWithAlerts>> {
    staff_only(&user)?;
    let found = state
        .db
        .read(move |c| {
            let Some(asset) = assets::get(c, id)? else {
                return Ok(None);
            };
            let alerts = crate::db::alerts::list(c, true, Some(id), None, 100)?;
            Ok(Some(AssetWithAlerts { asset, alerts }))
        })
        .await?;
    found.map(Json).ok_or_else(|| AppError::not_found("asset"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SoftwareQuery {
    limit: Option<u32>,
    cursor: Option<String>,
    q: Option<String>,
}

/// Software cursors are the hex of the last row's sort key as JSON.
fn software_cursor(s: &InstalledSoftware) -> String {
    let key = [&s.name, &s.arch, &s.version, &s.source];
    hex::encode(serde_json::to_vec(&key).unwrap_or_default())
}

fn parse_software_cursor(c: &str) -> ApiResult<[String; 4]> {
    hex::decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| AppError::bad_request("invalid_cursor", "cursor must come from next_cursor"))
}

async fn software(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<SoftwareQuery>,
) -> ApiResult<Json<Page<InstalledSoftware>>> {
    staff_only(&user)?;
    let limit = limit(q.limit)?;
    let after = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(parse_software_cursor)
        .transpose()?;
    let search = q.q.filter(|s| !s.trim().is_empty());
    let items = state
        .db
        .read(move |c| {
            if !assets::exists(c, id)? {
                return Ok(None);
            }
            assets::software(c, id, search.as_deref(), after.as_ref(), limit).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::not_found("asset"))?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(software_cursor))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<HistoryQuery>,
) -> ApiResult<Json<Page<HistoryEntry>>> {
    staff_only(&user)?;
    let limit = limit(q.limit)?;
    let before = id_cursor(q.cursor.as_deref())?;
    let items = state
        .db
        .read(move |c| {
            if !assets::exists(c, id)? {
                return Ok(None);
            }
            assets::history(c, id, before, limit).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::not_found("asset"))?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|h| h.id.to_string()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}
