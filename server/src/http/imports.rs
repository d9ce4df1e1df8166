//! `POST /api/v1/imports/assets`: a CSV of assets as the body (`text/csv`), checked row
//! by row (`?dry_run=true`, the default) or imported (`?dry_run=false`). Options:
//! `mapping` (a JSON object, column -> field), `default_type`, `create_locations`
//! (admins only). Technicians and admins; the rows are checked like `POST /api/v1/assets`
//! (see `crate::imports`).

use super::Routes;
use super::auth::{CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::domain::roles::Role;
use crate::imports::{self, Options, Report};
use axum::Json;
use axum::body::{Body, HttpBody};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The largest CSV the API takes (about 500,000 typical rows); the CLI has no limit.
pub const MAX_IMPORT_BYTES: usize = 50 * 1024 * 1024;

/// Row errors one answer lists; the rest are counted in `errors_omitted`.
pub const MAX_REPORTED_ERRORS: usize = 10_000;

pub fn router() -> Routes {
    Routes::new().route(
        "/api/v1/imports/assets",
        // A CSV has its own limit (MAX_IMPORT_BYTES), counted while reading.
        post(import_assets).layer(DefaultBodyLimit::disable()),
    )
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        "/api/v1/imports/assets",
        "Import assets from CSV",
        Access::Staff,
    )
    .query::<ImportQuery>()
    .raw_body("text/csv", "The CSV file")
    .ok::<Report>();
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    /// Check only (default true): a real import needs `dry_run=false`.
    dry_run: Option<bool>,
    /// A JSON object: column header -> field name, `custom:<key>` or `ignore`.
    mapping: Option<String>,
    /// The type for rows whose type or category is empty or unknown.
    default_type: Option<String>,
    /// Create the locations the file names that do not exist (admins only).
    create_locations: Option<bool>,
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

fn too_large() -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "a CSV import is at most {} MB; split the file, or use `steward-server import-assets`",
            MAX_IMPORT_BYTES / (1024 * 1024)
        ),
    )
}

/// Accepts CSV and plain text (and no type at all, as curl's `--data-binary` sends).
fn check_content_type(req: &Request) -> ApiResult<()> {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    const OK: &[&str] = &[
        "text/csv",
        "application/csv",
        "text/plain",
        "application/vnd.ms-excel",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
    ];
    if OK.contains(&essence.as_str()) {
        Ok(())
    } else {
        Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the CSV file itself as the body, with Content-Type: text/csv",
        ))
    }
}

/// The whole body, refused once it passes `MAX_IMPORT_BYTES`.
async fn read_body(body: Body) -> ApiResult<Vec<u8>> {
    let mut body = body;
    if body
        .size_hint()
        .exact()
        .is_some_and(|n| n > MAX_IMPORT_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut out = Vec::new();
    loop {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => return Ok(out),
            Some(Err(e)) => {
                return Err(bad(
                    "upload_interrupted",
                    format!("the file did not arrive whole: {e}"),
                ));
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    if out.len() + data.len() > MAX_IMPORT_BYTES {
                        return Err(too_large());
                    }
                    out.extend_from_slice(&data);
                }
            }
        }
    }
}

/// The options a query asks for.
fn options(q: ImportQuery) -> ApiResult<Options> {
    let mapping = match q.mapping.as_deref().filter(|m| !m.trim().is_empty()) {
        None => None,
        Some(m) => Some(serde_json::from_str::<Map<String, Value>>(m).map_err(|e| {
            bad(
                "invalid_mapping",
                format!("mapping is a JSON object like {{\"Device\": \"name\"}}: {e}"),
            )
        })?),
    };
    Ok(Options {
        dry_run: q.dry_run.unwrap_or(true),
        mapping,
        default_type: q.default_type.filter(|t| !t.trim().is_empty()),
        create_locations: q.create_locations.unwrap_or(false),
        max_errors: MAX_REPORTED_ERRORS,
    })
}

async fn import_assets(
    user: CurrentUser,
    State(state): State<AppState>,
    query: Result<Query<ImportQuery>, QueryRejection>,
    req: Request,
) -> ApiResult<Json<Report>> {
    staff_only(&user)?;
    let opts = options(super::software::query(query)?)?;
    if opts.create_locations {
        user.require(Role::Admin)
            .map_err(|_| AppError::forbidden("only admins create locations (create_locations)"))?;
    }
    check_content_type(&req)?;
    let bytes = read_body(req.into_body()).await?;
    let actor = super::asset_records::actor(&user);
    let now = crate::clock::now();
    let db = state.db.clone();
    let span = tracing::Span::current();
    let o = opts.clone();
    let report = tokio::task::spawn_blocking(move || {
        span.in_scope(|| imports::import_blocking(&db, &bytes, &o, &actor, now, &mut |_, _| {}))
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "the import task failed");
        AppError::internal()
    })??
    .map_err(|e| bad(e.code, e.message))?;
    tracing::info!(
        user_id = user.user.id,
        rows = report.rows,
        imported = report.imported,
        invalid = report.invalid,
        dry_run = report.dry_run,
        "asset import"
    );
    Ok(Json(report))
}
