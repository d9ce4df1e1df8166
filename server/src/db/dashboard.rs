//! The figures of the staff dashboard: open tickets by status and priority, SLA breaches
//! and tickets at risk, mean time to resolve per week, tickets per 100 devices by model and
//! by site, fleet health from the open alerts, assets by state and by age, warranties
//! ending soon, and maintenance (overdue work orders, on-time rate).
//!
//! The counts that would need a scan of the open tickets, the ticket links or the assets
//! are kept on write by triggers (migration 0024); the rest are range queries over an
//! index. `crate::ui::dashboard` caches the result.

use super::DbResult;
use rusqlite::{Connection, params};
use std::collections::HashMap;

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
// A running ticket with less than a fifth of its resolution time left is at risk (by the
// wall clock; the queue's own flag counts business hours). The fifth is written into the
// index `tickets_at_risk` (migration 0024), which the query must match.

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
    let tickets = ticket_counts(c)?;
    let (by_state, by_age) = by_state_and_age(c, now)?;
    Ok(StaffDashboard {
        by_status: ["new", "open", "pending"]
            .iter()
            .filter_map(|s| nonzero(&tickets, &format!("status:{s}"), s))
            .collect(),
        by_priority: (1..=5)
            .filter_map(|p| nonzero(&tickets, &format!("priority:{p}"), &format!("P{p}")))
            .collect(),
        breached: tickets.get("breached").copied().unwrap_or(0),
        at_risk: c.query_row(
            "SELECT count(*) FROM tickets INDEXED BY tickets_at_risk
             WHERE status IN ('new', 'open') AND breached_at IS NULL AND sla_paused = 0
               AND 4 * resolution_due_at + created_at < 5 * ?1 AND resolution_due_at >= ?1",
            [now],
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
        by_state,
        by_age,
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

/// The open-ticket counts kept on write (migrations 0004 and 0024): `status:new`,
/// `priority:2`, `breached`, ...
fn ticket_counts(c: &Connection) -> DbResult<HashMap<String, i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT key, n FROM ticket_counts
         WHERE key IN ('status:new', 'status:open', 'status:pending', 'breached')
            OR key LIKE 'priority:%'",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A bar named `label` for the count under `key`, when there is something to show.
fn nonzero(counts: &HashMap<String, i64>, key: &str, label: &str) -> Option<Count> {
    let value = counts.get(key).copied().filter(|n| *n > 0)?;
    Some(Count {
        label: label.to_owned(),
        value,
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

/// The ten models and the ten sites with the most tickets per 100 devices since `since`
/// (whole UTC days), among those with at least 5 devices (fewer make the rate noise).
/// Sites are the top of each asset's location chain (rooms sit in floors, buildings, sites).
///
/// Both sides are kept on write (migration 0024): distinct tickets per day and model or
/// site, each counted where its device was when the ticket was linked, and devices per
/// model and location. Counting from the links instead took ~100 ms with 1,000,000 tickets
/// (bench/ui-bench.sh).
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
    let model_devices: HashMap<String, i64> =
        pairs(c, "SELECT model, n FROM asset_model_counts WHERE n > 0", [])?;
    let mut site_devices: HashMap<i64, i64> = HashMap::new();
    let by_location: Vec<(i64, i64)> = pairs(
        c,
        "SELECT location_id, n FROM asset_location_counts WHERE n > 0",
        [],
    )?;
    for (location, n) in by_location {
        if let Some(site) = site_of.get(&location) {
            *site_devices.entry(*site).or_default() += n;
        }
    }
    let day = since.div_euclid(86_400);
    let model_tickets: Vec<(String, i64)> = pairs(
        c,
        "SELECT model, sum(tickets) FROM ticket_link_models WHERE day >= ?1
         GROUP BY model HAVING sum(tickets) > 0",
        [day],
    )?;
    let site_tickets: Vec<(i64, i64)> = pairs(
        c,
        "SELECT site_id, sum(tickets) FROM ticket_link_sites WHERE day >= ?1
         GROUP BY site_id HAVING sum(tickets) > 0",
        [day],
    )?;
    let model_rates = top_rates(model_tickets.into_iter().map(|(model, tickets)| {
        let devices = model_devices.get(&model).copied().unwrap_or(0);
        (model, tickets, devices)
    }));
    let site_rates = top_rates(site_tickets.into_iter().filter_map(|(site, tickets)| {
        let devices = site_devices.get(&site).copied().unwrap_or(0);
        names
            .get(&site)
            .map(|name| (name.clone(), tickets, devices))
    }));
    Ok((model_rates, site_rates))
}

/// Two-column rows, collected.
fn pairs<A, B, C, P>(c: &Connection, sql: &str, p: P) -> DbResult<C>
where
    A: rusqlite::types::FromSql,
    B: rusqlite::types::FromSql,
    C: FromIterator<(A, B)>,
    P: rusqlite::Params,
{
    let mut stmt = c.prepare_cached(sql)?;
    let rows = stmt.query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The ten groups with the most tickets per 100 devices, from (label, tickets, devices).
fn top_rates(groups: impl Iterator<Item = (String, i64, i64)>) -> Vec<Rate> {
    let mut out: Vec<Rate> = groups
        .filter(|(_, _, devices)| *devices >= 5)
        .map(|(label, tickets, devices)| Rate {
            label,
            tickets,
            devices,
            per_100: tickets as f64 * 100.0 / devices as f64,
        })
        .collect();
    out.sort_by(|a, b| b.per_100.total_cmp(&a.per_100).then(a.label.cmp(&b.label)));
    out.truncate(10);
    out
}

/// Assets by state, and by years since purchase with archived ones (retired, disposed)
/// aside, from the counts per state and purchase date kept on write (migration 0024).
fn by_state_and_age(c: &Connection, now: i64) -> DbResult<(Vec<Count>, Vec<Count>)> {
    let by_state = counts(
        c,
        "SELECT coalesce(s.name, 'No state'), sum(n) FROM asset_age_counts a
         LEFT JOIN asset_states s ON s.id = a.state_id
         GROUP BY a.state_id HAVING sum(n) > 0
         ORDER BY CASE a.state_id WHEN 0 THEN 1e9 ELSE a.state_id END",
        [],
    )?;
    let (under1, one_to3, three_to5, over5, unknown): (i64, i64, i64, i64, i64) = c.query_row(
        "SELECT coalesce(sum(n * (age < 1)), 0), coalesce(sum(n * (age >= 1 AND age < 3)), 0),
                coalesce(sum(n * (age >= 3 AND age < 5)), 0), coalesce(sum(n * (age >= 5)), 0),
                coalesce(sum(n * (age IS NULL)), 0)
         FROM (SELECT a.n, (julianday(?1, 'unixepoch') - julianday(nullif(a.purchase_date, '')))
                           / 365.25 AS age
               FROM asset_age_counts a LEFT JOIN asset_states s ON s.id = a.state_id
               WHERE s.kind IS NOT 'archived' AND a.n > 0)",
        [now],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let by_age = [
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
    .collect();
    Ok((by_state, by_age))
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
