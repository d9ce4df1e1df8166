//! Agent releases: admins publish signed builds and steer their rollout
//! (`/api/v1/agent-releases`); agents download the binary they were offered
//! (`/api/v1/agent/releases/{id}/binary`). Offers ride on the check-in reply
//! (`offer_for`, called from `http::agent`).

use super::Routes;
use super::auth::{AgentAuth, ClientIp, CurrentUser};
use super::{ApiJson, ApiPath, ApiResult, AppError, AppState};
use crate::db::agent_releases::{AgentRelease, NewRelease, RolloutChange};
use crate::db::audit::{Entry, action};
use crate::db::{self, DbResult};
use crate::domain::roles::Role;
use crate::domain::rollout;
use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_shared::release::{AGENT_RELEASE_BINARY_PATH, release_message};
use steward_shared::{Page, UpdateOffer, UpdateStatus};

pub fn router() -> Routes {
    Routes::new()
        .route(
            "/api/v1/agent-releases",
            get(list_releases).post(create_release),
        )
        .route(
            "/api/v1/agent-releases/binaries",
            // Its own limit ([agent_releases] max_upload_bytes), enforced while reading.
            post(upload_binary).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/agent-releases/{id}",
            axum::routing::patch(change_release),
        )
        .route(AGENT_RELEASE_BINARY_PATH, get(download))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/agent-releases",
        "List signed agent releases and their rollout",
        Access::Admin,
    )
    .ok::<Page<AgentRelease>>();
    api.op(
        "POST",
        "/api/v1/agent-releases",
        "Publish a signed agent release whose binary is already stored (steward-server release add)",
        Access::Admin,
    )
    .body::<NewReleaseBody>()
    .created::<AgentRelease>();
    api.op(
        "POST",
        "/api/v1/agent-releases/binaries",
        "Upload an agent binary (raw body, application/octet-stream) into the release store; \
         publish it with POST /api/v1/agent-releases and its sha256",
        Access::Admin,
    )
    .raw_body("application/octet-stream", "The agent binary")
    .created::<StoredBinary>();
    api.op(
        "PATCH",
        "/api/v1/agent-releases/{id}",
        "Change a release's rollout: percentage, paused, locations, agents",
        Access::Admin,
    )
    .body::<RolloutBody>()
    .ok::<AgentRelease>();
    api.op(
        "GET",
        AGENT_RELEASE_BINARY_PATH,
        "Download a release's binary (streamed, application/octet-stream)",
        Access::Agent,
    )
    .empty("200", "The binary");
}

/// Body of `POST /api/v1/agent-releases`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct NewReleaseBody {
    version: String,
    os: String,
    arch: String,
    /// SHA-256 of a binary stored under `<data_dir>/agent-releases/`.
    sha256: String,
    /// Ed25519 signature of the release message, base64.
    signature: String,
    #[serde(default)]
    percentage: u8,
    #[serde(default)]
    paused: bool,
    #[serde(default)]
    location_ids: Vec<i64>,
    #[serde(default)]
    agent_ids: Vec<String>,
}

/// Reply of `POST /api/v1/agent-releases/binaries`: the stored binary.
#[derive(Debug, Serialize, schemars::JsonSchema)]
struct StoredBinary {
    sha256: String,
    size: u64,
}

/// Body of `PATCH /api/v1/agent-releases/{id}`; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RolloutBody {
    percentage: Option<u8>,
    paused: Option<bool>,
    location_ids: Option<Vec<i64>>,
    agent_ids: Option<Vec<String>>,
}

fn check_targets(
    percentage: Option<u8>,
    locations: Option<&[i64]>,
    agents: Option<&[String]>,
) -> Result<(), AppError> {
    if percentage.is_some_and(|p| p > 100) {
        return Err(AppError::bad_request(
            "invalid_percentage",
            "percentage is 0 to 100",
        ));
    }
    if locations.is_some_and(|l| l.len() > 1000)
        || agents.is_some_and(|a| a.len() > 10_000 || a.iter().any(|s| s.len() > 64))
    {
        return Err(AppError::bad_request(
            "invalid_targets",
            "at most 1000 locations and 10000 agent ids (64 characters each)",
        ));
    }
    Ok(())
}

async fn list_releases(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<Page<AgentRelease>>> {
    user.require(Role::Admin)?;
    let items = state.db.read(db::agent_releases::list).await?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

/// Streams the request body into the release store (hashed while written, fsynced, then
/// renamed to its digest), refusing it past `max_upload_bytes` before or while reading.
async fn upload_binary(
    user: CurrentUser,
    State(state): State<AppState>,
    req: Request,
) -> ApiResult<(StatusCode, Json<StoredBinary>)> {
    user.require(Role::Admin)?;
    let max = state.config.agent_releases.max_upload_bytes;
    let too_large = || {
        AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the binary is larger than the server accepts ({max} bytes, \
                 agent_releases.max_upload_bytes)"
            ),
        )
    };
    if super::attachments::content_length(req.headers()).is_some_and(|n| n > max) {
        return Err(too_large());
    }
    let blobs = crate::blobs::Blobs::agent_releases(&state.config.server.data_dir);
    let mut upload = blobs.begin().await.map_err(|e| {
        tracing::error!(error = %e, "cannot start storing an agent binary");
        AppError::internal()
    })?;
    let mut body = req.into_body();
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        let data = match frame {
            None => break,
            Some(Err(e)) => {
                return Err(AppError::bad_request(
                    "upload_interrupted",
                    format!("the upload did not arrive whole: {e}"),
                ));
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
        };
        if upload.size() + data.len() as u64 > max {
            return Err(too_large());
        }
        upload.write(&data).await.map_err(|e| {
            tracing::error!(error = %e, "cannot store an agent binary");
            AppError::internal()
        })?;
    }
    if upload.size() == 0 {
        return Err(AppError::bad_request(
            "empty_binary",
            "send the agent binary as the request body (application/octet-stream)",
        ));
    }
    let stored = upload.commit().await.map_err(|e| {
        tracing::error!(error = %e, "cannot store an agent binary");
        AppError::internal()
    })?;
    Ok((
        StatusCode::CREATED,
        Json(StoredBinary {
            sha256: stored.sha256,
            size: stored.size,
        }),
    ))
}

async fn create_release(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<NewReleaseBody>,
) -> ApiResult<(StatusCode, Json<AgentRelease>)> {
    user.require(Role::Admin)?;
    release_message(&[0; 32], &body.version, &body.os, &body.arch)
        .map_err(|e| AppError::bad_request("invalid_release", e.to_string()))?;
    crate::signed_releases::check_signature_shape(&body.signature)
        .map_err(|e| AppError::bad_request("invalid_signature", e.to_string()))?;
    check_targets(
        Some(body.percentage),
        Some(&body.location_ids),
        Some(&body.agent_ids),
    )?;
    let data_dir = state.config.server.data_dir.clone();
    let path = crate::signed_releases::binary_path(&data_dir, &body.sha256)
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            AppError::bad_request(
                "unknown_binary",
                "no stored binary has that sha256; upload it first (POST \
                 /api/v1/agent-releases/binaries, or `steward-server release add`)",
            )
        })?;
    let size = tokio::fs::metadata(&path)
        .await
        .map_err(|_| AppError::internal())?
        .len() as i64;
    let meta = crate::signed_releases::ReleaseMeta {
        version: body.version.clone(),
        os: body.os.clone(),
        arch: body.arch.clone(),
    };
    let mut digest = [0u8; 32];
    hex::decode_to_slice(&body.sha256, &mut digest).map_err(|_| AppError::internal())?;
    crate::signed_releases::check_trusted(
        &state.config.agent_releases.public_keys,
        &digest,
        &meta,
        &body.signature,
    )
    .map_err(|e| AppError::bad_request("untrusted_signature", e.to_string()))?;
    let release = NewRelease {
        version: body.version,
        os: body.os,
        arch: body.arch,
        sha256: body.sha256,
        size,
        signature: body.signature.trim().to_string(),
        percentage: body.percentage,
        paused: body.paused,
        location_ids: body.location_ids,
        agent_ids: body.agent_ids,
    };
    let now = crate::clock::now();
    let actor = user.actor(&ip);
    let made = state
        .db
        .write(move |tx| {
            let Some(id) = db::agent_releases::insert(tx, &release, now)? else {
                return Ok(None);
            };
            let e = Entry::new(now, &actor, action::AGENT_RELEASE_PUBLISHED)
                .target(format!("agent_release:{id}"))
                .detail(json!({
                    "version": release.version, "os": release.os, "arch": release.arch,
                    "sha256": release.sha256, "percentage": release.percentage,
                    "paused": release.paused, "location_ids": release.location_ids,
                    "agent_ids": release.agent_ids,
                }));
            db::audit::record(tx, &e)?;
            db::agent_releases::get(tx, id)
        })
        .await?;
    match made {
        Some(r) => Ok((StatusCode::CREATED, Json(r))),
        None => Err(AppError::new(
            StatusCode::CONFLICT,
            "release_exists",
            "a release of that version for that platform exists already",
        )),
    }
}

async fn change_release(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RolloutBody>,
) -> ApiResult<Json<AgentRelease>> {
    let change = RolloutChange {
        percentage: body.percentage,
        paused: body.paused,
        location_ids: body.location_ids,
        agent_ids: body.agent_ids,
    };
    change_rollout(&state, &user, &ip, id, change)
        .await
        .map(Json)
}

/// Applies and audits a rollout change by an admin (the API and the Updates page).
pub async fn change_rollout(
    state: &AppState,
    user: &CurrentUser,
    ip: &ClientIp,
    id: i64,
    change: RolloutChange,
) -> ApiResult<AgentRelease> {
    user.require(Role::Admin)?;
    check_targets(
        change.percentage,
        change.location_ids.as_deref(),
        change.agent_ids.as_deref(),
    )?;
    let now = crate::clock::now();
    let actor = user.actor(ip);
    let changed = state
        .db
        .write(move |tx| {
            let Some(r) = db::agent_releases::change(tx, id, &change, now)? else {
                return Ok(None);
            };
            let e = Entry::new(now, &actor, action::AGENT_RELEASE_CHANGED)
                .target(format!("agent_release:{id}"))
                .detail(json!({
                    "version": r.version, "percentage": r.percentage, "paused": r.paused,
                    "location_ids": r.location_ids, "agent_ids": r.agent_ids,
                }));
            db::audit::record(tx, &e)?;
            Ok(Some(r))
        })
        .await?;
    changed.ok_or_else(|| AppError::not_found("agent release"))
}

/// Streams a release's binary to an agent. Any enrolled agent may fetch any release:
/// binaries are not secret, and agents trust only what their keys signed.
async fn download(
    _agent: AgentAuth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<impl IntoResponse> {
    let release = state
        .db
        .read(move |c| db::agent_releases::get(c, id))
        .await?
        .ok_or_else(|| AppError::not_found("agent release"))?;
    let path = crate::signed_releases::binary_path(&state.config.server.data_dir, &release.sha256)
        .ok_or_else(|| AppError::not_found("agent release binary"))?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| AppError::not_found("agent release binary"))?;
    let headers = [
        (header::CONTENT_TYPE, "application/octet-stream".to_string()),
        (header::CONTENT_LENGTH, release.size.to_string()),
    ];
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((headers, body))
}

/// Inside the check-in's transaction: record what the agent says about itself, and the
/// newest release its rollout offers it.
pub fn offer_for(
    c: &rusqlite::Connection,
    agent_id: &str,
    status: &UpdateStatus,
) -> DbResult<Option<UpdateOffer>> {
    let platform = format!("{}/{}", status.os, status.arch);
    let error = status.error.as_deref().map(|e| truncate(e, 1000));
    db::agent_releases::record_status(c, agent_id, &status.version, &platform, error)?;
    if !status.enabled {
        return Ok(None);
    }
    let releases = db::agent_releases::live_for(c, &status.os, &status.arch)?;
    if releases.is_empty() {
        return Ok(None);
    }
    let locations = db::agent_releases::agent_locations(c, agent_id)?;
    let target = rollout::Target {
        agent_id,
        version: &status.version,
        os: &status.os,
        arch: &status.arch,
        locations: &locations,
    };
    Ok(rollout::pick(&releases, &target).map(|r| UpdateOffer {
        release_id: r.id,
        version: r.version.clone(),
        os: r.os.clone(),
        arch: r.arch.clone(),
        sha256: r.sha256.clone(),
        size: r.size.max(0) as u64,
        signature: r.signature.clone(),
    }))
}

fn truncate(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
