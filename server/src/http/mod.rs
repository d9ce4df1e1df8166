//! The HTTP surface: the router, shared state, security headers, and one module per resource.

pub mod agent;
pub mod agent_releases;
pub mod alerts;
pub mod asset_input;
pub mod asset_records;
pub mod assets;
pub mod attachments;
pub mod audit;
pub mod audits;
pub mod auth;
pub mod canned;
pub mod checkouts;
pub mod error;
pub mod events;
pub mod exports;
pub mod groups;
pub mod imports;
pub mod install;
pub mod labels;
pub mod legacy;
pub mod licenses;
pub mod locations;
pub mod maintenance;
pub mod maintenance_input;
pub mod maintenance_reports;
pub mod meters;
pub mod openapi;
pub mod routes;
pub mod software;
pub mod system;
pub mod ticket_changes;
pub mod ticket_comments;
pub mod tickets;
pub mod users;
pub mod views;
pub mod webhooks;
pub mod work_orders;

use crate::config::ServerConfig;
use crate::db::Db;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use std::sync::Arc;

pub use error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError};
pub use routes::Routes;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<ServerConfig>,
    /// The service desk's rules, built from `[service_desk]` once.
    pub desk: Arc<crate::service_desk::Rules>,
    /// Webhook and mail delivery (`crate::notify`).
    pub notify: crate::notify::Hub,
    /// Agent credentials checked recently.
    pub agents: Arc<crate::agent_cache::AgentCache>,
    /// The staff dashboard's figures, computed at most every 30 s.
    pub dashboard: Arc<crate::ui::dashboard::Cache>,
    /// Failed sign-ins per client address.
    pub sign_ins: Arc<crate::sign_in_limit::SignInLimit>,
    /// Held (shared) while any clone lives, so that a restore cannot replace the data
    /// directory under a running server.
    pub data_dir_lock: Arc<crate::datadir::DirLock>,
}

/// The whole application: API, agent endpoints and web UI.
pub fn router(state: AppState) -> Router {
    let limit = state.config.server.max_body_bytes;
    routes(state.config.legacy_inventory.max_body_bytes)
        .into_router()
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

/// Every route, with the largest legacy inventory body accepted.
pub fn routes(legacy_max_body_bytes: usize) -> Routes {
    api_routes(legacy_max_body_bytes).merge(crate::ui::router())
}

/// The routes that are not web pages: the ones the OpenAPI document describes.
pub fn api_routes(legacy_max_body_bytes: usize) -> Routes {
    Routes::new()
        .merge(openapi::router())
        .merge(system::router())
        .merge(agent::router())
        .merge(agent_releases::router())
        .merge(install::router())
        .merge(alerts::router())
        .merge(assets::router())
        .merge(exports::router())
        .merge(imports::router())
        .merge(software::router())
        .merge(asset_records::router())
        .merge(locations::router())
        .merge(maintenance::router())
        .merge(maintenance_reports::router())
        .merge(meters::router())
        .merge(work_orders::router())
        .merge(checkouts::router())
        .merge(audits::router())
        .merge(audit::router())
        .merge(users::router())
        .merge(labels::router())
        .merge(tickets::router())
        .merge(attachments::router())
        .merge(groups::router())
        .merge(canned::router())
        .merge(views::router())
        .merge(events::router())
        .merge(webhooks::router())
        .merge(auth::router())
        .merge(legacy::router(legacy_max_body_bytes))
}

/// Every module's routes in the OpenAPI document: one line per module in `api_routes`.
fn describe_all(api: &mut openapi::Api) {
    openapi::describe(api);
    system::describe(api);
    agent::describe(api);
    agent_releases::describe(api);
    install::describe(api);
    alerts::describe(api);
    assets::describe(api);
    exports::describe(api);
    imports::describe(api);
    software::describe(api);
    asset_records::describe(api);
    locations::describe(api);
    maintenance::describe(api);
    maintenance_reports::describe(api);
    meters::describe(api);
    work_orders::describe(api);
    checkouts::describe(api);
    audits::describe(api);
    audit::describe(api);
    users::describe(api);
    labels::describe(api);
    tickets::describe(api);
    ticket_changes::describe(api);
    ticket_comments::describe(api);
    attachments::describe(api);
    groups::describe(api);
    canned::describe(api);
    views::describe(api);
    events::describe(api);
    webhooks::describe(api);
    auth::describe(api);
    licenses::describe(api);
    legacy::describe(api);
}

async fn fallback(req: Request) -> Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/api/") {
        AppError::not_found("route").into_response()
    } else {
        crate::ui::not_found_page().into_response()
    }
}

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // A handler may set a stricter policy (attachment downloads: `sandbox`).
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
