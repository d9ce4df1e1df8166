//! The maintenance plan form's fields: read from a stored plan or from a submitted form
//! (as typed, to show again when refused), and turned into the `PlanInput` the API takes.

use super::maintenance_words::number;
use crate::db::maintenance::{Part, Plan, Target};
use crate::domain::maintenance::{Calendar, IntervalFrom, MeterRule, Trigger};
use crate::http::maintenance::PlanInput;

/// The form's fields in order (targets repeat).
pub type Fields = Vec<(String, String)>;

const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What the form shows: every field as typed.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub title: String,
    pub instructions: String,
    pub checklist: String,
    pub parts: String,
    pub estimated_minutes: String,
    /// cron, monthly, interval or none
    pub kind: String,
    pub cron: String,
    pub nth: String,
    pub weekday: String,
    pub monthly_at: String,
    pub every_months: String,
    pub every_days: String,
    pub interval_from: String,
    pub interval_at: String,
    pub starts_on: String,
    pub meter: String,
    pub meter_every: String,
    pub max_interval_days: String,
    pub timezone: String,
    pub lead_hours: String,
    pub priority: String,
    pub assignee_id: String,
    pub group_id: String,
    pub escalate_after_hours: String,
    pub escalate_group_id: String,
    pub types: Vec<String>,
    pub locations: Vec<String>,
    pub assets: String,
    pub active: bool,
}

impl Values {
    pub fn fresh() -> Values {
        Values {
            kind: "interval".into(),
            nth: "first".into(),
            weekday: "monday".into(),
            monthly_at: "09:00".into(),
            every_months: "1".into(),
            every_days: "30".into(),
            interval_from: "fixed".into(),
            interval_at: "09:00".into(),
            lead_hours: "0".into(),
            priority: "4".into(),
            active: true,
            ..Default::default()
        }
    }

    pub fn of(p: &Plan) -> Values {
        let mut v = Values::fresh();
        let opt = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        v.title = p.title.clone();
        v.instructions = p.instructions.clone();
        v.checklist = p.checklist.join("\n");
        v.parts = p
            .parts
            .iter()
            .map(|x| format!("{} x {}", x.name, number(x.quantity)))
            .collect::<Vec<_>>()
            .join("\n");
        v.estimated_minutes = opt(p.estimated_minutes);
        match &p.trigger.calendar {
            None => v.kind = "none".into(),
            Some(Calendar::Cron { expr }) => {
                v.kind = "cron".into();
                v.cron = expr.clone();
            }
            Some(Calendar::MonthlyWeekday {
                nth,
                weekday,
                at,
                every_months,
            }) => {
                v.kind = "monthly".into();
                v.nth = match nth.trim().to_lowercase().as_str() {
                    "1" => "first".into(),
                    "2" => "second".into(),
                    "3" => "third".into(),
                    "4" => "fourth".into(),
                    other => other.to_owned(),
                };
                // The API takes "mon" or "Monday"; the form's options are "monday".
                v.weekday = match weekday.trim().parse::<chrono::Weekday>() {
                    Ok(d) => WEEKDAY_NAMES[d.num_days_from_monday() as usize].into(),
                    Err(_) => weekday.to_lowercase(),
                };
                v.monthly_at = at.clone();
                v.every_months = every_months.to_string();
            }
            Some(Calendar::Interval {
                every_days,
                from,
                at,
                starts_on,
            }) => {
                v.kind = "interval".into();
                v.every_days = every_days.to_string();
                v.interval_from = match from {
                    IntervalFrom::Fixed => "fixed",
                    IntervalFrom::Floating => "floating",
                }
                .into();
                v.interval_at = at.clone();
                v.starts_on = starts_on.map(|d| d.to_string()).unwrap_or_default();
            }
        }
        if let Some(m) = &p.trigger.meter {
            v.meter = m.meter.clone();
            v.meter_every = number(m.every);
        }
        v.max_interval_days = p
            .trigger
            .max_interval_days
            .map(|d| d.to_string())
            .unwrap_or_default();
        v.timezone = p.timezone.clone().unwrap_or_default();
        v.lead_hours = (p.lead_secs / 3600).to_string();
        v.priority = p.priority.to_string();
        v.assignee_id = opt(p.assignee_id);
        v.group_id = opt(p.group_id);
        v.escalate_after_hours = opt(p.escalate_after_secs.map(|s| s / 3600));
        v.escalate_group_id = opt(p.escalate_group_id);
        let of_kind = |k: &str| -> Vec<String> {
            p.targets
                .iter()
                .filter(|t| t.kind == k)
                .map(|t| t.id.to_string())
                .collect()
        };
        v.types = of_kind("type");
        v.locations = of_kind("location");
        v.assets = of_kind("asset").join(", ");
        v.active = p.active;
        v
    }

    pub fn from_form(f: &Fields) -> Values {
        let get = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let all = |k: &str| -> Vec<String> {
            f.iter()
                .filter(|(n, v)| n == k && !v.trim().is_empty())
                .map(|(_, v)| v.trim().to_owned())
                .collect()
        };
        Values {
            title: get("title"),
            instructions: f
                .iter()
                .find(|(n, _)| n == "instructions")
                .map(|(_, v)| v.replace("\r\n", "\n"))
                .unwrap_or_default(),
            checklist: get("checklist"),
            parts: get("parts"),
            estimated_minutes: get("estimated_minutes"),
            kind: get("kind"),
            cron: get("cron"),
            nth: get("nth"),
            weekday: get("weekday"),
            monthly_at: get("monthly_at"),
            every_months: get("every_months"),
            every_days: get("every_days"),
            interval_from: get("interval_from"),
            interval_at: get("interval_at"),
            starts_on: get("starts_on"),
            meter: get("meter"),
            meter_every: get("meter_every"),
            max_interval_days: get("max_interval_days"),
            timezone: get("timezone"),
            lead_hours: get("lead_hours"),
            priority: get("priority"),
            assignee_id: get("assignee_id"),
            group_id: get("group_id"),
            escalate_after_hours: get("escalate_after_hours"),
            escalate_group_id: get("escalate_group_id"),
            types: all("target_type"),
            locations: all("target_location"),
            assets: get("target_assets"),
            active: get("active") == "true",
        }
    }

    /// The plan these values describe, or what to fix.
    pub fn input(&self) -> Result<PlanInput, String> {
        let calendar =
            match self.kind.as_str() {
                "cron" => Some(Calendar::Cron {
                    expr: self.cron.clone(),
                }),
                "monthly" => Some(Calendar::MonthlyWeekday {
                    nth: self.nth.clone(),
                    weekday: self.weekday.clone(),
                    at: self.monthly_at.clone(),
                    every_months: num("Every N months", &self.every_months)?.unwrap_or(1),
                }),
                "interval" => Some(Calendar::Interval {
                    every_days: num("Every N days", &self.every_days)?
                        .ok_or("Say every how many days.")?,
                    from: if self.interval_from == "floating" {
                        IntervalFrom::Floating
                    } else {
                        IntervalFrom::Fixed
                    },
                    at: self.interval_at.clone(),
                    starts_on: match self.starts_on.as_str() {
                        "" => None,
                        d => Some(d.parse().map_err(|_| {
                            format!("Start date {d:?} is not a date like 2027-03-21.")
                        })?),
                    },
                }),
                _ => None,
            };
        let meter = match (self.meter.as_str(), self.meter_every.as_str()) {
            ("", "") => None,
            (m, every) => Some(MeterRule {
                meter: m.to_owned(),
                every: num::<f64>("Meter every", every)?
                    .ok_or("Say every how many units of the meter.")?,
            }),
        };
        let mut targets = Vec::new();
        for (kind, ids) in [("type", &self.types), ("location", &self.locations)] {
            for id in ids {
                targets.push(Target {
                    kind: kind.into(),
                    id: num("Target", id)?.unwrap_or_default(),
                });
            }
        }
        for id in self
            .assets
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|s| s.trim_start_matches('#'))
            .filter(|s| !s.is_empty())
        {
            targets.push(Target {
                kind: "asset".into(),
                id: id
                    .parse()
                    .map_err(|_| format!("Asset ids are numbers like 12, 15; {id:?} is not."))?,
            });
        }
        Ok(PlanInput {
            title: self.title.clone(),
            instructions: self.instructions.clone(),
            checklist: lines(&self.checklist).map(str::to_owned).collect(),
            parts: lines(&self.parts).map(part).collect::<Result<_, _>>()?,
            estimated_minutes: num("Estimated minutes", &self.estimated_minutes)?,
            trigger: Trigger {
                calendar,
                meter,
                max_interval_days: num("Maximum interval", &self.max_interval_days)?,
            },
            timezone: Some(self.timezone.clone()).filter(|z| !z.is_empty()),
            lead_hours: num("Lead time", &self.lead_hours)?.unwrap_or(0),
            assignee_id: num("Assignee", &self.assignee_id)?,
            group_id: num("Group", &self.group_id)?,
            priority: num("Priority", &self.priority)?.unwrap_or(4),
            escalate_after_hours: num("Escalate after", &self.escalate_after_hours)?,
            escalate_group_id: num("Escalation group", &self.escalate_group_id)?,
            active: self.active,
            targets,
        })
    }
}

fn lines(s: &str) -> impl Iterator<Item = &str> {
    s.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// An optional number field: empty is `None`.
fn num<T: std::str::FromStr>(label: &str, s: &str) -> Result<Option<T>, String> {
    match s.trim() {
        "" => Ok(None),
        v => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{label}: {v:?} is not a number.")),
    }
}

/// "Air filter x 2" (or "× 2", "x2"); a line without a quantity means one.
pub fn part(line: &str) -> Result<Part, String> {
    let line = line.trim();
    let digits_at = line
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .len();
    let (head, qty) = line.split_at(digits_at);
    let head = head.trim_end();
    for sep in ['x', 'X', '×'] {
        if let Some(name) = head.strip_suffix(sep)
            && name.ends_with(char::is_whitespace)
            && !name.trim().is_empty()
            && let Ok(q) = qty.parse::<f64>()
        {
            return Ok(Part {
                name: name.trim().to_owned(),
                quantity: q,
            });
        }
    }
    if line.is_empty() {
        return Err("A part needs a name.".into());
    }
    Ok(Part {
        name: line.to_owned(),
        quantity: 1.0,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parts_read_name_and_quantity() {
        let p = part("Air filter x 2").unwrap();
        assert_eq!((p.name.as_str(), p.quantity), ("Air filter", 2.0));
        let p = part("Toner ×1.5").unwrap();
        assert_eq!((p.name.as_str(), p.quantity), ("Toner", 1.5));
        let p = part("Box of screws").unwrap();
        assert_eq!((p.name.as_str(), p.quantity), ("Box of screws", 1.0));
        let p = part("Fuse 10").unwrap();
        assert_eq!((p.name.as_str(), p.quantity), ("Fuse 10", 1.0));
    }

    fn plan_like() -> Plan {
        Plan {
            id: 1,
            title: "Boiler".into(),
            instructions: String::new(),
            checklist: Vec::new(),
            parts: Vec::new(),
            estimated_minutes: None,
            trigger: Trigger::default(),
            timezone: None,
            lead_secs: 0,
            assignee_id: None,
            group_id: None,
            priority: 4,
            escalate_after_secs: None,
            escalate_group_id: None,
            active: true,
            targets: Vec::new(),
            asset_count: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn form_values_become_a_plan_and_back() {
        let mut v = Values::fresh();
        v.title = "Boiler".into();
        v.checklist = "Check pressure\n\n Bleed radiators \n".into();
        v.parts = "Gasket x 2".into();
        v.kind = "monthly".into();
        v.meter = "running_hours".into();
        v.meter_every = "500".into();
        v.assets = "#12, 15".into();
        v.types = vec!["3".into()];
        let input = v.input().unwrap();
        assert_eq!(input.checklist, ["Check pressure", "Bleed radiators"]);
        assert_eq!(input.targets.len(), 3);
        assert!(input.trigger.compile().is_ok());
        let mut stored = Plan {
            trigger: input.trigger.clone(),
            ..plan_like()
        };
        stored.trigger.calendar = Some(Calendar::MonthlyWeekday {
            nth: "2".into(),
            weekday: "Tue".into(),
            at: "07:00".into(),
            every_months: 3,
        });
        let back = Values::of(&stored);
        assert_eq!(
            (back.nth.as_str(), back.weekday.as_str()),
            ("second", "tuesday")
        );
        assert_eq!(back.meter_every, "500");
        v.every_days = "many".into();
        v.kind = "interval".into();
        assert!(v.input().unwrap_err().contains("not a number"));
    }
}
