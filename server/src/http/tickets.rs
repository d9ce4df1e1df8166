//! `/api/v1/tickets`: filing, queues, one ticket with its conversation, changes.
//! Employees see and act on their own tickets only (others are 404); staff see all.

use super::auth::CurrentUser;
use super::{ApiJson, ApiResult, AppError, AppState};
use crate::db::{
    self,
    comments::Comment,
    tickets::{NewTicket, Sort, Ticket, TicketChange, TicketFilter, TicketSummary},
};
use crate::domain::roles::Role;
use crate::domain::sla::{SlaState, at_risk};
use crate::domain::tickets::{Actor, Level, Status, TicketType};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use steward_shared::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tickets", get(list).post(create))
        .route("/api/v1/tickets/counts", get(counts))
        .route("/api/v1/tickets/bulk", post(bulk))
        .route("/api/v1/tickets/{id}", get(detail).patch(update))
        .route("/api/v1/tickets/{id}/history", get(history))
        .merge(super::ticket_comments::router())
}

/// SLA figures as the API shows them.
#[derive(Debug, Serialize)]
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
#[derive(Debug, Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub sla: Option<SlaView>,
    pub comments: Vec<Comment>,
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

fn level(v: &Option<String>, what: &str) -> ApiResult<Level> {
    match v.as_deref() {
        None => Ok(Level::Medium),
        Some(s) => s
            .parse()
            .map_err(|e: String| bad("invalid_level", format!("{what}: {e}"))),
    }
}

fn check_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > 20 || tags.iter().any(|t| t.trim().is_empty() || t.len() > 40) {
        return Err(bad("invalid_tags", "up to 20 tags of 1 to 40 characters"));
    }
    Ok(tags.iter().map(|t| t.trim().to_lowercase()).collect())
}

#[derive(Debug, Deserialize)]
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
fn category_id(
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
fn check_assets(
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
            crate::service_desk::refresh_sla(tx, &st.desk, id, now)?;
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
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Debug, Default, Deserialize)]
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
    Query(q): Query<ListQuery>,
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
    Path(id): Path<i64>,
) -> ApiResult<Json<TicketView>> {
    let now = crate::clock::now();
    let st = state.clone();
    let found = state
        .db
        .read(move |c| match visible(c, id, &user)? {
            Some(t) => view(c, &st, t, &user, now).map(Some),
            None => Ok(None),
        })
        .await?;
    found.map(Json).ok_or_else(|| AppError::not_found("ticket"))
}

async fn history(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Patch {
    pub status: Option<String>,
    /// A user id; `0` unassigns.
    pub assignee_id: Option<i64>,
    /// A group id; `0` clears.
    pub group_id: Option<i64>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub asset_ids: Option<Vec<i64>>,
}

/// Applies a staff patch inside a transaction; `Err` is the refusal to send back.
pub fn apply_patch(
    c: &Connection,
    state: &AppState,
    id: i64,
    p: &Patch,
    user: &CurrentUser,
    now: i64,
) -> db::DbResult<Result<(), AppError>> {
    use rusqlite::types::Value;
    let Some(t) = db::tickets::get(c, id)? else {
        return Ok(Err(AppError::not_found("ticket")));
    };
    let actor = actor_label(user);
    if let Some(s) = &p.status {
        let to: Status = match s.parse() {
            Ok(s) => s,
            Err(e) => return Ok(Err(bad("invalid_status", e))),
        };
        let from: Status = t.summary.status.parse().unwrap_or(Status::Open);
        if from != to {
            let since = db::tickets::status_history(c, id)?
                .last()
                .map(|(at, _)| *at)
                .unwrap_or(t.summary.created_at);
            if let Err(e) = crate::domain::tickets::transition(
                from,
                to,
                actor_of(user),
                chrono::TimeDelta::seconds(now - since),
                &state.desk.workflow,
            ) {
                return Ok(Err(AppError::new(
                    StatusCode::CONFLICT,
                    "invalid_transition",
                    e.to_string(),
                )));
            }
            db::tickets::set_field(
                c,
                id,
                "status",
                Value::Text(to.as_str().into()),
                Some(to.as_str()),
                &actor,
                now,
            )?;
            let stamp = match to {
                Status::Resolved => Some("resolved_at"),
                Status::Closed => Some("closed_at"),
                _ => None,
            };
            if let Some(col) = stamp {
                c.execute(
                    &format!("UPDATE tickets SET {col} = ?2 WHERE id = ?1"),
                    rusqlite::params![id, now],
                )?;
            }
        }
    }
    if let Some(a) = p.assignee_id {
        let value = if a == 0 {
            Value::Null
        } else {
            match db::users::by_id(c, a)? {
                Some(u) if u.role.is_staff() => Value::Integer(a),
                _ => {
                    return Ok(Err(bad(
                        "invalid_assignee",
                        "tickets are assigned to technicians or admins",
                    )));
                }
            }
        };
        db::tickets::set_field(c, id, "assignee_id", value, None, &actor, now)?;
    }
    if let Some(g) = p.group_id {
        let value = if g == 0 {
            Value::Null
        } else {
            Value::Integer(g)
        };
        if g != 0
            && db::optional(c.query_row("SELECT 1 FROM groups WHERE id = ?1", [g], |_| Ok(())))?
                .is_none()
        {
            return Ok(Err(bad("invalid_group", "no such group")));
        }
        db::tickets::set_field(c, id, "group_id", value, None, &actor, now)?;
    }
    if p.impact.is_some() || p.urgency.is_some() {
        let cur = |n: i64| Level::from_value(n as u8).unwrap_or(Level::Medium);
        let impact = match &p.impact {
            Some(_) => match level(&p.impact, "impact") {
                Ok(l) => l,
                Err(e) => return Ok(Err(e)),
            },
            None => cur(t.impact),
        };
        let urgency = match &p.urgency {
            Some(_) => match level(&p.urgency, "urgency") {
                Ok(l) => l,
                Err(e) => return Ok(Err(e)),
            },
            None => cur(t.urgency),
        };
        let priority = state.desk.matrix.priority(impact, urgency);
        db::tickets::set_field(
            c,
            id,
            "impact",
            Value::Integer(i64::from(impact.value())),
            Some(impact.as_str()),
            &actor,
            now,
        )?;
        db::tickets::set_field(
            c,
            id,
            "urgency",
            Value::Integer(i64::from(urgency.value())),
            Some(urgency.as_str()),
            &actor,
            now,
        )?;
        db::tickets::set_field(
            c,
            id,
            "priority",
            Value::Integer(i64::from(priority.number())),
            Some(priority.as_str()),
            &actor,
            now,
        )?;
    }
    if let Some(title) = &p.title {
        if let Err(e) = check_text(Some(title), None) {
            return Ok(Err(e));
        }
        db::tickets::set_field(
            c,
            id,
            "title",
            Value::Text(title.trim().into()),
            Some(title.trim()),
            &actor,
            now,
        )?;
    }
    if let Some(cat) = &p.category {
        let cid = match category_id(c, Some(cat), true, now)? {
            Ok(v) => v,
            Err(m) => return Ok(Err(bad("invalid_category", m))),
        };
        db::tickets::set_field(
            c,
            id,
            "category_id",
            cid.map_or(Value::Null, Value::Integer),
            Some(cat),
            &actor,
            now,
        )?;
    }
    if let Some(tags) = &p.tags {
        let tags = match check_tags(tags) {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        };
        c.execute("DELETE FROM ticket_tags WHERE ticket_id = ?1", [id])?;
        for tag in &tags {
            c.execute(
                "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2)",
                rusqlite::params![id, tag],
            )?;
        }
        db::tickets::history(
            c,
            id,
            now,
            &actor,
            "tags",
            Some(&t.tags.join(", ")),
            Some(&tags.join(", ")),
        )?;
    }
    if let Some(assets) = &p.asset_ids {
        if let Err(m) = check_assets(c, assets, user)? {
            return Ok(Err(bad("invalid_assets", m)));
        }
        c.execute("DELETE FROM ticket_assets WHERE ticket_id = ?1", [id])?;
        for a in assets {
            c.execute(
                "INSERT OR IGNORE INTO ticket_assets (ticket_id, asset_id) VALUES (?1, ?2)",
                rusqlite::params![id, a],
            )?;
        }
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        db::tickets::history(
            c,
            id,
            now,
            &actor,
            "assets",
            Some(&list(&t.asset_ids)),
            Some(&list(assets)),
        )?;
    }
    crate::service_desk::refresh_sla(c, &state.desk, id, now)?;
    Ok(Ok(()))
}

async fn update(
    user: CurrentUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(p): ApiJson<Patch>,
) -> ApiResult<Json<TicketView>> {
    user.require(Role::Technician)?;
    let now = crate::clock::now();
    let st = state.clone();
    let out = state
        .db
        .write(move |tx| {
            if let Err(e) = apply_patch(tx, &st, id, &p, &user, now)? {
                return Ok(Err(e));
            }
            match db::tickets::get(tx, id)? {
                Some(t) => Ok(Ok(view(tx, &st, t, &user, now)?)),
                None => Ok(Err(AppError::not_found("ticket"))),
            }
        })
        .await??;
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkBody {
    ids: Vec<i64>,
    status: Option<String>,
    assignee_id: Option<i64>,
}

#[derive(Debug, Serialize)]
struct BulkResult {
    updated: Vec<i64>,
    /// Tickets left unchanged, with why.
    refused: Vec<serde_json::Value>,
}

async fn bulk(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiJson(b): ApiJson<BulkBody>,
) -> ApiResult<Json<BulkResult>> {
    user.require(Role::Technician)?;
    if b.ids.is_empty() || b.ids.len() > 500 {
        return Err(bad("invalid_ids", "between 1 and 500 ticket ids"));
    }
    let now = crate::clock::now();
    let st = state.clone();
    let result = state
        .db
        .write(move |tx| {
            let patch = Patch {
                status: b.status.clone(),
                assignee_id: b.assignee_id,
                ..Default::default()
            };
            let mut out = BulkResult {
                updated: Vec::new(),
                refused: Vec::new(),
            };
            for id in b.ids {
                // Each ticket succeeds or fails alone; a refusal leaves that ticket untouched.
                tx.execute_batch("SAVEPOINT one")?;
                match apply_patch(tx, &st, id, &patch, &user, now)? {
                    Ok(()) => {
                        tx.execute_batch("RELEASE one")?;
                        out.updated.push(id);
                    }
                    Err(e) => {
                        tx.execute_batch("ROLLBACK TO one; RELEASE one")?;
                        out.refused.push(
                            serde_json::json!({"id": id, "code": e.code, "message": e.message}),
                        );
                    }
                }
            }
            Ok(out)
        })
        .await?;
    Ok(Json(result))
}
