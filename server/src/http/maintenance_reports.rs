//! What maintenance looks like from above: the calendar of upcoming work
//! (`/api/v1/maintenance/calendar`), the compliance report with on-time rates per plan,
//! site or asset type (`/api/v1/maintenance/compliance`), and the evidence an inspector
//! asks for, one CSV row per work order with who did it, when, and the checklist
//! (`/api/v1/maintenance/compliance/evidence.csv`, streamed). Staff only.

use super::ApiQuery;
use super::Routes;
use super::auth::{ClientIp, CurrentUser, staff_only};
use super::exports::{abort, csv_response, record_export};
use super::{ApiResult, AppError, AppState};
use crate::db::{
    self,
    work_orders::{Compliance, Filter, GroupBy, ON_TIME_GRACE_SECS, WorkOrder},
};
use crate::imports::table::write_row;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// Work orders per read of the evidence export.
const EVIDENCE_CHUNK: u32 = 2_000;
/// Longest calendar range, and most items in one.
const MAX_CALENDAR_DAYS: i64 = 92;
const MAX_CALENDAR_ITEMS: u32 = 5_000;

pub fn router() -> Routes {
    Routes::new()
        .route("/api/v1/maintenance/calendar", get(calendar))
        .route("/api/v1/maintenance/compliance", get(compliance))
        .route("/api/v1/maintenance/compliance/evidence.csv", get(evidence))
}

/// This module's routes in the OpenAPI document.
pub(super) fn describe(api: &mut super::openapi::Api) {
    use super::openapi::Access;
    api.op(
        "GET",
        "/api/v1/maintenance/calendar",
        "Maintenance due in a period",
        Access::Staff,
    )
    .query::<PeriodQuery>()
    .ok::<CalendarPage>();
    api.op(
        "GET",
        "/api/v1/maintenance/compliance",
        "Maintenance compliance in a period",
        Access::Staff,
    )
    .query::<PeriodQuery>()
    .ok::<ComplianceReport>();
    api.op(
        "GET",
        "/api/v1/maintenance/compliance/evidence.csv",
        "Compliance evidence as CSV",
        Access::Staff,
    )
    .query::<PeriodQuery>()
    .ok_raw("text/csv", "Evidence");
}

fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// A period of whole days on the server's clock: `[from, to]` as unix seconds
/// `[start of from, start of the day after to)`. Defaults: the `default_days` up to today.
pub fn period(
    tz: Tz,
    from: Option<&str>,
    to: Option<&str>,
    now: i64,
    default_days: i64,
    ahead: bool,
) -> Result<(i64, i64), AppError> {
    let day = |s: &str, what: &str| {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
            bad(
                "invalid_date",
                format!("{what} is a date like 2027-01-31, not {s:?}"),
            )
        })
    };
    let today = chrono::DateTime::from_timestamp(now, 0)
        .unwrap_or_default()
        .with_timezone(&tz)
        .date_naive();
    let span = chrono::Duration::days(default_days - 1);
    let (d_from, d_to) = match (from, to) {
        (Some(f), Some(t)) => (day(f, "from")?, day(t, "to")?),
        (Some(f), None) => {
            let f = day(f, "from")?;
            (f, f + span)
        }
        (None, Some(t)) => {
            let t = day(t, "to")?;
            (t - span, t)
        }
        (None, None) if ahead => (today, today + span),
        (None, None) => (today - span, today),
    };
    if d_to < d_from {
        return Err(bad("invalid_period", "to comes before from"));
    }
    let start = |d: NaiveDate| {
        crate::domain::recurrence::resolve(tz, d.and_time(chrono::NaiveTime::MIN)).timestamp()
    };
    Ok((start(d_from), start(d_to + chrono::Duration::days(1))))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    plan_id: Option<i64>,
}

/// One entry of the calendar: a work order, or a schedule's next due date.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CalendarItem {
    pub due_at: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub asset_id: i64,
    pub asset_name: String,
    /// `work_order` (generated) or `scheduled` (not generated yet).
    pub kind: &'static str,
    pub work_order_id: Option<i64>,
    /// The work order's state; `scheduled` for the others.
    pub state: String,
    pub overdue: bool,
}

/// Work orders due in `[from, to)` and schedules' next due dates there, by due date.
pub fn calendar_items(
    c: &rusqlite::Connection,
    from: i64,
    to: i64,
    now: i64,
) -> db::DbResult<Vec<CalendarItem>> {
    let filter = Filter {
        due_from: Some(from),
        due_to: Some(to),
        ..Default::default()
    };
    let mut items: Vec<CalendarItem> = db::work_orders::list(c, &filter, now, MAX_CALENDAR_ITEMS)?
        .into_iter()
        .filter(|w| w.state != "cancelled")
        .map(|w| CalendarItem {
            due_at: w.due_at,
            plan_id: w.plan_id,
            plan_title: w.plan_title,
            asset_id: w.asset_id,
            asset_name: w.asset_name,
            kind: "work_order",
            work_order_id: Some(w.id),
            overdue: w.overdue,
            state: w.state,
        })
        .collect();
    let mut names = c.prepare_cached(
        "SELECT p.title, a.name FROM maintenance_plans p, assets a WHERE p.id = ?1 AND a.id = ?2",
    )?;
    for (plan_id, asset_id, due_at, _) in
        db::maintenance::upcoming(c, from, to, MAX_CALENDAR_ITEMS)?
    {
        if items
            .iter()
            .any(|i| i.plan_id == plan_id && i.asset_id == asset_id && i.due_at == due_at)
        {
            continue;
        }
        let (plan_title, asset_name): (String, String) = names
            .query_row(rusqlite::params![plan_id, asset_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        items.push(CalendarItem {
            due_at,
            plan_id,
            plan_title,
            asset_id,
            asset_name,
            kind: "scheduled",
            work_order_id: None,
            state: "scheduled".into(),
            overdue: false,
        });
    }
    items.sort_by_key(|i| (i.due_at, i.plan_id, i.asset_id));
    items.truncate(MAX_CALENDAR_ITEMS as usize);
    Ok(items)
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct CalendarPage {
    from: i64,
    to: i64,
    items: Vec<CalendarItem>,
}

async fn calendar(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<CalendarPage>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let tz = state.desk.calendar.tz();
    let (from, to) = period(tz, q.from.as_deref(), q.to.as_deref(), now, 31, true)?;
    if to - from > MAX_CALENDAR_DAYS * 86_400 + 7_200 {
        return Err(bad(
            "invalid_period",
            format!("a calendar covers at most {MAX_CALENDAR_DAYS} days"),
        ));
    }
    let items = state
        .db
        .read(move |c| calendar_items(c, from, to, now))
        .await?;
    Ok(Json(CalendarPage { from, to, items }))
}

/// Reads `by=plan|site|type`.
pub fn group_by(by: Option<&str>) -> Result<GroupBy, AppError> {
    match by.unwrap_or("plan") {
        "plan" => Ok(GroupBy::Plan),
        "site" => Ok(GroupBy::Site),
        "type" => Ok(GroupBy::AssetType),
        other => Err(bad(
            "invalid_by",
            format!("by is plan, site or type, not {other:?}"),
        )),
    }
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
struct ComplianceReport {
    from: i64,
    to: i64,
    by: String,
    /// Done within this many hours after the due time counts as on time.
    grace_hours: i64,
    rows: Vec<Compliance>,
}

async fn compliance(
    user: CurrentUser,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Json<ComplianceReport>> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let by = group_by(q.by.as_deref())?;
    let (from, to) = period(
        state.desk.calendar.tz(),
        q.from.as_deref(),
        q.to.as_deref(),
        now,
        90,
        false,
    )?;
    let rows = state
        .db
        .read(move |c| db::work_orders::compliance(c, by, from, to, now))
        .await?;
    Ok(Json(ComplianceReport {
        from,
        to,
        by: q.by.unwrap_or_else(|| "plan".into()),
        grace_hours: ON_TIME_GRACE_SECS / 3600,
        rows,
    }))
}

const EVIDENCE_HEADER: &[&str] = &[
    "work_order_id",
    "plan_id",
    "plan",
    "asset_id",
    "asset",
    "due_utc",
    "cause",
    "state",
    "on_time",
    "completed_utc",
    "completed_by",
    "checklist",
    "notes",
    "minutes_spent",
    "parts_used",
    "cost",
    "late_reason",
    "missed_reason",
    "ticket_id",
];

fn utc_text(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

fn evidence_row(out: &mut Vec<u8>, w: &WorkOrder, now: i64) {
    let on_time = match (w.state.as_str(), w.completed_at) {
        ("done", Some(at)) if at <= w.due_at + ON_TIME_GRACE_SECS => "yes",
        ("done", _) | ("missed", _) => "no",
        ("open", _) if w.due_at + ON_TIME_GRACE_SECS < now => "no",
        _ => "",
    };
    let checklist = w
        .checklist
        .iter()
        .map(|i| format!("[{}] {}", if i.done { "x" } else { " " }, i.item))
        .collect::<Vec<_>>()
        .join("; ");
    let parts = w
        .parts_used
        .iter()
        .map(|p| format!("{} x {}", p.quantity, p.name))
        .collect::<Vec<_>>()
        .join("; ");
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let cost = w
        .cost_cents
        .map(|c| format!("{}.{:02}", c / 100, c % 100))
        .unwrap_or_default();
    let cells = [
        w.id.to_string(),
        w.plan_id.to_string(),
        w.plan_title.clone(),
        w.asset_id.to_string(),
        w.asset_name.clone(),
        utc_text(Some(w.due_at)),
        w.cause.clone(),
        w.state.clone(),
        on_time.to_owned(),
        utc_text(w.completed_at),
        w.completed_by_name.clone().unwrap_or_default(),
        checklist,
        w.notes.clone(),
        num(w.minutes_spent),
        parts,
        cost,
        w.late_reason.clone().unwrap_or_default(),
        w.missed_reason.clone().unwrap_or_default(),
        num(w.ticket_id),
    ];
    write_row(out, cells.iter().map(String::as_str));
}

fn evidence_chunk(
    c: &rusqlite::Connection,
    filter: &Filter,
    now: i64,
    out: &mut Vec<u8>,
) -> db::DbResult<Option<(i64, i64)>> {
    let items = db::work_orders::list(c, filter, now, EVIDENCE_CHUNK)?;
    for w in &items {
        evidence_row(out, w, now);
    }
    Ok((items.len() == EVIDENCE_CHUNK as usize)
        .then(|| items.last().map(|w| (w.due_at, w.id)))
        .flatten())
}

async fn evidence(
    user: CurrentUser,
    State(state): State<AppState>,
    ip: ClientIp,
    RawQuery(raw): RawQuery,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> ApiResult<Response> {
    staff_only(&user)?;
    let now = crate::clock::now();
    let (from, to) = period(
        state.desk.calendar.tz(),
        q.from.as_deref(),
        q.to.as_deref(),
        now,
        90,
        false,
    )?;
    let mut filter = Filter {
        plan_id: q.plan_id,
        due_from: Some(from),
        due_to: Some(to),
        ..Default::default()
    };
    let f = filter.clone();
    let (first, mut next) = state
        .db
        .read(move |c| {
            let mut out = Vec::with_capacity(1 << 20);
            write_row(&mut out, EVIDENCE_HEADER.iter().copied());
            let next = evidence_chunk(c, &f, now, &mut out)?;
            Ok((out, next))
        })
        .await?;
    let actor = user.actor(&ip);
    let what = crate::db::audit::action::EXPORT_COMPLIANCE_EVIDENCE;
    record_export(&state, &actor, what, raw.as_deref()).await?;
    let (response, tx) = csv_response("maintenance-evidence.csv", first);
    tokio::spawn(async move {
        while let Some(after) = next {
            filter.after = Some(after);
            let f = filter.clone();
            let chunk = state
                .db
                .read(move |c| {
                    let mut out = Vec::with_capacity(1 << 20);
                    let next = evidence_chunk(c, &f, now, &mut out)?;
                    Ok((out, next))
                })
                .await;
            match chunk {
                Ok((out, n)) => {
                    if tx.send(Ok(Bytes::from(out))).await.is_err() {
                        return;
                    }
                    next = n;
                }
                Err(e) => return abort(&tx, "maintenance evidence", &AppError::from(e)).await,
            }
        }
    });
    Ok(response)
}
