//! Asset pages: the searchable list and one asset with hardware, health, software, history.

use super::format::{ago, datetime, duration, url_encode};
use super::{Nav, UiUser, message, render};
use crate::db::assets::{self, AssetDetail, HistoryEntry};
use crate::domain::changes::human_bytes;
use crate::http::Routes;
use crate::http::assets::ListQuery;
use crate::http::{AppError, AppState};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use steward_shared::{Health, Inventory};

pub fn router() -> Routes {
    Routes::new()
        .route("/assets", get(list))
        .route("/assets/{id}", get(detail))
}

pub struct AssetRow {
    pub id: i64,
    pub name: String,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub os_name: String,
    pub primary_ip: String,
    pub software_count: i64,
    pub last_seen: String,
    pub last_seen_abs: String,
    pub clone_of: Option<i64>,
}

#[derive(Template)]
#[template(path = "assets.html")]
struct ListPage {
    nav: Option<Nav>,
    q: String,
    q_encoded: String,
    /// The ids on this page, comma-separated, for their label sheet.
    label_ids: String,
    total: i64,
    rows: Vec<AssetRow>,
    next_url: Option<String>,
    /// What "with selected" offers: (id, name) of each state and location.
    states: Vec<(i64, String)>,
    locations: Vec<(i64, String)>,
    /// This list's address, to come back to after "with selected".
    back: String,
}

async fn list(user: UiUser, State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    if let Some(r) =
        user.staff_only("The asset list is for IT staff. Your own devices are under My devices.")
    {
        return r;
    }
    let page = match crate::http::assets::list_page(&state, &q).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let loaded = state
        .db
        .read(|c| {
            let states = crate::db::asset_types::states(c)?;
            let locations = crate::db::locations::list(c, crate::db::locations::MAX_LOCATIONS)?;
            Ok((assets::count(c)?, states, locations))
        })
        .await;
    let (total, states, locations) = match loaded {
        Ok(l) => l,
        Err(e) => return AppError::from(e).into_response(),
    };
    let now = crate::clock::now();
    let query = q.q.clone().unwrap_or_default();
    let next_url = page
        .next_cursor
        .map(|c| format!("/assets?q={}&cursor={c}", url_encode(&query)));
    let rows: Vec<AssetRow> = page
        .items
        .into_iter()
        .map(|a| AssetRow {
            id: a.id,
            name: a.name,
            vendor: a.vendor,
            model: a.model,
            serial: a.serial,
            os_name: a.os_name,
            primary_ip: a.primary_ip,
            software_count: a.software_count,
            last_seen: ago(a.last_seen_at, now),
            last_seen_abs: datetime(a.last_seen_at),
            clone_of: a.clone_of,
        })
        .collect();
    let label_ids = rows
        .iter()
        .map(|r| r.id.to_string())
        .collect::<Vec<_>>()
        .join(",");
    render(&ListPage {
        nav: user.nav("assets"),
        q_encoded: url_encode(&query),
        label_ids,
        back: if query.is_empty() {
            "/assets".to_owned()
        } else {
            format!("/assets?q={}", url_encode(&query))
        },
        q: query,
        total,
        rows,
        next_url,
        states: states.into_iter().map(|s| (s.id, s.name)).collect(),
        locations: locations.into_iter().map(|l| (l.id, l.path)).collect(),
    })
}

pub struct AssetView {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub hostname: String,
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub uuid: String,
    pub bios: String,
    pub cpu: String,
    pub memory: String,
    pub os: String,
    pub kernel: String,
    pub ip: String,
    pub mac: String,
    pub users: String,
    pub first_seen: String,
    pub last_seen: String,
    pub software_count: i64,
    pub clone_of: Option<i64>,
    /// An agent reports it (hardware, system, health, software cards make sense).
    pub reported: bool,
}

pub struct FsView {
    pub mount: String,
    pub label: String,
    pub percent: String,
}

pub struct HealthView {
    /// Optional readings as (label, value) rows.
    pub extras: Vec<(String, String)>,
    pub load: String,
    pub uptime: String,
    pub taken: String,
    pub memory_percent: String,
    pub memory_label: String,
    pub swap_total: u64,
    pub swap_percent: String,
    pub swap_label: String,
    pub filesystems: Vec<FsView>,
}

pub struct SoftwareRow {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub publisher: String,
    pub installed: String,
}

pub struct HistoryRow {
    pub at: String,
    pub text: String,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "asset.html")]
struct DetailPage {
    nav: Option<Nav>,
    a: AssetView,
    health: Option<HealthView>,
    disks: Vec<(String, String, String, String)>,
    nics: Vec<(String, String, String)>,
    sq: String,
    software: Vec<SoftwareRow>,
    software_more: Option<String>,
    history: Vec<HistoryRow>,
    alerts: Vec<AlertRow>,
    problems: Vec<String>,
    /// This machine's agents whose last self-update failed or was rolled back.
    update_errors: Vec<String>,
    record: Option<super::asset_record::RecordView>,
    /// "FusionInventory 2.6, 5 minutes ago"
    reported_by: Vec<String>,
}

pub struct AlertRow {
    pub severity: String,
    pub message: String,
    pub since: String,
    pub asset_id: i64,
    pub asset_name: String,
}

/// An open alert for a page.
pub fn alert_row(a: &crate::db::alerts::Alert, now: i64) -> AlertRow {
    AlertRow {
        severity: a.severity.clone(),
        message: a.message.clone(),
        since: ago(Some(a.opened_at), now),
        asset_id: a.asset_id,
        asset_name: a.asset_name.clone(),
    }
}

#[derive(Deserialize)]
struct DetailQuery {
    sq: Option<String>,
}

const SOFTWARE_ON_PAGE: u32 = 300;

async fn detail(
    user: UiUser,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Response {
    if let Some(r) =
        user.staff_only("The asset list is for IT staff. Your own devices are under My devices.")
    {
        return r;
    }
    let sq =
        q.sq.unwrap_or_default()
            .chars()
            .take(100)
            .collect::<String>();
    let search = sq.clone();
    let loaded = state
        .db
        .read(move |c| {
            let Some(a) = assets::get(c, id)? else {
                return Ok(None);
            };
            let filter = Some(search.as_str()).filter(|s| !s.trim().is_empty());
            let sw = assets::software(c, id, filter, None, SOFTWARE_ON_PAGE)?;
            let hist = assets::history(c, id, None, 100)?;
            let alerts = crate::db::alerts::list(c, true, Some(id), None, 100)?;
            let updates = crate::db::agent_releases::update_problems(c, Some(id), 5)?;
            Ok(Some((a, sw, hist, alerts, updates)))
        })
        .await;
    let (a, sw, hist, alerts, updates) = match loaded {
        Ok(Some(x)) => x,
        Ok(None) => {
            return message(
                StatusCode::NOT_FOUND,
                user.nav("assets"),
                "Asset not found",
                "It may have been deleted.",
            );
        }
        Err(e) => return AppError::from(e).into_response(),
    };
    let inv: Inventory = a
        .inventory
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let health: Option<Health> = a
        .health
        .clone()
        .and_then(|v| serde_json::from_value(v).ok());
    let record = match crate::http::assets::full_asset(&state, id).await {
        Ok(full) => {
            let (holder, labels) = holder_and_labels(&state, &full).await;
            Some(super::asset_record::record_view(&full, holder, &labels))
        }
        Err(_) => None,
    };
    let software_more = (sw.len() == SOFTWARE_ON_PAGE as usize)
        .then(|| format!("/api/v1/assets/{id}/software?limit=500"));
    let now = crate::clock::now();
    let reported_by = a
        .reported_by
        .iter()
        .map(|r| format!("{}, {}", r.agent, ago(r.last_seen_at, now)))
        .collect();
    let page = DetailPage {
        reported_by,
        update_errors: updates
            .into_iter()
            .map(|u| format!("{} (running {}): {}", u.agent_id, u.version, u.error))
            .collect(),
        nav: user.nav("assets"),
        a: view(&a, &inv),
        problems: inv
            .errors
            .iter()
            .chain(health.iter().flat_map(|h| h.errors.iter()))
            .map(|e| format!("{}: {}", e.section, e.message))
            .collect(),
        health: health.map(|h| health_view(&h)),
        disks: inv
            .disks
            .iter()
            .map(|d| {
                (
                    d.mount_point.clone(),
                    d.device.clone(),
                    d.filesystem.clone(),
                    human_bytes(d.total_bytes),
                )
            })
            .collect(),
        nics: inv
            .network
            .iter()
            .map(|n| (n.name.clone(), n.mac.clone(), n.ips.join(", ")))
            .collect(),
        sq,
        software: sw
            .into_iter()
            .map(|s| SoftwareRow {
                installed: if s.install_date > 0 {
                    datetime(Some(s.install_date))
                } else {
                    String::new()
                },
                name: s.name,
                version: s.version,
                arch: s.arch,
                publisher: s.publisher,
            })
            .collect(),
        software_more,
        history: hist.iter().map(history_row).collect(),
        alerts: alerts
            .iter()
            .map(|al| alert_row(al, crate::clock::now()))
            .collect(),
        record,
    };
    render(&page)
}

/// Who holds the asset ("ann@example.com", "HQ / Room 2", "asset 7"), and its type's
/// custom field labels by key.
async fn holder_and_labels(
    state: &AppState,
    full: &crate::http::assets::FullAsset,
) -> (String, Vec<(String, String)>) {
    let (kind, target) = (
        full.record.checked_out_kind.clone(),
        full.record.checked_out_id,
    );
    let type_key = full.asset.summary.kind.clone();
    state
        .db
        .read(move |c| {
            let holder = match (kind.as_deref(), target) {
                (Some("user"), Some(id)) => crate::db::users::by_id(c, id)?.map(|u| u.email),
                (Some("location"), Some(id)) => crate::db::locations::get(c, id)?.map(|l| l.path),
                (Some("asset"), Some(id)) => Some(format!("asset {id}")),
                _ => None,
            };
            let labels = crate::db::asset_types::by_key(c, &type_key)?
                .map(|t| t.fields.into_iter().map(|f| (f.key, f.label)).collect())
                .unwrap_or_default();
            Ok((holder.unwrap_or_default(), labels))
        })
        .await
        .unwrap_or_default()
}

fn view(a: &AssetDetail, inv: &Inventory) -> AssetView {
    let s = &a.summary;
    let hw = &inv.hardware;
    AssetView {
        id: s.id,
        name: s.name.clone(),
        kind: s.kind.clone(),
        hostname: s.hostname.clone(),
        vendor: s.vendor.clone(),
        model: s.model.clone(),
        serial: s.serial.clone(),
        uuid: hw.uuid.clone(),
        bios: format!("{} {} {}", hw.bios_vendor, hw.bios_version, hw.bios_date)
            .trim()
            .to_owned(),
        cpu: if a.cpu_cores > 0 {
            format!("{} ({} threads)", a.cpu_model, a.cpu_cores)
        } else {
            a.cpu_model.clone()
        },
        memory: human_bytes(a.memory_bytes.max(0) as u64),
        os: if s.os_name.contains(&a.os_version) {
            s.os_name.clone()
        } else {
            format!("{} {}", s.os_name, a.os_version).trim().to_owned()
        },
        kernel: a.kernel.clone(),
        ip: s.primary_ip.clone(),
        mac: a.primary_mac.clone(),
        users: if inv.logged_in_users.is_empty() {
            "nobody".into()
        } else {
            inv.logged_in_users.join(", ")
        },
        first_seen: datetime(a.first_seen_at),
        last_seen: datetime(s.last_seen_at),
        software_count: s.software_count,
        clone_of: s.clone_of,
        reported: a.first_seen_at.is_some(),
    }
}

fn percent(used: u64, total: u64) -> String {
    if total == 0 {
        "0".into()
    } else {
        format!("{:.0}", used as f64 * 100.0 / total as f64)
    }
}

fn health_view(h: &Health) -> HealthView {
    HealthView {
        load: format!("{:.2} / {:.2} / {:.2}", h.load_1, h.load_5, h.load_15),
        uptime: duration(h.uptime_secs),
        taken: datetime(Some(h.taken_at)),
        extras: health_extras(h),
        memory_percent: percent(h.memory_used_bytes, h.memory_total_bytes),
        memory_label: format!(
            "{} of {}",
            human_bytes(h.memory_used_bytes),
            human_bytes(h.memory_total_bytes)
        ),
        swap_total: h.swap_total_bytes,
        swap_percent: percent(h.swap_used_bytes, h.swap_total_bytes),
        swap_label: format!(
            "{} of {}",
            human_bytes(h.swap_used_bytes),
            human_bytes(h.swap_total_bytes)
        ),
        filesystems: h
            .filesystems
            .iter()
            .map(|f| FsView {
                mount: f.mount_point.clone(),
                label: format!(
                    "{} of {}",
                    human_bytes(f.used_bytes),
                    human_bytes(f.total_bytes)
                ),
                percent: format!("{:.0}", f.used_percent()),
            })
            .collect(),
    }
}

/// One history entry in words.
pub fn history_row(h: &HistoryEntry) -> HistoryRow {
    let old = h.old_value.as_deref().unwrap_or("");
    let new = h.new_value.as_deref().unwrap_or("");
    let text = match h.kind.as_str() {
        "created" => format!("Created: {new}"),
        "changed" => format!("{} changed: {old} → {new}", h.field),
        "software_installed" => format!("Installed {} {new}", h.field),
        "software_removed" => format!("Removed {} {old}", h.field),
        "software_updated" => format!("Updated {} {old} → {new}", h.field),
        "software_changes_truncated" => format!("… and {new} more software changes"),
        other => format!("{other} {} {old} {new}", h.field),
    };
    HistoryRow {
        at: datetime(Some(h.at)),
        text,
        actor: h.actor.clone(),
    }
}

fn health_extras(h: &Health) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    if let Some(cpu) = h.cpu_percent {
        rows.push(("CPU".to_owned(), format!("{cpu:.0}% busy")));
    }
    if let Some(reboot) = h.pending_reboot {
        rows.push((
            "Reboot".to_owned(),
            if reboot {
                "pending".to_owned()
            } else {
                "not needed".to_owned()
            },
        ));
    }
    if !h.failed_services.is_empty() {
        rows.push(("Failed".to_owned(), h.failed_services.join(", ")));
    }
    for t in h.temperatures.iter().take(8) {
        rows.push((t.label.clone(), format!("{:.0} °C", t.celsius)));
    }
    rows
}
