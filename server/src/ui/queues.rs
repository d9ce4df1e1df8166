//! Ticket lists: the technician's queues (built-in views with live counts, and their own
//! saved views), the employee's requests, search, and saving a list as a view.

use super::format::{ago, url_encode};
use super::tickets::{due_text, priority_name, refused};
use super::{Nav, UiUser, render};
use crate::db;
use crate::http::Routes;
use crate::http::tickets::page;
use crate::http::views::{MAX_VIEWS, create_view, find, list_query};
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/tickets", get(list))
        .route("/tickets/views", post(save_view))
        .route("/tickets/views/{id}/delete", post(delete_view))
}

/// The built-in queues: (key, label, the ticket-list query string for staff).
const STAFF_VIEWS: &[(&str, &str, &str)] = &[
    ("open", "All open", "sort=priority"),
    ("mine", "Mine", "assignee=me&sort=priority"),
    ("unassigned", "Unassigned", "unassigned=true&sort=priority"),
    ("breached", "Breached", "breached=true&sort=priority"),
    ("resolved", "Resolved", "status=resolved,closed"),
    ("all", "Everything", "status=all"),
];

/// `base` (a ticket-list query string) without a cursor, and with its search replaced by
/// `q` when one was typed (`Some("")` clears it).
fn with_search(base: &str, q: Option<&str>) -> String {
    let mut parts: Vec<String> = base
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("cursor="))
        .filter(|p| q.is_none() || !p.starts_with("q="))
        .map(str::to_owned)
        .collect();
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        parts.push(format!("q={}", url_encode(q)));
    }
    parts.join("&")
}

pub struct ViewLink {
    pub label: String,
    pub url: String,
    pub active: bool,
    pub count: Option<i64>,
}

/// A saved view in the list, with the form to delete it.
pub struct SavedLink {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub active: bool,
}

pub struct Row {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub priority: &'static str,
    pub requester: String,
    pub assignee: String,
    pub due: String,
    pub breached: bool,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "tickets.html")]
struct ListPage {
    nav: Option<Nav>,
    staff: bool,
    /// The hidden fields that keep the search in this list.
    view: String,
    saved_id: Option<i64>,
    views: Vec<ViewLink>,
    saved: Vec<SavedLink>,
    /// What "Save as view" saves: this list's query string.
    current_query: String,
    /// The heading of a saved view.
    title: String,
    q: String,
    rows: Vec<Row>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
struct ListParams {
    view: Option<String>,
    saved: Option<i64>,
    q: Option<String>,
    cursor: Option<String>,
}

async fn list(
    user: UiUser,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> Response {
    let staff = user.0.user.role.is_staff();
    let qtext = p.q.clone().unwrap_or_default();
    let uid = user.0.user.id;
    let saved_views = if staff {
        match state
            .db
            .read(move |c| db::views::list(c, uid, MAX_VIEWS))
            .await
        {
            Ok(v) => v,
            Err(e) => return refused(&user, e.into()),
        }
    } else {
        Vec::new()
    };
    // Which list: one of the user's saved views, or a built-in one.
    let (view, base, title, here) = match p.saved {
        Some(id) => match find(&state, &user.0, id).await {
            Ok(v) => (String::new(), v.query, v.name, format!("saved={id}")),
            Err(e) => return refused(&user, e),
        },
        None => {
            let default = if staff { "open" } else { "all" };
            let key = p.view.clone().filter(|v| !v.is_empty());
            let key = key.as_deref().unwrap_or(default);
            let base = match (staff, STAFF_VIEWS.iter().find(|v| v.0 == key)) {
                (true, Some(v)) => v.2,
                (true, None) => STAFF_VIEWS[0].2,
                (false, _) if key == "all" => "status=all",
                (false, _) => "",
            };
            (
                key.to_owned(),
                base.to_owned(),
                String::new(),
                format!("view={key}"),
            )
        }
    };
    let current_query = with_search(&base, p.q.as_deref());
    let mut q = match list_query(&current_query) {
        Ok(q) => q,
        Err(e) => return refused(&user, e),
    };
    q.cursor = p.cursor.clone();
    let result = match page(&state, &user.0, &q).await {
        Ok(r) => r,
        Err(e) => return refused(&user, e),
    };
    let counts = if staff {
        state.db.read(db::tickets::counts).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    let count = |key: &str| counts.iter().find(|(k, _)| k == key).map(|(_, n)| *n);
    let open: i64 = ["status:new", "status:open", "status:pending"]
        .iter()
        .filter_map(|k| count(k))
        .sum();
    let me = format!("assignee:{uid}");
    let views = STAFF_VIEWS
        .iter()
        .map(|&(key, label, _)| ViewLink {
            label: label.to_owned(),
            url: format!("/tickets?view={key}"),
            active: p.saved.is_none() && key == view,
            count: match key {
                "open" => Some(open),
                "mine" => Some(count(&me).unwrap_or(0)),
                "unassigned" => Some(count("unassigned").unwrap_or(0)),
                _ => None,
            },
        })
        .collect();
    let saved = saved_views
        .into_iter()
        .map(|v| SavedLink {
            url: format!("/tickets?saved={}", v.id),
            active: p.saved == Some(v.id),
            id: v.id,
            name: v.name,
        })
        .collect();
    let now = crate::clock::now();
    let next_url = result
        .next_cursor
        .map(|c| format!("/tickets?{here}&q={}&cursor={c}", url_encode(&qtext)));
    let rows = result
        .items
        .into_iter()
        .map(|t| Row {
            id: t.id,
            title: t.title,
            status: t.status,
            priority: priority_name(t.priority),
            requester: t.requester.name,
            assignee: t.assignee.map(|a| a.name).unwrap_or_default(),
            due: due_text(t.resolution_due_at, now),
            breached: t.breached_at.is_some() || t.resolution_due_at.is_some_and(|d| d < now),
            updated: ago(Some(t.updated_at), now),
        })
        .collect();
    render(&ListPage {
        nav: user.nav("tickets"),
        staff,
        view,
        saved_id: p.saved,
        views,
        saved,
        current_query,
        title,
        q: qtext,
        rows,
        next_url,
    })
}

#[derive(Deserialize)]
struct SaveForm {
    csrf: String,
    name: String,
    query: String,
}

/// Saves the list on screen as one of the user's views and opens it.
async fn save_view(
    user: UiUser,
    State(state): State<AppState>,
    Form(f): Form<SaveForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    match create_view(&state, &user.0, &f.name, &f.query).await {
        Ok(v) => Redirect::to(&format!("/tickets?saved={}", v.id)).into_response(),
        Err(e) => refused(&user, e),
    }
}

#[derive(Deserialize)]
struct DeleteForm {
    csrf: String,
}

async fn delete_view(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<DeleteForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let uid = user.0.user.id;
    match state
        .db
        .write(move |tx| db::views::delete(tx, id, uid))
        .await
    {
        Ok(true) => Redirect::to("/tickets").into_response(),
        Ok(false) => refused(&user, AppError::not_found("view")),
        Err(e) => refused(&user, e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::with_search;

    #[test]
    fn a_typed_search_replaces_the_stored_one() {
        assert_eq!(
            with_search("sort=priority&q=vpn", None),
            "sort=priority&q=vpn"
        );
        assert_eq!(
            with_search("sort=priority&q=vpn", Some("")),
            "sort=priority"
        );
        assert_eq!(
            with_search("q=vpn&cursor=9", Some("printer jam")),
            "q=printer%20jam"
        );
        assert_eq!(with_search("", Some(" x ")), "q=x");
    }
}
