//! Importing assets from a CSV file on the web: upload, check (dry run, the default),
//! read the report, import for real. The same code as `POST /api/v1/imports/assets`.

use super::{Nav, UiUser, render};
use crate::http::AppState;
use crate::http::Routes;
use crate::http::imports::{MAX_IMPORT_BYTES, MAX_REPORTED_ERRORS};
use crate::imports::{self, Options, Report};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

/// Row errors shown on the page (the API lists up to MAX_REPORTED_ERRORS).
const SHOWN_ERRORS: usize = 200;

pub fn router() -> Routes {
    Routes::new().route(
        "/assets/import",
        get(form)
            .post(upload)
            .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 64 * 1024)),
    )
}

#[derive(Template)]
#[template(path = "asset_import.html")]
struct ImportPage {
    nav: Option<Nav>,
    csrf: String,
    types: Vec<(String, String)>,
    report: Option<Report>,
    shown_errors: usize,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    user: &UiUser,
    report: Option<Report>,
    error: Option<String>,
) -> Response {
    if let Some(r) = user.staff_only("Assets are imported by IT staff.") {
        return r;
    }
    let types = state
        .db
        .read(crate::db::asset_types::list)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.name))
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut resp = render(&ImportPage {
        nav: user.nav("assets"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        types,
        shown_errors: report
            .as_ref()
            .map_or(0, |r| r.errors.len().min(SHOWN_ERRORS)),
        report,
        error,
    });
    *resp.status_mut() = status;
    resp
}

async fn form(user: UiUser, State(state): State<AppState>) -> Response {
    page(&state, &user, None, None).await
}

async fn upload(user: UiUser, State(state): State<AppState>, mut parts: Multipart) -> Response {
    let (mut csrf, mut bytes, mut dry_run, mut default_type) = (String::new(), None, false, None);
    loop {
        match parts.next_field().await {
            Ok(None) => break,
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(_) => {
                        return page(
                            &state,
                            &user,
                            None,
                            Some(format!(
                                "The file did not arrive whole, or is over {} MB.",
                                MAX_IMPORT_BYTES / 1024 / 1024
                            )),
                        )
                        .await;
                    }
                };
                match name.as_str() {
                    "csrf" => csrf = String::from_utf8_lossy(&data).into_owned(),
                    "file" => bytes = Some(data.to_vec()),
                    "dry_run" => dry_run = true,
                    "default_type" => {
                        default_type = Some(String::from_utf8_lossy(&data).trim().to_owned())
                            .filter(|t| !t.is_empty());
                    }
                    _ => {}
                }
            }
            Err(_) => {
                return page(
                    &state,
                    &user,
                    None,
                    Some("The upload could not be read.".into()),
                )
                .await;
            }
        }
    }
    if !user.csrf_ok(&csrf) {
        return user.csrf_refused();
    }
    if let Some(r) = user.staff_only("Assets are imported by IT staff.") {
        return r;
    }
    let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
        return page(&state, &user, None, Some("Choose a CSV file.".into())).await;
    };
    let opts = Options {
        dry_run,
        mapping: None,
        default_type,
        create_locations: false,
        max_errors: MAX_REPORTED_ERRORS,
    };
    let actor = crate::http::asset_records::actor(&user.0);
    let now = crate::clock::now();
    let db = state.db.clone();
    let done = tokio::task::spawn_blocking(move || {
        imports::import_blocking(&db, &bytes, &opts, &actor, now, &mut |_, _| {})
    })
    .await;
    match done {
        Ok(Ok(Ok(report))) => page(&state, &user, Some(report), None).await,
        Ok(Ok(Err(e))) => page(&state, &user, None, Some(e.message)).await,
        _ => {
            page(
                &state,
                &user,
                None,
                Some("The import failed; see the server log.".into()),
            )
            .await
        }
    }
}
