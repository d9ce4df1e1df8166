//! The install one-liner: `GET /install/agent.sh?token=` and `/install/agent.ps1?token=`
//! write a script that downloads this server's agent binary, checks its SHA-256, installs
//! it and enrolls with the token; `GET /install/files/{platform}/{file}` serves the
//! binaries from `<data_dir>/releases/` (see `crate::releases`).
//!
//! Public: the scripts take the enrollment token as their credential. A token that could
//! not enroll an agent now (unknown, expired, used up, revoked) gets the enroll
//! endpoint's 401 with its reason, never a script. The binaries are not secret.

use super::{ApiPath, ApiQuery, ApiResult, AppError, AppState, Routes};
use crate::db;
use crate::domain::install_scripts::{self, Shell};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/install/agent.sh", get(agent_sh))
        .route("/install/agent.ps1", get(agent_ps1))
        .route("/install/files/{platform}/{file}", get(file))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/install/agent.sh",
        "Linux install script for one enrollment token (curl -fsSL URL | sudo sh)",
        Access::Public,
    )
    .query::<InstallQuery>()
    .ok_raw("text/x-shellscript", "A POSIX sh script");
    api.op(
        "GET",
        "/install/agent.ps1",
        "Windows install script for one enrollment token (irm URL | iex)",
        Access::Public,
    )
    .query::<InstallQuery>()
    .ok_raw("text/plain", "A PowerShell script");
    api.op(
        "GET",
        "/install/files/{platform}/{file}",
        "An agent binary from <data dir>/releases/<platform>/ (platform: linux-x86_64, windows-x86_64, ...; file: steward-agent or steward-agent.exe)",
        Access::Public,
    )
    .ok_raw("application/octet-stream", "The binary");
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct InstallQuery {
    /// An enrollment token that can still enroll an agent.
    token: String,
}

async fn agent_sh(
    state: State<AppState>,
    headers: HeaderMap,
    q: ApiQuery<InstallQuery>,
) -> ApiResult<Response> {
    script(Shell::Sh, state, headers, q).await
}

async fn agent_ps1(
    state: State<AppState>,
    headers: HeaderMap,
    q: ApiQuery<InstallQuery>,
) -> ApiResult<Response> {
    script(Shell::PowerShell, state, headers, q).await
}

async fn script(
    shell: Shell,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<InstallQuery>,
) -> ApiResult<Response> {
    if !install_scripts::valid_token(&q.token) {
        return Err(super::agent::refused_token(
            db::enrollment::Refusal::Unknown,
        ));
    }
    let now = crate::clock::now();
    let token = q.token.clone();
    let verdict = state
        .db
        .read(move |c| db::enrollment::check(c, &token, now))
        .await?;
    if let Err(refusal) = verdict {
        return Err(super::agent::refused_token(refusal));
    }
    let data_dir = state.config.server.data_dir.clone();
    let sums = tokio::task::spawn_blocking(move || crate::releases::checksums(&data_dir, shell))
        .await
        .map_err(|_| AppError::internal())?
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read the agent releases directory");
            AppError::internal()
        })?;
    if sums.is_empty() {
        return Err(AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "no_agent_release",
            format!(
                "this server has no {} agent to install yet: an admin puts one in <data dir>/releases/{}-<arch>/{}",
                shell.os(),
                shell.os(),
                shell.binary()
            ),
        ));
    }
    let base = super::labels::public_base(&state, &headers);
    let text = install_scripts::render(shell, &base, &q.token, &sums)
        .map_err(|e| AppError::bad_request("cannot_write_script", e.to_string()))?;
    let content_type = match shell {
        Shell::Sh => "text/x-shellscript; charset=utf-8",
        Shell::PowerShell => "text/plain; charset=utf-8",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

async fn file(
    State(state): State<AppState>,
    ApiPath((platform, name)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let path = crate::releases::binary_path(&state.config.server.data_dir, &platform, &name)
        .ok_or_else(|| AppError::not_found("agent binary"))?;
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(AppError::not_found("agent binary"));
        }
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot open an agent binary");
            return Err(AppError::internal());
        }
    };
    let len = file.metadata().await.map(|m| m.len()).ok();
    let mut resp = Body::from_stream(tokio_util::io::ReaderStream::new(file)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(len) = len {
        h.insert(header::CONTENT_LENGTH, len.into());
    }
    Ok(resp)
}
