//! "My devices": what is checked out to the signed-in person, and the hand-overs waiting
//! for them to accept or decline.

use super::{Nav, UiUser, message, render};
use crate::http::AppState;
use crate::http::Routes;
use crate::http::checkouts::answer;
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/me/devices", get(page))
        .route("/me/devices/{id}/answer", post(answer_form))
}

pub struct Device {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub tag: String,
    pub since: String,
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "my_devices.html")]
struct DevicesPage {
    nav: Option<Nav>,
    csrf: String,
    devices: Vec<Device>,
}

/// What is checked out to user `uid` (and hand-overs waiting for their answer).
pub fn devices_of(c: &rusqlite::Connection, uid: i64) -> crate::db::DbResult<Vec<Device>> {
    let mut stmt = c.prepare_cached(
        "SELECT a.id, a.name, a.kind, coalesce(a.asset_tag, ''), k.checked_out_at,
                k.accepted_at IS NULL AND k.declined_at IS NULL
         FROM asset_checkouts k JOIN assets a ON a.id = k.asset_id
         WHERE k.target_kind = 'user' AND k.target_id = ?1 AND k.checked_in_at IS NULL
           AND k.declined_at IS NULL
         ORDER BY a.name LIMIT 500",
    )?;
    let rows = stmt.query_map([uid], |r| {
        Ok(Device {
            id: r.get(0)?,
            name: r.get(1)?,
            kind: r.get(2)?,
            tag: r.get(3)?,
            since: super::format::datetime(r.get(4)?),
            waiting: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

async fn page(user: UiUser, State(state): State<AppState>) -> Response {
    let uid = user.0.user.id;
    let loaded = state.db.read(move |c| devices_of(c, uid)).await;
    match loaded {
        Ok(devices) => render(&DevicesPage {
            nav: user.nav("devices"),
            csrf: user.0.csrf().unwrap_or_default().to_owned(),
            devices,
        }),
        Err(e) => {
            tracing::error!(error = %e, "my devices page failed");
            message(
                StatusCode::SERVICE_UNAVAILABLE,
                user.nav("devices"),
                "Try again",
                "The database is busy.",
            )
        }
    }
}

#[derive(Deserialize)]
struct AnswerForm {
    csrf: String,
    /// "accept" or "decline".
    answer: String,
}

async fn answer_form(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<AnswerForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let accept = match f.answer.as_str() {
        "accept" => true,
        "decline" => false,
        _ => {
            return message(
                StatusCode::BAD_REQUEST,
                user.nav("devices"),
                "Unknown answer",
                "Accept or decline.",
            );
        }
    };
    match answer(&state, &user.0, id, accept).await {
        Ok(_) => Redirect::to("/me/devices").into_response(),
        Err(e) => message(
            e.status,
            user.nav("devices"),
            "That did not work",
            &e.message,
        ),
    }
}
