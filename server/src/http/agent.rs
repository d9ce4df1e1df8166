//! Agent endpoints: enrollment (token for credential), check-in; and the admin side:
//! creating enrollment tokens and revoking agents.

use super::Routes;
use super::auth::{AgentAuth, ClientIp, CurrentUser};
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::audit::{Actor, Entry, action};
use crate::db::{self, enrollment::Refusal};
use crate::domain::roles::Role;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::Read;
use std::net::SocketAddr;
use steward_shared::{
    AgentCommand, CheckinRequest, CheckinResponse, EnrollRequest, EnrollResponse, Inventory, Page,
    ReportKind, Software,
};

pub fn router() -> Routes {
    Routes::new()
        .route(steward_shared::ENROLL_PATH, post(enroll))
        .route(steward_shared::CHECKIN_PATH, post(checkin))
        .route(steward_shared::DEREGISTER_PATH, post(deregister))
        .route("/api/v1/enrollment-tokens", post(create_enrollment_token))
        .route("/api/v1/agents", get(list_agents))
        .route("/api/v1/agents/{id}/revoke", post(revoke_agent))
        .route("/api/v1/agents/{id}/commands", post(queue_command))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        steward_shared::ENROLL_PATH,
        "Enroll an agent with an enrollment token",
        Access::Enrolling,
    )
    .body::<EnrollRequest>()
    .created::<EnrollResponse>();
    api.op(
        "POST",
        steward_shared::CHECKIN_PATH,
        "Report inventory and health (full or delta); receive commands",
        Access::Agent,
    )
    .body::<steward_shared::CheckinRequest>()
    .ok::<CheckinResponse>();
    api.op(
        "POST",
        steward_shared::DEREGISTER_PATH,
        "Revoke the calling agent's own credential (its machine leaves the fleet)",
        Access::Agent,
    )
    .ok::<steward_shared::DeregisterResponse>();
    api.op(
        "POST",
        "/api/v1/enrollment-tokens",
        "Create an enrollment token (shown once)",
        Access::Admin,
    )
    .body::<NewEnrollmentToken>()
    .created::<CreatedEnrollmentToken>();
    api.op(
        "GET",
        "/api/v1/agents",
        "List enrolled agents",
        Access::Staff,
    )
    .query::<AgentListQuery>()
    .ok::<Page<db::agents::Agent>>();
    api.op(
        "POST",
        "/api/v1/agents/{id}/revoke",
        "Revoke an agent's credential",
        Access::Admin,
    )
    .no_content();
    api.op(
        "POST",
        "/api/v1/agents/{id}/commands",
        "Queue a command for an agent",
        Access::Staff,
    )
    .body::<AgentCommand>()
    .empty("202", "Queued");
}

async fn enroll(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<EnrollRequest>,
) -> ApiResult<(StatusCode, Json<EnrollResponse>)> {
    if req.token.is_empty()
        || req.token.len() > 200
        || req.hostname.len() > 255
        || req.agent_version.len() > 64
    {
        return Err(AppError::bad_request(
            "invalid_enrollment_request",
            "token, hostname or agent_version is missing or too long",
        ));
    }
    let now = crate::clock::now();
    let agent_id = format!("agt_{}", crate::crypto::random_hex(12));
    let secret = crate::crypto::random_hex(32);
    let (id, sec) = (agent_id.clone(), secret.clone());
    let actor = Actor::agent(&agent_id, ip.text());
    let verdict = state
        .db
        .write_grouped(move |tx| {
            let token_id = match db::enrollment::consume(tx, &req.token, now)? {
                Ok(id) => id,
                Err(refusal) => return Ok(Err(refusal)),
            };
            db::agents::insert(
                tx,
                &id,
                &sec,
                token_id,
                &req.hostname,
                &req.agent_version,
                now,
            )?;
            let e = Entry::new(now, &actor, action::AGENT_ENROLLED)
                .target(format!("agent:{id}"))
                .detail(json!({ "enrollment_token_id": token_id, "hostname": req.hostname }));
            db::audit::record(tx, &e)?;
            Ok(Ok(()))
        })
        .await?;
    match verdict {
        Ok(()) => {
            tracing::info!(agent_id = %agent_id, "agent enrolled");
            Ok((
                StatusCode::CREATED,
                Json(EnrollResponse { agent_id, secret }),
            ))
        }
        Err(refusal) => Err(refused_token(refusal)),
    }
}

/// The 401 for an enrollment token that cannot be used, saying why.
pub fn refused_token(refusal: Refusal) -> AppError {
    let (code, message) = match refusal {
        Refusal::Unknown => (
            "invalid_enrollment_token",
            "the enrollment token is unknown; ask an admin for a new one",
        ),
        Refusal::Expired => (
            "enrollment_token_expired",
            "the enrollment token has expired; ask an admin for a new one",
        ),
        Refusal::UsedUp => (
            "enrollment_token_used_up",
            "the enrollment token has no uses left; ask an admin for a new one",
        ),
        Refusal::Revoked => (
            "enrollment_token_revoked",
            "the enrollment token was revoked; ask an admin for a new one",
        ),
    };
    AppError::unauthorized(code, message)
}

const MAX_STR: usize = 1024;

fn check_software(items: &[Software]) -> Result<(), String> {
    if items.len() > 50_000 {
        return Err("the report lists more software than any machine has".into());
    }
    let bad = items.iter().any(|s| {
        s.name.is_empty()
            || [&s.name, &s.version, &s.arch, &s.publisher, &s.source]
                .iter()
                .any(|f| f.len() > MAX_STR)
    });
    if bad {
        return Err(format!(
            "every software item needs a name, and no field may exceed {MAX_STR} bytes"
        ));
    }
    Ok(())
}

fn check_lists(hostname: &str, disks: usize, network: usize, users: usize) -> Result<(), String> {
    if hostname.len() > 255 {
        return Err("hostname is longer than 255 characters".into());
    }
    if disks > 1024 || network > 1024 || users > 1024 {
        return Err("the report lists more disks, interfaces or users than any machine has".into());
    }
    Ok(())
}

/// Rejects reports that are structurally fine JSON but unreasonable.
pub fn validate_inventory(inv: &Inventory) -> Result<(), String> {
    check_lists(
        &inv.hostname,
        inv.disks.len(),
        inv.network.len(),
        inv.logged_in_users.len(),
    )?;
    check_software(&inv.software)
}

/// The same checks for any kind of report.
pub fn validate_request(req: &CheckinRequest) -> Result<(), String> {
    if req.digest.len() > 128 || req.base_digest.len() > 128 {
        return Err("digests are at most 128 characters".into());
    }
    if let Some(u) = &req.update
        && [&u.version, &u.os, &u.arch].iter().any(|f| f.len() > 64)
    {
        return Err("update: version, os and arch are at most 64 characters".into());
    }
    if req.seq > i64::MAX as u64 {
        return Err("seq is out of range".into());
    }
    match (req.kind, &req.delta) {
        (ReportKind::Full, _) => validate_inventory(&req.inventory),
        (ReportKind::Delta, Some(d)) => {
            let hostname = d.system.as_ref().map(|s| s.hostname.as_str()).unwrap_or("");
            let len = |o: Option<usize>| o.unwrap_or(0);
            check_lists(
                hostname,
                len(d.disks.as_ref().map(Vec::len)),
                len(d.network.as_ref().map(Vec::len)),
                len(d.logged_in_users.as_ref().map(Vec::len)),
            )?;
            check_software(&d.software_added)?;
            check_software(&d.software_removed)
        }
        (ReportKind::Delta, None) => Err("a delta report needs a delta".into()),
        (ReportKind::Heartbeat, _) => Ok(()),
    }
}

/// A check-in body: JSON, optionally gzip-compressed (`Content-Encoding: gzip`). The size
/// limit applies to the body as sent and again after decompression.
pub struct CheckinBody(pub CheckinRequest);

impl FromRequest<AppState> for CheckinBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json_type {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
        let encoding = req
            .headers()
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let limit = state.config.server.max_body_bytes;
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large()
            } else {
                AppError::bad_request("invalid_body", e.body_text())
            }
        })?;
        decode_checkin(encoding.as_deref(), &bytes, limit).map(CheckinBody)
    }
}

/// A check-in body as received (`encoding`: the lower-cased `Content-Encoding`, if any) to
/// the report: gzip inflated up to `limit` bytes, then JSON. Refused with a 4xx error.
pub fn decode_checkin(
    encoding: Option<&str>,
    bytes: &[u8],
    limit: usize,
) -> Result<CheckinRequest, AppError> {
    let inflated;
    let body: &[u8] = match encoding {
        None | Some("identity") => bytes,
        Some("gzip") => {
            let mut out = Vec::new();
            let mut reader = flate2::read::GzDecoder::new(bytes).take(limit as u64 + 1);
            reader.read_to_end(&mut out).map_err(|e| {
                AppError::bad_request("invalid_body", format!("the gzip body is corrupt: {e}"))
            })?;
            if out.len() > limit {
                return Err(too_large());
            }
            inflated = out;
            &inflated
        }
        Some(other) => {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                format!("Content-Encoding {other:?} is not supported; use gzip or none"),
            ));
        }
    };
    serde_json::from_slice(body).map_err(|e| {
        AppError::bad_request(
            "invalid_body",
            format!("the report is not valid JSON for a check-in: {e}"),
        )
    })
}

fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than the server accepts (server.max_body_bytes)",
    )
}

async fn checkin(
    agent: AgentAuth,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    CheckinBody(req): CheckinBody,
) -> ApiResult<Json<CheckinResponse>> {
    validate_request(&req)
        .map_err(|m| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_inventory", m))?;
    let now = crate::clock::now();
    let agent_id = agent.agent_id.clone();
    let ip = peer.ip().to_string();
    let thresholds = state.config.alerts.thresholds();
    let (open_tickets, desk) = (state.config.alerts.open_tickets, state.desk.clone());
    let config = state.config.clone();
    let uptime = req.health.uptime_secs;
    // A full report writes a whole inventory: it shares a transaction only with other
    // inventories. Heartbeats and deltas are small and share commits in savepoints.
    let full = req.kind == ReportKind::Full;
    let digest = db::checkin::full_digest(&req);
    let work = move |tx: &rusqlite::Transaction<'_>| {
        let status = req.update.clone();
        let reply =
            db::checkin::handle(tx, &agent_id, req, digest.as_deref(), &ip, now, &thresholds)?;
        let offer = match &status {
            Some(s) if reply.outcome != db::checkin::Outcome::Revoked => {
                super::agent_releases::offer_for(tx, &agent_id, s)?
            }
            _ => None,
        };
        if open_tickets && reply.asset_id > 0 {
            crate::service_desk::tickets_for_alerts(tx, &desk, Some(reply.asset_id), now)?;
        }
        if reply.asset_id > 0 {
            let ctx = crate::maintenance::Ctx::new(&desk, &config);
            crate::maintenance::record_agent_meters(tx, &ctx, reply.asset_id, uptime, now)?;
        }
        Ok((reply, offer))
    };
    let (reply, offer) = if full {
        state.db.write_shared(work).await?
    } else {
        state.db.write_grouped(work).await?
    };
    if reply.outcome == db::checkin::Outcome::Revoked {
        state.agents.forget(&agent.agent_id);
        return Err(AppError::unauthorized(
            "agent_revoked",
            "this agent was revoked by an administrator; enroll again with a new token",
        ));
    }
    tracing::debug!(agent_id = %agent.agent_id, asset_id = reply.asset_id, outcome = ?reply.outcome, "check-in");
    Ok(Json(CheckinResponse {
        asset_id: reply.asset_id,
        commands: reply.commands,
        update: offer,
    }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewEnrollmentToken {
    #[serde(default = "one")]
    uses: u32,
    /// Like "24h" or "7d"; no expiry when absent.
    expires: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct CreatedEnrollmentToken {
    pub id: i64,
    pub token: String,
    pub uses: u32,
    pub expires_at: Option<i64>,
}

async fn create_enrollment_token(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(req): ApiJson<NewEnrollmentToken>,
) -> ApiResult<(StatusCode, Json<CreatedEnrollmentToken>)> {
    let created = create_enrollment(&state, &user, &ip, req.uses, req.expires.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// An admin creates an enrollment token (API and web page alike); audited.
pub async fn create_enrollment(
    state: &AppState,
    user: &CurrentUser,
    ip: &ClientIp,
    uses: u32,
    expires: Option<&str>,
) -> ApiResult<CreatedEnrollmentToken> {
    user.require(Role::Admin)?;
    if uses == 0 || uses > 1_000_000 {
        return Err(AppError::bad_request(
            "invalid_uses",
            "uses must be between 1 and 1000000",
        ));
    }
    let now = crate::clock::now();
    let expires_at = match expires {
        Some(d) => Some(
            now + db::enrollment::parse_duration(d)
                .map_err(|m| AppError::bad_request("invalid_expires", m))?,
        ),
        None => None,
    };
    let token = crate::crypto::new_enrollment_token();
    let (t, by) = (token.clone(), user.user.id);
    let actor = user.actor(ip);
    let id = state
        .db
        .write(move |tx| {
            let id = db::enrollment::insert(tx, &t, uses, expires_at, Some(by), now)?;
            let e = Entry::new(now, &actor, action::ENROLLMENT_TOKEN_CREATED)
                .target(format!("enrollment_token:{id}"))
                .detail(json!({ "uses": uses, "expires_at": expires_at }));
            db::audit::record(tx, &e)?;
            Ok(id)
        })
        .await?;
    Ok(CreatedEnrollmentToken {
        id,
        token,
        uses,
        expires_at,
    })
}

async fn revoke_agent(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    let now = crate::clock::now();
    state.agents.forget(&id);
    let actor = user.actor(&ip);
    let (found, revoked) = state
        .db
        .write(move |tx| {
            let found = db::agents::get(tx, &id)?.is_some();
            let revoked = db::agents::revoke(tx, &id, now)?;
            if revoked {
                let e =
                    Entry::new(now, &actor, action::AGENT_REVOKED).target(format!("agent:{id}"));
                db::audit::record(tx, &e)?;
            }
            Ok((found, revoked))
        })
        .await?;
    match (found, revoked) {
        (false, _) => Err(AppError::not_found("agent")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// An agent revokes itself: what an admin's revoke does, audited as the agent's own act.
/// The body is ignored (`{}`).
async fn deregister(
    agent: AgentAuth,
    State(state): State<AppState>,
    ip: ClientIp,
) -> ApiResult<Json<steward_shared::DeregisterResponse>> {
    let now = crate::clock::now();
    let id = agent.agent_id;
    state.agents.forget(&id);
    let actor = Actor::agent(&id, ip.text());
    let agent_id = id.clone();
    state
        .db
        .write(move |tx| {
            if db::agents::revoke(tx, &id, now)? {
                let e = Entry::new(now, &actor, action::AGENT_REVOKED)
                    .target(format!("agent:{id}"))
                    .detail(json!({ "by": "the agent itself (deregister)" }));
                db::audit::record(tx, &e)?;
            }
            Ok(())
        })
        .await?;
    tracing::info!(agent_id = %agent_id, "agent deregistered itself");
    Ok(Json(steward_shared::DeregisterResponse { agent_id }))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct AgentListQuery {
    limit: Option<u32>,
    cursor: Option<String>,
}

async fn list_agents(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AgentListQuery>,
) -> ApiResult<Json<Page<db::agents::Agent>>> {
    user.require(Role::Technician)?;
    let limit = super::assets::limit(q.limit)?;
    let after = q.cursor.filter(|c| !c.is_empty());
    if after.as_ref().is_some_and(|c| c.len() > 64) {
        return Err(AppError::bad_request(
            "invalid_cursor",
            "cursor must come from next_cursor",
        ));
    }
    let items = state
        .db
        .read(move |c| db::agents::list(c, after.as_deref(), limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| a.id.clone()))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

async fn queue_command(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(command): ApiJson<AgentCommand>,
) -> ApiResult<StatusCode> {
    user.require(Role::Technician)?;
    match &command {
        AgentCommand::Unknown => {
            return Err(AppError::bad_request(
                "invalid_command",
                "kind must be collect_now, set_schedule or send_full_report",
            ));
        }
        AgentCommand::SetSchedule { cron } => {
            steward_agent::schedule::Schedule::parse(cron)
                .map_err(|e| AppError::bad_request("invalid_schedule", e.to_string()))?;
        }
        AgentCommand::CollectNow | AgentCommand::SendFullReport => {}
    }
    let now = crate::clock::now();
    let by = user.user.id;
    let found = state
        .db
        .write(move |tx| match db::agents::get(tx, &id)? {
            Some(a) if a.revoked_at.is_none() => {
                db::commands::queue(tx, &id, &command, Some(by), now).map(|_| true)
            }
            _ => Ok(false),
        })
        .await?;
    if found {
        Ok(StatusCode::ACCEPTED)
    } else {
        Err(AppError::not_found("active agent"))
    }
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;
