//! Ticket lists: the technician's queues (built-in views with live counts, and their own
//! saved views), the employee's requests, search, and saving a list as a view.

use super::admin::{Fields, field};
use super::format::{ago, url_encode};
use super::tickets::{due_text, priority_name, refused};
use super::{Nav, UiUser, render};
use crate::db;
use crate::http::Routes;
use crate::http::tickets::page;
use crate::http::views::{MAX_VIEWS, create_view, find, list_query};
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/tickets", get(list))
        .route("/tickets/views", post(save_view))
        .route("/tickets/views/{id}/delete", post(delete_view))
        .route("/tickets/bulk", post(bulk_form))
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
    /// This list's own address, where "with selected" comes back to.
    back: String,
    /// A filtered list's filters (name, value), which the search box keeps.
    filters: Vec<(String, String)>,
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
    RawQuery(raw): RawQuery,
) -> Response {
    let staff = user.0.user.role.is_staff();
    // A list's own filters in the address (`/tickets?status=new&priority=2`, as the
    // dashboard links): shareable like the built-in views.
    let filters = raw.as_deref().map(own_filters).unwrap_or_default();
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
        None if staff && p.view.as_deref().is_none_or(str::is_empty) && !filters.is_empty() => (
            String::new(),
            filters.clone(),
            "Filtered list".to_owned(),
            filters.clone(),
        ),
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
    let back = if qtext.trim().is_empty() {
        format!("/tickets?{here}")
    } else {
        format!("/tickets?{here}&q={}", url_encode(&qtext))
    };
    render(&ListPage {
        back,
        filters: if view.is_empty() && p.saved.is_none() {
            filter_fields(&filters)
        } else {
            Vec::new()
        },
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

/// The ticket-list filters of a raw query string: everything but the page's own
/// parameters (view, saved view, search, cursor).
fn own_filters(raw: &str) -> String {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            let key = p.split('=').next().unwrap_or_default();
            !["view", "saved", "q", "cursor"].contains(&key)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The fields of a filters query string (`status=new&q=vpn` -> status new, q vpn), decoded,
/// without the search: the search box's hidden inputs.
fn filter_fields(filters: &str) -> Vec<(String, String)> {
    let Ok(uri) = format!("/?{filters}").parse::<axum::http::Uri>() else {
        return Vec::new();
    };
    Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|Query(v)| v)
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "q")
        .collect()
}

/// What a "with selected" choice changes: (status, assignee).
fn bulk_action(action: &str, me: i64) -> Option<(Option<String>, Option<i64>)> {
    match action {
        "assign_me" => Some((None, Some(me))),
        "unassign" => Some((None, Some(0))),
        _ => {
            let status = action.strip_prefix("status:")?;
            ["open", "pending", "resolved", "closed"]
                .contains(&status)
                .then(|| (Some(status.to_owned()), None))
        }
    }
}

/// Where to go back after a bulk change: a ticket list of this site, or the queues.
fn back_to(url: Option<&str>) -> String {
    super::back_to_list(url, "/tickets")
}

/// The queue's "with selected" form: ticket ids (`id`, repeated), the action and the list
/// to go back to.
async fn bulk_form(user: UiUser, State(state): State<AppState>, Form(f): Form<Fields>) -> Response {
    let field = |name: &str| field(&f, name);
    if !user.csrf_ok(field("csrf").unwrap_or_default()) {
        return user.csrf_refused();
    }
    let mut ids = Vec::new();
    for (k, v) in &f {
        if k == "id" {
            match v.parse::<i64>() {
                Ok(id) => ids.push(id),
                Err(_) => {
                    return refused(
                        &user,
                        AppError::bad_request("invalid_ids", "ticket ids are numbers"),
                    );
                }
            }
        }
    }
    if ids.is_empty() {
        return refused(
            &user,
            AppError::bad_request(
                "invalid_ids",
                "Select tickets first (the boxes in the first column).",
            ),
        );
    }
    let Some((status, assignee)) = bulk_action(field("action").unwrap_or_default(), user.0.user.id)
    else {
        return refused(
            &user,
            AppError::bad_request(
                "invalid_action",
                "Choose what to do with the selected tickets.",
            ),
        );
    };
    let back = back_to(field("back"));
    match crate::http::ticket_changes::bulk_update(&state, user.0.clone(), ids, status, assignee)
        .await
    {
        Ok(r) if r.refused.is_empty() => Redirect::to(&back).into_response(),
        Ok(r) => {
            let why: Vec<String> = r
                .refused
                .iter()
                .map(|v| {
                    format!(
                        "#{}: {}",
                        v["id"],
                        v["message"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            super::message(
                axum::http::StatusCode::CONFLICT,
                user.nav("tickets"),
                "Some tickets were not changed",
                &format!(
                    "{} changed. Not changed: {}",
                    r.updated.len(),
                    why.join("; ")
                ),
            )
        }
        Err(e) => refused(&user, e),
    }
}

#[cfg(test)]
mod tests {
    use super::{back_to, bulk_action, filter_fields, own_filters, with_search};

    #[test]
    fn the_search_box_keeps_a_filtered_lists_filters() {
        let kept = |f: &str| -> Vec<(String, String)> { filter_fields(f) };
        assert_eq!(
            kept("status=resolved%2Cclosed&priority=high&q=vpn"),
            vec![
                ("status".to_owned(), "resolved,closed".to_owned()),
                ("priority".to_owned(), "high".to_owned())
            ]
        );
        assert_eq!(
            kept("requester=a%26b%40x.test"),
            vec![("requester".to_owned(), "a&b@x.test".to_owned())]
        );
        assert!(kept("").is_empty());
    }

    #[test]
    fn filters_in_the_address_leave_out_the_pages_own_parameters() {
        assert_eq!(own_filters("status=new&q=vpn&cursor=abc"), "status=new");
        assert_eq!(own_filters("view=mine"), "");
        assert_eq!(
            own_filters("priority=2&sort=priority&"),
            "priority=2&sort=priority"
        );
    }

    #[test]
    fn bulk_actions_and_the_way_back_are_checked() {
        assert_eq!(bulk_action("assign_me", 7), Some((None, Some(7))));
        assert_eq!(bulk_action("unassign", 7), Some((None, Some(0))));
        assert_eq!(
            bulk_action("status:resolved", 7),
            Some((Some("resolved".into()), None))
        );
        for bad in ["", "status:new", "status:", "delete", "status:open;x"] {
            assert_eq!(bulk_action(bad, 7), None, "{bad}");
        }
        assert_eq!(
            back_to(Some("/tickets?view=mine&sort=priority")),
            "/tickets?view=mine&sort=priority"
        );
        for bad in [
            "https://evil.example/tickets",
            "//evil.example",
            "/ticketsX",
            "/tickets?\r\nX: y",
            "/admin",
        ] {
            assert_eq!(back_to(Some(bad)), "/tickets", "{bad}");
        }
        assert_eq!(back_to(None), "/tickets");
    }

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
