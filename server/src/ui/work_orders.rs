//! One work order's page: what is due, on which asset and why, the checklist to tick, and
//! the evidence (notes, time, parts, cost). "Save progress" keeps the work so far;
//! "Complete" saves, then completes it unless a checklist item is left. A done work order
//! shows its evidence read-only.

use super::maintenance::{STAFF_ONLY, busy};
use super::maintenance_form_values::part;
use super::maintenance_words::{local, number, zone};
use super::{Nav, UiUser, message, render};
use crate::db::{
    self, DbResult,
    work_orders::{ChecklistItem, Progress, WorkOrder},
};
use crate::http::AppState;
use crate::http::Routes;
use crate::maintenance::{CompleteRefused, Ctx, complete};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use rusqlite::Connection;

pub fn router() -> Routes {
    Routes::new().route("/work-orders/{id}", get(page).post(submit))
}

pub struct Check {
    pub index: usize,
    pub item: String,
    pub done: bool,
}

#[derive(Template)]
#[template(path = "work_order.html")]
struct WorkOrderPage {
    nav: Option<Nav>,
    csrf: String,
    error: Option<String>,
    w: WorkOrder,
    due: String,
    /// The zone's name when the time's abbreviation does not say it ("Europe/Berlin").
    zone: Option<String>,
    cause: &'static str,
    checks: Vec<Check>,
    notes: String,
    minutes: String,
    parts: String,
    cost: String,
    completed: String,
    estimated: Option<i64>,
    instructions: String,
}

fn cause_text(cause: &str) -> &'static str {
    match cause {
        "schedule" => "on schedule",
        "meter" => "a meter reading",
        "max_interval" => "the maximum interval since it was last done",
        "manual" => "requested by hand",
        _ => "unknown",
    }
}

/// "12.50" from cents.
fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// Cents from "12.50", "12,5" or "12"; `None` for an empty field.
fn cents(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || format!("Cost {s:?} is not an amount like 12.50.");
    let (whole, frac) = s.split_once(['.', ',']).unwrap_or((s, ""));
    if frac.len() > 2
        || whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .filter(|c| *c <= 100_000_000_000)
        .map(Some)
        .ok_or_else(bad)
}

/// The zone a work order's dates are shown in: the plan's, else the asset's site's.
fn zone_name(c: &Connection, w: &WorkOrder) -> DbResult<Option<String>> {
    Ok(c.query_row(
        "SELECT coalesce(p.timezone, l3.timezone, l2.timezone, l1.timezone, l0.timezone)
         FROM assets a JOIN maintenance_plans p ON p.id = ?2
         LEFT JOIN locations l0 ON l0.id = a.location_id
         LEFT JOIN locations l1 ON l1.id = l0.parent_id
         LEFT JOIN locations l2 ON l2.id = l1.parent_id
         LEFT JOIN locations l3 ON l3.id = l2.parent_id
         WHERE a.id = ?1",
        [w.asset_id, w.plan_id],
        |r| r.get(0),
    )
    .ok()
    .flatten())
}

/// What the form held when it was refused, to show again.
#[derive(Clone)]
struct Typed {
    done: Vec<usize>,
    notes: String,
    minutes: String,
    parts: String,
    cost: String,
}

async fn show(
    state: &AppState,
    user: &UiUser,
    id: i64,
    typed: Option<Typed>,
    error: Option<(StatusCode, String)>,
) -> Response {
    let now = crate::clock::now();
    let loaded = state
        .db
        .read(move |c| {
            let Some(w) = db::work_orders::get(c, id, now)? else {
                return Ok(None);
            };
            let zone = zone_name(c, &w)?;
            let plan = db::maintenance::get(c, w.plan_id)?;
            Ok(Some((w, zone, plan)))
        })
        .await;
    let (w, zone_name, plan) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                user.nav("maintenance"),
                "No such work order",
                "It may have been deleted with its asset.",
            );
        }
        Err(_) => return busy(user),
    };
    let tz = zone(zone_name.as_deref(), state.desk.calendar.tz());
    let checks = w
        .checklist
        .iter()
        .enumerate()
        .map(|(index, i)| Check {
            index,
            item: i.item.clone(),
            done: match &typed {
                Some(t) => t.done.contains(&index),
                None => i.done,
            },
        })
        .collect();
    let parts = w
        .parts_used
        .iter()
        .map(|x| format!("{} x {}", x.name, number(x.quantity)))
        .collect::<Vec<_>>()
        .join("\n");
    let (notes, minutes, parts, cost) = match typed {
        Some(t) => (t.notes, t.minutes, t.parts, t.cost),
        None => (
            w.notes.clone(),
            w.minutes_spent.map(|m| m.to_string()).unwrap_or_default(),
            parts,
            w.cost_cents.map(money).unwrap_or_default(),
        ),
    };
    let (status, error) = match error {
        Some((s, e)) => (s, Some(e)),
        None => (StatusCode::OK, None),
    };
    let mut resp = render(&WorkOrderPage {
        nav: user.nav("maintenance"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        error,
        due: local(tz, w.due_at),
        zone: Some(tz.name().to_owned()).filter(|z| !local(tz, w.due_at).ends_with(z.as_str())),
        cause: cause_text(&w.cause),
        checks,
        notes,
        minutes,
        parts,
        cost,
        completed: w.completed_at.map(|t| local(tz, t)).unwrap_or_default(),
        estimated: plan.as_ref().and_then(|p| p.estimated_minutes),
        instructions: plan.map(|p| p.instructions).unwrap_or_default(),
        w,
    });
    *resp.status_mut() = status;
    resp
}

async fn page(user: UiUser, State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    show(&state, &user, id, None, None).await
}

/// Reads the form into the work done so far.
fn progress(items: &[ChecklistItem], t: &Typed) -> Result<Progress, String> {
    let minutes = match t.minutes.trim() {
        "" => None,
        m => Some(
            m.parse::<i64>()
                .ok()
                .filter(|m| (0..=100_000).contains(m))
                .ok_or_else(|| format!("Minutes spent {m:?} is not a number from 0 to 100000."))?,
        ),
    };
    let parts = t
        .parts
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(part)
        .collect::<Result<Vec<_>, _>>()?;
    if parts.len() > 100
        || parts
            .iter()
            .any(|p| !(p.quantity > 0.0 && p.quantity <= 1e6))
    {
        return Err("At most 100 parts, each with a quantity above 0.".into());
    }
    if t.notes.chars().count() > 20_000 {
        return Err("Notes are at most 20000 characters.".into());
    }
    Ok(Progress {
        checklist: Some(
            items
                .iter()
                .enumerate()
                .map(|(i, c)| ChecklistItem {
                    item: c.item.clone(),
                    done: t.done.contains(&i),
                })
                .collect(),
        ),
        notes: Some(t.notes.clone()),
        minutes_spent: minutes,
        parts_used: Some(parts),
        cost_cents: cents(&t.cost)?,
    })
}

enum Outcome {
    Saved,
    Invalid(String),
    Refused(CompleteRefused),
}

async fn submit(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    };
    if !user.csrf_ok(&get("csrf")) {
        return user.csrf_refused();
    }
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let typed = Typed {
        done: f
            .iter()
            .filter(|(k, _)| k == "done")
            .filter_map(|(_, v)| v.parse().ok())
            .collect(),
        notes: get("notes").trim().to_owned(),
        minutes: get("minutes_spent").trim().to_owned(),
        parts: get("parts").trim().to_owned(),
        cost: get("cost").trim().to_owned(),
    };
    let finish = get("action") == "complete";
    let now = crate::clock::now();
    let (uid, actor) = (user.0.user.id, format!("user:{}", user.0.user.id));
    let (st, typed_again) = (state.clone(), typed.clone());
    let outcome = state
        .db
        .write(move |tx| {
            let Some(w) = db::work_orders::get(tx, id, now)? else {
                return Ok(Outcome::Refused(CompleteRefused::NotFound));
            };
            if w.state != "open" {
                return Ok(Outcome::Refused(CompleteRefused::NotOpen(w.state)));
            }
            let p = match progress(&w.checklist, &typed_again) {
                Ok(p) => p,
                Err(e) => return Ok(Outcome::Invalid(e)),
            };
            db::work_orders::record_progress(tx, id, &p)?;
            if !finish {
                return Ok(Outcome::Saved);
            }
            Ok(match complete(tx, &Ctx::of(&st), id, uid, &actor, now)? {
                Ok(()) => Outcome::Saved,
                Err(r) => Outcome::Refused(r),
            })
        })
        .await;
    let refusal = match outcome {
        Ok(Outcome::Saved) => {
            return Redirect::to(&format!("/work-orders/{id}")).into_response();
        }
        Ok(Outcome::Invalid(e)) => (StatusCode::BAD_REQUEST, e),
        Ok(Outcome::Refused(CompleteRefused::NotFound)) => {
            return message(
                StatusCode::NOT_FOUND,
                user.nav("maintenance"),
                "No such work order",
                "It may have been deleted with its asset.",
            );
        }
        Ok(Outcome::Refused(CompleteRefused::NotOpen(s))) => {
            return show(
                &state,
                &user,
                id,
                None,
                Some((
                    StatusCode::CONFLICT,
                    format!("This work order is {s}; it can no longer be changed."),
                )),
            )
            .await;
        }
        Ok(Outcome::Refused(CompleteRefused::ChecklistIncomplete(left))) => (
            StatusCode::CONFLICT,
            format!(
                "Progress saved, but not completed: {} checklist item{} left: {}.",
                left.len(),
                if left.len() == 1 { " is" } else { "s are" },
                left.join("; ")
            ),
        ),
        Err(_) => return busy(&user),
    };
    show(&state, &user, id, Some(typed), Some(refusal)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn costs_read_as_cents() {
        assert_eq!(cents("12.50"), Ok(Some(1250)));
        assert_eq!(cents("12,5"), Ok(Some(1250)));
        assert_eq!(cents("7"), Ok(Some(700)));
        assert_eq!(cents(""), Ok(None));
        assert!(cents("1.234").is_err());
        assert!(cents("-3").is_err());
        assert_eq!(money(1250), "12.50");
        assert_eq!(money(5), "0.05");
    }
}
