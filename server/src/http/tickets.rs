//! `/api/v1/tickets`: filing, queues, one ticket with its conversation, changes.
//! Employees see and act on their own tickets only (others are 404); staff see all.

use super::Routes;
use super::auth::CurrentUser;
use super::{ApiJson, ApiResult, AppError, AppState};
use super::{ApiPath, ApiQuery};
use crate::db::{
    self,
    comments::Comment,
    tickets::{NewTicket, Sort, Ticket, TicketChange, TicketFilter, TicketSummary},
};
use crate::domain::roles::Role;
use crate::domain::sla::{SlaState, at_risk};
use crate::domain::tickets::{Actor, Level, Status, TicketType};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use steward_shared::Page;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/tickets", get(list).post(create))
        .route("/api/v1/tickets/counts", get(counts))
        .route("/api/v1/tickets/{id}", get(detail))
        .route("/api/v1/tickets/{id}/history", get(history))
        .merge(super::ticket_comments::router())
        .merge(super::ticket_changes::router())
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/tickets",
        "List and search the tickets the caller may see",
        Access::User,
    )
    .query::<ListQuery>()
    .ok::<Page<TicketSummary>>();
    api.op("POST", "/api/v1/tickets", "File a ticket", Access::User)
        .body::<NewTicketBody>()
        .created::<TicketView>();
    api.op(
        "GET",
        "/api/v1/tickets/counts",
        "Open tickets by queue",
        Access::Staff,
    )
    .ok::<serde_json::Map<String, serde_json::Value>>();
    api.op(
        "GET",
        "/api/v1/tickets/{id}",
        "One ticket with its conversation",
        Access::User,
    )
    .ok::<TicketView>();
    api.op(
        "GET",
        "/api/v1/tickets/{id}/history",
        "A ticket's changes",
        Access::User,
    )
    .ok::<Vec<TicketChange>>();
}

/// SLA figures as the API shows them.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SlaView {
    pub first_response_due: Option<i64>,
    pub first_response_breached: bool,
    pub resolution_due: Option<i64>,
    pub resolution_breached: bool,
    pub paused: bool,
    pub resolution_remaining_secs: Option<i64>,
    pub at_risk: bool,
    pub breached_at: Option<i64>,
}

impl From<SlaState> for SlaView {
    fn from(s: SlaState) -> Self {
        let ts = |d: Option<chrono::DateTime<chrono::Utc>>| d.map(|d| d.timestamp());
        SlaView {
            first_response_due: ts(s.first_response_due),
            first_response_breached: s.first_response_breached,
            resolution_due: ts(s.resolution_due),
            resolution_breached: s.resolution_breached,
            paused: s.paused,
            resolution_remaining_secs: s.resolution_remaining_secs,
            at_risk: at_risk(&s, 0.2),
            breached_at: ts(s.breached_at),
        }
    }
}

/// One ticket with what its viewer may see of it.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla: Option<SlaView>,
    pub comments: Vec<Comment>,
    /// Files on the ticket this viewer may see (internal ones for staff only).
    pub attachments: Vec<db::attachments::Attachment>,
    /// Statuses this viewer may move the ticket to.
    pub allowed_status: Vec<Status>,
}

pub fn actor_of(user: &CurrentUser) -> Actor {
    if user.user.role.is_staff() {
        Actor::Staff
    } else {
        Actor::Requester
    }
}

pub fn actor_label(user: &CurrentUser) -> String {
    format!("user:{}", user.user.id)
}

/// The ticket if `user` may see it: staff see all, others their own.
pub fn visible(c: &Connection, id: i64, user: &CurrentUser) -> db::DbResult<Option<Ticket>> {
    Ok(db::tickets::get(c, id)?
        .filter(|t| user.user.role.is_staff() || t.summary.requester.id == user.user.id))
}

/// Builds the view of a ticket for `user` (inside a read or write).
pub fn view(
    c: &Connection,
    state: &AppState,
    t: Ticket,
    user: &CurrentUser,
    now: i64,
) -> db::DbResult<TicketView> {
    let staff = user.user.role.is_staff();
    let sla = crate::service_desk::sla_state(c, &state.desk, &t, now)?.map(SlaView::from);
    let comments = db::comments::list(c, t.summary.id, staff)?;
    let attachments = db::attachments::list(c, t.summary.id, staff)?;
    let status: Status = t.summary.status.parse().unwrap_or(Status::Open);
    let since = db::tickets::status_history(c, t.summary.id)?
        .last()
        .map(|(at, _)| *at)
        .unwrap_or(t.summary.created_at);
    let allowed_status = crate::domain::tickets::allowed_next(
        status,
        actor_of(user),
        chrono::TimeDelta::seconds(now - since),
        &state.desk.workflow,
    );
    Ok(TicketView {
        ticket: t,
        sla,
        comments,
        attachments,
        allowed_status,
    })
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// Checks text fields: a title of 1-200 characters, bodies up to 20,000.
pub fn check_text(title: Option<&str>, body: Option<&str>) -> ApiResult<()> {
    if let Some(t) = title {
        let n = t.trim().chars().count();
        if n == 0 || n > 200 {
            return Err(bad("invalid_title", "the title needs 1 to 200 characters"));
        }
    }
    if body.is_some_and(|b| b.chars().count() > 20_000) {
        return Err(bad(
            "invalid_body_text",
            "the text is limited to 20,000 characters",
        ));
    }
    Ok(())
}

pub(crate) fn level(v: &Option<String>, what: &str) -> ApiResult<Level> {
    match v.as_deref() {
        None => Ok(Level::Medium),
        Some(s) => s
            .parse()
            .map_err(|e: String| bad("invalid_level", format!("{what}: {e}"))),
    }
}

pub(crate) fn check_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > 20 || tags.iter().any(|t| t.trim().is_empty() || t.len() > 40) {
        return Err(bad("invalid_tags", "up to 20 tags of 1 to 40 characters"));
    }
    Ok(tags.iter().map(|t| t.trim().to_lowercase()).collect())
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    #[serde(rename = "type")]
    pub ticket_type: Option<String>,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: Option<String>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    #[serde(default)]
    pub asset_ids: Vec<i64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub location: String,
    /// Staff only: file on behalf of someone.
    pub requester_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
}

/// Resolves a category name, creating it when staff name a new one.
pub(crate) fn category_id(
    c: &Connection,
    name: Option<&str>,
    staff: bool,
    now: i64,
) -> db::DbResult<Result<Option<i64>, String>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(Ok(None));
    };
    if name.len() > 80 {
        return Ok(Err("a category name is at most 80 characters".into()));
    }
    let found: Option<i64> = db::optional(c.query_row(
        "SELECT id FROM categories WHERE name = ?1",
        [name],
        |r| r.get(0),
    ))?;
    match (found, staff) {
        (Some(id), _) => Ok(Ok(Some(id))),
        (None, true) => {
            c.execute(
                "INSERT INTO categories (name, created_at) VALUES (?1, ?2)",
                rusqlite::params![name, now],
            )?;
            Ok(Ok(Some(c.last_insert_rowid())))
        }
        (None, false) => Ok(Err(format!("there is no category {name:?}"))),
    }
}

/// Assets `user` may link: staff any existing asset, employees those assigned to them.
pub(crate) fn check_assets(
    c: &Connection,
    ids: &[i64],
    user: &CurrentUser,
) -> db::DbResult<Result<(), String>> {
    if ids.len() > 50 {
        return Ok(Err("at most 50 linked assets".into()));
    }
    for id in ids {
        let owner: Option<Option<i64>> = db::optional(c.query_row(
            "SELECT assigned_user_id FROM assets WHERE id = ?1",
            [id],
            |r| r.get(0),
        ))?;
        match owner {
            None => return Ok(Err(format!("asset {id} does not exist"))),
            Some(o) if !user.user.role.is_staff() && o != Some(user.user.id) => {
                return Ok(Err(format!("asset {id} is not assigned to you")));
            }
            Some(_) => {}
        }
    }
    Ok(Ok(()))
}

async fn create(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<NewTicketBody>,
) -> ApiResult<(StatusCode, Json<TicketView>)> {
    let created = create_ticket(&state, &user, b).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Files a ticket for `user` (the API and the portal form both come here).
pub async fn create_ticket(
    state: &AppState,
    user: &CurrentUser,
    b: NewTicketBody,
) -> ApiResult<TicketView> {
    let staff = user.user.role.is_staff();
    check_text(Some(&b.title), Some(&b.description))?;
    let ticket_type: TicketType = match b.ticket_type.as_deref() {
        None => TicketType::Request,
        Some(t) => t.parse().map_err(|e: String| bad("invalid_type", e))?,
    };
    if !staff && (b.requester_id.is_some() || b.assignee_id.is_some() || b.group_id.is_some()) {
        return Err(AppError::forbidden(
            "only staff set the requester, assignee or group",
        ));
    }
    let (impact, urgency) = (level(&b.impact, "impact")?, level(&b.urgency, "urgency")?);
    let priority = state.desk.matrix.priority(impact, urgency);
    let tags = check_tags(&b.tags)?;
    if b.location.len() > 200 {
        return Err(bad(
            "invalid_location",
            "the location is at most 200 characters",
        ));
    }
    let now = crate::clock::now();
    let st = state.clone();
    let u = user.clone();
    let created = state
        .db
        .write(move |tx| {
            let category = match category_id(tx, b.category.as_deref(), staff, now)? {
                Ok(c) => c,
                Err(m) => return Ok(Err(bad("invalid_category", m))),
            };
            if let Err(m) = check_assets(tx, &b.asset_ids, &u)? {
                return Ok(Err(bad("invalid_assets", m)));
            }
            let requester_id = b.requester_id.unwrap_or(u.user.id);
            for (what, id) in [
                ("requester", Some(requester_id)),
                ("assignee", b.assignee_id),
            ] {
                if let Some(id) = id
                    && db::users::by_id(tx, id)?.is_none()
                {
                    return Ok(Err(bad(
                        "invalid_user",
                        format!("the {what} does not exist"),
                    )));
                }
            }
            if let Some(g) = b.group_id
                && !db::groups::exists(tx, g)?
            {
                return Ok(Err(bad("invalid_group", "no such group")));
            }
            let new = NewTicket {
                ticket_type: ticket_type.as_str().into(),
                title: b.title.trim().into(),
                description: b.description,
                category_id: category,
                requester_id,
                assignee_id: b.assignee_id,
                group_id: b.group_id,
                impact: i64::from(impact.value()),
                urgency: i64::from(urgency.value()),
                priority: i64::from(priority.number()),
                location: b.location,
                source: if staff { "api".into() } else { "portal".into() },
                asset_ids: b.asset_ids,
                tags,
            };
            let id = db::tickets::insert(tx, &new, &actor_label(&u), now)?;
            db::groups::auto_assign(tx, id, &actor_label(&u), now)?;
            crate::service_desk::refresh_sla(tx, &st.desk, id, now)?;
            crate::events::ticket_created(tx, id, &actor_label(&u), now)?;
            let Some(t) = db::tickets::get(tx, id)? else {
                return Ok(Err(AppError::internal()));
            };
            Ok(Ok(view(tx, &st, t, &u, now)?))
        })
        .await??;
    tracing::info!(
        ticket_id = created.ticket.summary.id,
        user_id = user.user.id,
        "ticket filed"
    );
    Ok(created)
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Comma-separated statuses; default: new, open, pending.
    pub status: Option<String>,
    /// A user id, or `me`.
    pub assignee: Option<String>,
    pub unassigned: Option<bool>,
    pub group: Option<i64>,
    pub priority: Option<String>,
    pub category: Option<i64>,
    pub asset: Option<i64>,
    pub breached: Option<bool>,
    pub q: Option<String>,
    /// `newest` (default) or `priority`.
    pub sort: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A page of tickets `user` may see.
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    q: &ListQuery,
) -> ApiResult<Page<TicketSummary>> {
    let limit = super::assets::limit(q.limit)?;
    let statuses: Vec<String> = match q.status.as_deref() {
        None | Some("") => vec!["new".into(), "open".into(), "pending".into()],
        Some("all") => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|s| {
                s.parse::<Status>()
                    .map(|s| s.as_str().to_owned())
                    .map_err(|e| bad("invalid_status", e))
            })
            .collect::<ApiResult<_>>()?,
    };
    let assignee = match q.assignee.as_deref() {
        None | Some("") => None,
        Some("me") => Some(user.user.id),
        Some(id) => Some(
            id.parse()
                .map_err(|_| bad("invalid_assignee", "assignee is a user id or `me`"))?,
        ),
    };
    let priority = match q.priority.as_deref() {
        None | Some("") => None,
        Some(p) => Some(i64::from(
            p.parse::<crate::domain::tickets::Priority>()
                .map_err(|e| bad("invalid_priority", e))?
                .number(),
        )),
    };
    let sort = match q.sort.as_deref() {
        None | Some("") | Some("newest") => Sort::Newest,
        Some("priority") => Sort::Priority,
        Some(_) => return Err(bad("invalid_sort", "sort is newest or priority")),
    };
    let after = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let (p, id) = c
                .split_once('.')
                .ok_or_else(|| bad("invalid_cursor", "cursor must come from next_cursor"))?;
            Some((
                p.parse()
                    .map_err(|_| bad("invalid_cursor", "cursor must come from next_cursor"))?,
                id.parse()
                    .map_err(|_| bad("invalid_cursor", "cursor must come from next_cursor"))?,
            ))
        }
    };
    if q.q.as_ref().is_some_and(|s| s.len() > 200) {
        return Err(bad("invalid_query", "q is limited to 200 characters"));
    }
    let staff = user.user.role.is_staff();
    let filter = TicketFilter {
        statuses,
        assignee,
        unassigned: q.unassigned.unwrap_or(false),
        group: q.group,
        priority,
        requester: (!staff).then_some(user.user.id),
        category: q.category,
        asset: q.asset,
        breached_at_now: q.breached.unwrap_or(false).then(crate::clock::now),
        q: q.q.clone().filter(|s| !s.trim().is_empty()),
        search_internal: staff,
    };
    let items = state
        .db
        .read(move |c| db::tickets::list(c, &filter, sort, after, limit))
        .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|t| format!("{}.{}", t.priority, t.id)))
        .flatten();
    Ok(Page { items, next_cursor })
}

async fn list(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<Page<TicketSummary>>> {
    Ok(Json(page(&state, &user, &q).await?))
}

async fn counts(
    user: CurrentUser,
    State(state): State<AppState>,
) -> ApiResult<Json<serde_json::Map<String, serde_json::Value>>> {
    user.require(Role::Technician)?;
    let rows = state.db.read(db::tickets::counts).await?;
    Ok(Json(
        rows.into_iter()
            .map(|(k, n)| (k, serde_json::Value::from(n)))
            .collect(),
    ))
}

async fn detail(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<TicketView>> {
    Ok(Json(get_ticket(&state, &user, id).await?))
}

/// One ticket as `user` may see it; 404 when it is not theirs to see.
pub async fn get_ticket(state: &AppState, user: &CurrentUser, id: i64) -> ApiResult<TicketView> {
    let now = crate::clock::now();
    let (st, user) = (state.clone(), user.clone());
    let found = state
        .db
        .read(move |c| match visible(c, id, &user)? {
            Some(t) => view(c, &st, t, &user, now).map(Some),
            None => Ok(None),
        })
        .await?;
    found.ok_or_else(|| AppError::not_found("ticket"))
}

async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<TicketChange>>> {
    let found = state
        .db
        .read(move |c| match visible(c, id, &user)? {
            Some(_) => db::tickets::changes(c, id).map(Some),
            None => Ok(None),
        })
        .await?;
    found.map(Json).ok_or_else(|| AppError::not_found("ticket"))
}
