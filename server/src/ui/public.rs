//! The page a QR label opens (`/p/<token>`): anyone holding the label can see what the
//! asset is and report a problem without signing in. Reports are rate-limited per client
//! address and per asset, open a ticket linked to the asset, and give the reporter a
//! private link to follow it (`/p/<token>/t/<follow>`).

use super::format::datetime;
use super::{message, render};
use crate::db;
use crate::http::AppState;
use crate::http::Routes;
use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use std::net::SocketAddr;

/// Reports one client address may file per hour.
pub const PER_CLIENT_PER_HOUR: i64 = 5;
/// Reports one asset may get per hour, from everyone together.
pub const PER_ASSET_PER_HOUR: i64 = 20;
/// The account QR reports are requested by.
pub const QR_REQUESTER: &str = "qr-reports@steward.local";

pub fn router() -> Routes {
    Routes::new()
        .route("/p/{token}", get(page))
        .route("/p/{token}/report", axum::routing::post(report))
        .route("/p/{token}/t/{follow}", get(follow))
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        "Unknown label",
        "This label is not known here. Ask the IT team for help.",
    )
}

/// A token as labels carry it: 32 hex digits.
fn plausible(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Template)]
#[template(path = "public_asset.html")]
struct AssetPage {
    nav: Option<super::Nav>,
    token: String,
    name: String,
    type_name: String,
    tag: String,
    location: String,
    error: Option<String>,
}

/// The asset behind `token` as the public page shows it.
async fn public_asset(state: &AppState, token: &str) -> Option<AssetPage> {
    if !plausible(token) {
        return None;
    }
    let t = token.to_owned();
    state
        .db
        .read(move |c| {
            let Some(id) = db::asset_records::id_by_public_token(c, &t)? else {
                return Ok(None);
            };
            let (Some(a), Some(r)) = (db::assets::get(c, id)?, db::asset_records::record(c, id)?)
            else {
                return Ok(None);
            };
            let type_name = db::asset_types::by_key(c, &a.summary.kind)?
                .map_or(a.summary.kind.clone(), |t| t.name);
            let location = match r.location_id {
                Some(l) => db::locations::get(c, l)?
                    .map(|l| l.path)
                    .unwrap_or_default(),
                None => String::new(),
            };
            Ok(Some(AssetPage {
                nav: None,
                token: t,
                name: a.summary.name,
                type_name,
                tag: r.asset_tag.unwrap_or_default(),
                location,
                error: None,
            }))
        })
        .await
        .ok()
        .flatten()
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match public_asset(&state, &token).await {
        Some(p) => render(&p),
        None => not_found(),
    }
}

#[derive(Deserialize)]
struct ReportForm {
    summary: String,
    #[serde(default)]
    details: String,
    #[serde(default)]
    contact: String,
    /// A field people never see; bots fill it.
    #[serde(default)]
    website: String,
}

async fn report(
    State(state): State<AppState>,
    Path(token): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(f): Form<ReportForm>,
) -> Response {
    let Some(mut page) = public_asset(&state, &token).await else {
        return not_found();
    };
    let summary = f.summary.trim().to_owned();
    let refuse = |mut page: AssetPage, status: StatusCode, why: &str| {
        page.error = Some(why.to_owned());
        let mut r = render(&page);
        *r.status_mut() = status;
        r
    };
    if summary.is_empty()
        || summary.chars().count() > 200
        || f.details.chars().count() > 5000
        || f.contact.chars().count() > 200
    {
        return refuse(
            page,
            StatusCode::BAD_REQUEST,
            "Say what the problem is in up to 200 characters (details up to 5,000).",
        );
    }
    if !f.website.is_empty() {
        page.error = None;
        return refuse(
            page,
            StatusCode::BAD_REQUEST,
            "The report could not be sent.",
        );
    }
    let client = peer.ip().to_string();
    let now = crate::clock::now();
    let follow = crate::crypto::random_hex(16);
    let follow_hash = crate::crypto::token_hash(&follow);
    let st = state.clone();
    let (details, contact, t) = (
        f.details.trim().to_owned(),
        f.contact.trim().to_owned(),
        token.clone(),
    );
    let filed = state
        .db
        .write(move |tx| {
            let Some(asset_id) = db::asset_records::id_by_public_token(tx, &t)? else {
                return Ok(Err("gone"));
            };
            let recent = |col: &str, v: &dyn rusqlite::ToSql| -> db::DbResult<i64> {
                Ok(tx.query_row(
                    &format!("SELECT count(*) FROM public_reports WHERE {col} = ?1 AND at > ?2"),
                    rusqlite::params![v, now - 3600],
                    |r| r.get(0),
                )?)
            };
            if recent("client", &client)? >= PER_CLIENT_PER_HOUR || recent("asset_id", &asset_id)? >= PER_ASSET_PER_HOUR {
                return Ok(Err("limited"));
            }
            let name = db::assets::get(tx, asset_id)?.map(|a| a.summary.name).unwrap_or_default();
            let mut description = details;
            description.push_str(&format!("\n\n---\nReported from the QR label of {name} (asset {asset_id})"));
            if !contact.is_empty() {
                description.push_str(&format!(" by {contact}"));
            }
            let id = crate::service_desk::file_for_asset(
                tx,
                &st.desk,
                QR_REQUESTER,
                "Reported from a QR label",
                &summary,
                description,
                "qr",
                asset_id,
                &format!("qr:{client}"),
                now,
            )?;
            tx.execute(
                "INSERT INTO public_reports (asset_id, client, at, ticket_id, follow_hash) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![asset_id, client, now, id, follow_hash],
            )?;
            Ok(Ok(id))
        })
        .await;
    match filed {
        Ok(Ok(id)) => {
            tracing::info!(ticket_id = id, "problem reported from a QR label");
            Redirect::to(&format!("/p/{token}/t/{follow}?new=1")).into_response()
        }
        Ok(Err("limited")) => refuse(
            page,
            StatusCode::TOO_MANY_REQUESTS,
            "Many reports came from here in the last hour. Please try again later or call the IT team.",
        ),
        Ok(Err(_)) => not_found(),
        Err(e) => {
            tracing::error!(error = %e, "QR report failed");
            refuse(
                page,
                StatusCode::SERVICE_UNAVAILABLE,
                "The report could not be saved. Please try again.",
            )
        }
    }
}

#[derive(Template)]
#[template(path = "public_ticket.html")]
struct TicketPage {
    nav: Option<super::Nav>,
    just_filed: bool,
    id: i64,
    title: String,
    status: String,
    asset_name: String,
    /// (when, text) of the public replies.
    replies: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct FollowQuery {
    new: Option<u8>,
}

async fn follow(
    State(state): State<AppState>,
    Path((token, follow)): Path<(String, String)>,
    axum::extract::Query(q): axum::extract::Query<FollowQuery>,
) -> Response {
    if !plausible(&token) || !plausible(&follow) {
        return not_found();
    }
    let hash = crate::crypto::token_hash(&follow);
    let found = state
        .db
        .read(move |c| {
            let row: Option<(i64, i64)> = db::optional(c.query_row(
                "SELECT p.ticket_id, p.asset_id FROM public_reports p JOIN assets a ON a.id = p.asset_id
                 WHERE p.follow_hash = ?1 AND a.public_token = ?2",
                rusqlite::params![hash, token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            ))?;
            let Some((ticket_id, asset_id)) = row else {
                return Ok(None);
            };
            let Some(t) = db::tickets::get(c, ticket_id)? else {
                return Ok(None);
            };
            let asset_name = db::assets::get(c, asset_id)?.map(|a| a.summary.name).unwrap_or_default();
            let replies = db::comments::list(c, ticket_id, false)?
                .into_iter()
                .map(|r| (datetime(Some(r.created_at)), r.body))
                .collect();
            Ok(Some(TicketPage {
                nav: None,
                just_filed: false,
                id: ticket_id,
                title: t.summary.title,
                status: t.summary.status,
                asset_name,
                replies,
            }))
        })
        .await
        .ok()
        .flatten();
    match found {
        Some(mut p) => {
            p.just_filed = q.new == Some(1);
            render(&p)
        }
        None => not_found(),
    }
}
