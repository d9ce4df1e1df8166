//! Maintenance plans' triggers and each asset's schedule under a plan: when the next work
//! order is due and why. Plain arithmetic over injected times; the evaluator
//! (`crate::maintenance`) stores the results.
//!
//! A plan's trigger combines up to three rules, and whichever falls due first wins:
//! - a calendar rule on the site's wall clock (see `domain::recurrence` for the
//!   daylight-saving rule): a cron expression, the n-th or last weekday of the month, or an
//!   interval of days that is either *fixed* to the schedule (every 30 days from the start,
//!   whenever the work was done) or *floating* from the last completion (30 days after it
//!   was last done, so a late job moves the next one);
//! - a meter threshold (every 10,000 pages): a work order when a reading crosses the next
//!   threshold, once per crossing however many readings follow;
//! - a maximum interval between completions (fire extinguishers: at most 30 days), for
//!   compliance.
//!
//! Each asset keeps its own state ([`PairState`]): when the plan started applying to it
//! (occurrences before that are never generated), the due date of the last calendar work
//! order (the cursor), whether that one is still open, and when the work was last done.

use super::recurrence::{Nth, Rule, resolve};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use steward_shared::schedule::Schedule;

/// A plan's trigger as stored (JSON) and sent over the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<Calendar>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter: Option<MeterRule>,
    /// At most this many days between completions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_interval_days: Option<u32>,
}

/// A calendar rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Calendar {
    /// Crontab's 5 fields on the local clock, e.g. `0 2 * * *`.
    Cron { expr: String },
    /// `nth` (first, second, third, fourth, last) `weekday` of every `every_months`-th
    /// month (counted from January) at `at` (HH:MM).
    MonthlyWeekday {
        nth: String,
        weekday: String,
        #[serde(default = "default_at")]
        at: String,
        #[serde(default = "one")]
        every_months: u32,
    },
    /// Every `every_days` days at `at`, counted from the schedule (`fixed`) or from the last
    /// completion (`floating`). The first is due on `starts_on` when given, otherwise
    /// `every_days` after the plan started applying to the asset.
    Interval {
        every_days: u32,
        #[serde(default)]
        from: IntervalFrom,
        #[serde(default = "default_at")]
        at: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        starts_on: Option<NaiveDate>,
    },
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntervalFrom {
    #[default]
    Fixed,
    Floating,
}

/// A work order every `every` units of `meter`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterRule {
    pub meter: String,
    pub every: f64,
}

fn default_at() -> String {
    "09:00".into()
}

fn one() -> u32 {
    1
}

/// Why a work order is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Schedule,
    Meter,
    MaxInterval,
    Manual,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Schedule => "schedule",
            Cause::Meter => "meter",
            Cause::MaxInterval => "max_interval",
            Cause::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Cause> {
        Some(match s {
            "schedule" => Cause::Schedule,
            "meter" => Cause::Meter,
            "max_interval" => Cause::MaxInterval,
            "manual" => Cause::Manual,
            _ => return None,
        })
    }
}

/// A trigger checked and ready to evaluate.
#[derive(Debug, Clone)]
pub struct Compiled {
    calendar: Option<Cal>,
    pub meter: Option<MeterRule>,
    max_interval: Option<Duration>,
}

#[derive(Debug, Clone)]
enum Cal {
    Rule(Rule),
    Interval {
        every: u32,
        floating: bool,
        at: NaiveTime,
        starts_on: Option<NaiveDate>,
    },
}

/// One asset's state under a plan (unix seconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PairState {
    pub anchor_at: i64,
    pub cursor_at: Option<i64>,
    /// The work order at `cursor_at` is still open.
    pub waiting: bool,
    pub last_done_at: Option<i64>,
}

/// The next due date and its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub at: i64,
    pub cause: Cause,
}

/// Longest meter name and other limits, shared with the HTTP layer.
pub const MAX_METER_NAME: usize = 40;
pub const MAX_INTERVAL_DAYS: u32 = 3660;

fn parse_at(at: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(at.trim(), "%H:%M")
        .map_err(|_| format!("{at:?} is not a time of day like 09:00"))
}

fn parse_nth(s: &str) -> Result<Nth, String> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "first" | "1" => Nth::Number(1),
        "second" | "2" => Nth::Number(2),
        "third" | "3" => Nth::Number(3),
        "fourth" | "4" => Nth::Number(4),
        "last" => Nth::Last,
        _ => {
            return Err(format!("{s:?} is not first, second, third, fourth or last"));
        }
    })
}

fn parse_weekday(s: &str) -> Result<Weekday, String> {
    s.trim()
        .parse::<Weekday>()
        .map_err(|_| format!("{s:?} is not a weekday like monday"))
}

fn date_of(tz: Tz, t: i64) -> NaiveDate {
    utc(t).with_timezone(&tz).date_naive()
}

fn utc(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

impl Trigger {
    /// Checks every rule; the message says what to fix.
    pub fn compile(&self) -> Result<Compiled, String> {
        if self.calendar.is_none() && self.meter.is_none() && self.max_interval_days.is_none() {
            return Err(
                "a trigger needs a calendar rule, a meter rule or a maximum interval".into(),
            );
        }
        let calendar = match &self.calendar {
            None => None,
            Some(Calendar::Cron { expr }) => Some(Cal::Rule(Rule::Cron(
                Schedule::parse(expr).map_err(|e| e.to_string())?,
            ))),
            Some(Calendar::MonthlyWeekday {
                nth,
                weekday,
                at,
                every_months,
            }) => {
                if !(1..=12).contains(every_months) {
                    return Err("every_months is 1 to 12".into());
                }
                Some(Cal::Rule(Rule::MonthlyWeekday {
                    nth: parse_nth(nth)?,
                    weekday: parse_weekday(weekday)?,
                    at: parse_at(at)?,
                    every_months: *every_months,
                }))
            }
            Some(Calendar::Interval {
                every_days,
                from,
                at,
                starts_on,
            }) => {
                if !(1..=MAX_INTERVAL_DAYS).contains(every_days) {
                    return Err(format!("every_days is 1 to {MAX_INTERVAL_DAYS}"));
                }
                Some(Cal::Interval {
                    every: *every_days,
                    floating: *from == IntervalFrom::Floating,
                    at: parse_at(at)?,
                    starts_on: *starts_on,
                })
            }
        };
        if let Some(m) = &self.meter {
            let name_ok = !m.meter.is_empty()
                && m.meter.len() <= MAX_METER_NAME
                && m.meter
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !name_ok {
                return Err(format!(
                    "a meter name is 1 to {MAX_METER_NAME} of a-z, 0-9 and _, like pages or running_hours"
                ));
            }
            if !(m.every.is_finite() && m.every > 0.0) {
                return Err("a meter rule's every must be a positive number".into());
            }
        }
        let max_interval = match self.max_interval_days {
            None => None,
            Some(d) if (1..=MAX_INTERVAL_DAYS).contains(&d) => Some(Duration::days(i64::from(d))),
            Some(_) => return Err(format!("max_interval_days is 1 to {MAX_INTERVAL_DAYS}")),
        };
        Ok(Compiled {
            calendar,
            meter: self.meter.clone(),
            max_interval,
        })
    }
}

impl Compiled {
    /// Whether the calendar counts from the last completion.
    pub fn floating(&self) -> bool {
        matches!(self.calendar, Some(Cal::Interval { floating: true, .. }))
    }

    /// The next work order to generate for an asset in `s`, on `tz`'s clock: the earliest of
    /// the calendar rule and the maximum interval. Meter work orders come from readings
    /// ([`meter_crossing`]), not from here. `None` when nothing is due until a completion.
    pub fn next_due(&self, tz: Tz, s: &PairState) -> Option<Due> {
        let cursor = s.cursor_at;
        let calendar = self.calendar.as_ref().and_then(|cal| {
            let at = match cal {
                Cal::Rule(rule) => rule
                    .next_after(tz, utc(cursor.unwrap_or(s.anchor_at - 1)))
                    .map(|t| t.timestamp()),
                Cal::Interval {
                    every,
                    floating: false,
                    at,
                    starts_on,
                } => {
                    let first = starts_on.unwrap_or_else(|| {
                        date_of(tz, s.anchor_at) + Duration::days(i64::from(*every))
                    });
                    let after = cursor.unwrap_or(s.anchor_at - 1);
                    Some(fixed_interval_after(tz, first, *every, *at, after))
                }
                Cal::Interval {
                    every,
                    floating: true,
                    at,
                    starts_on,
                } => {
                    if s.waiting {
                        return None;
                    }
                    let step = Duration::days(i64::from(*every));
                    let first = match (s.last_done_at, starts_on) {
                        (Some(done), _) => date_of(tz, done) + step,
                        (None, Some(day)) => *day,
                        (None, None) => date_of(tz, s.anchor_at) + step,
                    };
                    // Never at or before a work order already generated.
                    let after = cursor.unwrap_or(i64::MIN);
                    Some(fixed_interval_after(tz, first, *every, *at, after))
                }
            }?;
            Some(Due {
                at,
                cause: Cause::Schedule,
            })
        });
        let max = self.max_interval.and_then(|span| {
            let at = s.last_done_at.unwrap_or(s.anchor_at) + span.num_seconds();
            (cursor.is_none_or(|c| at > c)).then_some(Due {
                at,
                cause: Cause::MaxInterval,
            })
        });
        match (calendar, max) {
            (Some(c), Some(m)) if m.at < c.at => Some(m),
            (Some(c), _) => Some(c),
            (None, m) => m,
        }
    }

    /// The next `n` due dates for a fresh asset from `from`, assuming each is done when due.
    pub fn preview(&self, tz: Tz, from: i64, n: usize) -> Vec<Due> {
        let mut s = PairState {
            anchor_at: from,
            ..Default::default()
        };
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let Some(due) = self.next_due(tz, &s) else {
                break;
            };
            out.push(due);
            s.cursor_at = Some(due.at);
            s.last_done_at = Some(due.at);
            s.waiting = false;
        }
        out
    }
}

/// The first of `first + k * every` days (k >= 0) at `at` that falls after `after`.
fn fixed_interval_after(tz: Tz, first: NaiveDate, every: u32, at: NaiveTime, after: i64) -> i64 {
    let every = i64::from(every.max(1));
    let after_day = if after == i64::MIN {
        first
    } else {
        date_of(tz, after)
    };
    let behind = (after_day - first).num_days();
    let mut k = if behind > 0 { behind / every } else { 0 };
    loop {
        let day = first + Duration::days(k * every);
        let t = resolve(tz, day.and_time(at)).timestamp();
        if t > after {
            return t;
        }
        k += 1;
    }
}

/// A meter reading against the asset's next threshold. Returns whether a work order is
/// due, and the next threshold. Without a threshold yet (the first reading), the next is
/// the first multiple of `every` above the reading (a generator at 153 hours, serviced
/// every 500: due at 500). A reading at or past the threshold fires once, and the next
/// threshold is the first step of `every` past the reading, so a jump over several
/// thresholds fires once. (Completing a work order sets the next threshold to the latest
/// reading plus `every`.)
pub fn meter_crossing(rule: &MeterRule, next: Option<f64>, value: f64) -> (bool, f64) {
    match next {
        None => (false, ((value / rule.every).floor() + 1.0) * rule.every),
        Some(t) if value >= t => {
            let steps = ((value - t) / rule.every).floor() + 1.0;
            (true, t + steps * rule.every)
        }
        Some(t) => (false, t),
    }
}

/// A note for a due date that falls on a day when the clocks change, or `None`.
pub fn dst_note(tz: Tz, at: i64) -> Option<String> {
    let local = utc(at).with_timezone(&tz);
    let day = local.date_naive();
    let start = resolve(tz, day.and_time(NaiveTime::MIN));
    let end = resolve(tz, (day + Duration::days(1)).and_time(NaiveTime::MIN));
    let before = tz.offset_from_utc_datetime(&start.naive_utc());
    let after = tz.offset_from_utc_datetime(&(end.naive_utc() - Duration::seconds(1)));
    if before.fix() == after.fix() {
        return None;
    }
    let forward = after.fix().local_minus_utc() > before.fix().local_minus_utc();
    Some(if forward {
        format!(
            "Clocks go forward on {day} ({before} to {after}): a time in the skipped hour runs the same distance after the jump, never skipped."
        )
    } else {
        format!(
            "Clocks go back on {day} ({before} to {after}): a time in the repeated hour runs once, at its first occurrence."
        )
    })
}

/// The day of the month of `t` on `tz`'s clock (for calendars).
pub fn local_day(tz: Tz, t: i64) -> (i32, u32, u32) {
    let d = date_of(tz, t);
    (d.year(), d.month(), d.day())
}

#[cfg(test)]
#[path = "maintenance_tests.rs"]
mod tests;
