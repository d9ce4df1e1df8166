//! The home page. Staff get the dashboard: open work, SLA, time to resolve, where tickets
//! come from, fleet health, assets and maintenance, as server-rendered SVG charts (no
//! script, no CDN). Employees get their own tickets and devices.
//!
//! The staff figures are aggregates over the whole desk and fleet; they are computed at
//! most every [`TTL_SECS`] and shared by everyone (the page says as of when), so opening
//! the page stays fast at a million tickets. Figures older than that but younger than
//! [`STALE_SECS`] are shown while a background task computes new ones (the next visit
//! gets those): only the first visit after a quiet spell waits for the computation.

use super::format::ago;
use super::{Nav, UiUser, render};
use crate::db::dashboard::{self, Count, Rate, StaffDashboard, Week};
use crate::db::tickets::{Sort, TicketFilter};
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex};

/// How long computed staff figures are reused.
pub const TTL_SECS: i64 = 30;
/// How old figures may be and still be shown while new ones are computed.
pub const STALE_SECS: i64 = 300;

/// The last staff figures and when they were computed.
#[derive(Default)]
pub struct Cache {
    slot: Mutex<Option<(i64, Arc<StaffDashboard>)>>,
    /// A background computation is running.
    refreshing: std::sync::atomic::AtomicBool,
}

/// What a visit at some time gets from the cache.
#[derive(Debug, PartialEq)]
enum Lookup {
    Fresh(i64, Arc<StaffDashboard>),
    /// Show these, and compute new ones in the background.
    Stale(i64, Arc<StaffDashboard>),
    /// Compute now.
    Missing,
}

impl Cache {
    fn lookup(&self, now: i64) -> Lookup {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match slot.as_ref() {
            Some((at, d)) if *at <= now && now - at < TTL_SECS => Lookup::Fresh(*at, d.clone()),
            Some((at, d)) if *at <= now && now - at < STALE_SECS => Lookup::Stale(*at, d.clone()),
            _ => Lookup::Missing,
        }
    }

    /// Claims the one background refresh; `false` when one is already running.
    fn start_refresh(&self) -> bool {
        !self
            .refreshing
            .swap(true, std::sync::atomic::Ordering::AcqRel)
    }

    fn end_refresh(&self) {
        self.refreshing
            .store(false, std::sync::atomic::Ordering::Release);
    }

    fn store(&self, at: i64, d: Arc<StaffDashboard>) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((at, d));
    }
}

/// One bar of a horizontal bar chart (the `hbars` macro in the template).
pub struct HBar {
    pub label: String,
    pub value: String,
    pub title: String,
    pub width: i64,
    pub y: i64,
    pub href: String,
}

pub struct HBars {
    pub bars: Vec<HBar>,
    pub height: i64,
}

/// Widest bar, in chart units (the chart is 400 wide, labels take 150).
const BAR_MAX: f64 = 200.0;

fn hbars(rows: Vec<(String, f64, String, String, String)>) -> HBars {
    let most = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let bars: Vec<HBar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, value, title, href))| HBar {
            width: if most > 0.0 {
                ((v / most) * BAR_MAX)
                    .round()
                    .max(if v > 0.0 { 1.0 } else { 0.0 }) as i64
            } else {
                0
            },
            y: i as i64 * 20,
            label: short(&label),
            value,
            title,
            href,
        })
        .collect();
    HBars {
        height: bars.len() as i64 * 20 + 4,
        bars,
    }
}

/// Labels longer than the chart's margin are cut (the full one is in the tooltip).
fn short(label: &str) -> String {
    if label.chars().count() <= 24 {
        return label.to_owned();
    }
    format!("{}…", label.chars().take(23).collect::<String>())
}

fn count_bars(counts: &[Count], what: &str, href: impl Fn(&str) -> String) -> HBars {
    hbars(
        counts
            .iter()
            .map(|c| {
                (
                    c.label.clone(),
                    c.value as f64,
                    c.value.to_string(),
                    format!("{}: {} {what}", c.label, c.value),
                    href(&c.label),
                )
            })
            .collect(),
    )
}

fn rate_bars(rates: &[Rate]) -> HBars {
    hbars(
        rates
            .iter()
            .map(|r| {
                (
                    r.label.clone(),
                    r.per_100,
                    format!("{:.1}", r.per_100),
                    format!(
                        "{}: {} ticket(s) on {} device(s) in {} days",
                        r.label,
                        r.tickets,
                        r.devices,
                        dashboard::WINDOW_DAYS
                    ),
                    String::new(),
                )
            })
            .collect(),
    )
}

/// One column of the time-to-resolve chart.
pub struct Column {
    pub x: i64,
    pub y: i64,
    pub height: i64,
    pub label: String,
    /// The mean, written above the column.
    pub value: String,
    pub title: String,
}

/// Column chart height, in chart units (the chart is 720 wide, the baseline at 120).
const COLUMN_MAX: f64 = 95.0;

fn columns(weeks: &[Week]) -> Vec<Column> {
    let most = weeks
        .iter()
        .filter_map(|w| w.mean_hours)
        .fold(0.0, f64::max);
    weeks
        .iter()
        .enumerate()
        .map(|(i, w)| {
            // A week with resolutions always shows, even when they took no time at all.
            let h = match w.mean_hours {
                Some(m) if most > 0.0 => ((m / most) * COLUMN_MAX).round().max(1.0) as i64,
                Some(_) => 1,
                None => 0,
            };
            let day = chrono::DateTime::from_timestamp(w.start, 0)
                .map(|d| d.format("%d %b").to_string())
                .unwrap_or_default();
            Column {
                x: 10 + i as i64 * 59,
                y: 120 - h,
                height: h,
                value: w.mean_hours.map(hours).unwrap_or_default(),
                title: match w.mean_hours {
                    Some(m) => format!(
                        "Week of {day}: {} resolved, {} on average",
                        w.resolved,
                        hours(m)
                    ),
                    None => format!("Week of {day}: nothing resolved"),
                },
                label: day,
            }
        })
        .collect()
}

fn hours(h: f64) -> String {
    if h < 48.0 {
        format!("{h:.1} h")
    } else {
        format!("{:.1} days", h / 24.0)
    }
}

/// A figure in a tile.
pub struct Tile {
    pub label: &'static str,
    pub value: String,
    pub tone: &'static str,
    pub href: &'static str,
}

fn tile(label: &'static str, n: i64, bad_above: i64, href: &'static str) -> Tile {
    Tile {
        label,
        value: n.to_string(),
        tone: if n > bad_above { "bad" } else { "ok" },
        href,
    }
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct StaffPage {
    nav: Option<Nav>,
    as_of: String,
    tiles: Vec<Tile>,
    status: HBars,
    priority: HBars,
    weeks: Vec<Column>,
    resolved_in_weeks: i64,
    per_model: HBars,
    per_site: HBars,
    health: HBars,
    agents: i64,
    states: HBars,
    ages: HBars,
    warranties: Vec<(i64, String, String)>,
    warranties_total: i64,
    on_time: String,
}

fn alert_label(kind: &str) -> String {
    match kind {
        "agent_silent" => "Agent silent",
        "disk_full" => "Disk nearly full",
        "pending_reboot" => "Reboot pending",
        "memory_full" => "Memory nearly full",
        "failed_services" => "Failed services",
        "overheating" => "Overheating",
        other => other,
    }
    .to_owned()
}

/// Priorities as "P2 high", each leading to its open tickets.
fn priority_bars(counts: &[Count]) -> HBars {
    let named: Vec<Count> = counts
        .iter()
        .map(|c| {
            let n = c.label.trim_start_matches('P').parse::<i64>().unwrap_or(0);
            Count {
                label: format!("{} {}", c.label, super::tickets::priority_name(n)),
                value: c.value,
            }
        })
        .collect();
    count_bars(&named, "open", |label| {
        let name = label.split(' ').nth(1).unwrap_or_default();
        format!("/tickets?priority={name}&sort=priority")
    })
}

fn staff_page(nav: Option<Nav>, d: &StaffDashboard, at: i64, now: i64) -> StaffPage {
    let open: i64 = d.by_status.iter().map(|c| c.value).sum();
    let health: Vec<Count> = d
        .health
        .iter()
        .map(|c| Count {
            label: alert_label(&c.label),
            value: c.value,
        })
        .collect();
    StaffPage {
        nav,
        as_of: ago(Some(at), now),
        tiles: vec![
            tile("Open tickets", open, i64::MAX, "/tickets?view=open"),
            tile(
                "SLA breached",
                d.breached,
                0,
                "/tickets?breached=true&sort=priority",
            ),
            tile("At risk", d.at_risk, 0, "/tickets?view=open"),
            tile(
                "Overdue maintenance",
                d.overdue_work_orders,
                0,
                "/maintenance",
            ),
        ],
        status: count_bars(&d.by_status, "open", |s| format!("/tickets?status={s}")),
        priority: priority_bars(&d.by_priority),
        resolved_in_weeks: d.weeks.iter().map(|w| w.resolved).sum(),
        weeks: columns(&d.weeks),
        per_model: rate_bars(&d.per_model),
        per_site: rate_bars(&d.per_site),
        health: count_bars(&health, "machine(s)", |_| "/alerts".to_owned()),
        agents: d.agents,
        states: count_bars(&d.by_state, "asset(s)", |_| "/assets".to_owned()),
        ages: count_bars(&d.by_age, "asset(s)", |_| String::new()),
        warranties: d
            .warranties
            .iter()
            .map(|w| (w.asset_id, w.name.clone(), w.warranty_end.clone()))
            .collect(),
        warranties_total: d.warranties_total,
        on_time: match d.maintenance_due {
            0 => "no work order came due".to_owned(),
            due => format!(
                "{:.0}% on time ({} of {due})",
                d.maintenance_on_time as f64 * 100.0 / due as f64,
                d.maintenance_on_time
            ),
        },
    }
}

/// An employee's home: their open tickets and their devices.
#[derive(Template)]
#[template(path = "home.html")]
struct EmployeePage {
    nav: Option<Nav>,
    tickets: Vec<(i64, String, String, String)>,
    devices: Vec<super::my_devices::Device>,
}

pub async fn home(user: UiUser, State(state): State<AppState>) -> Response {
    let now = crate::clock::now();
    if !user.0.user.role.is_staff() {
        return employee_home(user, state, now).await;
    }
    let (at, figures) = match state.dashboard.lookup(now) {
        Lookup::Fresh(at, d) => (at, d),
        Lookup::Stale(at, d) => {
            if state.dashboard.start_refresh() {
                let state = state.clone();
                tokio::spawn(async move {
                    match state.db.read(move |c| dashboard::staff(c, now)).await {
                        Ok(d) => state.dashboard.store(now, Arc::new(d)),
                        Err(e) => tracing::warn!(error = %e, "dashboard figures not refreshed"),
                    }
                    state.dashboard.end_refresh();
                });
            }
            (at, d)
        }
        Lookup::Missing => match state.db.read(move |c| dashboard::staff(c, now)).await {
            Ok(d) => {
                let d = Arc::new(d);
                state.dashboard.store(now, d.clone());
                (now, d)
            }
            Err(e) => return AppError::from(e).into_response(),
        },
    };
    render(&staff_page(user.nav("home"), &figures, at, now))
}

async fn employee_home(user: UiUser, state: AppState, now: i64) -> Response {
    let uid = user.0.user.id;
    let loaded = state
        .db
        .read(move |c| {
            let filter = TicketFilter {
                statuses: ["new", "open", "pending"].map(String::from).to_vec(),
                requester: Some(uid),
                ..TicketFilter::default()
            };
            let tickets = crate::db::tickets::list(c, &filter, Sort::Newest, None, 50)?;
            let devices = super::my_devices::devices_of(c, uid)?;
            Ok((tickets, devices))
        })
        .await;
    match loaded {
        Ok((tickets, devices)) => render(&EmployeePage {
            nav: user.nav("home"),
            tickets: tickets
                .into_iter()
                .map(|t| (t.id, t.title, t.status, ago(Some(t.updated_at), now)))
                .collect(),
            devices,
        }),
        Err(e) => AppError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_keep_small_values_visible() {
        let rows = |vals: &[f64]| {
            vals.iter()
                .map(|v| {
                    (
                        format!("r{v}"),
                        *v,
                        v.to_string(),
                        String::new(),
                        String::new(),
                    )
                })
                .collect()
        };
        let c = hbars(rows(&[10.0, 5.0, 0.01, 0.0]));
        let widths: Vec<i64> = c.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [200, 100, 1, 0]);
        assert_eq!(c.height, 84);
        assert_eq!(c.bars[2].y, 40);
        assert!(hbars(rows(&[0.0])).bars[0].width == 0);
        assert_eq!(short(&"x".repeat(30)).chars().count(), 24);
    }

    #[test]
    fn figures_are_fresh_then_shown_while_refreshed_then_recomputed() {
        let cache = Cache::default();
        assert_eq!(cache.lookup(1_000), Lookup::Missing);
        let d = Arc::new(StaffDashboard::default());
        cache.store(1_000, d.clone());
        assert_eq!(
            cache.lookup(1_000 + TTL_SECS - 1),
            Lookup::Fresh(1_000, d.clone())
        );
        assert_eq!(
            cache.lookup(1_000 + TTL_SECS),
            Lookup::Stale(1_000, d.clone())
        );
        assert_eq!(
            cache.lookup(1_000 + STALE_SECS - 1),
            Lookup::Stale(1_000, d.clone())
        );
        assert_eq!(cache.lookup(1_000 + STALE_SECS), Lookup::Missing);
        assert_eq!(
            cache.lookup(999),
            Lookup::Missing,
            "figures from the future (clock set back)"
        );
        assert!(cache.start_refresh());
        assert!(!cache.start_refresh(), "one refresh at a time");
        cache.end_refresh();
        assert!(cache.start_refresh());
    }

    #[test]
    fn columns_scale_to_the_slowest_week() {
        let w = |mean| Week {
            start: 0,
            resolved: 1,
            mean_hours: mean,
        };
        let cols = columns(&[w(Some(10.0)), w(None), w(Some(2.5))]);
        let heights: Vec<i64> = cols.iter().map(|c| c.height).collect();
        assert_eq!(heights, [95, 0, 24]);
        assert_eq!((cols[0].y, cols[2].x), (25, 128));
        assert_eq!(
            (cols[0].value.as_str(), cols[1].value.as_str()),
            ("10.0 h", "")
        );
        assert!(cols[1].title.ends_with("nothing resolved"));
        assert_eq!(hours(30.0), "30.0 h");
        assert_eq!(hours(72.0), "3.0 days");
    }
}
