//! Software pages: the fleet's catalog with install counts, one title's versions (as bars)
//! with "which machines have it below version X", its installs and removals over 30 days
//! (a chart), and the licenses with their use.

use super::{Nav, UiUser, message, render};
use crate::db::{self, software::DAY};
use crate::domain::versions::{self, Range};
use crate::http::AppState;
use crate::http::Routes;
use crate::http::licenses::LicenseView;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// Rows on one page of the catalog or of a title's machines.
const ON_PAGE: u32 = 200;

pub fn router() -> Routes {
    Routes::new()
        .route("/software", get(catalog))
        .route("/software/{name}", get(title))
        .route("/licenses", get(licenses))
}

fn busy(user: &UiUser) -> Response {
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        user.nav("software"),
        "Try again",
        "The database is busy.",
    )
}

#[derive(Template)]
#[template(path = "software.html")]
struct CatalogPage {
    nav: Option<Nav>,
    q: String,
    rows: Vec<(String, String, i64, i64)>,
    next_url: Option<String>,
}

#[derive(Deserialize)]
struct CatalogQuery {
    q: Option<String>,
    after: Option<String>,
}

async fn catalog(
    user: UiUser,
    State(state): State<AppState>,
    Query(p): Query<CatalogQuery>,
) -> Response {
    if let Some(r) = user.staff_only("The software catalog is for IT staff.") {
        return r;
    }
    let q: String = p.q.unwrap_or_default().chars().take(200).collect();
    let (search, after) = (q.clone(), p.after.clone());
    let loaded = state
        .db
        .read(move |c| {
            let s = Some(search.trim()).filter(|s| !s.is_empty());
            db::software::titles(c, s, after.as_deref(), ON_PAGE)
        })
        .await;
    let Ok(titles) = loaded else {
        return busy(&user);
    };
    let next_url = (titles.len() == ON_PAGE as usize)
        .then(|| titles.last())
        .flatten()
        .map(|t| {
            format!(
                "/software?q={}&after={}",
                super::format::url_encode(&q),
                super::format::url_encode(&t.name)
            )
        });
    let rows = titles
        .into_iter()
        .map(|t| {
            (
                super::format::url_encode(&t.name),
                t.name,
                t.installs,
                t.versions,
            )
        })
        .collect();
    render(&CatalogPage {
        nav: user.nav("software"),
        q,
        rows,
        next_url,
    })
}

/// A bar in a chart: label, value, width in percent of the largest.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub percent: i64,
    pub matches: bool,
}

/// A day in the 30-day chart: x position, heights (installs up, removals down).
pub struct Day {
    pub x: i64,
    pub date: String,
    pub installed: i64,
    pub removed: i64,
    pub up: i64,
    pub down: i64,
}

#[derive(Template)]
#[template(path = "software_title.html")]
struct TitlePage {
    nav: Option<Nav>,
    name: String,
    installs: i64,
    bars: Vec<Bar>,
    below: String,
    error: Option<String>,
    holders: Vec<(i64, String, String, String)>,
    matching: i64,
    days: Vec<Day>,
    licenses: Vec<(String, i64, bool)>,
}

#[derive(Deserialize)]
struct TitleQuery {
    below: Option<String>,
}

async fn title(
    user: UiUser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(p): Query<TitleQuery>,
) -> Response {
    if let Some(r) = user.staff_only("The software catalog is for IT staff.") {
        return r;
    }
    let below = p.below.unwrap_or_default().trim().to_owned();
    let mut error = None;
    let range = if below.is_empty() {
        None
    } else {
        match versions::check(&below)
            .map_err(|e| e.to_string())
            .and_then(|v| Range::new(Some(v.to_owned()), None, None))
        {
            Ok(r) => Some(r),
            Err(e) => {
                error = Some(e);
                None
            }
        }
    };
    let now = crate::clock::now();
    let n = name.clone();
    let loaded = state
        .db
        .read(move |c| {
            let Some(t) = db::software::title(c, &n)? else {
                return Ok(None);
            };
            let all = db::software::versions(c, &n)?;
            let holders = match &range {
                Some(r) => {
                    let keys: Vec<String> = all
                        .iter()
                        .filter(|v| r.contains(&v.version))
                        .map(|v| v.version.clone())
                        .collect();
                    db::software::holders(c, &n, &keys, None, ON_PAGE)?
                }
                None => Vec::new(),
            };
            let today = now / DAY;
            let history = db::software::history(c, &n, today - 29, today)?;
            let licenses = db::licenses::list(c, None, Some(&n), None, 50)?;
            Ok(Some((t, all, holders, history, licenses)))
        })
        .await;
    let (t, all, holders, history, licenses) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                user.nav("software"),
                "Not in the fleet",
                "No machine reports this title.",
            );
        }
        Err(_) => return busy(&user),
    };
    let max = all.iter().map(|v| v.installs).max().unwrap_or(1).max(1);
    let in_range = |v: &str| !below.is_empty() && versions::compare(v, &below).is_lt();
    let bars: Vec<Bar> = all
        .iter()
        .map(|v| Bar {
            matches: error.is_none() && in_range(&v.version),
            label: v.version.clone(),
            value: v.installs,
            percent: (v.installs * 100 / max).max(1),
        })
        .collect();
    let matching = bars.iter().filter(|b| b.matches).map(|b| b.value).sum();
    let peak = history
        .iter()
        .map(|d| d.installed.max(d.removed + d.upgraded))
        .max()
        .unwrap_or(1)
        .max(1);
    let days = history
        .iter()
        .enumerate()
        .map(|(i, d)| Day {
            x: i as i64 * 10,
            date: chrono::DateTime::from_timestamp(d.day * DAY, 0)
                .map(|t| t.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            installed: d.installed + d.upgraded,
            removed: d.removed,
            up: (d.installed + d.upgraded) * 40 / peak,
            down: d.removed * 40 / peak,
        })
        .collect();
    let today = chrono::DateTime::from_timestamp(now, 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    render(&TitlePage {
        nav: user.nav("software"),
        name: t.name,
        installs: t.installs,
        bars,
        below,
        error,
        holders: holders
            .into_iter()
            .map(|h| (h.asset_id, h.name, h.hostname, h.version))
            .collect(),
        matching,
        days,
        licenses: licenses
            .into_iter()
            .map(|l| {
                let v = LicenseView::new(l, today);
                (v.license.name.clone(), v.license.seats, v.over_use)
            })
            .collect(),
    })
}

pub struct LicenseRow {
    pub name: String,
    pub titles: String,
    pub seats: i64,
    pub assigned: i64,
    pub installs: i64,
    pub over_use: bool,
    pub over_by: i64,
    pub expires: String,
    pub expired: bool,
    /// Installs as a share of seats, capped for the bar.
    pub percent: i64,
}

#[derive(Template)]
#[template(path = "licenses.html")]
struct LicensesPage {
    nav: Option<Nav>,
    rows: Vec<LicenseRow>,
}

async fn licenses(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = user.staff_only("The software catalog is for IT staff.") {
        return r;
    }
    let Ok(list) = state
        .db
        .read(|c| db::licenses::list(c, None, None, None, 500))
        .await
    else {
        return busy(&user);
    };
    let today = chrono::DateTime::from_timestamp(crate::clock::now(), 0)
        .map(|d| d.date_naive())
        .unwrap_or_default();
    let rows = list
        .into_iter()
        .map(|l| {
            let v = LicenseView::new(l, today);
            let used = v.license.installs.max(v.license.assigned);
            LicenseRow {
                percent: if v.license.seats > 0 {
                    (used * 100 / v.license.seats).min(100)
                } else {
                    100
                },
                name: v.license.name,
                titles: v.license.titles.join(", "),
                seats: v.license.seats,
                assigned: v.license.assigned,
                installs: v.license.installs,
                over_use: v.over_use,
                over_by: v.over_by,
                expires: v.license.expires_on.unwrap_or_default(),
                expired: v.expired,
            }
        })
        .collect();
    render(&LicensesPage {
        nav: user.nav("software"),
        rows,
    })
}
