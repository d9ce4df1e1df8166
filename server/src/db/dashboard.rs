//! The figures of the staff dashboard, each one aggregate query over an index:
//! open tickets by status and priority, SLA breaches and tickets at risk, mean time to
//! resolve per week, tickets per 100 devices by model and by site, fleet health from the
//! open alerts, assets by state and by age, warranties ending soon, and maintenance
//! (overdue work orders, on-time rate). `crate::ui::dashboard` caches the result.

use super::DbResult;
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Statuses that count as open work.
const OPEN: &str = "('new', 'open', 'pending')";

/// A named count (a bar).
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub label: String,
    pub value: i64,
}

/// Tickets per 100 devices of one model or site.
#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub label: String,
    pub tickets: i64,
    pub devices: i64,
    /// tickets * 100 / devices.
    pub per_100: f64,
}

/// One week of resolved tickets.
#[derive(Debug, Clone, PartialEq)]
pub struct Week {
    /// Monday 00:00 UTC of the week (Unix seconds).
    pub start: i64,
    pub resolved: i64,
    /// Mean hours from creation to resolution; `None` when nothing was resolved.
    pub mean_hours: Option<f64>,
}

/// A warranty ending soon.
#[derive(Debug, Clone, PartialEq)]
pub struct Warranty {
    pub asset_id: i64,
    pub name: String,
    pub warranty_end: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StaffDashboard {
    pub by_status: Vec<Count>,
    pub by_priority: Vec<Count>,
    pub breached: i64,
    pub at_risk: i64,
    pub weeks: Vec<Week>,
    pub per_model: Vec<Rate>,
    pub per_site: Vec<Rate>,
    pub agents: i64,
    /// Machines with an open alert of each kind (agent_silent, disk_full, pending_reboot, ...).
    pub health: Vec<Count>,
    pub by_state: Vec<Count>,
    pub by_age: Vec<Count>,
    pub warranties: Vec<Warranty>,
    pub warranties_total: i64,
    pub overdue_work_orders: i64,
    /// Work orders due in the last 90 days: done on time, and all (cancelled aside).
    pub maintenance_on_time: i64,
    pub maintenance_due: i64,
}

/// Weeks of the mean-time-to-resolve chart.
pub const WEEKS: i64 = 12;
/// Days back counted for tickets per 100 devices and the maintenance on-time rate.
pub const WINDOW_DAYS: i64 = 90;
/// Days ahead for warranties ending.
pub const WARRANTY_DAYS: i64 = 90;
/// A running ticket with less than this share of its resolution time left is at risk
/// (by the wall clock; the queue's own flag counts business hours).
pub const AT_RISK_FRACTION: f64 = 0.2;

/// Everything, as of `now` (Unix seconds, UTC).
pub fn staff(c: &Connection, now: i64) -> DbResult<StaffDashboard> {
    let week_start = monday(now) - (WEEKS - 1) * 7 * 86_400;
    let since = now - WINDOW_DAYS * 86_400;
    let (maintenance_on_time, maintenance_due) = c.query_row(
        "SELECT coalesce(sum(state = 'done' AND completed_at <= due_at + ?3), 0), count(*)
         FROM work_orders WHERE due_at >= ?1 AND due_at <= ?2 AND state <> 'cancelled'",
        params![since, now, super::work_orders::ON_TIME_GRACE_SECS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (per_model, per_site) = rates_by_model_and_site(c, since)?;
    Ok(StaffDashboard {
        by_status: counts(
            c,
            &format!(
                "SELECT status, count(*) FROM tickets WHERE status IN {OPEN}
                 GROUP BY status ORDER BY CASE status WHEN 'new' THEN 0 WHEN 'open' THEN 1 ELSE 2 END"
            ),
            [],
        )?,
        by_priority: counts(
            c,
            &format!(
                "SELECT 'P' || priority, count(*) FROM tickets WHERE status IN {OPEN}
                 GROUP BY priority ORDER BY priority"
            ),
            [],
        )?,
        breached: c.query_row(
            &format!("SELECT count(*) FROM tickets WHERE status IN {OPEN} AND breached_at IS NOT NULL"),
            [],
            |r| r.get(0),
        )?,
        at_risk: c.query_row(
            "SELECT count(*) FROM tickets
             WHERE status IN ('new', 'open') AND resolution_due_at >= ?1 AND breached_at IS NULL
               AND sla_paused = 0
               AND resolution_due_at - ?1 < ?2 * (resolution_due_at - created_at)",
            params![now, AT_RISK_FRACTION],
            |r| r.get(0),
        )?,
        weeks: weeks(c, week_start, now)?,
        per_model,
        per_site,
        agents: c.query_row(
            "SELECT count(*) FROM agents WHERE revoked_at IS NULL",
            [],
            |r| r.get(0),
        )?,
        health: counts(
            c,
            "SELECT kind, count(DISTINCT asset_id) FROM alerts WHERE resolved_at IS NULL
             GROUP BY kind ORDER BY 2 DESC, 1",
            [],
        )?,
        by_state: counts(
            c,
            "SELECT coalesce(s.name, 'No state'), count(*) FROM assets a
             LEFT JOIN asset_states s ON s.id = a.state_id
             GROUP BY a.state_id ORDER BY coalesce(a.state_id, 1e9)",
            [],
        )?,
        by_age: by_age(c, now)?,
        warranties: warranties(c, now)?,
        warranties_total: c.query_row(
            "SELECT count(*) FROM assets WHERE warranty_end >= date(?1, 'unixepoch')
               AND warranty_end <= date(?1, 'unixepoch', ?2)",
            params![now, format!("+{WARRANTY_DAYS} days")],
            |r| r.get(0),
        )?,
        overdue_work_orders: c.query_row(
            "SELECT count(*) FROM work_orders WHERE state = 'open' AND due_at < ?1",
            [now],
            |r| r.get(0),
        )?,
        maintenance_on_time,
        maintenance_due,
    })
}

fn counts<P: rusqlite::Params>(c: &Connection, sql: &str, p: P) -> DbResult<Vec<Count>> {
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| {
        Ok(Count {
            label: r.get(0)?,
            value: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Monday 00:00 UTC of the week holding `t` (1970-01-01 was a Thursday).
pub fn monday(t: i64) -> i64 {
    let day = t.div_euclid(86_400);
    (day - (day + 3).rem_euclid(7)) * 86_400
}

fn weeks(c: &Connection, from: i64, now: i64) -> DbResult<Vec<Week>> {
    let mut stmt = c.prepare_cached(
        "SELECT (resolved_at - ?1) / 604800, count(*), avg(resolved_at - created_at)
         FROM tickets WHERE resolved_at >= ?1 AND resolved_at <= ?2 GROUP BY 1",
    )?;
    let mut out: Vec<Week> = (0..WEEKS)
        .map(|i| Week {
            start: from + i * 604_800,
            resolved: 0,
            mean_hours: None,
        })
        .collect();
    let rows = stmt.query_map(params![from, now], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, f64>(2)?,
        ))
    })?;
    for row in rows {
        let (i, n, secs) = row?;
        if let Some(w) = usize::try_from(i).ok().and_then(|i| out.get_mut(i)) {
            w.resolved = n;
            w.mean_hours = Some(secs / 3600.0);
        }
    }
    Ok(out)
}

/// The ten models and the ten sites with the most tickets per 100 devices since `since`,
/// among those with at least 5 devices (fewer make the rate noise). Sites are the top of
/// each asset's location chain (rooms sit in floors, buildings, sites).
///
/// One pass over the window's tickets (`tickets_created`) and their links, and one over
/// the assets (`assets_dashboard` covers both): the counting is done here. In SQL, one
/// query per chart with `count(DISTINCT ...)` per group took ~170 ms each with 1,000,000
/// tickets (bench/ui-bench.sh).
fn rates_by_model_and_site(c: &Connection, since: i64) -> DbResult<(Vec<Rate>, Vec<Rate>)> {
    // Each location's site, and each site's name (sites are the top rows).
    let mut site_of: HashMap<i64, i64> = HashMap::new();
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut stmt = c.prepare_cached(
        "WITH RECURSIVE top(id, site) AS (
             SELECT id, id FROM locations WHERE parent_id IS NULL
             UNION ALL SELECT l.id, top.site FROM locations l JOIN top ON l.parent_id = top.id)
         SELECT top.id, top.site, l.name FROM top JOIN locations l ON l.id = top.id",
    )?;
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })? {
        let (id, site, name) = row?;
        if id == site {
            names.insert(id, name);
        }
        site_of.insert(id, site);
    }
    let mut model_devices: HashMap<String, i64> = HashMap::new();
    let mut site_devices: HashMap<i64, i64> = HashMap::new();
    let mut stmt = c.prepare_cached("SELECT model, location_id FROM assets")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let model = r.get_ref(0)?.as_str().unwrap_or("");
        if !model.is_empty() {
            match model_devices.get_mut(model) {
                Some(n) => *n += 1,
                None => {
                    model_devices.insert(model.to_owned(), 1);
                }
            }
        }
        if let Some(site) = r.get::<_, Option<i64>>(1)?.and_then(|l| site_of.get(&l)) {
            *site_devices.entry(*site).or_default() += 1;
        }
    }
    // (model, ticket) and (site, ticket) pairs, each ticket once per model and per site.
    let mut by_model: Vec<(&str, i64)> = Vec::new();
    let mut by_site: Vec<(i64, i64)> = Vec::new();
    let mut stmt = c.prepare_cached(
        "SELECT ta.ticket_id, a.model, a.location_id
         FROM tickets tk CROSS JOIN ticket_assets ta ON ta.ticket_id = tk.id
         CROSS JOIN assets a INDEXED BY assets_dashboard ON a.id = ta.asset_id
         WHERE tk.created_at >= ?1",
    )?;
    let mut rows = stmt.query([since])?;
    while let Some(r) = rows.next()? {
        let ticket: i64 = r.get(0)?;
        let model = r.get_ref(1)?.as_str().unwrap_or("");
        if let Some((model, _)) = model_devices.get_key_value(model) {
            by_model.push((model.as_str(), ticket));
        }
        if let Some(site) = r.get::<_, Option<i64>>(2)?.and_then(|l| site_of.get(&l)) {
            by_site.push((*site, ticket));
        }
    }
    let model_rates = top_rates(by_model, |m| {
        Some((m.to_owned(), model_devices.get(m).copied().unwrap_or(0)))
    });
    let site_rates = top_rates(by_site, |site| {
        let devices = site_devices.get(&site).copied().unwrap_or(0);
        names.get(&site).map(|name| (name.clone(), devices))
    });
    Ok((model_rates, site_rates))
}

/// The ten groups with the most distinct tickets per 100 devices, from (group, ticket)
/// pairs; `label` names a group and gives its devices (`None`: left out).
fn top_rates<K: Ord + Copy>(
    mut pairs: Vec<(K, i64)>,
    label: impl Fn(K) -> Option<(String, i64)>,
) -> Vec<Rate> {
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<Rate> = Vec::new();
    for chunk in pairs.chunk_by(|a, b| a.0 == b.0) {
        let Some((label, devices)) = label(chunk[0].0) else {
            continue;
        };
        if devices < 5 {
            continue;
        }
        let tickets = chunk.len() as i64;
        out.push(Rate {
            label,
            tickets,
            devices,
            per_100: tickets as f64 * 100.0 / devices as f64,
        });
    }
    out.sort_by(|a, b| b.per_100.total_cmp(&a.per_100).then(a.label.cmp(&b.label)));
    out.truncate(10);
    out
}

/// Assets by years since purchase; archived ones (retired, disposed) aside.
fn by_age(c: &Connection, now: i64) -> DbResult<Vec<Count>> {
    let (under1, one_to3, three_to5, over5, unknown): (i64, i64, i64, i64, i64) = c.query_row(
        "SELECT coalesce(sum(age < 1), 0), coalesce(sum(age >= 1 AND age < 3), 0),
                coalesce(sum(age >= 3 AND age < 5), 0), coalesce(sum(age >= 5), 0),
                coalesce(sum(age IS NULL), 0)
         FROM (SELECT (julianday(?1, 'unixepoch') - julianday(a.purchase_date)) / 365.25 AS age
               FROM assets a LEFT JOIN asset_states s ON s.id = a.state_id
               WHERE s.kind IS NOT 'archived')",
        [now],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    Ok([
        ("Under 1 year", under1),
        ("1-3 years", one_to3),
        ("3-5 years", three_to5),
        ("5 years and more", over5),
        ("Purchase date unknown", unknown),
    ]
    .into_iter()
    .map(|(label, value)| Count {
        label: label.into(),
        value,
    })
    .collect())
}

fn warranties(c: &Connection, now: i64) -> DbResult<Vec<Warranty>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, name, warranty_end FROM assets
         WHERE warranty_end >= date(?1, 'unixepoch') AND warranty_end <= date(?1, 'unixepoch', ?2)
         ORDER BY warranty_end, id LIMIT 10",
    )?;
    let rows = stmt.query_map(params![now, format!("+{WARRANTY_DAYS} days")], |r| {
        Ok(Warranty {
            asset_id: r.get(0)?,
            name: r.get(1)?,
            warranty_end: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::monday;

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-26 (a Thursday) 15:00 UTC -> Monday 2026-11-23.
        assert_eq!(monday(1_795_705_200), 1_795_392_000);
        assert_eq!(monday(1_795_392_000), 1_795_392_000);
        assert_eq!(monday(1_795_391_999), 1_795_392_000 - 7 * 86_400);
        assert_eq!(monday(0), -3 * 86_400);
    }
}
