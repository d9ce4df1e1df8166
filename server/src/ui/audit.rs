//! `/admin/audit`: the audit log for admins, newest first, filtered by action (or its
//! start) and actor (a user id, or a label such as an email tried at sign-in), with
//! newer/older links and the same filters as a CSV download.

use super::format::url_encode;
use super::{Nav, UiUser, message, render};
use crate::db::audit::{self, Filter, Record, Start, action};
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::http::Routes;
use crate::http::audit::AuditQuery;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// Entries per page.
const PAGE: u32 = 50;

pub fn router() -> Routes {
    Routes::new().route("/admin/audit", get(page))
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    #[serde(default)]
    action: String,
    /// A user id, or an actor label (email, `cli`, `agent <id>`).
    #[serde(default)]
    actor: String,
    before: Option<i64>,
    after: Option<i64>,
}

/// One entry as the page shows it.
pub struct Row {
    pub at: String,
    pub actor: String,
    pub actor_user_id: Option<i64>,
    pub ip: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl From<Record> for Row {
    fn from(r: Record) -> Row {
        Row {
            at: chrono::DateTime::from_timestamp(r.at, 0)
                .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            actor: r.actor_label,
            actor_user_id: r.actor_user_id,
            ip: r.ip.unwrap_or_default(),
            action: r.action,
            target: r.target.unwrap_or_default(),
            detail: r.detail.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Option<Nav>,
    action: String,
    actor: String,
    actions: Vec<&'static str>,
    rows: Vec<Row>,
    newer_url: Option<String>,
    older_url: Option<String>,
    csv_url: String,
}

/// The action prefixes offered besides the codes themselves.
const GROUPS: &[&str] = &[
    "auth.",
    "user.",
    "api_token.",
    "enrollment_token.",
    "agent.",
    "asset.",
    "export.",
    "webhook.",
];

async fn page(
    user: UiUser,
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    if user.0.user.role != Role::Admin {
        return message(
            StatusCode::FORBIDDEN,
            user.nav("audit"),
            "Admins only",
            "Only administrators can read the audit log.",
        );
    }
    let refused = |why: &str| {
        message(
            StatusCode::BAD_REQUEST,
            user.nav("audit"),
            "Bad filter",
            why,
        )
    };
    let Ok(Query(q)) = query else {
        return refused("The address has a parameter this page does not understand.");
    };
    let (action_text, actor_text) = (q.action.trim().to_owned(), q.actor.trim().to_owned());
    // The API's own checks, so the page and the API agree on what a filter means.
    let (actor_id, actor_label) = match actor_text.parse::<i64>() {
        Ok(_) => (Some(actor_text.clone()), None),
        Err(_) => (None, Some(actor_text.clone())),
    };
    let api = AuditQuery {
        action: Some(action_text.clone()),
        actor: actor_id,
        actor_label,
        ..Default::default()
    };
    let filter: Filter = match api.filter() {
        Ok(f) => f,
        Err(e) => return refused(&e.message),
    };
    let start = match (q.before, q.after) {
        (_, Some(a)) => Start::After(a),
        (b, None) => Start::Before(b),
    };
    let f = filter.clone();
    let loaded = state
        .db
        .read(move |c| {
            let items = audit::page(c, &f, start, PAGE)?;
            let (newer, older) = match (items.first(), items.last()) {
                (Some(first), Some(last)) => (
                    !audit::page(c, &f, Start::After(first.id), 1)?.is_empty(),
                    !audit::page(c, &f, Start::Before(Some(last.id)), 1)?.is_empty(),
                ),
                _ => (false, false),
            };
            Ok((items, newer, older))
        })
        .await;
    let (items, newer, older) = match loaded {
        Ok(v) => v,
        Err(e) => {
            let e = crate::http::AppError::from(e);
            return message(e.status, user.nav("audit"), "That did not work", &e.message);
        }
    };
    let mut params = String::new();
    if !action_text.is_empty() {
        params.push_str(&format!("&action={}", url_encode(&action_text)));
    }
    let mut csv_params = params.clone();
    if !actor_text.is_empty() {
        params.push_str(&format!("&actor={}", url_encode(&actor_text)));
        let key = if filter.actor_user_id.is_some() {
            "actor"
        } else {
            "actor_label"
        };
        csv_params.push_str(&format!("&{key}={}", url_encode(&actor_text)));
    }
    let newer_url = newer
        .then(|| items.first())
        .flatten()
        .map(|r| format!("/admin/audit?after={}{params}", r.id));
    let older_url = older
        .then(|| items.last())
        .flatten()
        .map(|r| format!("/admin/audit?before={}{params}", r.id));
    let csv_url = format!(
        "/api/v1/audit-log.csv?{}",
        csv_params.trim_start_matches('&')
    );
    let mut actions: Vec<&'static str> = GROUPS.to_vec();
    actions.extend_from_slice(action::ALL);
    render(&AuditPage {
        nav: user.nav("audit"),
        action: action_text,
        actor: actor_text,
        actions,
        rows: items.into_iter().map(Row::from).collect(),
        newer_url,
        older_url,
        csv_url,
    })
}
