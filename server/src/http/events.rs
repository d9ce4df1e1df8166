//! `GET /api/v1/events`: the event log as a replayable feed for staff. Oldest first after
//! the cursor; `next_cursor` is always set (the last event read, or the cursor given when
//! there was nothing new), so a consumer can keep polling with it.

use super::ApiQuery;
use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::db::{self, events::Event};
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new().route("/api/v1/events", get(list))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/events",
        "The event log (webhook source)",
        Access::Staff,
    )
    .query::<EventQuery>()
    .ok::<Page<Event>>();
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// The last event id seen (`next_cursor` of the previous page); absent: from the start.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
    /// Comma-separated kinds, e.g. `ticket.created,sla.breached`.
    pub kind: Option<String>,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> ApiResult<Json<Page<Event>>> {
    staff_only(&user)?;
    let limit = super::assets::limit(q.limit)?;
    let cursor = match q.cursor.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|c| *c >= 0).ok_or_else(|| {
            AppError::bad_request("invalid_cursor", "cursor must come from next_cursor")
        })?,
    };
    let kinds: Vec<String> = match q.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        None => Vec::new(),
        Some(list) => {
            let asked: Vec<String> = list.split(',').map(|k| k.trim().to_owned()).collect();
            crate::events::parse_kinds(&asked)
                .map_err(|e| AppError::bad_request("invalid_kind", e))?
                .unwrap_or_default()
        }
    };
    let (items, newest) = state
        .db
        .read(move |c| db::events::page_after(c, cursor, &kinds, limit))
        .await?;
    // A short page read everything there is (of these kinds): resume after the newest
    // event, so a filtered poll does not rescan what it skipped.
    let next = match items.last() {
        Some(e) if items.len() == limit as usize => e.id,
        _ => newest.max(cursor),
    };
    Ok(Json(Page {
        items,
        next_cursor: Some(next.to_string()),
    }))
}
