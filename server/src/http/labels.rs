//! `GET /api/v1/assets/labels.svg?ids=1,2,3`: a printable A4 sheet of QR labels, each
//! opening the asset's public page (`/p/<token>`) where anyone can report a problem.

use super::ApiQuery;
use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::db;
use crate::domain::labels::{Label, sheet};
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

/// Labels per request (about 14 sheets).
pub const MAX_LABELS: usize = 300;

pub fn router() -> Routes {
    Routes::new().route("/api/v1/assets/labels.svg", get(labels))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/assets/labels.svg",
        "Printable QR labels",
        Access::Staff,
    )
    .query::<LabelsQuery>()
    .ok_raw("image/svg+xml", "Labels");
}

/// The address people reach the server at: `[smtp] public_url` when set, else the
/// `Host` the request came to.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    let configured = state.config.smtp.public_url.trim_end_matches('/');
    if !configured.is_empty() {
        return configured.to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if state.config.tls.cert.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct LabelsQuery {
    /// Comma-separated asset ids.
    ids: String,
}

async fn labels(
    user: CurrentUser,
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<LabelsQuery>,
) -> ApiResult<Response> {
    staff_only(&user)?;
    let ids = q
        .ids
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| {
            AppError::bad_request("invalid_ids", "ids is a comma-separated list of asset ids")
        })?;
    if ids.is_empty() || ids.len() > MAX_LABELS {
        return Err(AppError::bad_request(
            "invalid_ids",
            format!("ask for 1 to {MAX_LABELS} labels at a time"),
        ));
    }
    let base = public_base(&state, &headers);
    let labels = state
        .db
        .read(move |c| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let (Some(a), Some(r), Some(token)) = (
                    db::assets::get(c, id)?,
                    db::asset_records::record(c, id)?,
                    db::asset_records::public_token(c, id)?,
                ) else {
                    return Ok(Err(AppError::not_found(&format!("asset {id}"))));
                };
                out.push(Label {
                    url: format!("{base}/p/{token}"),
                    name: a.summary.name,
                    tag: r.asset_tag.unwrap_or_else(|| format!("#{id}")),
                });
            }
            Ok(Ok(out))
        })
        .await??;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            ),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"labels.svg\"",
            ),
        ],
        sheet(&labels),
    )
        .into_response())
}
