//! Cron schedules for the agent and for maintenance plans: the usual 5-field crontab
//! syntax over the `cron` crate.
//!
//! Accepted forms:
//! - 5 fields, `minute hour day-of-month month day-of-week` (runs at second 0);
//! - 6 or 7 fields, seconds first (and an optional year last), as the `cron` crate takes;
//! - `@hourly`, `@daily`/`@midnight`, `@weekly`, `@monthly`, `@yearly`/`@annually`.
//!
//! Day-of-week numbers follow crontab in every form: 0 and 7 are Sunday, 1 is Monday,
//! 6 is Saturday; names (`MON`, `tue`, `Friday`) work too. (The `cron` crate itself counts
//! 1 = Sunday; we translate.) As in crontab, when both day-of-month and day-of-week are
//! restricted (neither starts with `*` or `?`), a day matching *either* one fires.
//!
//! `next_after` evaluates in UTC; the server's maintenance plans evaluate it in a site's
//! local time (see `steward_server::domain::recurrence`).

use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A parsed schedule; `Display` gives back the expression as written.
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    /// One schedule, or two when day-of-month and day-of-week combine with OR.
    parts: Vec<cron::Schedule>,
}

/// Why an expression was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid schedule {expr:?}: {message}")]
pub struct ScheduleError {
    pub expr: String,
    pub message: String,
}

/// Day names from Sunday; any prefix of three letters or more is accepted.
const DAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

impl Schedule {
    /// Parse a crontab expression (see the module docs for the accepted forms).
    pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
        let err = |message: String| ScheduleError {
            expr: expr.to_string(),
            message,
        };
        let trimmed = expr.trim();
        let mut fields: Vec<String> = if let Some(name) = trimmed.strip_prefix('@') {
            shorthand(name).ok_or_else(|| {
                err(format!(
                    "unknown shorthand @{name}; use @hourly, @daily, @weekly, @monthly or @yearly"
                ))
            })?
        } else {
            trimmed.split_whitespace().map(str::to_string).collect()
        };
        match fields.len() {
            5 => fields.insert(0, "0".to_string()),
            6 | 7 => {}
            n => {
                return Err(err(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week), got {n}; \
                     e.g. \"*/30 * * * *\" for every 30 minutes"
                )));
            }
        }
        // fields: sec min hour dom month dow [year]
        let restricted = |f: &str| !(f.starts_with('*') || f.starts_with('?'));
        // As written: "*/2" starts with `*` though its translation does not.
        let both_restricted = restricted(&fields[3]) && restricted(&fields[5]);
        fields[5] = translate_day_of_week(&fields[5]).map_err(err)?;
        let variants = if both_restricted {
            let mut by_dom = fields.clone();
            by_dom[5] = "*".to_string();
            let mut by_dow = fields;
            by_dow[3] = "*".to_string();
            vec![by_dom, by_dow]
        } else {
            vec![fields]
        };
        let parts = variants
            .iter()
            .map(|f| cron::Schedule::from_str(&f.join(" ")).map_err(|e| err(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let schedule = Schedule {
            expr: trimmed.to_string(),
            parts,
        };
        if schedule.next_after(DateTime::UNIX_EPOCH).is_none() {
            return Err(err("it never fires".to_string()));
        }
        Ok(schedule)
    }

    /// The first time strictly after `t` at which the schedule fires, if any.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.parts.iter().filter_map(|p| p.after(&t).next()).min()
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.expr
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expr)
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Schedule::parse(s)
    }
}

fn shorthand(name: &str) -> Option<Vec<String>> {
    let f = match name.to_ascii_lowercase().as_str() {
        "hourly" => "0 0 * * * *",
        "daily" | "midnight" => "0 0 0 * * *",
        "weekly" => "0 0 0 * * 0",
        "monthly" => "0 0 0 1 * *",
        "yearly" | "annually" => "0 0 0 1 1 *",
        _ => return None,
    };
    Some(f.split(' ').map(str::to_string).collect())
}

/// Rewrite a crontab day-of-week field (0/7 = Sunday) as the `cron` crate's (1 = Sunday).
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_string());
    }
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        days.extend(day_of_week_item(item)?);
    }
    if days.len() == 7 && field.starts_with('*') {
        return Ok("*".to_string());
    }
    let list: Vec<String> = days.iter().map(|d| (d + 1).to_string()).collect();
    Ok(list.join(","))
}

/// Days (0 = Sunday .. 6 = Saturday) matched by one comma-separated item.
fn day_of_week_item(item: &str) -> Result<Vec<u32>, String> {
    let (range, step) = match item.split_once('/') {
        Some((r, s)) => {
            let step: u32 = s
                .parse()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| format!("bad step {s:?} in day-of-week {item:?}"))?;
            (r, step)
        }
        None => (item, 1),
    };
    let (start, end) = if range == "*" || range == "?" {
        (0, 6)
    } else if let Some((a, b)) = range.split_once('-') {
        let (a, b) = (day_value(a)?, day_value(b)?);
        if a > b {
            return Err(format!("day-of-week range {range:?} goes backwards"));
        }
        (a, b)
    } else {
        let a = day_value(range)?;
        // "a/n" means from a to the end of the week, stepping by n.
        (a, if item.contains('/') { 6.max(a) } else { a })
    };
    Ok((start..=end)
        .step_by(step as usize)
        .map(|d| d % 7)
        .collect())
}

fn day_value(s: &str) -> Result<u32, String> {
    if let Ok(n) = s.parse::<u32>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!(
                "day-of-week {n} is out of range (0-7, 0 and 7 are Sunday)"
            ))
        };
    }
    let lower = s.to_ascii_lowercase();
    DAY_NAMES
        .iter()
        .position(|d| lower.len() >= 3 && d.starts_with(&lower))
        .map(|p| p as u32)
        .ok_or_else(|| format!("{s:?} is not a day of the week (use 0-7 or SUN..SAT)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, TimeZone, Timelike, Weekday};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .expect("valid date")
    }

    fn next(expr: &str, t: DateTime<Utc>) -> DateTime<Utc> {
        Schedule::parse(expr)
            .expect("parses")
            .next_after(t)
            .expect("fires")
    }

    #[test]
    fn every_fifteen_minutes() {
        let s = Schedule::parse("*/15 * * * *").expect("parses");
        let t = at(2025, 3, 10, 12, 7);
        let n1 = s.next_after(t).expect("fires");
        assert_eq!(n1, at(2025, 3, 10, 12, 15));
        assert_eq!(s.next_after(n1), Some(at(2025, 3, 10, 12, 30)));
        assert_eq!(s.to_string(), "*/15 * * * *");
    }

    #[test]
    fn default_schedule_every_thirty_minutes() {
        assert_eq!(
            next("*/30 * * * *", at(2025, 3, 10, 12, 30)),
            at(2025, 3, 10, 13, 0)
        );
    }

    #[test]
    fn one_is_monday() {
        // 2025-03-09 is a Sunday.
        let n = next("0 9 * * 1", at(2025, 3, 9, 0, 0));
        assert_eq!(n.weekday(), Weekday::Mon);
        assert_eq!(n, at(2025, 3, 10, 9, 0));
        assert_eq!(next("0 9 * * MON", at(2025, 3, 9, 0, 0)), n);
        assert_eq!(next("0 9 * * monday", at(2025, 3, 9, 0, 0)), n);
    }

    #[test]
    fn zero_and_seven_are_sunday() {
        let from = at(2025, 3, 10, 0, 0); // a Monday
        for expr in ["0 0 * * 0", "0 0 * * 7", "0 0 * * SUN"] {
            let n = next(expr, from);
            assert_eq!(n.weekday(), Weekday::Sun, "{expr}");
            assert_eq!(n, at(2025, 3, 16, 0, 0), "{expr}");
        }
    }

    #[test]
    fn weekday_ranges_and_wraps() {
        // Mon-Fri at 08:30; from Friday 09:00 the next is Monday.
        assert_eq!(
            next("30 8 * * 1-5", at(2025, 3, 14, 9, 0)),
            at(2025, 3, 17, 8, 30)
        );
        // Fri-Sun written with 7.
        let days: Vec<Weekday> = {
            let s = Schedule::parse("0 0 * * 5-7").expect("parses");
            let mut t = at(2025, 3, 10, 0, 0);
            (0..3)
                .map(|_| {
                    t = s.next_after(t).expect("fires");
                    t.weekday()
                })
                .collect()
        };
        assert_eq!(days, vec![Weekday::Fri, Weekday::Sat, Weekday::Sun]);
        assert_eq!(translate_day_of_week("*/2"), Ok("1,3,5,7".to_string()));
        assert_eq!(translate_day_of_week("1-5/2"), Ok("2,4,6".to_string()));
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        // Crontab: the 1st of the month OR any Monday.
        let s = Schedule::parse("0 0 1 * 1").expect("parses");
        let n = s.next_after(at(2025, 3, 25, 0, 0)).expect("fires"); // Tue 25 Mar
        assert_eq!(n, at(2025, 3, 31, 0, 0)); // Monday 31 Mar comes before 1 Apr
        assert_eq!(s.next_after(n), Some(at(2025, 4, 1, 0, 0)));
    }

    /// Found by `next_runs_match_a_calendar_scan`: a stepped day-of-week starts with `*`,
    /// so it narrows the day of the month (AND) rather than adding days to it (OR).
    #[test]
    fn a_starred_step_in_day_of_week_combines_with_and() {
        // The 3rd of a month that is a Sunday, Tuesday, Thursday or Saturday: 3 Feb 1990
        // (a Saturday), not Tuesday 2 January.
        assert_eq!(
            next("* * 3 * */2", at(1990, 1, 1, 0, 0)),
            at(1990, 2, 3, 0, 0)
        );
    }

    #[test]
    fn six_fields_and_shorthands() {
        let n = next("30 */5 * * * *", at(2025, 1, 1, 0, 0));
        assert_eq!((n.minute(), n.second()), (0, 30));
        assert_eq!(next("@daily", at(2025, 1, 1, 5, 0)), at(2025, 1, 2, 0, 0));
        assert_eq!(next("@hourly", at(2025, 1, 1, 5, 10)), at(2025, 1, 1, 6, 0));
        assert_eq!(
            next("@weekly", at(2025, 3, 10, 0, 0)).weekday(),
            Weekday::Sun
        );
    }

    #[test]
    fn bad_input_is_rejected_clearly() {
        let e = Schedule::parse("every 5 minutes").expect_err("rejected");
        assert!(e.message.contains("expected 5 fields"), "{e}");
        assert!(e.to_string().contains("every 5 minutes"), "{e}");
        let e = Schedule::parse("0 0 * * 8").expect_err("rejected");
        assert!(e.message.contains("out of range"), "{e}");
        let e = Schedule::parse("0 0 * * funday").expect_err("rejected");
        assert!(e.message.contains("not a day of the week"), "{e}");
        assert!(Schedule::parse("61 * * * *").is_err());
        assert!(Schedule::parse("").is_err());
        assert!(Schedule::parse("@reboot").is_err());
        let e = Schedule::parse("0 0 30 2 *").expect_err("Feb 30 never comes");
        assert!(e.message.contains("never fires"), "{e}");
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod props;
