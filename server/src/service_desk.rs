//! The service desk's rules as configured: calendar, SLA targets, priority matrix and
//! workflow timers, built once from `[service_desk]` and shared by every handler.

use crate::config::{PartialSlaHours, ServiceDeskSection, SlaHours};
use crate::domain::calendar::Calendar;
use crate::domain::sla::{SlaPolicy, SlaRules};
use crate::domain::tickets::{Priority, PriorityMatrix, WorkflowRules};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Rules {
    pub calendar: Calendar,
    pub sla: SlaRules,
    pub matrix: PriorityMatrix,
    pub workflow: WorkflowRules,
}

fn hours_for(h: &SlaHours, p: Priority) -> f64 {
    match p {
        Priority::Critical => h.critical,
        Priority::High => h.high,
        Priority::Medium => h.medium,
        Priority::Low => h.low,
        Priority::Planning => h.planning,
    }
}

fn partial_hours_for(h: &PartialSlaHours, p: Priority) -> Option<f64> {
    match p {
        Priority::Critical => h.critical,
        Priority::High => h.high,
        Priority::Medium => h.medium,
        Priority::Low => h.low,
        Priority::Planning => h.planning,
    }
}

/// The policy for targets in hours: none without a resolution target; without a
/// first-response target the first response is due with the resolution.
fn policy(p: Priority, first: f64, resolve: f64) -> Result<Option<SlaPolicy>, String> {
    if !(0.0..=10_000.0).contains(&first) || !(0.0..=10_000.0).contains(&resolve) {
        return Err(format!("SLA hours for {p} must be between 0 and 10000"));
    }
    if resolve <= 0.0 {
        return Ok(None);
    }
    let resolution_secs = (resolve * 3600.0) as i64;
    let first_response_secs = if first > 0.0 {
        ((first * 3600.0) as i64).min(resolution_secs)
    } else {
        resolution_secs
    };
    Ok(Some(SlaPolicy {
        first_response_secs,
        resolution_secs,
    }))
}

impl Rules {
    pub fn from_config(c: &ServiceDeskSection) -> Result<Rules, String> {
        let calendar = if c.business_hours.is_empty() {
            Calendar::new(&c.timezone, ["mon-sun 00:00-24:00"], &c.holidays)
        } else {
            Calendar::new(&c.timezone, &c.business_hours, &c.holidays)
        }
        .map_err(|e| e.to_string())?;
        let mut sla = SlaRules::default();
        for &p in Priority::ALL {
            let (first, resolve) = (
                hours_for(&c.first_response_hours, p),
                hours_for(&c.resolution_hours, p),
            );
            if let Some(policy) = policy(p, first, resolve)? {
                sla.by_priority.insert(p, policy);
            }
        }
        for (category, targets) in &c.category_sla {
            let mut by_priority = BTreeMap::new();
            for &p in Priority::ALL {
                let first = partial_hours_for(&targets.first_response_hours, p);
                let resolve = partial_hours_for(&targets.resolution_hours, p);
                if first.is_none() && resolve.is_none() {
                    continue;
                }
                let first = first.unwrap_or_else(|| hours_for(&c.first_response_hours, p));
                let resolve = resolve.unwrap_or_else(|| hours_for(&c.resolution_hours, p));
                let policy = policy(p, first, resolve)
                    .map_err(|e| format!("category_sla {category:?}: {e}"))?;
                // A listed priority with no resolution target: no SLA for it here.
                by_priority.insert(p, policy);
            }
            sla.by_category_priority
                .insert(category.clone(), by_priority);
        }
        let matrix = if c.priority_matrix.is_empty() {
            PriorityMatrix::default()
        } else {
            PriorityMatrix::from_rows(c.priority_matrix.clone()).map_err(|e| e.to_string())?
        };
        if c.auto_close_days == 0 {
            return Err("auto_close_days must be at least 1".into());
        }
        let workflow = WorkflowRules {
            auto_close_after: chrono::TimeDelta::days(i64::from(c.auto_close_days)),
            reopen_window: chrono::TimeDelta::days(i64::from(c.reopen_days)),
        };
        Ok(Rules {
            calendar,
            sla,
            matrix,
            workflow,
        })
    }
}

/// The SLA of a ticket at `now`, or `None` when no policy covers it.
pub fn sla_state(
    c: &rusqlite::Connection,
    rules: &Rules,
    ticket: &crate::db::tickets::Ticket,
    now: i64,
) -> crate::db::DbResult<Option<crate::domain::sla::SlaState>> {
    use crate::domain::sla::{StatusChange, evaluate};
    use crate::domain::tickets::Status;
    let priority = Priority::from_number(ticket.summary.priority as u8).unwrap_or(Priority::Medium);
    let Some(policy) = rules
        .sla
        .policy_for(priority, ticket.summary.category.as_deref())
    else {
        return Ok(None);
    };
    let at = |t: i64| chrono::DateTime::<chrono::Utc>::from_timestamp(t, 0).unwrap_or_default();
    let history: Vec<StatusChange> = crate::db::tickets::status_history(c, ticket.summary.id)?
        .into_iter()
        .filter_map(|(t, s)| {
            s.parse::<Status>()
                .ok()
                .map(|status| StatusChange { at: at(t), status })
        })
        .collect();
    Ok(Some(evaluate(
        policy,
        &rules.calendar,
        at(ticket.summary.created_at),
        &history,
        ticket.first_response_at.map(at),
        at(now),
    )))
}

/// Recomputes and stores a ticket's SLA figures (for queue filters) after a change.
pub fn refresh_sla(
    c: &rusqlite::Connection,
    rules: &Rules,
    id: i64,
    now: i64,
) -> crate::db::DbResult<()> {
    let Some(ticket) = crate::db::tickets::get(c, id)? else {
        return Ok(());
    };
    let state = sla_state(c, rules, &ticket, now)?;
    let ts = |d: Option<chrono::DateTime<chrono::Utc>>| d.map(|d| d.timestamp());
    match state {
        Some(s) => crate::db::tickets::store_sla(
            c,
            id,
            ts(s.first_response_due),
            ts(s.resolution_due),
            s.paused,
            ts(s.breached_at),
        ),
        None => crate::db::tickets::store_sla(c, id, None, None, false, None),
    }
}

/// Opens a ticket for each open alert that has none yet (when `alerts.open_tickets`),
/// on one asset or all. Returns how many tickets were opened.
pub fn tickets_for_alerts(
    c: &rusqlite::Connection,
    rules: &Rules,
    asset_id: Option<i64>,
    now: i64,
) -> crate::db::DbResult<usize> {
    use crate::domain::tickets::Level;
    let mut stmt = c.prepare_cached(
        "SELECT al.id, al.asset_id, a.name, al.severity, al.message FROM alerts al JOIN assets a ON a.id = al.asset_id
         WHERE al.resolved_at IS NULL AND al.ticket_id IS NULL AND (?1 IS NULL OR al.asset_id = ?1)",
    )?;
    let open: Vec<(i64, i64, String, String, String)> = stmt
        .query_map([asset_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let requester =
        match crate::db::users::by_email(c, crate::http::ticket_comments::MACHINE_REQUESTER)? {
            Some(u) => u.id,
            None => crate::db::users::insert(
                c,
                crate::http::ticket_comments::MACHINE_REQUESTER,
                "Filed from a machine",
                crate::domain::roles::Role::Employee,
                None,
                now,
            )?,
        };
    for (alert_id, asset, name, severity, message) in &open {
        let urgency = if severity == "critical" {
            Level::High
        } else {
            Level::Medium
        };
        let new = crate::db::tickets::NewTicket {
            ticket_type: "incident".into(),
            title: format!("{name}: {message}"),
            description: format!("Opened by alert {alert_id} ({severity}) on asset {asset}."),
            requester_id: requester,
            impact: i64::from(Level::Medium.value()),
            urgency: i64::from(urgency.value()),
            priority: i64::from(rules.matrix.priority(Level::Medium, urgency).number()),
            source: "alert".into(),
            asset_ids: vec![*asset],
            ..Default::default()
        };
        let ticket = crate::db::tickets::insert(c, &new, &format!("alert:{alert_id}"), now)?;
        refresh_sla(c, rules, ticket, now)?;
        crate::events::ticket_created(c, ticket, &format!("alert:{alert_id}"), now)?;
        c.execute(
            "UPDATE alerts SET ticket_id = ?2 WHERE id = ?1",
            rusqlite::params![alert_id, ticket],
        )?;
    }
    Ok(open.len())
}

/// Files a ticket about `asset_id` on behalf of a non-person requester (a machine, a QR
/// label): the account `requester_email` (made without a password, so it cannot sign
/// in), medium impact and urgency, SLA set, `ticket.created` recorded. Returns its id.
#[allow(clippy::too_many_arguments)]
pub fn file_for_asset(
    tx: &rusqlite::Connection,
    rules: &Rules,
    requester_email: &str,
    requester_name: &str,
    title: &str,
    description: String,
    source: &str,
    asset_id: i64,
    actor: &str,
    now: i64,
) -> crate::db::DbResult<i64> {
    use crate::db;
    use crate::domain::tickets::Level;
    let requester = match db::users::by_email(tx, requester_email)? {
        Some(u) => u.id,
        None => db::users::insert(
            tx,
            requester_email,
            requester_name,
            crate::domain::roles::Role::Employee,
            None,
            now,
        )?,
    };
    let (impact, urgency) = (Level::Medium, Level::Medium);
    let new = db::tickets::NewTicket {
        ticket_type: "incident".into(),
        title: title.into(),
        description,
        requester_id: requester,
        impact: i64::from(impact.value()),
        urgency: i64::from(urgency.value()),
        priority: i64::from(rules.matrix.priority(impact, urgency).number()),
        source: source.into(),
        asset_ids: vec![asset_id],
        ..Default::default()
    };
    let id = db::tickets::insert(tx, &new, actor, now)?;
    refresh_sla(tx, rules, id, now)?;
    crate::events::ticket_created(tx, id, actor, now)?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_build_and_bad_values_are_explained() {
        let rules = Rules::from_config(&ServiceDeskSection::default()).expect("defaults");
        assert!(rules.sla.policy_for(Priority::Critical, None).is_some());
        assert!(rules.sla.policy_for(Priority::Planning, None).is_none());
        let bad = ServiceDeskSection {
            timezone: "Mars/Olympus".into(),
            ..Default::default()
        };
        assert!(Rules::from_config(&bad).is_err());
        let bad = ServiceDeskSection {
            business_hours: vec!["someday 9-5".into()],
            ..Default::default()
        };
        assert!(Rules::from_config(&bad).is_err());
    }

    #[test]
    fn a_category_overrides_the_priorities_it_lists() {
        let toml = r#"
            [category_sla."Security incident"]
            first_response_hours = { high = 0.5 }
            resolution_hours = { high = 2.0 }
            [category_sla.Furniture]
            resolution_hours = { low = 0.0 }
        "#;
        let c: ServiceDeskSection = toml::from_str(toml).expect("parses");
        let rules = Rules::from_config(&c).expect("builds");
        let sla = |p, cat| rules.sla.policy_for(p, cat).cloned();
        let sec = sla(Priority::High, Some("Security incident")).expect("policy");
        assert_eq!((sec.first_response_secs, sec.resolution_secs), (1800, 7200));
        // Medium is not listed: the general target.
        assert_eq!(
            sla(Priority::Medium, Some("Security incident")),
            sla(Priority::Medium, None)
        );
        assert!(sla(Priority::Low, None).is_some());
        assert_eq!(sla(Priority::Low, Some("Furniture")), None);
        let bad: ServiceDeskSection =
            toml::from_str("[category_sla.X]\nresolution_hours = { high = -1.0 }").expect("parses");
        let e = Rules::from_config(&bad).expect_err("negative hours");
        assert!(e.contains("category_sla \"X\""), "{e}");
    }
}
