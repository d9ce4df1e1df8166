//! `/api/v1/alerts`: what needs attention across the fleet.

use super::ApiQuery;
use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::db::alerts::{self, Alert};
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new().route("/api/v1/alerts", get(list))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("GET", "/api/v1/alerts", "List alerts", Access::Staff)
        .query::<AlertQuery>()
        .ok::<Page<Alert>>();
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// `open` (default) or `resolved`.
    pub state: Option<String>,
    pub asset_id: Option<i64>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub async fn page(state: &AppState, q: &AlertQuery) -> ApiResult<Page<Alert>> {
    let open = match q.state.as_deref() {
        None | Some("") | Some("open") => true,
        Some("resolved") => false,
        Some(_) => {
            return Err(AppError::bad_request(
                "invalid_state",
                "state must be open or resolved",
            ));
        }
    };
    let limit = super::assets::limit(q.limit)?;
    let before = q
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(|c| {
            c.parse::<i64>().map_err(|_| {
                AppError::bad_request("invalid_cursor", "cursor must come from next_cursor")
            })
        })
        .transpose()?;
    let asset_id = q.asset_id;
    let items = state
        .db
        .read(move |c| alerts::list(c, open, asset_id, before, limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.to_string()))
        .flatten();
    Ok(Page { items, next_cursor })
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AlertQuery>,
) -> ApiResult<Json<Page<Alert>>> {
    staff_only(&user)?;
    Ok(Json(page(&state, &q).await?))
}
