//! Maintenance from above: a month calendar of upcoming work, and the compliance report
//! (on-time rates by plan, site or asset type, with a bar chart and the evidence CSV).
//! The JSON and CSV are in `http::maintenance_reports`.

use super::maintenance::{STAFF_ONLY, busy};
use super::{Nav, UiUser, render};
use crate::db::{
    self,
    work_orders::{Filter, GroupBy},
};
use crate::domain::maintenance::local_day;
use crate::http::AppState;
use crate::http::Routes;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

/// Items on one calendar month, at most.
const MONTH_ITEMS: u32 = 5_000;
/// Items listed in one day's cell; the rest are counted.
const PER_DAY: usize = 5;

pub fn router() -> Routes {
    Routes::new()
        .route("/maintenance/calendar", get(calendar))
        .route("/maintenance/compliance", get(compliance))
}

/// Local midnight starting `day` as unix seconds (the first instant of the day).
fn day_start(tz: Tz, day: NaiveDate) -> i64 {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.timestamp(),
        // Midnight skipped by a clock change: the day starts an hour later.
        chrono::LocalResult::None => tz
            .from_local_datetime(&(midnight + Duration::hours(1)))
            .earliest()
            .map_or(midnight.and_utc().timestamp(), |t| t.timestamp()),
    }
}

fn today(tz: Tz, now: i64) -> NaiveDate {
    let (y, m, d) = local_day(tz, now);
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

pub struct CalItem {
    pub url: String,
    pub label: String,
    pub time: String,
    /// open, overdue or planned
    pub class: &'static str,
}

pub struct DayCell {
    pub day: u32,
    pub today: bool,
    pub items: Vec<CalItem>,
    pub more: usize,
}

#[derive(Template)]
#[template(path = "maintenance_calendar.html")]
struct CalendarPage {
    nav: Option<Nav>,
    title: String,
    zone: String,
    prev: String,
    next: String,
    weeks: Vec<Vec<Option<DayCell>>>,
    total: usize,
}

#[derive(Deserialize)]
struct MonthQuery {
    month: Option<String>,
}

/// The first day of "2027-03", or of this month when absent or unreadable.
fn month_of(q: Option<&str>, today: NaiveDate) -> NaiveDate {
    q.and_then(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok())
        .or_else(|| today.with_day(1))
        .unwrap_or(today)
}

fn add_months(first: NaiveDate, n: i32) -> NaiveDate {
    let months = first.year() * 12 + first.month0() as i32 + n;
    NaiveDate::from_ymd_opt(months.div_euclid(12), months.rem_euclid(12) as u32 + 1, 1)
        .unwrap_or(first)
}

async fn calendar(
    user: UiUser,
    State(state): State<AppState>,
    Query(q): Query<MonthQuery>,
) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let tz = state.desk.calendar.tz();
    let now = crate::clock::now();
    let first = month_of(q.month.as_deref(), today(tz, now));
    let after = add_months(first, 1);
    let (from, to) = (day_start(tz, first), day_start(tz, after));
    let loaded = state
        .db
        .read(move |c| {
            let f = Filter {
                state: Some("open".into()),
                due_from: Some(from),
                due_to: Some(to),
                ..Default::default()
            };
            let open = db::work_orders::list(c, &f, now, MONTH_ITEMS)?;
            let planned = db::maintenance::upcoming(c, from, to, MONTH_ITEMS)?;
            let titles: HashMap<i64, String> =
                db::maintenance::list(c, true, db::maintenance::MAX_PLANS)?
                    .into_iter()
                    .map(|p| (p.id, p.title))
                    .collect();
            let mut names: HashMap<i64, String> = HashMap::new();
            let mut stmt = c.prepare_cached("SELECT name FROM assets WHERE id = ?1")?;
            for (_, asset, _, _) in &planned {
                if !names.contains_key(asset) {
                    let n: String = stmt.query_row([asset], |r| r.get(0)).unwrap_or_default();
                    names.insert(*asset, n);
                }
            }
            Ok((open, planned, titles, names))
        })
        .await;
    let Ok((open, planned, titles, names)) = loaded else {
        return busy(&user);
    };
    let hm = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|d| d.with_timezone(&tz).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    let mut by_day: Vec<(i64, u32, CalItem)> = Vec::new();
    for w in open {
        by_day.push((
            w.due_at,
            local_day(tz, w.due_at).2,
            CalItem {
                url: format!("/work-orders/{}", w.id),
                label: format!("{} · {}", w.plan_title, w.asset_name),
                time: hm(w.due_at),
                class: if w.overdue { "overdue" } else { "open" },
            },
        ));
    }
    for (plan, asset, due, _) in planned {
        by_day.push((
            due,
            local_day(tz, due).2,
            CalItem {
                url: format!("/maintenance/plans/{plan}"),
                label: format!(
                    "{} · {}",
                    titles.get(&plan).map_or("", String::as_str),
                    names.get(&asset).map_or("", String::as_str)
                ),
                time: hm(due),
                class: "planned",
            },
        ));
    }
    by_day.sort_by_key(|(at, _, _)| *at);
    let total = by_day.len();
    let days_in_month = (after - first).num_days() as u32;
    let this_day = today(tz, now);
    let mut cells: Vec<DayCell> = (1..=days_in_month)
        .map(|day| DayCell {
            day,
            today: first.with_day(day) == Some(this_day),
            items: Vec::new(),
            more: 0,
        })
        .collect();
    for (_, day, item) in by_day {
        if let Some(cell) = cells.get_mut(day as usize - 1) {
            if cell.items.len() < PER_DAY {
                cell.items.push(item);
            } else {
                cell.more += 1;
            }
        }
    }
    let lead = first.weekday().num_days_from_monday() as usize;
    let mut slots: Vec<Option<DayCell>> = (0..lead).map(|_| None).collect();
    slots.extend(cells.into_iter().map(Some));
    while !slots.len().is_multiple_of(7) {
        slots.push(None);
    }
    let mut weeks = Vec::new();
    let mut it = slots.into_iter().peekable();
    while it.peek().is_some() {
        weeks.push(it.by_ref().take(7).collect());
    }
    render(&CalendarPage {
        nav: user.nav("maintenance"),
        title: first.format("%B %Y").to_string(),
        zone: tz.name().to_owned(),
        prev: add_months(first, -1).format("%Y-%m").to_string(),
        next: after.format("%Y-%m").to_string(),
        weeks,
        total,
    })
}

pub struct ComplianceRow {
    pub name: String,
    pub due: i64,
    pub on_time: i64,
    pub late: i64,
    pub missed: i64,
    pub overdue: i64,
    pub rate: String,
    /// The chart's bar: y position and width (of 200).
    pub y: usize,
    pub width: i64,
    pub short: String,
}

#[derive(Template)]
#[template(path = "maintenance_compliance.html")]
struct CompliancePage {
    nav: Option<Nav>,
    by: &'static str,
    from: String,
    to: String,
    error: Option<String>,
    rows: Vec<ComplianceRow>,
    chart_height: usize,
    csv: String,
    zone: String,
}

#[derive(Deserialize)]
struct ComplianceQuery {
    by: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Default report period in days.
const DEFAULT_DAYS: i64 = 90;

async fn compliance(
    user: UiUser,
    State(state): State<AppState>,
    Query(q): Query<ComplianceQuery>,
) -> Response {
    if let Some(r) = user.staff_only(STAFF_ONLY) {
        return r;
    }
    let tz = state.desk.calendar.tz();
    let now = crate::clock::now();
    let (by, group) = match q.by.as_deref() {
        Some("site") => ("site", GroupBy::Site),
        Some("type") => ("type", GroupBy::AssetType),
        _ => ("plan", GroupBy::Plan),
    };
    let this_day = today(tz, now);
    let mut error = None;
    let mut date = |s: Option<&str>, default: NaiveDate, what: &str| match s.map(str::trim) {
        None | Some("") => default,
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
            error = Some(format!(
                "The {what} date {s:?} is not a date like 2027-03-01."
            ));
            default
        }),
    };
    let mut from = date(
        q.from.as_deref(),
        this_day - Duration::days(DEFAULT_DAYS),
        "from",
    );
    let to = date(q.to.as_deref(), this_day, "to");
    if to < from {
        error = Some("The period ends before it starts; showing the 90 days up to it.".into());
        from = to - Duration::days(DEFAULT_DAYS);
    }
    let (start, end) = (day_start(tz, from), day_start(tz, to + Duration::days(1)));
    let Ok(found) = state
        .db
        .read(move |c| db::work_orders::compliance(c, group, start, end, now))
        .await
    else {
        return busy(&user);
    };
    let rows: Vec<ComplianceRow> = found
        .into_iter()
        .enumerate()
        .map(|(i, r)| ComplianceRow {
            short: if r.name.chars().count() > 24 {
                r.name.chars().take(23).chain(['…']).collect()
            } else {
                r.name.clone()
            },
            rate: r
                .on_time_rate
                .map(|v| format!("{:.0}%", v * 100.0))
                .unwrap_or_else(|| "—".into()),
            width: r.on_time_rate.map_or(0, |v| (v * 200.0).round() as i64),
            y: i * 20,
            name: r.name,
            due: r.due,
            on_time: r.on_time,
            late: r.late,
            missed: r.missed,
            overdue: r.overdue,
        })
        .collect();
    let (from, to) = (from.to_string(), to.to_string());
    render(&CompliancePage {
        nav: user.nav("maintenance"),
        by,
        csv: format!("/api/v1/maintenance/compliance/evidence.csv?from={from}&to={to}"),
        chart_height: rows.len() * 20 + 4,
        from,
        to,
        error,
        rows,
        zone: tz.name().to_owned(),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn months_step_over_years() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
        assert_eq!(add_months(d(2027, 1), -1), d(2026, 12));
        assert_eq!(add_months(d(2027, 12), 1), d(2028, 1));
        let today = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
        assert_eq!(month_of(Some("2027-03"), today), d(2027, 3));
        assert_eq!(month_of(Some("nonsense"), today), d(2027, 3));
        assert_eq!(month_of(None, today), d(2027, 3));
    }

    #[test]
    fn days_start_at_local_midnight() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let d = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        // 2027-03-28 00:00 CET is 2027-03-27 23:00 UTC.
        assert_eq!(day_start(berlin, d), 1_806_188_400);
    }
}
