//! Enrolling machines from the web: an admin creates an enrollment token and gets the
//! install one-liners for it (`curl ... /install/agent.sh?token=... | sudo sh` and the
//! PowerShell one), with the token shown once. Admins only.

use super::{Nav, UiUser, message, render};
use crate::domain::roles::Role;
use crate::http::auth::ClientIp;
use crate::http::{AppState, Routes};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new().route("/admin/enrollment", get(page).post(create))
}

/// The token just created and the commands that use it.
pub struct Created {
    pub token: String,
    pub uses: u32,
    pub expires: String,
    pub linux: String,
    pub windows: String,
    pub manual: String,
}

#[derive(Template)]
#[template(path = "enrollment.html")]
struct EnrollmentPage {
    nav: Option<Nav>,
    csrf: String,
    created: Option<Created>,
}

fn admins_only(user: &UiUser) -> Option<Response> {
    admin_page(
        user,
        "enroll",
        "Ask an administrator for an enrollment token.",
    )
}

/// `None` for an admin; otherwise the 403 page for the page `active`, saying `hint`.
pub(super) fn admin_page(user: &UiUser, active: &'static str, hint: &str) -> Option<Response> {
    (user.0.user.role != Role::Admin)
        .then(|| message(StatusCode::FORBIDDEN, user.nav(active), "Admins only", hint))
}

async fn page(user: UiUser) -> Response {
    if let Some(r) = admins_only(&user) {
        return r;
    }
    render(&EnrollmentPage {
        nav: user.nav("enroll"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        created: None,
    })
}

#[derive(Deserialize)]
struct NewToken {
    #[serde(default)]
    csrf: String,
    uses: Option<String>,
    expires: Option<String>,
}

/// The one-liners for `token` on the server at `base`.
pub fn one_liners(base: &str, token: &str) -> (String, String, String) {
    (
        format!("curl -fsSL '{base}/install/agent.sh?token={token}' | sudo sh"),
        format!("irm '{base}/install/agent.ps1?token={token}' | iex"),
        format!("steward-agent enroll --server {base} --token {token}"),
    )
}

async fn create(
    user: UiUser,
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(f): Form<NewToken>,
) -> Response {
    if let Some(r) = admins_only(&user) {
        return r;
    }
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let uses = match f.uses.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        None => 1,
        Some(u) => match u.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                return message(
                    StatusCode::BAD_REQUEST,
                    user.nav("enroll"),
                    "That did not work",
                    "Uses must be a whole number.",
                );
            }
        },
    };
    let expires = f
        .expires
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    let made = crate::http::agent::create_enrollment(&state, &user.0, &ip, uses, expires).await;
    let made = match made {
        Ok(m) => m,
        Err(e) => {
            return message(
                e.status,
                user.nav("enroll"),
                "That did not work",
                &e.message,
            );
        }
    };
    let base = crate::http::labels::public_base(&state, &headers);
    let (linux, windows, manual) = one_liners(&base, &made.token);
    render(&EnrollmentPage {
        nav: user.nav("enroll"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        created: Some(Created {
            token: made.token,
            uses: made.uses,
            expires: made
                .expires_at
                .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                .map_or("never".to_owned(), |t| {
                    t.format("%Y-%m-%d %H:%M UTC").to_string()
                }),
            linux,
            windows,
            manual,
        }),
    })
}
