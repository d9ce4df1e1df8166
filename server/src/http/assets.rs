//! `/api/v1/assets`: the fleet, one asset, its software and its history.

use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiPath, ApiQuery};
use super::{ApiResult, AppError, AppState};
use crate::db::assets::{
    self, AssetDetail, AssetFilter, AssetSummary, HistoryEntry, InstalledSoftware,
};
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use steward_shared::Page;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/assets", get(list))
        .route("/api/v1/assets/{id}", get(detail))
        .route("/api/v1/assets/{id}/software", get(software))
        .route("/api/v1/assets/{id}/history", get(history))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/assets",
        "List and search assets",
        Access::Staff,
    )
    .query::<ListQuery>()
    .ok::<Page<AssetSummary>>();
    api.op(
        "GET",
        "/api/v1/assets/{id}",
        "One asset with its inventory",
        Access::Staff,
    )
    .ok::<FullAsset>();
    api.op(
        "GET",
        "/api/v1/assets/{id}/software",
        "An asset's installed software",
        Access::Staff,
    )
    .query::<SoftwareQuery>()
    .ok::<Page<InstalledSoftware>>();
    api.op(
        "GET",
        "/api/v1/assets/{id}/history",
        "An asset's change history",
        Access::Staff,
    )
    .query::<HistoryQuery>()
    .ok::<Page<HistoryEntry>>();
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

pub fn id_cursor(c: Option<&str>) -> ApiResult<Option<i64>> {
    c.filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                AppError::bad_request("invalid_cursor", "cursor must come from next_cursor")
            })
        })
        .transpose()
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub q: Option<String>,
    pub kind: Option<String>,
    pub vendor: Option<String>,
    pub os: Option<String>,
    /// A location id; the places below it count too.
    pub location: Option<i64>,
    /// A state id.
    pub state: Option<i64>,
    pub criticality: Option<String>,
    pub tag: Option<String>,
    /// Checked out to this user id.
    pub user: Option<i64>,
    /// Only assets whose audit is overdue.
    pub audit_due: Option<bool>,
    /// Warranty ending by this date (YYYY-MM-DD).
    pub warranty_before: Option<String>,
    /// Leave out retired and disposed assets.
    pub active: Option<bool>,
    /// `key:value` on a custom field (with `kind`).
    pub field: Option<String>,
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
        let bad = |code, m: &str| Err(AppError::bad_request(code, m));
        if let Some(d) = &self.warranty_before
            && crate::domain::assets::parse_date(d).is_err()
        {
            return bad("invalid_date", "warranty_before is a date like 2026-12-31");
        }
        let field = match self.field.as_deref().filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => match f.split_once(':') {
                Some((k, v)) if crate::domain::assets::valid_key(k) && self.kind.is_some() => {
                    Some((k.to_owned(), v.to_owned()))
                }
                _ => {
                    return bad(
                        "invalid_field",
                        "field is key:value on a custom field, with kind=",
                    );
                }
            },
        };
        Ok(AssetFilter {
            q: nonempty(&self.q),
            kind: nonempty(&self.kind),
            vendor: nonempty(&self.vendor),
            os: nonempty(&self.os),
            criticality: nonempty(&self.criticality),
            asset_tag: nonempty(&self.tag),
            state_id: self.state,
            user_id: self.user,
            audit_due_before: self.audit_due.filter(|d| *d).map(|_| crate::clock::now()),
            warranty_before: nonempty(&self.warranty_before),
            active_only: self.active.unwrap_or(false),
            field,
            locations: Vec::new(),
        })
    }
}

/// One page of assets and the cursor for the next.
pub async fn list_page(state: &AppState, q: &ListQuery) -> ApiResult<Page<AssetSummary>> {
    let limit = limit(q.limit)?;
    let after = id_cursor(q.cursor.as_deref())?;
    let mut filter = q.filter()?;
    let location = q.location;
    let items = state
        .db
        .read(move |c| {
            if let Some(l) = location {
                filter.locations = crate::db::locations::subtree_ids(c, l)?;
            }
            assets::list(c, &filter, after, limit)
        })
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Page { items, next_cursor })
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<AssetSummary>>> {
    staff_only(&user)?;
    Ok(Json(list_page(&state, &q).await?))
}

/// Everything about an asset: what agents report, its record, where it is, who holds
/// it, what it is worth, and its open alerts.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct FullAsset {
    #[serde(flatten)]
    pub asset: AssetDetail,
    #[serde(flatten)]
    pub record: crate::db::asset_records::Record,
    pub location: Option<crate::db::locations::Location>,
    pub checkout: Option<crate::db::checkouts::Checkout>,
    /// Straight-line value today, when cost, purchase date and life are known.
    pub book_value_cents: Option<i64>,
    /// The page its QR label opens, relative to the server.
    pub public_path: Option<String>,
    pub alerts: Vec<crate::db::alerts::Alert>,
}

/// The whole asset `id`, or 404.
pub async fn full_asset(state: &AppState, id: i64) -> ApiResult<FullAsset> {
    let today = chrono::DateTime::from_timestamp(crate::clock::now(), 0)
        .unwrap_or_default()
        .date_naive();
    let found = state
        .db
        .read(move |c| {
            let (Some(asset), Some(record)) = (
                assets::get(c, id)?,
                crate::db::asset_records::record(c, id)?,
            ) else {
                return Ok(None);
            };
            let location = match record.location_id {
                Some(l) => crate::db::locations::get(c, l)?,
                None => None,
            };
            let checkout = crate::db::checkouts::open(c, id)?;
            let token = crate::db::asset_records::public_token(c, id)?;
            let alerts = crate::db::alerts::list(c, true, Some(id), None, 100)?;
            let book_value_cents = match (
                &record.purchase_date,
                record.purchase_cost_cents,
                record.expected_life_months,
            ) {
                (Some(d), Some(cost), Some(life)) => crate::domain::assets::parse_date(d)
                    .ok()
                    .map(|d| crate::domain::assets::book_value_cents(cost, d, life, today)),
                _ => None,
            };
            Ok(Some(FullAsset {
                asset,
                record,
                location,
                checkout,
                book_value_cents,
                public_path: token.map(|t| format!("/p/{t}")),
                alerts,
            }))
        })
        .await?;
    found.ok_or_else(|| AppError::not_found("asset"))
}

async fn detail(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<FullAsset>> {
    staff_only(&user)?;
    Ok(Json(full_asset(&state, id).await?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
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
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SoftwareQuery>,
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
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
