//! Agent endpoints: enrollment (token for credential), check-in; and the admin side:
//! creating enrollment tokens and revoking agents.

use super::auth::{AgentAuth, CurrentUser};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{self, enrollment::Refusal};
use crate::domain::roles::Role;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use steward_shared::{CheckinRequest, CheckinResponse, EnrollRequest, EnrollResponse, Inventory};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(steward_shared::ENROLL_PATH, post(enroll))
        .route(steward_shared::CHECKIN_PATH, post(checkin))
        .route("/api/v1/enrollment-tokens", post(create_enrollment_token))
        .route("/api/v1/agents/{id}/revoke", post(revoke_agent))
}

async fn enroll(
    State(state): State<AppState>,
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
    let verdict = state
        .db
        .write(move |tx| {
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
        Err(refusal) => {
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
            Err(AppError::unauthorized(code, message))
        }
    }
}

/// Rejects reports that are structurally fine JSON but unreasonable.
pub fn validate_inventory(inv: &Inventory) -> Result<(), String> {
    const MAX_STR: usize = 1024;
    if inv.hostname.len() > 255 {
        return Err("hostname is longer than 255 characters".into());
    }
    if inv.software.len() > 50_000
        || inv.disks.len() > 1024
        || inv.network.len() > 1024
        || inv.logged_in_users.len() > 1024
    {
        return Err("the report lists more items than any machine has".into());
    }
    let too_long = inv.software.iter().any(|s| {
        [&s.name, &s.version, &s.arch, &s.publisher, &s.source]
            .iter()
            .any(|f| f.len() > MAX_STR)
    });
    if too_long || inv.software.iter().any(|s| s.name.is_empty()) {
        return Err(format!(
            "every software item needs a name, and no field may exceed {MAX_STR} bytes"
        ));
    }
    Ok(())
}

async fn checkin(
    agent: AgentAuth,
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<CheckinRequest>,
) -> ApiResult<Json<CheckinResponse>> {
    validate_inventory(&req.inventory)
        .map_err(|m| AppError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_inventory", m))?;
    let now = crate::clock::now();
    let agent_id = agent.agent_id.clone();
    let ip = peer.ip().to_string();
    let outcome = state
        .db
        .write(move |tx| db::checkin::apply(tx, &agent_id, &req, &ip, now))
        .await?;
    tracing::debug!(agent_id = %agent.agent_id, asset_id = outcome.asset_id, created = outcome.created, changes = outcome.changes, "check-in");
    Ok(Json(CheckinResponse {
        asset_id: outcome.asset_id,
        commands: Vec::new(),
    }))
}

#[derive(Debug, Deserialize)]
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

#[derive(Debug, Serialize)]
struct CreatedEnrollmentToken {
    id: i64,
    token: String,
    uses: u32,
    expires_at: Option<i64>,
}

async fn create_enrollment_token(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewEnrollmentToken>,
) -> ApiResult<(StatusCode, Json<CreatedEnrollmentToken>)> {
    user.require(Role::Admin)?;
    if req.uses == 0 || req.uses > 1_000_000 {
        return Err(AppError::bad_request(
            "invalid_uses",
            "uses must be between 1 and 1000000",
        ));
    }
    let now = crate::clock::now();
    let expires_at = match &req.expires {
        Some(d) => Some(
            now + db::enrollment::parse_duration(d)
                .map_err(|m| AppError::bad_request("invalid_expires", m))?,
        ),
        None => None,
    };
    let token = crate::crypto::new_enrollment_token();
    let (t, uses, by) = (token.clone(), req.uses, user.user.id);
    let id = state
        .db
        .write(move |tx| db::enrollment::insert(tx, &t, uses, expires_at, Some(by), now))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEnrollmentToken {
            id,
            token,
            uses: req.uses,
            expires_at,
        }),
    ))
}

async fn revoke_agent(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    user.require(Role::Admin)?;
    let now = crate::clock::now();
    let (found, revoked) = state
        .db
        .write(move |tx| {
            let found = db::agents::get(tx, &id)?.is_some();
            Ok((found, db::agents::revoke(tx, &id, now)?))
        })
        .await?;
    match (found, revoked) {
        (false, _) => Err(AppError::not_found("agent")),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}
