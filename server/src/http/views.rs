//! `/api/v1/views`: saved ticket queries. Each user sees and runs only their own views
//! (others' are 404); a view runs as its owner would see the ticket list.

use super::ApiPath;
use super::Routes;
use super::auth::CurrentUser;
use super::tickets::{ListQuery, page};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, tickets::TicketSummary, views::SavedView};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::routing::get;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use steward_shared::Page;

/// Views per user; the list is never paged.
pub const MAX_VIEWS: u32 = 200;
/// Longest stored query string, in bytes.
pub const MAX_QUERY_LEN: usize = 2000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/views", get(list).post(create))
        .route("/api/v1/views/{id}", get(one).delete(remove))
        .route("/api/v1/views/{id}/tickets", get(tickets))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/views",
        "The caller's saved ticket views",
        Access::User,
    )
    .ok::<Page<SavedView>>();
    api.op("POST", "/api/v1/views", "Save a ticket view", Access::User)
        .body::<NewView>()
        .created::<SavedView>();
    api.op("GET", "/api/v1/views/{id}", "One saved view", Access::User)
        .ok::<SavedView>();
    api.op(
        "DELETE",
        "/api/v1/views/{id}",
        "Delete a saved view",
        Access::User,
    )
    .no_content();
    api.op(
        "GET",
        "/api/v1/views/{id}/tickets",
        "The tickets a saved view shows",
        Access::User,
    )
    .ok::<Page<TicketSummary>>();
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// Parses a URL query string (`a=1&b=x`, percent-encoded) into `T`; `Err` says why not.
fn parse_params<T: DeserializeOwned>(raw: &str) -> Result<T, String> {
    let uri: Uri = format!("/?{raw}")
        .parse()
        .map_err(|_| "the query string must be percent-encoded".to_owned())?;
    Query::<T>::try_from_uri(&uri)
        .map(|Query(v)| v)
        .map_err(|e| e.body_text())
}

/// A stored query string as a ticket-list query.
pub fn list_query(raw: &str) -> ApiResult<ListQuery> {
    parse_params(raw).map_err(|e| bad("invalid_view_query", e))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewView {
    name: String,
    /// The query string of a `/api/v1/tickets` list, with or without the leading `?`.
    query: String,
}

/// Paging through a view's tickets: these replace the stored `limit`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewPage {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<SavedView>>> {
    let uid = user.user.id;
    let items = state
        .db
        .read(move |c| db::views::list(c, uid, MAX_VIEWS))
        .await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// One of `user`'s saved views; anyone else's is not found.
pub async fn find(state: &AppState, user: &CurrentUser, id: i64) -> ApiResult<SavedView> {
    let uid = user.user.id;
    let found = state.db.read(move |c| db::views::get(c, id, uid)).await?;
    found.ok_or_else(|| AppError::not_found("view"))
}

async fn one(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SavedView>> {
    Ok(Json(find(&state, &user, id).await?))
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewView>,
) -> ApiResult<(StatusCode, Json<SavedView>)> {
    let created = create_view(&state, &user, &b.name, &b.query).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Saves `query` (a ticket-list query string) as `user`'s view called `name`, after
/// checking that it runs.
pub async fn create_view(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    query: &str,
) -> ApiResult<SavedView> {
    let name = name.trim().to_owned();
    if !(1..=100).contains(&name.chars().count()) {
        return Err(bad("invalid_name", "a view name needs 1 to 100 characters"));
    }
    let query = query.trim();
    let query = query.strip_prefix('?').unwrap_or(query).to_owned();
    if query.len() > MAX_QUERY_LEN || query.contains('#') {
        return Err(bad(
            "invalid_view_query",
            format!("the query is a ticket-list query string of at most {MAX_QUERY_LEN} bytes"),
        ));
    }
    let mut probe = list_query(&query)?;
    if probe.cursor.is_some() {
        return Err(bad(
            "invalid_view_query",
            "a view starts at the first page: leave out cursor",
        ));
    }
    // Values are checked the way the ticket list checks them (statuses, priority, sort,
    // limit), so a view that saves also runs.
    super::assets::limit(probe.limit)?;
    probe.limit = Some(1);
    page(state, user, &probe).await?;

    let now = crate::clock::now();
    let uid = user.user.id;
    state
        .db
        .write(move |tx| {
            if db::views::count(tx, uid)? >= i64::from(MAX_VIEWS) {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "too_many_views",
                    format!("you already have {MAX_VIEWS} saved views; delete some first"),
                )));
            }
            if db::views::name_taken(tx, uid, &name)? {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "view_exists",
                    format!("you already have a view called {name:?}"),
                )));
            }
            let id = db::views::insert(tx, uid, &name, &query, now)?;
            db::views::get(tx, id, uid).map(|v| v.ok_or_else(AppError::internal))
        })
        .await?
}

async fn remove(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<StatusCode> {
    let uid = user.user.id;
    let deleted = state
        .db
        .write(move |tx| db::views::delete(tx, id, uid))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found("view"))
    }
}

async fn tickets(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    uri: Uri,
) -> ApiResult<Json<Page<TicketSummary>>> {
    let paging: ViewPage =
        parse_params(uri.query().unwrap_or_default()).map_err(|e| bad("invalid_query", e))?;
    let view = find(&state, &user, id).await?;
    let mut q = list_query(&view.query)?;
    if paging.limit.is_some() {
        q.limit = paging.limit;
    }
    q.cursor = paging.cursor;
    Ok(Json(page(&state, &user, &q).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_queries_parse_like_the_ticket_list() {
        let q = list_query("status=open,pending&priority=high&q=printer%20jam").expect("parses");
        assert_eq!(q.status.as_deref(), Some("open,pending"));
        assert_eq!(q.priority.as_deref(), Some("high"));
        assert_eq!(q.q.as_deref(), Some("printer jam"));
        assert!(list_query("").is_ok(), "the default queue");
    }

    #[test]
    fn bad_queries_are_refused_with_a_code() {
        for raw in ["colour=red", "group=abc", "limit=-1", "q=two words"] {
            let e = list_query(raw).expect_err(raw);
            assert_eq!(e.code, "invalid_view_query", "{raw}");
        }
    }
}
