//! The conversation on a ticket, the requester confirming a resolution, and tickets filed
//! by an agent from the machine itself.

use super::ApiPath;
use super::Routes;
use super::auth::{AgentAuth, CurrentUser};
use super::tickets::{TicketView, actor_label, actor_of, check_text, view, visible};
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db;
use crate::domain::tickets::{Status, transition};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use rusqlite::types::Value;
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/tickets/{id}/comments", post(comment))
        .route("/api/v1/tickets/{id}/resolution", post(resolution))
        .route(steward_shared::AGENT_TICKET_PATH, post(agent_ticket))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "POST",
        "/api/v1/tickets/{id}/comments",
        "Comment on a ticket",
        Access::User,
    )
    .body::<CommentBody>()
    .created::<TicketView>();
    api.op(
        "POST",
        "/api/v1/tickets/{id}/resolution",
        "Accept or reject a ticket's resolution",
        Access::User,
    )
    .body::<ResolutionBody>()
    .ok::<TicketView>();
    api.op(
        "POST",
        steward_shared::AGENT_TICKET_PATH,
        "File a ticket from the agent on the user's machine",
        Access::Agent,
    )
    .body::<steward_shared::AgentTicketRequest>()
    .created::<steward_shared::AgentTicketResponse>();
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    pub body: String,
    /// An internal note, hidden from the requester (staff only).
    #[serde(default)]
    pub internal: bool,
}

/// Moves the ticket if the workflow allows `actor` to; silently keeps it otherwise.
fn maybe_move(
    c: &rusqlite::Connection,
    state: &AppState,
    id: i64,
    to: Status,
    user: &CurrentUser,
    now: i64,
) -> db::DbResult<()> {
    let Some(t) = db::tickets::get(c, id)? else {
        return Ok(());
    };
    let from: Status = t.summary.status.parse().unwrap_or(Status::Open);
    let since = db::tickets::status_history(c, id)?
        .last()
        .map(|(at, _)| *at)
        .unwrap_or(t.summary.created_at);
    if transition(
        from,
        to,
        actor_of(user),
        chrono::TimeDelta::seconds(now - since),
        &state.desk.workflow,
    )
    .is_ok()
    {
        db::tickets::set_field(
            c,
            id,
            "status",
            Value::Text(to.as_str().into()),
            Some(to.as_str()),
            &actor_label(user),
            now,
        )?;
    }
    Ok(())
}

async fn comment(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<CommentBody>,
) -> ApiResult<(StatusCode, Json<TicketView>)> {
    let v = add_comment(&state, &user, id, b).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Adds a reply (or, for staff, an internal note) to a ticket `user` may see.
pub async fn add_comment(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    b: CommentBody,
) -> ApiResult<TicketView> {
    let user = user.clone();
    check_text(None, Some(&b.body))?;
    if b.body.trim().is_empty() {
        return Err(AppError::bad_request(
            "invalid_body_text",
            "the reply is empty",
        ));
    }
    let staff = user.user.role.is_staff();
    if b.internal && !staff {
        return Err(AppError::forbidden("only staff write internal notes"));
    }
    let now = crate::clock::now();
    let st = state.clone();
    let out = state
        .db
        .write(move |tx| {
            let Some(t) = visible(tx, id, &user)? else {
                return Ok(None);
            };
            db::comments::insert(tx, id, Some(user.user.id), b.internal, b.body.trim(), now)?;
            crate::events::ticket_commented(tx, id, &actor_label(&user), now)?;
            if staff && !b.internal {
                if t.first_response_at.is_none() {
                    tx.execute(
                        "UPDATE tickets SET first_response_at = ?2 WHERE id = ?1",
                        rusqlite::params![id, now],
                    )?;
                }
                // Staff answering a new ticket opens it.
                if t.summary.status == "new" {
                    maybe_move(tx, &st, id, Status::Open, &user, now)?;
                }
            } else if !staff && t.summary.status == "pending" {
                // The requester answered what we were waiting for.
                maybe_move(tx, &st, id, Status::Open, &user, now)?;
            }
            tx.execute(
                "INSERT OR IGNORE INTO ticket_watchers (ticket_id, user_id) VALUES (?1, ?2)",
                rusqlite::params![id, user.user.id],
            )?;
            crate::service_desk::refresh_sla(tx, &st.desk, id, now)?;
            crate::events::ticket_changed(tx, &t, &actor_label(&user), now)?;
            let t = db::tickets::get(tx, id)?;
            t.map(|t| view(tx, &st, t, &user, now)).transpose()
        })
        .await?;
    out.ok_or_else(|| AppError::not_found("ticket"))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionBody {
    /// true: the requester confirms the fix (closes); false: it is not fixed (reopens).
    pub accept: bool,
    /// 1 (poor) to 5 (great), with `accept`.
    pub rating: Option<i64>,
    pub note: Option<String>,
}

async fn resolution(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(b): ApiJson<ResolutionBody>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(confirm_resolution(&state, &user, id, b).await?))
}

/// The requester confirms (closes, with a rating) or rejects (reopens) a resolution.
pub async fn confirm_resolution(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    b: ResolutionBody,
) -> ApiResult<TicketView> {
    let user = user.clone();
    if b.rating.is_some_and(|r| !(1..=5).contains(&r)) {
        return Err(AppError::bad_request("invalid_rating", "rating is 1 to 5"));
    }
    check_text(None, b.note.as_deref())?;
    let now = crate::clock::now();
    let st = state.clone();
    let out = state
        .db
        .write(move |tx| {
            let Some(t) = visible(tx, id, &user)? else { return Ok(Err(AppError::not_found("ticket"))) };
            if t.summary.requester.id != user.user.id {
                return Ok(Err(AppError::forbidden("only the requester confirms a resolution")));
            }
            let from: Status = t.summary.status.parse().unwrap_or(Status::Open);
            let to = if b.accept { Status::Closed } else { Status::Open };
            let since = db::tickets::status_history(tx, id)?.last().map(|(at, _)| *at).unwrap_or(t.summary.created_at);
            if let Err(e) = transition(from, to, actor_of(&user), chrono::TimeDelta::seconds(now - since), &st.desk.workflow) {
                return Ok(Err(AppError::new(StatusCode::CONFLICT, "invalid_transition", e.to_string())));
            }
            let actor = actor_label(&user);
            db::tickets::set_field(tx, id, "status", Value::Text(to.as_str().into()), Some(to.as_str()), &actor, now)?;
            if b.accept {
                tx.execute(
                    "UPDATE tickets SET closed_at = ?2, satisfaction = ?3, satisfaction_note = ?4 WHERE id = ?1",
                    rusqlite::params![id, now, b.rating, b.note],
                )?;
                if let Some(r) = b.rating {
                    db::tickets::history(tx, id, now, &actor, "satisfaction", None, Some(&r.to_string()))?;
                }
            } else if let Some(note) = b.note.as_deref().filter(|n| !n.trim().is_empty()) {
                db::comments::insert(tx, id, Some(user.user.id), false, note.trim(), now)?;
                crate::events::ticket_commented(tx, id, &actor, now)?;
            }
            crate::service_desk::refresh_sla(tx, &st.desk, id, now)?;
            crate::events::ticket_changed(tx, &t, &actor, now)?;
            let Some(t) = db::tickets::get(tx, id)? else { return Ok(Err(AppError::not_found("ticket"))) };
            Ok(Ok(view(tx, &st, t, &user, now)?))
        })
        .await??;
    Ok(out)
}

/// The account agent-filed tickets are requested by (no password: cannot sign in).
pub const MACHINE_REQUESTER: &str = "machines@steward.local";

async fn agent_ticket(
    agent: AgentAuth,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<steward_shared::AgentTicketRequest>,
) -> ApiResult<(StatusCode, Json<steward_shared::AgentTicketResponse>)> {
    check_text(Some(&b.title), Some(&b.body))?;
    if b.reported_by.len() > 100 {
        return Err(AppError::bad_request(
            "invalid_reported_by",
            "reported_by is at most 100 characters",
        ));
    }
    let now = crate::clock::now();
    let st = state.clone();
    let agent_id = agent.agent_id.clone();
    let reply = state
        .db
        .write(move |tx| {
            let Some(a) = db::agents::get(tx, &agent.agent_id)? else {
                return Ok(Err(()));
            };
            if a.revoked_at.is_some() {
                // Revoked since its credential was checked (the check is cached).
                return Ok(Err(()));
            }
            let Some(asset_id) = a.asset_id else {
                return Ok(Ok(None));
            };
            let Some(asset) = db::assets::get(tx, asset_id)? else {
                return Ok(Ok(None));
            };
            let alerts = db::alerts::list(tx, true, Some(asset_id), None, 20)?;
            let mut description = b.body.trim().to_owned();
            description.push_str(&format!(
                "\n\n---\nFiled from {} (asset {asset_id})",
                asset.summary.name
            ));
            if !b.reported_by.trim().is_empty() {
                description.push_str(&format!(" by {}", b.reported_by.trim()));
            }
            if let Some(h) = asset
                .health
                .as_ref()
                .and_then(|h| serde_json::from_value::<steward_shared::Health>(h.clone()).ok())
            {
                description.push_str(&format!(
                    "\nHealth: load {:.2}, memory {} of {}, uptime {}",
                    h.load_1,
                    crate::domain::changes::human_bytes(h.memory_used_bytes),
                    crate::domain::changes::human_bytes(h.memory_total_bytes),
                    crate::ui::format::duration(h.uptime_secs),
                ));
                for fs in &h.filesystems {
                    description.push_str(&format!(
                        "\n  {} {:.0}% used",
                        fs.mount_point,
                        fs.used_percent()
                    ));
                }
            }
            for al in &alerts {
                description.push_str(&format!("\nAlert ({}): {}", al.severity, al.message));
            }
            let actor = format!("agent:{}", agent.agent_id);
            let id = crate::service_desk::file_for_asset(
                tx,
                &st.desk,
                MACHINE_REQUESTER,
                "Filed from a machine",
                b.title.trim(),
                description,
                "agent",
                asset_id,
                &actor,
                now,
            )?;
            Ok(Ok(Some(steward_shared::AgentTicketResponse {
                ticket_id: id,
                asset_id,
            })))
        })
        .await?;
    let Ok(reply) = reply else {
        state.agents.forget(&agent_id);
        return Err(AppError::unauthorized(
            "agent_revoked",
            "this agent was revoked by an administrator; enroll again with a new token",
        ));
    };
    reply
        .map(|r| (StatusCode::CREATED, Json(r)))
        .ok_or_else(|| {
            AppError::new(
                StatusCode::CONFLICT,
                "no_asset_yet",
                "this machine has not reported yet; run `steward-agent run --once` first",
            )
        })
}
