//! What a maintenance plan is made of, as the API and the web forms send it
//! (`PlanInput`), and its checks against the database (`check_plan`).

use super::AppError;
use crate::db::{
    self,
    maintenance::{Part, Plan, PlanFields, Target},
};
use crate::domain::maintenance::Trigger;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

pub(super) fn bad(code: &'static str, m: impl Into<String>) -> AppError {
    AppError::bad_request(code, m)
}

/// A plan as the API takes it (creating, or patching over the current values).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanInput {
    pub title: String,
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub checklist: Vec<String>,
    #[serde(default)]
    pub parts: Vec<Part>,
    #[serde(default)]
    pub estimated_minutes: Option<i64>,
    pub trigger: Trigger,
    /// An IANA zone overriding the asset's site's.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Generate work orders this many hours before they are due.
    #[serde(default)]
    pub lead_hours: i64,
    #[serde(default)]
    pub assignee_id: Option<i64>,
    #[serde(default)]
    pub group_id: Option<i64>,
    /// 1 (critical) to 5 (planning); default 4.
    #[serde(default = "low")]
    pub priority: i64,
    /// Escalate an open work order this many hours after it was due.
    #[serde(default)]
    pub escalate_after_hours: Option<i64>,
    #[serde(default)]
    pub escalate_group_id: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
    #[serde(default)]
    pub targets: Vec<Target>,
}

fn low() -> i64 {
    4
}

fn yes() -> bool {
    true
}

impl PlanInput {
    /// The input that would write `p` back unchanged.
    pub fn of(p: &Plan) -> PlanInput {
        PlanInput {
            title: p.title.clone(),
            instructions: p.instructions.clone(),
            checklist: p.checklist.clone(),
            parts: p.parts.clone(),
            estimated_minutes: p.estimated_minutes,
            trigger: p.trigger.clone(),
            timezone: p.timezone.clone(),
            lead_hours: p.lead_secs / 3600,
            assignee_id: p.assignee_id,
            group_id: p.group_id,
            priority: p.priority,
            escalate_after_hours: p.escalate_after_secs.map(|s| s / 3600),
            escalate_group_id: p.escalate_group_id,
            active: p.active,
            targets: p.targets.clone(),
        }
    }
}

/// Longest text and list sizes a plan accepts.
const MAX_TITLE: usize = 200;
const MAX_INSTRUCTIONS: usize = 20_000;
const MAX_ITEMS: usize = 100;
const MAX_TARGETS: usize = 1_000;

fn text_ok(s: &str, max: usize) -> bool {
    let n = s.trim().chars().count();
    (1..=max).contains(&n)
}

/// Checks a plan input against the database (users, groups, targets). `Err` is the
/// refusal to send back.
pub fn check_plan(c: &Connection, p: &PlanInput) -> db::DbResult<Result<PlanFields, AppError>> {
    let refuse = |code, m: String| Ok(Err(bad(code, m)));
    if !text_ok(&p.title, MAX_TITLE) {
        return refuse(
            "invalid_title",
            format!("a title needs 1 to {MAX_TITLE} characters"),
        );
    }
    if p.instructions.chars().count() > MAX_INSTRUCTIONS {
        return refuse(
            "invalid_instructions",
            format!("instructions are at most {MAX_INSTRUCTIONS} characters"),
        );
    }
    if p.checklist.len() > MAX_ITEMS || p.checklist.iter().any(|i| !text_ok(i, 300)) {
        return refuse(
            "invalid_checklist",
            format!("a checklist has at most {MAX_ITEMS} items of 1 to 300 characters"),
        );
    }
    if p.parts.len() > MAX_ITEMS
        || p.parts.iter().any(|x| {
            !(text_ok(&x.name, MAX_TITLE)
                && x.quantity.is_finite()
                && x.quantity > 0.0
                && x.quantity <= 1e6)
        })
    {
        return refuse(
            "invalid_parts",
            format!("at most {MAX_ITEMS} parts, each with a name and a quantity above 0"),
        );
    }
    if p.estimated_minutes
        .is_some_and(|m| !(1..=100_000).contains(&m))
    {
        return refuse(
            "invalid_estimated_minutes",
            "estimated_minutes is 1 to 100000".into(),
        );
    }
    if let Err(e) = p.trigger.compile() {
        return refuse("invalid_trigger", e);
    }
    if let Some(tz) = &p.timezone
        && tz.parse::<chrono_tz::Tz>().is_err()
    {
        return refuse(
            "invalid_timezone",
            format!("{tz:?} is not an IANA time zone like Europe/Berlin"),
        );
    }
    if !(0..=24 * 366).contains(&p.lead_hours) {
        return refuse(
            "invalid_lead_hours",
            "lead_hours is 0 to 8784 (a year)".into(),
        );
    }
    if p.escalate_after_hours
        .is_some_and(|h| !(0..=24 * 366).contains(&h))
    {
        return refuse(
            "invalid_escalate_after_hours",
            "escalate_after_hours is 0 to 8784 (a year)".into(),
        );
    }
    if !(1..=5).contains(&p.priority) {
        return refuse(
            "invalid_priority",
            "priority is 1 (critical) to 5 (planning)".into(),
        );
    }
    if let Some(a) = p.assignee_id
        && !db::users::by_id(c, a)?.is_some_and(|u| u.role.is_staff())
    {
        return refuse(
            "invalid_assignee",
            "work orders are assigned to technicians or admins".into(),
        );
    }
    for g in [p.group_id, p.escalate_group_id].into_iter().flatten() {
        if !db::groups::exists(c, g)? {
            return refuse("invalid_group", format!("no group {g}"));
        }
    }
    if p.targets.len() > MAX_TARGETS {
        return refuse(
            "invalid_targets",
            format!(
                "a plan has at most {MAX_TARGETS} targets; target a type or a location instead"
            ),
        );
    }
    for t in &p.targets {
        if !["asset", "type", "location"].contains(&t.kind.as_str()) {
            return refuse(
                "invalid_target",
                format!(
                    "{:?} is not a target kind: use asset, type or location",
                    t.kind
                ),
            );
        }
        if !db::maintenance::target_exists(c, t)? {
            return refuse("invalid_target", format!("no {} {}", t.kind, t.id));
        }
    }
    Ok(Ok(PlanFields {
        title: p.title.trim().to_owned(),
        instructions: p.instructions.clone(),
        checklist: p.checklist.iter().map(|i| i.trim().to_owned()).collect(),
        parts: p.parts.clone(),
        estimated_minutes: p.estimated_minutes,
        trigger: p.trigger.clone(),
        timezone: p.timezone.clone(),
        lead_secs: p.lead_hours * 3600,
        assignee_id: p.assignee_id,
        group_id: p.group_id,
        priority: p.priority,
        escalate_after_secs: p.escalate_after_hours.map(|h| h * 3600),
        escalate_group_id: p.escalate_group_id,
        active: p.active,
        targets: p.targets.clone(),
    }))
}
