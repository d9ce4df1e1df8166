//! Who is calling: users by API token or session cookie, agents by their own credential.
//! Every handler takes one of these extractors and checks the role it needs.

use super::Routes;
use super::{ApiResult, AppError, AppState};
use crate::db::{self, users::User};
use crate::domain::roles::Role;
use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::routing::get;
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "steward_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// How the user proved who they are.
#[derive(Debug, Clone)]
pub enum AuthVia {
    /// An API token with its scope.
    Token(db::tokens::Scope),
    /// A web session; the CSRF token that state-changing requests must carry.
    Session { csrf: String },
}

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub via: AuthVia,
}

impl CurrentUser {
    /// Refuses with 403 unless the user's role is at least `needed`.
    pub fn require(&self, needed: Role) -> ApiResult<()> {
        if self.user.role.allows(needed) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "this needs the {needed} role; you are signed in as {}",
                self.user.role
            )))
        }
    }

    /// The user as the audit log names them, calling from `ip`.
    pub fn actor(&self, ip: &ClientIp) -> db::audit::Actor {
        db::audit::Actor::user(self.user.id, &self.user.email, ip.text())
    }

    pub fn csrf(&self) -> Option<&str> {
        match &self.via {
            AuthVia::Session { csrf } => Some(csrf),
            AuthVia::Token(_) => None,
        }
    }
}

/// The address the request came from (the TCP peer; a proxy in front shows as itself).
/// `None` only when the server runs without connection info (never in `serve`).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn text(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Finds the user behind the request, without deciding what to do when there is none.
pub async fn identify(parts: &Parts, state: &AppState) -> ApiResult<Option<CurrentUser>> {
    let now = crate::clock::now();
    if let Some(token) = bearer(parts) {
        let token = token.to_owned();
        let user = state
            .db
            .read(move |c| db::tokens::authenticate(c, &token, now))
            .await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        return match user {
            Some((_, db::tokens::Scope::Read)) if !safe => Err(AppError::forbidden_code(
                "insufficient_scope",
                "this API token may only read; create one with `steward-server token create --scope write`",
            )),
            Some((user, scope)) => Ok(Some(CurrentUser {
                user,
                via: AuthVia::Token(scope),
            })),
            None => Err(AppError::unauthorized(
                "invalid_token",
                "the API token is unknown, revoked or expired; create a new one with `steward-server token create`",
            )),
        };
    }
    let Some(cookie) = cookie(parts, SESSION_COOKIE).map(str::to_owned) else {
        return Ok(None);
    };
    let session = state
        .db
        .read(move |c| db::sessions::lookup(c, &cookie, now))
        .await?;
    Ok(session.map(|s| CurrentUser {
        user: s.user,
        via: AuthVia::Session { csrf: s.csrf_token },
    }))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(user) = identify(parts, state).await? else {
            return Err(AppError::unauthorized(
                "unauthenticated",
                "sign in, or send an API token as `Authorization: Bearer <token>`",
            ));
        };
        // Cookie-authenticated API writes must prove they come from our own pages.
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if let (false, Some(expected)) = (safe, user.csrf()) {
            let sent = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !crate::crypto::constant_time_eq(sent, expected) {
                return Err(AppError::forbidden("missing or wrong X-CSRF-Token header"));
            }
        }
        Ok(user)
    }
}

/// An enrolled, not revoked agent, authenticated by `Authorization: Bearer <id>.<secret>`.
#[derive(Debug, Clone)]
pub struct AgentAuth {
    pub agent_id: String,
}

impl FromRequestParts<AppState> for AgentAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let refused = || {
            AppError::unauthorized(
                "invalid_agent_credential",
                "unknown agent credential; enroll this machine again with `steward-agent enroll`",
            )
        };
        let (id, secret) = bearer(parts)
            .and_then(|b| b.split_once('.'))
            .ok_or_else(refused)?;
        if id.len() > 64 || secret.len() > 128 {
            return Err(refused());
        }
        let hash = crate::crypto::token_hash(secret);
        let now = std::time::Instant::now();
        if state.agents.verified(id, &hash, now) {
            return Ok(AgentAuth {
                agent_id: id.to_owned(),
            });
        }
        let (id, secret) = (id.to_owned(), secret.to_owned());
        let agent_id = id.clone();
        let verdict = state
            .db
            .read(move |c| db::agents::authenticate(c, &id, &secret))
            .await?;
        match verdict {
            Ok(()) => {
                state.agents.remember(&agent_id, hash, now);
                Ok(AgentAuth { agent_id })
            }
            Err(db::agents::AgentRefusal::Revoked) => Err(AppError::unauthorized(
                "agent_revoked",
                "this agent was revoked by an administrator; enroll again with a new token",
            )),
            Err(db::agents::AgentRefusal::Unknown) => Err(refused()),
        }
    }
}

pub fn router() -> Routes {
    Routes::new().route("/api/v1/me", get(me))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op("GET", "/api/v1/me", "The caller", Access::User)
        .ok::<Me>();
}

#[derive(serde::Serialize, schemars::JsonSchema)]
struct Me {
    #[serde(flatten)]
    user: User,
    csrf_token: Option<String>,
}

async fn me(user: CurrentUser, State(_): State<AppState>) -> Json<Me> {
    let csrf_token = user.csrf().map(str::to_owned);
    Json(Me {
        user: user.user,
        csrf_token,
    })
}

/// Used by handlers that only staff may call.
pub fn staff_only(user: &CurrentUser) -> ApiResult<()> {
    user.require(Role::Technician)
}
