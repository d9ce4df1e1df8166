//! Maintenance in words for pages: a plan's trigger as one sentence ("First Monday of
//! every month at 09:00"), times on a zone's clock, numbers without a needless ".0".

use crate::domain::maintenance::{Calendar, IntervalFrom, Trigger};
use chrono_tz::Tz;

/// "2027-03-28 03:30 CEST" on `tz`'s clock.
pub fn local(tz: Tz, at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string())
        .unwrap_or_default()
}

/// The zone named `name`, else `default`.
pub fn zone(name: Option<&str>, default: Tz) -> Tz {
    name.and_then(|n| n.parse().ok()).unwrap_or(default)
}

/// "10000", "2.5": a number without a needless ".0".
pub fn number(v: f64) -> String {
    format!("{v}")
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn capitalised(s: &str) -> String {
    let s = s.to_lowercase();
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// A cron expression in words where it is a common shape, else the expression itself.
fn cron_words(expr: &str) -> String {
    let f: Vec<&str> = expr.split_whitespace().collect();
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if f.len() == 5 && plain(f[0]) && plain(f[1]) {
        let (m, h): (u32, u32) = (f[0].parse().unwrap_or(0), f[1].parse().unwrap_or(0));
        let at = format!("{h:02}:{m:02}");
        match (f[2], f[3], f[4]) {
            ("*", "*", "*") => return format!("Every day at {at}"),
            ("*", "*", "1-5") => return format!("Every weekday at {at}"),
            ("*", "*", d) if plain(d) => {
                if let Some(name) = d.parse::<usize>().ok().and_then(|i| WEEKDAYS.get(i % 7)) {
                    return format!("Every {name} at {at}");
                }
            }
            (d, "*", "*") if plain(d) => {
                return format!(
                    "On the {} of every month at {at}",
                    ordinal(d.parse().unwrap_or(1))
                );
            }
            _ => {}
        }
    }
    format!("On the schedule “{expr}”")
}

/// A trigger in one line: "Every day at 02:00", "First Monday of every month at 09:00",
/// "Every 30 days from the last completion", "Every 10000 pages", "At most 30 days apart";
/// several rules are joined with "or" (whichever comes first).
pub fn trigger_summary(t: &Trigger) -> String {
    let mut parts = Vec::new();
    match &t.calendar {
        None => {}
        Some(Calendar::Cron { expr }) => parts.push(cron_words(expr)),
        Some(Calendar::MonthlyWeekday {
            nth,
            weekday,
            at,
            every_months,
        }) => {
            let months = if *every_months <= 1 {
                "every month".to_owned()
            } else {
                format!("every {} month", ordinal(*every_months))
            };
            parts.push(format!(
                "{} {} of {months} at {at}",
                capitalised(match nth.trim() {
                    "1" => "first",
                    "2" => "second",
                    "3" => "third",
                    "4" => "fourth",
                    other => other,
                }),
                weekday.trim().parse::<chrono::Weekday>().map_or_else(
                    |_| capitalised(weekday),
                    |d| WEEKDAYS[d.num_days_from_sunday() as usize].to_owned()
                )
            ));
        }
        Some(Calendar::Interval {
            every_days,
            from,
            at,
            starts_on,
        }) => {
            let every = if *every_days == 1 {
                "Every day".to_owned()
            } else {
                format!("Every {every_days} days")
            };
            parts.push(match (from, starts_on) {
                (IntervalFrom::Floating, _) => {
                    format!("{every} from the last completion, at {at}")
                }
                (IntervalFrom::Fixed, Some(d)) => format!("{every} at {at}, starting {d}"),
                (IntervalFrom::Fixed, None) => format!("{every} at {at}"),
            });
        }
    }
    if let Some(m) = &t.meter {
        parts.push(format!(
            "Every {} {}",
            number(m.every),
            m.meter.replace('_', " ")
        ));
    }
    if let Some(d) = t.max_interval_days {
        parts.push(format!("At most {d} days apart"));
    }
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            out.push_str(p);
        } else {
            out.push_str(", or ");
            let mut c = p.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_lowercase());
                out.push_str(c.as_str());
            }
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::maintenance::MeterRule;

    fn cal(c: Calendar) -> Trigger {
        Trigger {
            calendar: Some(c),
            ..Default::default()
        }
    }

    #[test]
    fn triggers_read_as_sentences() {
        let cron = |e: &str| trigger_summary(&cal(Calendar::Cron { expr: e.into() }));
        assert_eq!(cron("0 2 * * *"), "Every day at 02:00");
        assert_eq!(cron("30 7 * * 1"), "Every Monday at 07:30");
        assert_eq!(cron("0 6 1 * *"), "On the 1st of every month at 06:00");
        assert_eq!(cron("*/5 * * * *"), "On the schedule “*/5 * * * *”");
        let monthly = cal(Calendar::MonthlyWeekday {
            nth: "first".into(),
            weekday: "monday".into(),
            at: "09:00".into(),
            every_months: 1,
        });
        assert_eq!(
            trigger_summary(&monthly),
            "First Monday of every month at 09:00"
        );
        let quarterly = cal(Calendar::MonthlyWeekday {
            nth: "last".into(),
            weekday: "fri".into(),
            at: "17:00".into(),
            every_months: 3,
        });
        assert_eq!(
            trigger_summary(&quarterly),
            "Last Friday of every 3rd month at 17:00"
        );
        let floating = cal(Calendar::Interval {
            every_days: 30,
            from: IntervalFrom::Floating,
            at: "09:00".into(),
            starts_on: None,
        });
        assert_eq!(
            trigger_summary(&floating),
            "Every 30 days from the last completion, at 09:00"
        );
        let meter = Trigger {
            meter: Some(MeterRule {
                meter: "pages".into(),
                every: 10000.0,
            }),
            max_interval_days: Some(30),
            ..Default::default()
        };
        assert_eq!(
            trigger_summary(&meter),
            "Every 10000 pages, or at most 30 days apart"
        );
        assert_eq!(ordinal(3), "3rd");
        assert_eq!(ordinal(12), "12th");
    }
}
