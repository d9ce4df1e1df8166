//! The web UI: server-rendered pages (askama, auto-escaped), static files embedded in the binary.

pub mod admin;
pub mod alerts;
pub mod asset_bulk;
pub mod asset_import;
pub mod asset_new;
pub mod asset_record;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod enrollment;
pub mod format;
pub mod locations;
pub mod maintenance;
pub mod maintenance_form_values;
pub mod maintenance_forms;
pub mod maintenance_reports;
pub mod maintenance_words;
pub mod my_devices;
pub mod public;
pub mod queues;
pub mod software;
pub mod tickets;
pub mod updates;
pub mod work_orders;

use crate::http::AppState;
use crate::http::Routes;
use crate::http::auth::CurrentUser;
use askama::Template;
use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

pub fn router() -> Routes {
    Routes::new()
        .route("/", get(dashboard::home))
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .merge(auth::router())
        .merge(assets::router())
        .merge(asset_bulk::router())
        .merge(alerts::router())
        .merge(tickets::router())
        .merge(queues::router())
        .merge(admin::router())
        .merge(enrollment::router())
        .merge(updates::router())
        .merge(audit::router())
        .merge(public::router())
        .merge(locations::router())
        .merge(my_devices::router())
        .merge(asset_new::router())
        .merge(asset_import::router())
        .merge(software::router())
        .merge(maintenance::router())
        .merge(maintenance_forms::router())
        .merge(maintenance_reports::router())
        .merge(work_orders::router())
}

/// The top bar of every signed-in page.
pub struct Nav {
    pub user_name: String,
    pub role: String,
    pub csrf: String,
    pub is_staff: bool,
    pub is_admin: bool,
    pub active: &'static str,
}

/// A signed-in user on a page; anyone else is sent to the login page.
pub struct UiUser(pub CurrentUser);

impl UiUser {
    pub fn nav(&self, active: &'static str) -> Option<Nav> {
        let u = &self.0;
        Some(Nav {
            user_name: u.user.name.clone(),
            role: u.user.role.to_string(),
            csrf: u.csrf().unwrap_or_default().to_owned(),
            is_staff: u.user.role.is_staff(),
            is_admin: u.user.role == crate::domain::roles::Role::Admin,
            active,
        })
    }
}

impl UiUser {
    /// Whether a form's `csrf` field is this session's token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        self.0
            .csrf()
            .is_some_and(|c| crate::crypto::constant_time_eq(c, token))
    }

    /// `None` for IT staff; for anyone else the 403 page, saying `why`.
    pub fn staff_only(&self, why: &str) -> Option<Response> {
        (!self.0.user.role.is_staff())
            .then(|| message(StatusCode::FORBIDDEN, self.nav(""), "Not available", why))
    }

    /// The page for a form whose CSRF token did not match (an old tab, usually).
    pub fn csrf_refused(&self) -> Response {
        message(
            StatusCode::FORBIDDEN,
            self.nav(""),
            "Form expired",
            "Reload the page and try again.",
        )
    }
}

impl FromRequestParts<AppState> for UiUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = OriginalUri::from_request_parts(parts, state)
            .await
            .map(|u| {
                u.0.path_and_query()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        match crate::http::auth::identify(parts, state).await {
            Ok(Some(user)) => Ok(UiUser(user)),
            Ok(None) => Err(
                Redirect::to(&format!("/login?next={}", format::url_encode(&path))).into_response(),
            ),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Renders a template, or a plain 500 page if rendering fails.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the server log",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub nav: Option<Nav>,
    pub heading: String,
    pub text: String,
}

/// A page that says something went wrong, with a status.
pub fn message(status: StatusCode, nav: Option<Nav>, heading: &str, text: &str) -> Response {
    let mut resp = render(&MessagePage {
        nav,
        heading: heading.into(),
        text: text.into(),
    });
    *resp.status_mut() = status;
    resp
}

/// Where a bulk form goes back to: `url` when it is `list` itself or `list` with a query
/// on this site (no other host, no header breaks), or else `list`.
pub(crate) fn back_to_list(url: Option<&str>, list: &str) -> String {
    url.filter(|u| {
        (*u == list || u.strip_prefix(list).is_some_and(|q| q.starts_with('?')))
            && !u.contains(['\\', '\r', '\n'])
    })
    .unwrap_or(list)
    .to_owned()
}

pub fn not_found_page() -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        "Not found",
        "There is no page at this address.",
    )
}

/// Everyone starts at the tickets: staff at their queues, employees at their requests.
async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}
