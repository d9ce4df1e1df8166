//! The alerts page: everything open across the fleet, newest first.

use super::assets::{AlertRow, alert_row};
use super::{Nav, UiUser, render};
use crate::http::AppState;
use crate::http::Routes;
use crate::http::alerts::{AlertQuery, page};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn router() -> Routes {
    Routes::new().route("/alerts", get(list))
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    nav: Option<Nav>,
    rows: Vec<AlertRow>,
}

async fn list(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = user.staff_only("Alerts are for IT staff.") {
        return r;
    }
    let q = AlertQuery {
        limit: Some(500),
        ..Default::default()
    };
    match page(&state, &q).await {
        Ok(p) => {
            let now = crate::clock::now();
            render(&AlertsPage {
                nav: user.nav("alerts"),
                rows: p.items.iter().map(|a| alert_row(a, now)).collect(),
            })
        }
        Err(e) => e.into_response(),
    }
}
