//! Ticket pages: filing a request, and one ticket with its conversation, triage and
//! confirmation forms. The lists are in `queues`.

use super::format::{ago, datetime};
use super::{Nav, UiUser, message, render};
use crate::db;
use crate::domain::changes::human_bytes;
use crate::domain::tickets::{Level, Priority};
use crate::http::Routes;
use crate::http::attachments::{UploadMeta, store_multipart};
use crate::http::ticket_changes::{Patch, update_ticket};
use crate::http::ticket_comments::{CommentBody, ResolutionBody, add_comment, confirm_resolution};
use crate::http::tickets::{NewTicketBody, TicketView, create_ticket, get_ticket};
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/tickets/new", get(new_form).post(new_post))
        .route("/tickets/{id}", get(detail))
        .route("/tickets/{id}/reply", post(reply))
        .route("/tickets/{id}/update", post(update))
        .route("/tickets/{id}/resolution", post(resolution))
        .route(
            "/tickets/{id}/attachments",
            post(attach).layer(DefaultBodyLimit::disable()),
        )
}

pub(super) fn priority_name(p: i64) -> &'static str {
    Priority::from_number(p as u8).map_or("?", Priority::as_str)
}

fn level_name(n: i64) -> &'static str {
    u8::try_from(n)
        .ok()
        .and_then(Level::from_value)
        .map_or("?", Level::as_str)
}

/// "in 3 h", "overdue 20 min", or "" when there is no deadline.
pub(super) fn due_text(due: Option<i64>, now: i64) -> String {
    match due {
        None => String::new(),
        Some(d) if d >= now => format!(
            "due {}",
            ago(Some(now), d)
                .replace(" ago", "")
                .replace("just now", "now")
        ),
        Some(d) => format!("overdue {}", ago(Some(d), now).replace(" ago", "")),
    }
}

pub(super) fn refused(user: &UiUser, e: AppError) -> Response {
    let status = e.status;
    message(status, user.nav("tickets"), "That did not work", &e.message)
}

#[derive(Template)]
#[template(path = "ticket_new.html")]
struct NewPage {
    nav: Option<Nav>,
    csrf: String,
    error: Option<String>,
    title: String,
    description: String,
    categories: Vec<String>,
    assets: Vec<(i64, String)>,
}

async fn new_page(
    user: &UiUser,
    state: &AppState,
    error: Option<String>,
    title: String,
    description: String,
) -> Response {
    let uid = user.0.user.id;
    let loaded = state
        .db
        .read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT name FROM categories ORDER BY name LIMIT 200")?;
            let cats: Vec<String> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut stmt = c.prepare_cached(
                "SELECT id, name FROM assets WHERE assigned_user_id = ?1 ORDER BY name LIMIT 200",
            )?;
            let assets: Vec<(i64, String)> = stmt
                .query_map([uid], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            Ok((cats, assets))
        })
        .await;
    let (categories, assets) = match loaded {
        Ok(x) => x,
        Err(e) => return AppError::from(e).into_response(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut resp = render(&NewPage {
        nav: user.nav("tickets"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        error,
        title,
        description,
        categories,
        assets,
    });
    *resp.status_mut() = status;
    resp
}

async fn new_form(user: UiUser, State(state): State<AppState>) -> Response {
    new_page(&user, &state, None, String::new(), String::new()).await
}

#[derive(Deserialize)]
struct NewForm {
    csrf: String,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    urgency: String,
    #[serde(default)]
    asset_id: String,
}

async fn new_post(user: UiUser, State(state): State<AppState>, Form(f): Form<NewForm>) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let asset_ids = match f.asset_id.trim() {
        "" => Vec::new(),
        id => match id.parse() {
            Ok(id) => vec![id],
            Err(_) => {
                return new_page(
                    &user,
                    &state,
                    Some("Choose a device from the list.".into()),
                    f.title,
                    f.description,
                )
                .await;
            }
        },
    };
    let body = NewTicketBody {
        ticket_type: None,
        title: f.title.clone(),
        description: f.description.clone(),
        category: Some(f.category).filter(|c| !c.is_empty()),
        impact: None,
        urgency: Some(f.urgency).filter(|u| !u.is_empty()),
        asset_ids,
        tags: Vec::new(),
        location: String::new(),
        requester_id: None,
        assignee_id: None,
        group_id: None,
    };
    match create_ticket(&state, &user.0, body).await {
        Ok(t) => Redirect::to(&format!("/tickets/{}", t.ticket.summary.id)).into_response(),
        Err(e) => new_page(&user, &state, Some(e.message), f.title, f.description).await,
    }
}

pub struct TicketText {
    pub id: i64,
    pub title: String,
    pub status: String,
    pub ticket_type: String,
    pub priority: &'static str,
    /// Impact and urgency, which set the priority (`low` .. `critical`).
    pub impact: &'static str,
    pub urgency: &'static str,
    pub category: String,
    pub requester: String,
    pub assignee: String,
    pub created: String,
    pub description: String,
    pub assets: Vec<i64>,
}

pub struct SlaText {
    pub response: String,
    pub resolution: String,
    pub clock: &'static str,
}

pub struct CommentText {
    pub author: String,
    pub at: String,
    pub internal: bool,
    pub body: String,
}

pub struct AttachmentText {
    pub url: String,
    pub filename: String,
    pub size: String,
    pub uploader: String,
    pub at: String,
    pub internal: bool,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct DetailPage {
    nav: Option<Nav>,
    csrf: String,
    staff: bool,
    error: Option<String>,
    t: TicketText,
    sla: Option<SlaText>,
    comments: Vec<CommentText>,
    attachments: Vec<AttachmentText>,
    max_upload: String,
    allowed: Vec<String>,
    staff_users: Vec<(i64, String)>,
    groups: Vec<(i64, String)>,
    canned: Vec<(i64, String)>,
    can_reply: bool,
    confirm: bool,
    /// The work order this ticket stands for, if it is one.
    work_order: Option<i64>,
}

fn sla_text(v: &TicketView, now: i64) -> Option<SlaText> {
    let s = v.sla.as_ref()?;
    let target = |due: Option<i64>, breached: bool, done: bool| match (due, breached, done) {
        (_, true, _) => "breached".to_owned(),
        (_, false, true) => "met".to_owned(),
        (Some(d), false, false) => format!("{} ({})", due_text(Some(d), now), datetime(Some(d))),
        (None, false, false) => "met".to_owned(),
    };
    let t = &v.ticket;
    Some(SlaText {
        response: target(
            s.first_response_due,
            s.first_response_breached,
            t.first_response_at.is_some(),
        ),
        resolution: target(
            s.resolution_due,
            s.resolution_breached,
            t.resolved_at.is_some() && s.resolution_due.is_none(),
        ),
        clock: if s.paused {
            "paused while pending"
        } else if s.resolution_due.is_some() {
            "running"
        } else {
            "stopped"
        },
    })
}

async fn detail(user: UiUser, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let v = match get_ticket(&state, &user.0, id).await {
        Ok(v) => v,
        Err(e) => return refused(&user, e),
    };
    let staff = user.0.user.role.is_staff();
    let (staff_users, groups, canned) = if staff {
        state
            .db
            .read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT id, name FROM users WHERE role IN ('technician', 'admin') AND disabled = 0 ORDER BY name LIMIT 500",
                )?;
                let users: Vec<(i64, String)> = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
                let groups = db::groups::list(c, 1000)?.into_iter().map(|g| (g.id, g.name)).collect();
                let canned = db::canned::list(c, 1000)?.into_iter().map(|r| (r.id, r.title)).collect();
                Ok((users, groups, canned))
            })
            .await
            .unwrap_or_default()
    } else {
        Default::default()
    };
    let now = crate::clock::now();
    let work_order = if staff {
        let found = state
            .db
            .read(move |c| db::work_orders::by_ticket(c, id, now))
            .await;
        found.ok().flatten().map(|w| w.id)
    } else {
        None
    };
    let s = &v.ticket.summary;
    let page = DetailPage {
        nav: user.nav("tickets"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        staff,
        error: None,
        sla: sla_text(&v, now),
        comments: v
            .comments
            .iter()
            .map(|c| CommentText {
                author: c
                    .author
                    .as_ref()
                    .map(|a| a.name.clone())
                    .unwrap_or_else(|| "someone".into()),
                at: datetime(Some(c.created_at)),
                internal: c.internal,
                body: c.body.clone(),
            })
            .collect(),
        attachments: v
            .attachments
            .iter()
            .map(|a| AttachmentText {
                url: a.url.clone(),
                filename: a.filename.clone(),
                size: human_bytes(u64::try_from(a.size).unwrap_or(0)),
                uploader: a
                    .uploader
                    .as_ref()
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                at: datetime(Some(a.created_at)),
                internal: a.internal,
            })
            .collect(),
        max_upload: human_bytes(state.config.attachments.max_bytes),
        allowed: v
            .allowed_status
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        staff_users,
        groups,
        canned,
        can_reply: s.status != "closed",
        confirm: s.status == "resolved" && s.requester.id == user.0.user.id,
        work_order,
        t: TicketText {
            id: s.id,
            title: s.title.clone(),
            status: s.status.clone(),
            ticket_type: s.ticket_type.clone(),
            priority: priority_name(s.priority),
            impact: level_name(v.ticket.impact),
            urgency: level_name(v.ticket.urgency),
            category: s.category.clone().unwrap_or_default(),
            requester: s.requester.name.clone(),
            assignee: s
                .assignee
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| "nobody yet".into()),
            created: datetime(Some(s.created_at)),
            description: v.ticket.description.clone(),
            assets: v.ticket.asset_ids.clone(),
        },
    };
    render(&page)
}

#[derive(Deserialize)]
struct ReplyForm {
    csrf: String,
    #[serde(default)]
    body: String,
    internal: Option<String>,
    /// A canned response to send (before any typed text).
    #[serde(default)]
    canned_id: String,
}

async fn reply(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<ReplyForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let mut text = f.body.trim().to_owned();
    if let Ok(canned_id) = f.canned_id.trim().parse::<i64>() {
        let found = state
            .db
            .read(move |c| {
                Ok(db::canned::list(c, 1000)?
                    .into_iter()
                    .find(|r| r.id == canned_id))
            })
            .await
            .ok()
            .flatten();
        match found {
            Some(r) if text.is_empty() => text = r.body,
            Some(r) => text = format!("{}\n\n{text}", r.body),
            None => {
                return refused(
                    &user,
                    AppError::bad_request(
                        "invalid_canned_response",
                        "that canned response no longer exists",
                    ),
                );
            }
        }
    }
    let body = CommentBody {
        body: text,
        internal: f.internal.as_deref() == Some("true"),
    };
    match add_comment(&state, &user.0, id, body).await {
        Ok(_) => Redirect::to(&format!("/tickets/{id}#conv")).into_response(),
        Err(e) => refused(&user, e),
    }
}

#[derive(Deserialize)]
struct UpdateForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    assignee_id: String,
    #[serde(default)]
    group_id: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    urgency: String,
}

async fn update(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<UpdateForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let assignee_id = match f.assignee_id.trim() {
        "" => None,
        a => match a.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                return refused(
                    &user,
                    AppError::bad_request("invalid_assignee", "choose an assignee from the list"),
                );
            }
        },
    };
    let group_id = match f.group_id.trim() {
        "" => None,
        g => match g.parse() {
            Ok(v) => Some(v),
            Err(_) => {
                return refused(
                    &user,
                    AppError::bad_request("invalid_group", "choose a group from the list"),
                );
            }
        },
    };
    let patch = Patch {
        status: Some(f.status).filter(|s| !s.is_empty()),
        assignee_id,
        group_id,
        impact: Some(f.impact).filter(|s| !s.is_empty()),
        urgency: Some(f.urgency).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    match update_ticket(&state, &user.0, id, patch).await {
        Ok(_) => Redirect::to(&format!("/tickets/{id}")).into_response(),
        Err(e) => refused(&user, e),
    }
}

#[derive(Deserialize)]
struct ResolutionForm {
    csrf: String,
    accept: String,
    rating: Option<i64>,
}

async fn resolution(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<ResolutionForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let accept = f.accept == "true";
    let body = ResolutionBody {
        accept,
        rating: f.rating.filter(|_| accept),
        note: None,
    };
    match confirm_resolution(&state, &user.0, id, body).await {
        Ok(_) => Redirect::to(&format!("/tickets/{id}")).into_response(),
        Err(e) => refused(&user, e),
    }
}

/// Error code of a file form without the session's CSRF token.
const CSRF_FAILED: &str = "csrf_failed";

/// The file form: `csrf` (and for staff `internal`) before the `file` part, so the token
/// is checked before any byte is stored.
async fn attach(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    req: Request,
) -> Response {
    let staff = user.0.user.role.is_staff();
    let result = store_multipart(&state, &user.0, id, req, |f| {
        if !user.csrf_ok(f.get("csrf").unwrap_or("")) {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                CSRF_FAILED,
                "missing or wrong csrf field",
            ));
        }
        Ok(UploadMeta {
            internal: Some(staff && f.get("internal") == Some("true")),
            ..Default::default()
        })
    })
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/tickets/{id}#attachments")).into_response(),
        Err(e) if e.code == CSRF_FAILED => user.csrf_refused(),
        Err(e) => refused(&user, e),
    }
}
