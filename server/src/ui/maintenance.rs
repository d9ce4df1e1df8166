//! Preventive maintenance pages: the overview (overdue, due soon, missed, the plans) and
//! one plan's page with its next due dates, its assets and its recent work orders. The
//! plan form is in `maintenance_forms`, calendar and compliance in `maintenance_reports`,
//! one work order in `work_orders`, the words for triggers in `maintenance_words`.

use super::format::ago;
use super::maintenance_words::{local, number, trigger_summary, zone};
use super::{Nav, UiUser, message, render};
use crate::db::{self, maintenance::Plan, work_orders::Filter};
use crate::domain::roles::Role;
use crate::http::AppState;
use crate::http::Routes;
use crate::http::maintenance::{PlanInput, check_plan, preview_of};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono_tz::Tz;
use serde::Deserialize;

const DAY: i64 = 86_400;
/// Rows in each list of the overview.
const ON_PAGE: u32 = 200;

pub fn router() -> Routes {
    Routes::new()
        .route("/maintenance", get(overview))
        .route("/maintenance/plans/{id}", get(plan_page))
        .route("/maintenance/plans/{id}/remove", post(remove))
}

pub(super) const STAFF_ONLY: &str = "Maintenance is for IT staff.";

pub(super) fn busy(user: &UiUser) -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        user.nav("maintenance"),
        "Try again",
        "The database is busy.",
    )
}

/// A work order in a list.
pub struct WoRow {
    pub id: i64,
    pub plan_id: i64,
    pub plan_title: String,
    pub asset_id: i64,
    pub asset_name: String,
    pub due: String,
    /// "overdue 3 days", "in 2 days", or the state.
    pub when: String,
    pub assignee: String,
    pub state: String,
}

impl WoRow {
    pub fn of(w: db::work_orders::WorkOrder, tz: Tz, now: i64) -> WoRow {
        let when = match w.state.as_str() {
            "open" if w.due_at < now => {
                format!("overdue {}", ago(Some(w.due_at), now).replace(" ago", ""))
            }
            "open" => format!("in {}", ago(Some(now), w.due_at).replace(" ago", "")),
            other => other.to_owned(),
        };
        WoRow {
            id: w.id,
            plan_id: w.plan_id,
            plan_title: w.plan_title,
            asset_id: w.asset_id,
            asset_name: w.asset_name,
            due: local(tz, w.due_at),
            when: when.replace("in just now", "now"),
            assignee: w.assignee_name.unwrap_or_else(|| "nobody yet".into()),
            state: if w.overdue { "overdue".into() } else { w.state },
        }
    }
}

pub struct PlanRow {
    pub id: i64,
    pub title: String,
    pub summary: String,
    pub assets: i64,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "maintenance.html")]
struct OverviewPage {
    nav: Option<Nav>,
    zone: String,
    overdue: Vec<WoRow>,
    soon: Vec<WoRow>,
    missed: Vec<WoRow>,
    plans: Vec<PlanRow>,
}

async fn overview(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let now = crate::clock::now();
    let loaded = state
        .db
        .read(move |c| {
            let list = |state: &str, from: Option<i64>, to: Option<i64>| {
                let f = Filter {
                    state: Some(state.into()),
                    due_from: from,
                    due_to: to,
                    ..Default::default()
                };
                db::work_orders::list(c, &f, now, ON_PAGE)
            };
            Ok((
                list("overdue", None, None)?,
                list("open", Some(now), Some(now + 14 * DAY))?,
                list("missed", Some(now - 30 * DAY), None)?,
                db::maintenance::list(c, true, db::maintenance::MAX_PLANS)?,
            ))
        })
        .await;
    let Ok((overdue, soon, mut missed, plans)) = loaded else {
        return busy(&user);
    };
    missed.reverse();
    let tz = state.desk.calendar.tz();
    let rows = |v: Vec<db::work_orders::WorkOrder>| -> Vec<WoRow> {
        v.into_iter().map(|w| WoRow::of(w, tz, now)).collect()
    };
    render(&OverviewPage {
        nav: user.nav("maintenance"),
        zone: tz.name().to_owned(),
        overdue: rows(overdue),
        soon: rows(soon),
        missed: rows(missed),
        plans: plans
            .into_iter()
            .map(|p| PlanRow {
                summary: trigger_summary(&p.trigger),
                id: p.id,
                title: p.title,
                assets: p.asset_count,
                active: p.active,
            })
            .collect(),
    })
}

pub struct PreviewRow {
    pub local: String,
    pub cause: &'static str,
    pub note: Option<String>,
}

pub struct AssetRow {
    pub id: i64,
    pub name: String,
    pub tag: String,
    pub last_done: String,
    pub next_due: String,
    pub cause: String,
}

#[derive(Template)]
#[template(path = "maintenance_plan.html")]
struct PlanPage {
    nav: Option<Nav>,
    csrf: String,
    admin: bool,
    removable: &'static str,
    p: Plan,
    summary: String,
    parts: Vec<String>,
    targets: Vec<String>,
    group: String,
    escalation: String,
    zone: String,
    preview: Vec<PreviewRow>,
    preview_error: Option<String>,
    assets: Vec<AssetRow>,
    orders: Vec<WoRow>,
}

/// Recent work orders shown on a plan's page.
const RECENT: usize = 25;
/// Assets listed on a plan's page.
const ASSETS_ON_PAGE: u32 = 500;

async fn plan_page(user: UiUser, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let now = crate::clock::now();
    let default_tz = state.desk.calendar.tz();
    let default_name = default_tz.name().to_owned();
    let loaded = state
        .db
        .read(move |c| {
            let Some(plan) = db::maintenance::get(c, id)? else {
                return Ok(None);
            };
            let assets = db::maintenance::plan_assets(c, id, &default_name, ASSETS_ON_PAGE)?;
            let f = Filter {
                plan_id: Some(id),
                due_from: Some(now - 60 * DAY),
                ..Default::default()
            };
            let orders = db::work_orders::list(c, &f, now, 2_000)?;
            let has_orders = !orders.is_empty() || db::maintenance::has_work_orders(c, id)?;
            let groups: Vec<(i64, String)> = db::groups::list(c, 1_000)?
                .into_iter()
                .map(|g| (g.id, g.name))
                .collect();
            let mut targets = Vec::new();
            for t in &plan.targets {
                targets.push(target_name(c, &t.kind, t.id)?);
            }
            Ok(Some((plan, assets, orders, has_orders, groups, targets)))
        })
        .await;
    let (plan, assets, orders, has_orders, groups, targets) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                user.nav("maintenance"),
                "No such plan",
                "It may have been deleted.",
            );
        }
        Err(_) => return busy(&user),
    };
    let tz = zone(plan.timezone.as_deref(), default_tz);
    let (preview, preview_error) = match preview_of(&plan, tz, now, 10) {
        Ok(p) => (
            p.items
                .into_iter()
                .map(|i| PreviewRow {
                    local: i.local,
                    cause: i.cause,
                    note: i.dst_note,
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e)),
    };
    let group_name = |g: Option<i64>| {
        g.map(|g| {
            groups
                .iter()
                .find(|(id, _)| *id == g)
                .map(|(_, n)| n.clone())
                .unwrap_or_else(|| format!("group {g}"))
        })
        .unwrap_or_else(|| "none".into())
    };
    let escalation = match plan.escalate_after_secs {
        Some(s) => format!(
            "{} h after due, to {}",
            s / 3600,
            group_name(plan.escalate_group_id)
        ),
        None => "never".into(),
    };
    render(&PlanPage {
        nav: user.nav("maintenance"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        admin: user.0.user.role == Role::Admin,
        removable: if has_orders { "Archive" } else { "Delete" },
        summary: trigger_summary(&plan.trigger),
        parts: plan
            .parts
            .iter()
            .map(|x| format!("{} × {}", x.name, number(x.quantity)))
            .collect(),
        targets,
        group: group_name(plan.group_id),
        escalation,
        zone: plan
            .timezone
            .clone()
            .unwrap_or_else(|| format!("each asset's site (else {})", default_tz.name())),
        preview,
        preview_error,
        assets: assets
            .into_iter()
            .map(|a| {
                let az = zone(Some(&a.timezone), default_tz);
                AssetRow {
                    id: a.asset_id,
                    name: a.asset_name,
                    tag: a.asset_tag.unwrap_or_default(),
                    last_done: a
                        .last_done_at
                        .map(|t| local(az, t))
                        .unwrap_or_else(|| "never".into()),
                    next_due: match (a.next_due_at, a.meter_next) {
                        (Some(t), _) => local(az, t),
                        (None, Some(m)) => format!("at meter {}", number(m)),
                        (None, None) => "after the open work order".into(),
                    },
                    cause: a.next_cause.unwrap_or_default(),
                }
            })
            .collect(),
        orders: orders
            .into_iter()
            .rev()
            .take(RECENT)
            .map(|w| WoRow::of(w, tz, now))
            .collect(),
        p: plan,
    })
}

/// "Type: Printer", "Location: HQ / Floor 2", "Asset: Boiler (#12)".
fn target_name(c: &rusqlite::Connection, kind: &str, id: i64) -> db::DbResult<String> {
    Ok(match kind {
        "type" => {
            let name = db::asset_types::list(c)?
                .into_iter()
                .find(|t| t.id == id)
                .map(|t| t.name)
                .unwrap_or_else(|| format!("#{id}"));
            format!("Type: {name}")
        }
        "location" => {
            let name = db::locations::get(c, id)?
                .map(|l| l.path)
                .unwrap_or_else(|| format!("#{id}"));
            format!("Location: {name}")
        }
        _ => {
            let name = db::assets::get(c, id)?
                .map(|a| a.summary.name)
                .unwrap_or_default();
            format!("Asset: {name} (#{id})")
        }
    })
}

#[derive(Deserialize)]
struct RemoveForm {
    csrf: String,
}

/// Deletes a plan, or archives it when it has work orders (their evidence stays), as
/// `DELETE /api/v1/maintenance/plans/{id}` does.
async fn remove(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<RemoveForm>,
) -> Response {
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    if user.0.user.role != Role::Admin {
        return message(
            StatusCode::FORBIDDEN,
            user.nav("maintenance"),
            "Not available",
            "Only admins delete or archive maintenance plans.",
        );
    }
    let now = crate::clock::now();
    let outcome = state
        .db
        .write(move |tx| {
            let Some(plan) = db::maintenance::get(tx, id)? else {
                return Ok(None);
            };
            if db::maintenance::has_work_orders(tx, id)? {
                if let Ok(mut fields) = check_plan(tx, &PlanInput::of(&plan))? {
                    fields.active = false;
                    db::maintenance::update(tx, id, &fields, now)?;
                    db::maintenance::sync_schedules(tx, now)?;
                }
                Ok(Some(false))
            } else {
                db::maintenance::delete(tx, id)?;
                Ok(Some(true))
            }
        })
        .await;
    match outcome {
        Ok(Some(true)) => Redirect::to("/maintenance").into_response(),
        Ok(Some(false)) => Redirect::to(&format!("/maintenance/plans/{id}")).into_response(),
        Ok(None) => message(
            StatusCode::NOT_FOUND,
            user.nav("maintenance"),
            "No such plan",
            "It may have been deleted.",
        ),
        Err(_) => busy(&user),
    }
}
