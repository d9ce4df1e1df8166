//! Agent updates at a glance, for admins: which versions the fleet runs (a chart), each
//! signed release with its rollout and a form to change it, and the agents whose last
//! self-update failed or was rolled back. Publishing stays in the API and the CLI (the
//! page shows how): a release needs a signature made off the server.

use super::enrollment::admin_page;
use super::format::ago;
use super::{Nav, UiUser, message, render};
use crate::db::agent_releases::{self, RolloutChange, UpdateProblem, VersionCount};
use crate::http::auth::ClientIp;
use crate::http::{AppState, Routes};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

pub fn router() -> Routes {
    Routes::new()
        .route("/admin/updates", get(page))
        .route("/admin/updates/{id}", post(change))
}

/// One bar of the fleet chart.
struct VersionBar {
    label: String,
    agents: i64,
    width: i64,
    y: i64,
}

struct ReleaseRow {
    id: i64,
    version: String,
    platform: String,
    size: String,
    published: String,
    percentage: u8,
    paused: bool,
    targets: String,
    running: i64,
}

struct ProblemRow {
    agent_id: String,
    hostname: String,
    asset_id: Option<i64>,
    version: String,
    error: String,
    seen: String,
}

#[derive(Template)]
#[template(path = "updates.html")]
struct UpdatesPage {
    nav: Option<Nav>,
    csrf: String,
    bars: Vec<VersionBar>,
    chart_height: i64,
    total: i64,
    releases: Vec<ReleaseRow>,
    problems: Vec<ProblemRow>,
    keys_configured: bool,
}

/// Widest bar, in chart units.
const BAR_MAX: i64 = 240;

fn bars(versions: &[VersionCount]) -> Vec<VersionBar> {
    let most = versions.iter().map(|v| v.agents).max().unwrap_or(1).max(1);
    versions
        .iter()
        .take(12)
        .enumerate()
        .map(|(i, v)| VersionBar {
            label: match (v.version.as_str(), v.platform.as_str()) {
                ("", _) => "unknown".to_owned(),
                (version, "") => version.to_owned(),
                (version, platform) => format!("{version} {platform}"),
            },
            agents: v.agents,
            width: (v.agents * BAR_MAX / most).max(1),
            y: i as i64 * 20,
        })
        .collect()
}

async fn page(user: UiUser, State(state): State<AppState>) -> Response {
    if let Some(r) = admin_page(&user, "updates", "Agent updates are managed by admins.") {
        return r;
    }
    let loaded = state
        .db
        .read(|c| {
            Ok((
                agent_releases::fleet_versions(c)?,
                agent_releases::list(c)?,
                agent_releases::update_problems(c, None, 200)?,
            ))
        })
        .await;
    let Ok((versions, releases, problems)) = loaded else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            user.nav("updates"),
            "Try again",
            "The database is busy; reload the page in a moment.",
        );
    };
    let now = crate::clock::now();
    let running = |version: &str, platform: &str| {
        versions
            .iter()
            .filter(|v| v.version == version && v.platform == platform)
            .map(|v| v.agents)
            .sum()
    };
    let releases = releases
        .into_iter()
        .map(|r| {
            let platform = format!("{}/{}", r.os, r.arch);
            ReleaseRow {
                id: r.id,
                running: running(&r.version, &platform),
                size: crate::domain::changes::human_bytes(r.size.max(0) as u64),
                published: ago(Some(r.created_at), now),
                targets: targets(r.location_ids.len(), r.agent_ids.len()),
                version: r.version,
                platform,
                percentage: r.percentage,
                paused: r.paused,
            }
        })
        .collect();
    let bars = bars(&versions);
    render(&UpdatesPage {
        nav: user.nav("updates"),
        csrf: user.0.csrf().unwrap_or_default().to_owned(),
        chart_height: bars.len() as i64 * 20 + 4,
        bars,
        total: versions.iter().map(|v| v.agents).sum(),
        releases,
        problems: problems.into_iter().map(|p| problem_row(p, now)).collect(),
        keys_configured: !state.config.agent_releases.public_keys.is_empty(),
    })
}

fn targets(locations: usize, agents: usize) -> String {
    match (locations, agents) {
        (0, 0) => String::new(),
        (l, 0) => format!("+ {l} location(s)"),
        (0, a) => format!("+ {a} agent(s)"),
        (l, a) => format!("+ {l} location(s), {a} agent(s)"),
    }
}

fn problem_row(p: UpdateProblem, now: i64) -> ProblemRow {
    ProblemRow {
        seen: ago(p.last_seen_at, now),
        agent_id: p.agent_id,
        hostname: p.hostname,
        asset_id: p.asset_id,
        version: p.version,
        error: p.error,
    }
}

#[derive(Deserialize)]
struct RolloutForm {
    #[serde(default)]
    csrf: String,
    percentage: String,
    /// A checkbox: present ("on") when ticked.
    paused: Option<String>,
}

async fn change(
    user: UiUser,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<i64>,
    Form(f): Form<RolloutForm>,
) -> Response {
    if let Some(r) = admin_page(&user, "updates", "Agent updates are managed by admins.") {
        return r;
    }
    if !user.csrf_ok(&f.csrf) {
        return user.csrf_refused();
    }
    let Some(percentage) = f.percentage.trim().parse::<u8>().ok().filter(|p| *p <= 100) else {
        return message(
            StatusCode::BAD_REQUEST,
            user.nav("updates"),
            "That did not work",
            "The share of agents is a whole number from 0 to 100.",
        );
    };
    let change = RolloutChange {
        percentage: Some(percentage),
        paused: Some(f.paused.is_some()),
        ..RolloutChange::default()
    };
    match crate::http::agent_releases::change_rollout(&state, &user.0, &ip, id, change).await {
        Ok(_) => Redirect::to("/admin/updates").into_response(),
        Err(e) => message(
            e.status,
            user.nav("updates"),
            "That did not work",
            &e.message,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_group_and_name_unknown_versions() {
        let v = |version: &str, platform: &str, agents| VersionCount {
            version: version.into(),
            platform: platform.into(),
            agents,
        };
        let b = bars(&[
            v("1.2.0", "linux/x86_64", 300),
            v("", "", 3),
            v("1.1.0", "", 150),
        ]);
        assert_eq!(b.len(), 3);
        assert_eq!(
            (b[0].label.as_str(), b[0].width, b[0].y),
            ("1.2.0 linux/x86_64", BAR_MAX, 0)
        );
        assert_eq!((b[1].label.as_str(), b[1].width), ("unknown", 2));
        assert_eq!(
            (b[2].label.as_str(), b[2].width, b[2].y),
            ("1.1.0", BAR_MAX / 2, 40)
        );
        assert_eq!(
            bars(&[v("1", "", 0)])[0].width,
            1,
            "an empty group still shows"
        );
    }
}
