//! Files on tickets: `POST /api/v1/tickets/{id}/attachments` (the raw file as the body, or
//! `multipart/form-data`), `GET` the same path to list, `GET /api/v1/attachments/{id}` to
//! download. The requester and staff may add files (only staff internal ones); whoever may
//! see the ticket sees its public files, only staff see internal ones, everyone else gets
//! 404. Bytes go to disk (`crate::blobs`) before the row is committed.

use super::ApiPath;
use super::Routes;
use super::auth::CurrentUser;
use super::tickets::{actor_label, visible};
use super::{ApiResult, AppError, AppState};
use crate::blobs::Blobs;
use crate::db::{self, attachments::Attachment, attachments::NewAttachment};
use crate::domain::attachments::{
    SNIFF_BYTES, content_disposition, content_matches, essence, sanitize_filename,
};
use axum::Json;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use steward_shared::Page;

/// Room for the form fields and part headers around the file in a multipart upload.
pub const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// The policy sent with every download: no scripts, no plugins, no same-origin access,
/// whatever the file turns out to be.
const DOWNLOAD_CSP: &str = "sandbox; default-src 'none'";

pub fn router() -> Routes {
    Routes::new()
        .route(
            "/api/v1/tickets/{id}/attachments",
            // Uploads have their own limit (attachments.max_bytes), enforced while reading.
            get(list).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/attachments/{id}", get(download))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/tickets/{id}/attachments",
        "A ticket's attachments",
        Access::User,
    )
    .ok::<Page<Attachment>>();
    api.op(
        "POST",
        "/api/v1/tickets/{id}/attachments",
        "Attach a file (multipart or raw body)",
        Access::User,
    )
    .query::<UploadQuery>()
    .raw_body("multipart/form-data", "The file")
    .created::<Attachment>();
    api.op(
        "GET",
        "/api/v1/attachments/{id}",
        "Download an attachment",
        Access::User,
    )
    .ok_raw("application/octet-stream", "The file");
}

/// Query of `POST /api/v1/tickets/{id}/attachments`.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The file's name (required for a raw body; overrides the multipart file name).
    pub filename: Option<String>,
    /// Hide the file from the requester (staff only). Default: false, or the comment's.
    pub internal: Option<bool>,
    /// The reply or note the file belongs to.
    pub comment_id: Option<i64>,
}

/// What to store, besides the bytes.
#[derive(Debug, Clone, Default)]
pub struct UploadMeta {
    /// As the client sent it; sanitised before it is stored.
    pub filename: Option<String>,
    /// The declared `Content-Type`; none means `application/octet-stream`.
    pub content_type: Option<String>,
    pub internal: Option<bool>,
    pub comment_id: Option<i64>,
}

/// Where an upload's bytes come from.
pub enum Source<'a> {
    /// The whole request body is the file.
    Raw(Body),
    /// The file part of a multipart form.
    Part(Box<Field<'a>>),
}

impl Source<'_> {
    async fn next_chunk(&mut self) -> ApiResult<Option<Bytes>> {
        match self {
            Source::Raw(body) => loop {
                let frame =
                    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_frame(cx)).await;
                match frame {
                    None => return Ok(None),
                    Some(Err(e)) => {
                        return Err(AppError::bad_request(
                            "upload_interrupted",
                            format!("the upload did not arrive whole: {e}"),
                        ));
                    }
                    // Trailers carry no file data.
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
            Source::Part(field) => field.chunk().await.map_err(multipart_error),
        }
    }
}

fn too_large(max: u64) -> AppError {
    AppError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the file is larger than the server accepts ({}, attachments.max_bytes)",
            crate::domain::changes::human_bytes(max)
        ),
    )
}

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the form is larger than the server accepts (attachments.max_bytes)",
        );
    }
    AppError::bad_request("invalid_multipart", e.body_text())
}

fn storage_error(e: std::io::Error) -> AppError {
    tracing::error!(error = %e, "cannot store an attachment");
    AppError::internal()
}

/// The request's declared body size, if it says one.
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Decides visibility before any byte is stored: the ticket must be `user`'s to see, a
/// comment must be on it (and theirs, unless staff); a file on a comment has the
/// comment's visibility.
fn check_target(
    c: &rusqlite::Connection,
    ticket_id: i64,
    meta: &UploadMeta,
    user: &CurrentUser,
) -> db::DbResult<ApiResult<bool>> {
    let staff = user.user.role.is_staff();
    if visible(c, ticket_id, user)?.is_none() {
        return Ok(Err(AppError::not_found("ticket")));
    }
    let Some(comment_id) = meta.comment_id else {
        return Ok(Ok(meta.internal.unwrap_or(false)));
    };
    match db::attachments::comment_on(c, ticket_id, comment_id)? {
        Some((_, true)) if !staff => Ok(Err(AppError::not_found("comment"))),
        None => Ok(Err(AppError::not_found("comment"))),
        Some((author, _)) if !staff && author != Some(user.user.id) => Ok(Err(
            AppError::forbidden("attach files to your own replies only"),
        )),
        Some((_, internal)) if meta.internal.is_some_and(|i| i != internal) => {
            Ok(Err(AppError::bad_request(
                "internal_mismatch",
                "a file on a comment is internal exactly when the comment is",
            )))
        }
        Some((_, internal)) => Ok(Ok(internal)),
    }
}

/// Stores one file on ticket `ticket_id` for `user`: checks who may, the type (declared
/// and sniffed) and the size while streaming to disk, then records the row and emits
/// `ticket.attachment_added` in one transaction.
pub async fn store(
    state: &AppState,
    user: &CurrentUser,
    ticket_id: i64,
    meta: UploadMeta,
    mut source: Source<'_>,
) -> ApiResult<Attachment> {
    if meta.internal == Some(true) && !user.user.role.is_staff() {
        return Err(AppError::forbidden("only staff add internal attachments"));
    }
    let (u, m) = (user.clone(), meta.clone());
    let internal = state
        .db
        .read(move |c| check_target(c, ticket_id, &m, &u))
        .await??;

    let config = &state.config.attachments;
    let declared = meta
        .content_type
        .as_deref()
        .unwrap_or("application/octet-stream");
    let content_type = essence(declared)
        .filter(|e| crate::domain::attachments::allowed(e, &config.allowed_types))
        .ok_or_else(|| {
            AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "type_not_allowed",
                format!(
                    "files of type {declared:?} are not accepted; send the file's own type as its Content-Type (accepted: {})",
                    config.allowed_types.join(", ")
                ),
            )
        })?;
    let filename = sanitize_filename(meta.filename.as_deref().ok_or_else(|| {
        AppError::bad_request("missing_filename", "name the file: ?filename=report.pdf")
    })?);

    let mismatch = || {
        AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_mismatch",
            format!("the file's content is not {content_type}, as its Content-Type says"),
        )
    };
    let blobs = Blobs::new(&state.config.server.data_dir);
    let mut upload = blobs.begin().await.map_err(storage_error)?;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut sniffed = false;
    while let Some(chunk) = source.next_chunk().await? {
        if upload.size() + chunk.len() as u64 > config.max_bytes {
            return Err(too_large(config.max_bytes));
        }
        if !sniffed {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES {
                sniffed = true;
                if !content_matches(&content_type, &head) {
                    return Err(mismatch());
                }
            }
        }
        upload.write(&chunk).await.map_err(storage_error)?;
    }
    if upload.size() == 0 {
        return Err(AppError::bad_request("empty_file", "the file is empty"));
    }
    if !sniffed && !content_matches(&content_type, &head) {
        return Err(mismatch());
    }
    let stored = upload.commit().await.map_err(storage_error)?;

    let now = crate::clock::now();
    let u = user.clone();
    let new = NewAttachment {
        ticket_id,
        comment_id: meta.comment_id,
        filename,
        content_type,
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: stored.sha256,
        uploader_id: user.user.id,
        internal,
    };
    let added = state
        .db
        .write(move |tx| {
            // Checked again inside the transaction: the ticket may have gone meanwhile.
            if let Err(e) = check_target(tx, ticket_id, &meta, &u)? {
                return Ok(Err(e));
            }
            let id = db::attachments::insert(tx, &new, now)?;
            tx.execute(
                "INSERT OR IGNORE INTO ticket_watchers (ticket_id, user_id) VALUES (?1, ?2)",
                rusqlite::params![ticket_id, u.user.id],
            )?;
            let mut payload = serde_json::json!({
                "attachment_id": id,
                "comment_id": new.comment_id,
                "content_type": new.content_type,
                "size": new.size,
                "internal": new.internal,
                "uploader_id": new.uploader_id,
            });
            // Like an internal note's text, an internal file's name stays out of the log.
            if !new.internal {
                payload["filename"] = serde_json::Value::String(new.filename.clone());
            }
            crate::events::emit(
                tx,
                crate::events::TICKET_ATTACHMENT_ADDED,
                Some(ticket_id),
                &actor_label(&u),
                payload,
                now,
            )?;
            Ok(db::attachments::get(tx, id)?.ok_or_else(AppError::internal))
        })
        .await??;
    tracing::info!(
        ticket_id,
        attachment_id = added.id,
        size = added.size,
        user_id = user.user.id,
        "attachment added"
    );
    Ok(added)
}

/// Text fields of a multipart form that came before its file.
#[derive(Debug, Default)]
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn small_text(field: &mut Field<'_>) -> ApiResult<String> {
    let mut out = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        out.extend_from_slice(&chunk);
        if out.len() > 4096 {
            return Err(AppError::bad_request(
                "invalid_multipart",
                "form fields other than the file are at most 4 KiB",
            ));
        }
    }
    String::from_utf8(out)
        .map_err(|_| AppError::bad_request("invalid_multipart", "a form field is not UTF-8"))
}

/// Stores the file of a `multipart/form-data` request: the part named `file`. Text
/// fields must come before it; `meta` turns them into the upload's options (the part's
/// file name and type fill in what it leaves empty). The request needs a
/// `Content-Length`, which bounds the whole form.
pub async fn store_multipart(
    state: &AppState,
    user: &CurrentUser,
    ticket_id: i64,
    req: Request,
    meta: impl FnOnce(&FormFields) -> ApiResult<UploadMeta>,
) -> ApiResult<Attachment> {
    let max = state.config.attachments.max_bytes;
    match content_length(req.headers()) {
        None => {
            return Err(AppError::new(
                StatusCode::LENGTH_REQUIRED,
                "length_required",
                "send a multipart upload with a Content-Length header",
            ));
        }
        Some(n) if n > max.saturating_add(MULTIPART_OVERHEAD) => return Err(too_large(max)),
        Some(_) => {}
    }
    let mut form = Multipart::from_request(req, state)
        .await
        .map_err(|r| AppError::bad_request("invalid_multipart", r.body_text()))?;
    let mut fields = FormFields::default();
    let mut meta = Some(meta);
    while let Some(mut field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or("").to_owned();
        if name != "file" {
            if fields.0.len() >= 16 {
                return Err(AppError::bad_request(
                    "invalid_multipart",
                    "too many form fields",
                ));
            }
            let value = small_text(&mut field).await?;
            fields.0.push((name, value));
            continue;
        }
        let decide = meta.take().ok_or_else(AppError::internal)?;
        let mut m = decide(&fields)?;
        if m.filename.is_none() {
            m.filename = field.file_name().map(str::to_owned);
        }
        if m.content_type.is_none() {
            m.content_type = field.content_type().map(str::to_owned);
        }
        return store(state, user, ticket_id, m, Source::Part(Box::new(field))).await;
    }
    Err(AppError::bad_request(
        "missing_file",
        "the form has no part named \"file\"",
    ))
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

async fn upload(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    req: Request,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|r| AppError::bad_request("invalid_query", r.body_text()))?;
    let a = if is_multipart(req.headers()) {
        store_multipart(&state, &user, id, req, |f| {
            let internal = match (q.internal, f.get("internal")) {
                (Some(i), _) => Some(i),
                (None, None) => None,
                (None, Some(v)) => Some(v == "true"),
            };
            let comment_id = match (q.comment_id, f.get("comment_id")) {
                (Some(c), _) => Some(c),
                (None, None) => None,
                (None, Some(v)) => Some(v.parse().map_err(|_| {
                    AppError::bad_request("invalid_comment_id", "comment_id is a number")
                })?),
            };
            Ok(UploadMeta {
                filename: q.filename.clone(),
                content_type: None,
                internal,
                comment_id,
            })
        })
        .await?
    } else {
        let max = state.config.attachments.max_bytes;
        if content_length(req.headers()).is_some_and(|n| n > max) {
            return Err(too_large(max));
        }
        let meta = UploadMeta {
            filename: q.filename,
            content_type: req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            internal: q.internal,
            comment_id: q.comment_id,
        };
        store(&state, &user, id, meta, Source::Raw(req.into_body())).await?
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, a.url.clone())],
        Json(a),
    )
        .into_response())
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Page<Attachment>>> {
    let staff = user.user.role.is_staff();
    let found = state
        .db
        .read(move |c| match visible(c, id, &user)? {
            Some(_) => db::attachments::list(c, id, staff).map(Some),
            None => Ok(None),
        })
        .await?;
    let items = found.ok_or_else(|| AppError::not_found("ticket"))?;
    Ok(Json(Page {
        items,
        next_cursor: None,
    }))
}

async fn download(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let found = state
        .db
        .read(move |c| {
            let Some(a) = db::attachments::get(c, id)? else {
                return Ok(None);
            };
            if a.internal && !user.user.role.is_staff() {
                return Ok(None);
            }
            Ok(visible(c, a.ticket_id, &user)?.map(|_| a))
        })
        .await?;
    let a = found.ok_or_else(|| AppError::not_found("attachment"))?;
    let blobs = Blobs::new(&state.config.server.data_dir);
    let opened = match blobs.open(&a.sha256).await {
        Ok(file) => file.metadata().await.map(|m| (file, m.len())),
        Err(e) => Err(e),
    };
    let (file, len) = opened.map_err(|e| {
        tracing::error!(attachment_id = a.id, sha256 = %a.sha256, error = %e, "attachment file is unreadable");
        AppError::internal()
    })?;
    let headers = [
        (header::CONTENT_TYPE, a.content_type.clone()),
        (header::CONTENT_LENGTH, len.to_string()),
        (
            header::CONTENT_DISPOSITION,
            content_disposition(&a.filename),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (header::CONTENT_SECURITY_POLICY, DOWNLOAD_CSP.to_owned()),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin".to_owned(),
        ),
        (header::CACHE_CONTROL, "private, no-store".to_owned()),
        (header::ETAG, format!("\"{}\"", a.sha256)),
    ];
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    Ok((headers, body).into_response())
}
