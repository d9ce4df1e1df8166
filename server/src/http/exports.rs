//! CSV exports of list views: `GET /api/v1/assets.csv` with the filters of
//! `GET /api/v1/assets` (staff), and `GET /api/v1/tickets.csv` with those of
//! `GET /api/v1/tickets` (whoever may list them; employees get their own). Every
//! matching row, not one page (the assets export ignores `limit` and `cursor`). The first
//! chunk is read before answering, so a bad filter is a JSON error; the rest stream while
//! later chunks are read, each in its own short read, so no connection is held across an
//! await. A failure mid-stream aborts the response rather than ending it early. Cells a
//! spreadsheet would run as formulas get a leading apostrophe; importing the assets CSV
//! again takes it off, so it round-trips. Every export is recorded in the audit log
//! (`export.*`, with its query string) before the file is sent.

use super::Routes;
use super::auth::{ClientIp, CurrentUser, staff_only};
use super::{ApiResult, AppError, AppState};
use crate::db::asset_export::{self, ExportRecord};
use crate::db::assets::{AssetFilter, AssetSummary};
use crate::db::audit::{Actor, Entry, action};
use crate::db::{self, DbResult};
use crate::imports::table::write_row;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rusqlite::Connection;
use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

/// Assets per read: big enough to stream fast, small enough to keep reads short.
const ASSET_CHUNK: u32 = 5_000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/assets.csv", get(assets_csv))
        .route("/api/v1/tickets.csv", get(tickets_csv))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/assets.csv",
        "Export assets as CSV",
        Access::Staff,
    )
    .query::<super::assets::ListQuery>()
    .ok_raw("text/csv", "Assets");
    api.op(
        "GET",
        "/api/v1/tickets.csv",
        "Export the tickets the caller may see as CSV",
        Access::User,
    )
    .query::<super::tickets::ListQuery>()
    .ok_raw("text/csv", "Tickets");
}

/// The chunks of a response body as they are produced; an `Err` aborts the response.
struct ChunkReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    buf: Bytes,
}

impl AsyncRead for ChunkReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.buf.is_empty() {
                let n = this.buf.len().min(out.remaining());
                out.put_slice(&this.buf.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(this.rx.poll_recv(cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Ok(b)) => this.buf = b,
                Some(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// A `text/csv` attachment whose body starts with `first` and continues with what is
/// sent on the returned channel until it is dropped.
pub(crate) fn csv_response(
    filename: &str,
    first: Vec<u8>,
) -> (Response, mpsc::Sender<io::Result<Bytes>>) {
    let (tx, rx) = mpsc::channel(2);
    let reader = ChunkReader {
        rx,
        buf: Bytes::from(first),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        reader,
        64 * 1024,
    ));
    let response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response();
    (response, tx)
}

/// Records an export in the audit log (its own write, before the file is sent), with the
/// query string that chose the rows. An export that cannot be recorded is refused.
pub(crate) async fn record_export(
    state: &AppState,
    actor: &Actor,
    what: &'static str,
    query: Option<&str>,
) -> ApiResult<()> {
    let now = crate::clock::now();
    let query: String = query.unwrap_or_default().chars().take(2000).collect();
    let e = Entry::new(now, actor, what).detail(serde_json::json!({ "query": query }));
    state.db.write(move |tx| db::audit::record(tx, &e)).await?;
    Ok(())
}

/// Logs a failed chunk and aborts the response it belongs to.
pub(crate) async fn abort(tx: &mpsc::Sender<io::Result<Bytes>>, what: &str, e: &AppError) {
    tracing::error!(
        export = what,
        code = e.code,
        "a CSV export failed mid-stream"
    );
    let _ = tx.send(Err(io::Error::other(e.message.clone()))).await;
}

fn text_time(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// What every chunk of an asset export needs: names for ids, and the custom columns.
struct AssetColumns {
    states: HashMap<i64, String>,
    places: HashMap<i64, String>,
    custom: Vec<String>,
}

const ASSET_HEADER: &[&str] = &[
    "id",
    "asset_tag",
    "name",
    "type",
    "manufacturer",
    "model",
    "serial",
    "state",
    "location",
    "purchase_date",
    "purchase_cost",
    "supplier",
    "order_number",
    "warranty_end",
    "criticality",
    "hostname",
    "os",
    "last_seen",
    "expected_life_months",
    "notes",
];

impl AssetColumns {
    fn load(c: &Connection, kind: Option<&str>) -> DbResult<AssetColumns> {
        let mut custom: Vec<String> = Vec::new();
        for t in db::asset_types::list(c)? {
            if kind.is_some_and(|k| !k.eq_ignore_ascii_case(&t.key)) {
                continue;
            }
            for f in t.fields {
                if !custom.contains(&f.key) {
                    custom.push(f.key);
                }
            }
        }
        Ok(AssetColumns {
            states: db::asset_types::states(c)?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect(),
            places: db::locations::list(c, db::locations::MAX_LOCATIONS)?
                .into_iter()
                .map(|l| (l.id, l.path))
                .collect(),
            custom,
        })
    }

    fn header(&self, out: &mut Vec<u8>) {
        let custom: Vec<String> = self.custom.iter().map(|k| format!("custom:{k}")).collect();
        write_row(
            out,
            ASSET_HEADER
                .iter()
                .copied()
                .chain(custom.iter().map(String::as_str)),
        );
    }

    fn row(&self, out: &mut Vec<u8>, a: &AssetSummary, r: &ExportRecord) {
        fn opt(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("")
        }
        let cost = r
            .purchase_cost_cents
            .map(|c| format!("{}.{:02}", c / 100, c % 100))
            .unwrap_or_default();
        let name_of = |m: &HashMap<i64, String>, id: Option<i64>| {
            id.and_then(|i| m.get(&i)).cloned().unwrap_or_default()
        };
        let fields: serde_json::Map<String, serde_json::Value> =
            if self.custom.is_empty() || r.custom_fields == "{}" {
                serde_json::Map::new()
            } else {
                serde_json::from_str(&r.custom_fields).unwrap_or_default()
            };
        let custom: Vec<String> = self
            .custom
            .iter()
            .map(|k| match fields.get(k) {
                None | Some(serde_json::Value::Null) => String::new(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            })
            .collect();
        let (id, life) = (
            a.id.to_string(),
            r.expected_life_months
                .map(|m| m.to_string())
                .unwrap_or_default(),
        );
        let (state, place) = (
            name_of(&self.states, r.state_id),
            name_of(&self.places, r.location_id),
        );
        let last_seen = text_time(a.last_seen_at);
        let cells = [
            id.as_str(),
            opt(&r.asset_tag),
            &a.name,
            &a.kind,
            &a.vendor,
            &a.model,
            &a.serial,
            &state,
            &place,
            opt(&r.purchase_date),
            &cost,
            &r.supplier,
            &r.order_number,
            opt(&r.warranty_end),
            &r.criticality,
            &a.hostname,
            &a.os_name,
            &last_seen,
            &life,
            &r.notes,
        ];
        write_row(
            out,
            cells.into_iter().chain(custom.iter().map(String::as_str)),
        );
    }
}

/// One chunk of assets after `after` as CSV rows, and the cursor for the next chunk
/// (`None`: this was the last).
fn asset_chunk(
    c: &Connection,
    filter: &AssetFilter,
    after: Option<i64>,
    cols: &AssetColumns,
    out: &mut Vec<u8>,
) -> DbResult<Option<i64>> {
    let items = db::assets::list(c, filter, after, ASSET_CHUNK)?;
    let ids: Vec<i64> = items.iter().map(|a| a.id).collect();
    let records = asset_export::records(c, &ids)?;
    // Both are ordered by id; an asset deleted between the two reads is left out.
    let mut records = records.iter().peekable();
    for a in &items {
        while records.next_if(|r| r.id < a.id).is_some() {}
        if let Some(r) = records.next_if(|r| r.id == a.id) {
            cols.row(out, a, r);
        }
    }
    Ok((items.len() == ASSET_CHUNK as usize)
        .then(|| ids.last().copied())
        .flatten())
}

async fn assets_csv(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(raw): RawQuery,
    query: Result<Query<super::assets::ListQuery>, QueryRejection>,
) -> ApiResult<Response> {
    staff_only(&user)?;
    let q = super::software::query(query)?;
    let mut filter = q.filter()?;
    let location = q.location;
    let kind = filter.kind.clone();
    let (filter, cols, first, mut next) = state
        .db
        .read(move |c| {
            if let Some(l) = location {
                filter.locations = db::locations::subtree_ids(c, l)?;
            }
            let cols = AssetColumns::load(c, kind.as_deref())?;
            let mut out = Vec::with_capacity(1 << 20);
            cols.header(&mut out);
            let next = asset_chunk(c, &filter, None, &cols, &mut out)?;
            Ok((Arc::new(filter), Arc::new(cols), out, next))
        })
        .await?;
    let actor = user.actor(&ip);
    record_export(&state, &actor, action::EXPORT_ASSETS_CSV, raw.as_deref()).await?;
    let (response, tx) = csv_response("assets.csv", first);
    tokio::spawn(async move {
        while let Some(after) = next {
            let (f, c) = (filter.clone(), cols.clone());
            let chunk = state
                .db
                .read(move |conn| {
                    let mut out = Vec::with_capacity(1 << 20);
                    let next = asset_chunk(conn, &f, Some(after), &c, &mut out)?;
                    Ok((out, next))
                })
                .await;
            match chunk {
                Ok((out, n)) => {
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return; // The client went away.
                    }
                    next = n;
                }
                Err(e) => return abort(&tx, "assets", &AppError::from(e)).await,
            }
        }
    });
    Ok(response)
}

const TICKET_HEADER: &[&str] = &[
    "id",
    "type",
    "status",
    "priority",
    "title",
    "requester_id",
    "requester",
    "assignee_id",
    "assignee",
    "group_id",
    "category",
    "created_at",
    "updated_at",
    "resolution_due_at",
    "breached_at",
];

fn ticket_rows(out: &mut Vec<u8>, items: &[db::tickets::TicketSummary]) {
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for t in items {
        let cells = [
            t.id.to_string(),
            t.ticket_type.clone(),
            t.status.clone(),
            t.priority.to_string(),
            t.title.clone(),
            t.requester.id.to_string(),
            t.requester.name.clone(),
            num(t.assignee.as_ref().map(|a| a.id)),
            t.assignee
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            num(t.group_id),
            t.category.clone().unwrap_or_default(),
            text_time(Some(t.created_at)),
            text_time(Some(t.updated_at)),
            text_time(t.resolution_due_at),
            text_time(t.breached_at),
        ];
        write_row(out, cells.iter().map(String::as_str));
    }
}

async fn tickets_csv(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(raw): RawQuery,
    query: Result<Query<super::tickets::ListQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let mut q = super::software::query(query)?;
    q.limit = Some(super::assets::MAX_LIMIT);
    let page = super::tickets::page(&state, &user, &q).await?;
    let actor = user.actor(&ip);
    record_export(&state, &actor, action::EXPORT_TICKETS_CSV, raw.as_deref()).await?;
    let mut first = Vec::with_capacity(1 << 16);
    write_row(&mut first, TICKET_HEADER.iter().copied());
    ticket_rows(&mut first, &page.items);
    let (response, tx) = csv_response("tickets.csv", first);
    q.cursor = page.next_cursor;
    tokio::spawn(async move {
        while q.cursor.is_some() {
            match super::tickets::page(&state, &user, &q).await {
                Ok(page) => {
                    let mut out = Vec::with_capacity(1 << 16);
                    ticket_rows(&mut out, &page.items);
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    q.cursor = page.next_cursor;
                }
                Err(e) => return abort(&tx, "tickets", &e).await,
            }
        }
    });
    Ok(response)
}

#[cfg(test)]
#[path = "exports_tests.rs"]
mod tests;
