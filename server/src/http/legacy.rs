//! The endpoints legacy agents already report to, so a fleet moves to Steward by changing
//! one server URL: OCS Inventory and FusionInventory's XML protocol (`/ocsinventory`,
//! `/plugins/fusioninventory/`, `/`) and GLPI Agent's JSON protocol
//! (`/front/inventory.php`, `/marketplace/glpiinventory/`). Any of them takes either
//! protocol; the document's first byte decides.
//!
//! Off unless `[legacy_inventory] enabled`; then every request needs the HTTP basic
//! credentials (realm `Steward`) and, when configured, a source address in
//! `allowed_networks`. Bodies are limited as sent and again after decompression; a
//! refused document stores nothing.

use super::Routes;
use super::{AppError, AppState};
use crate::config::Network;
use crate::db::{self, legacy::Kind, legacy::Stored};
use crate::legacy::{
    body::{self, BodyError, Encoding},
    glpi::{self, GlpiRequest},
    report::LegacyError,
    xml::{self, XmlRequest},
};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use std::net::SocketAddr;

/// The paths, as the agents use them.
pub const PATHS: &[&str] = &[
    "/ocsinventory",
    "/ocsinventory/",
    "/plugins/fusioninventory/",
    "/plugins/fusioninventory/{*rest}",
    "/",
    "/front/inventory.php",
    "/marketplace/glpiinventory/",
    "/marketplace/glpiinventory/{*rest}",
];

pub fn router(max_body_bytes: usize) -> Routes {
    let mut r = Routes::new();
    for p in PATHS {
        r = r.route(
            p,
            post(receive).layer(DefaultBodyLimit::max(max_body_bytes)),
        );
    }
    r
}

/// The legacy inventory paths in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    for p in PATHS {
        api.op(
            "POST",
            p,
            "Inventory from a FusionInventory, GLPI or OCS agent (XML or JSON, zlib/gzip or plain)",
            Access::LegacyAgent,
        )
        .raw_body("application/xml", "The agent's message, as it sends it")
        .ok_raw("application/xml", "The reply the agent expects");
    }
}

fn refuse(status: StatusCode, code: &'static str, message: impl Into<String>) -> Response {
    AppError::new(status, code, message).into_response()
}

/// Whether the request carries the configured basic credentials.
fn authorized(headers: &HeaderMap, user: &str, password: &str) -> bool {
    use base64::Engine;
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(encoded) = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let Ok(given) = String::from_utf8(decoded) else {
        return false;
    };
    crate::crypto::constant_time_eq(&given, &format!("{user}:{password}"))
}

fn challenge() -> Response {
    let mut r = refuse(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "send the [legacy_inventory] user name and password (agents: --user and --password; OCS also --realm=Steward)",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"Steward\""),
    );
    r
}

fn legacy_error(e: &LegacyError) -> Response {
    let code = match e {
        LegacyError::Malformed(_) => "invalid_document",
        LegacyError::Forbidden(_) => "forbidden_construct",
        LegacyError::TooBig(_) => "document_too_big",
    };
    let status = match e {
        LegacyError::TooBig(_) => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    refuse(status, code, e.to_string())
}

/// An XML reply in the request's encoding: zlib (default header) for a compressed
/// request, plain XML otherwise.
fn xml_reply(doc: String, enc: Encoding) -> Response {
    match enc {
        Encoding::Plain => (
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            doc,
        )
            .into_response(),
        Encoding::Zlib | Encoding::Gzip => (
            [(header::CONTENT_TYPE, "application/x-compress-zlib")],
            body::zlib(doc.as_bytes()),
        )
            .into_response(),
    }
}

fn json_reply(v: serde_json::Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

async fn receive(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    raw: Result<Bytes, BytesRejection>,
) -> Response {
    let cfg = &state.config.legacy_inventory;
    if !cfg.enabled {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "legacy inventory endpoints are off; enable [legacy_inventory] in the server configuration",
        );
    }
    let networks: Vec<Network> = cfg.networks();
    if !networks.is_empty() && !networks.iter().any(|n| n.contains(peer.ip())) {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden_network",
            format!(
                "{} is not in [legacy_inventory] allowed_networks",
                peer.ip()
            ),
        );
    }
    let password = cfg.password().ok().flatten().unwrap_or_default();
    if password.is_empty() || !authorized(&headers, &cfg.username, &password) {
        return challenge();
    }
    let raw = match raw {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                e.status(),
                "invalid_body",
                format!("the body could not be read: {}", e.body_text()),
            );
        }
    };
    let (enc, doc) = match body::decode(&raw, cfg.max_inflated_bytes) {
        Ok(d) => d,
        Err(e @ BodyError::TooLarge { .. }) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                "document_too_big",
                e.to_string(),
            );
        }
        Err(e) => return refuse(StatusCode::BAD_REQUEST, "invalid_body", e.to_string()),
    };
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ip = peer.ip().to_string();
    match doc.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => xml_request(&state, &doc, enc, user_agent, ip).await,
        Some(b'{') => {
            let agent_id = headers
                .get("GLPI-Agent-ID")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            json_request(&state, &doc, user_agent, agent_id, ip).await
        }
        _ => refuse(
            StatusCode::BAD_REQUEST,
            "invalid_document",
            "expected an OCS/FusionInventory XML document or a GLPI Agent JSON message",
        ),
    }
}

async fn xml_request(
    state: &AppState,
    doc: &[u8],
    enc: Encoding,
    user_agent: Option<String>,
    ip: String,
) -> Response {
    let doc = doc.to_vec();
    let parsed = tokio::task::spawn_blocking(move || xml::parse(&doc, user_agent.as_deref())).await;
    let req = match parsed {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return legacy_error(&e),
        Err(_) => return AppError::internal().into_response(),
    };
    let now = crate::clock::now();
    let freq = state.config.legacy_inventory.interval_hours;
    match req {
        XmlRequest::Prolog { device_id, agent } => {
            let kind = Kind::of(&agent, false);
            match contact(state, kind, device_id, agent, ip, now).await {
                Ok(true) => xml_reply(xml::prolog_reply(freq), enc),
                Ok(false) => revoked(),
                Err(e) => AppError::from(e).into_response(),
            }
        }
        XmlRequest::Inventory(report) => {
            store(state, Kind::of(&report.agent, false), report, ip, now)
                .await
                .map_or_else(|r| r, |()| xml_reply(xml::inventory_reply(), enc))
        }
        XmlRequest::Other { .. } => xml_reply(xml::empty_reply(), enc),
    }
}

async fn json_request(
    state: &AppState,
    doc: &[u8],
    user_agent: Option<String>,
    agent_id: Option<String>,
    ip: String,
) -> Response {
    let doc = doc.to_vec();
    let parsed = tokio::task::spawn_blocking(move || {
        glpi::parse(&doc, user_agent.as_deref(), agent_id.as_deref())
    })
    .await;
    let req = match parsed {
        Ok(Ok(r)) => r,
        Err(_) => return AppError::internal().into_response(),
        Ok(Err(e)) => {
            let mut r = json_reply(glpi::error_reply(&e.to_string()));
            *r.status_mut() = match e {
                LegacyError::TooBig(_) => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            return r;
        }
    };
    let now = crate::clock::now();
    let freq = state.config.legacy_inventory.interval_hours;
    match req {
        GlpiRequest::Contact {
            device_id,
            agent,
            enabled_tasks,
        } => match contact(state, Kind::Glpi, device_id, agent, ip, now).await {
            Ok(true) => json_reply(glpi::contact_reply_for(freq, &enabled_tasks)),
            Ok(false) => revoked(),
            Err(e) => AppError::from(e).into_response(),
        },
        GlpiRequest::Inventory(report) => store(state, Kind::Glpi, report, ip, now)
            .await
            .map_or_else(|r| r, |()| json_reply(glpi::inventory_reply())),
        GlpiRequest::Other { action, .. } => {
            let mut r = json_reply(glpi::error_reply(&format!(
                "Steward does not handle \"{action}\" requests"
            )));
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
    }
}

/// A device's PROLOG or CONTACT: answered from a read when it was seen within the hour
/// (so the many contacts of a fleet do not queue for the writer behind inventories),
/// recorded otherwise. `Ok(false)`: the device is revoked.
async fn contact(
    state: &AppState,
    kind: Kind,
    device_id: String,
    agent: String,
    ip: String,
    now: i64,
) -> Result<bool, db::DbError> {
    let id = device_id.clone();
    let known = state
        .db
        .read(move |c| db::legacy::contact_from_read(c, kind, &id, now - 3600))
        .await?;
    match known {
        Some(answer) => Ok(answer),
        None => {
            state
                .db
                .write_grouped(move |tx| {
                    db::legacy::contact(tx, kind, &device_id, &agent, &ip, now)
                })
                .await
        }
    }
}

fn revoked() -> Response {
    refuse(
        StatusCode::FORBIDDEN,
        "agent_revoked",
        "this device was revoked by an administrator",
    )
}

/// Checks and stores an inventory; `Err` is the response refusing it.
async fn store(
    state: &AppState,
    kind: Kind,
    report: crate::legacy::report::LegacyReport,
    ip: String,
    now: i64,
) -> Result<(), Response> {
    if let Err(m) = super::agent::validate_inventory(&report.inventory) {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_inventory",
            m,
        ));
    }
    let thresholds = state.config.alerts.thresholds();
    // Our agent counts as reporting while it is not silent by the alerts' rule.
    let fresh = state.config.alerts.agent_silent_hours as i64 * 3600;
    let mut report = report;
    // A document without its own time was taken when it arrived.
    if report.inventory.collected_at <= 0 {
        report.inventory.collected_at = now;
    }
    if report.health.taken_at <= 0 {
        report.health.taken_at = now;
    }
    let stored = state
        .db
        .write_shared(move |tx| db::legacy::store(tx, kind, &report, &ip, &thresholds, fresh, now))
        .await
        .map_err(|e| AppError::from(e).into_response())?;
    match stored {
        Stored::Applied { asset_id, created } => {
            tracing::info!(
                asset_id,
                created,
                kind = kind.as_str(),
                "legacy inventory stored"
            );
            Ok(())
        }
        Stored::Revoked => Err(revoked()),
    }
}
