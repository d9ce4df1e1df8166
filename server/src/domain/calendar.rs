//! Business-hours calendars: when the service desk works, how much working time lies
//! between two instants, and when a budget of working time runs out.
//!
//! # Daylight saving time
//!
//! An instant is business time when the calendar's local wall clock at that instant reads
//! a time inside that weekday's hours, on a date that is not a holiday. So:
//!
//! - a 09:00-17:00 range is 8 real hours on every day where those wall times exist once,
//!   DST days included (zones change clocks at night);
//! - wall times skipped by a spring-forward change are not business time: a 00:00-24:00
//!   day lasts 23 hours, a 02:00-03:00 range on that day in Europe/Berlin lasts 0;
//! - wall times repeated by a fall-back change are business time both times they occur:
//!   a 00:00-24:00 day lasts 25 hours, a 02:00-03:00 range that night lasts 2 hours.
//!
//! The deadline from [`Calendar::add_business_seconds`] is the earliest instant at which
//! the budget is used up. Both core functions work in whole seconds (sub-second parts of
//! the inputs are dropped) and cost O(days spanned) cheap offset look-ups plus O(log n)
//! arithmetic per daylight-saving stretch; weeks are never walked hour by hour.
//! Offset changes closer together than one day are assumed not to happen.

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::collections::BTreeSet;

const DAY: i64 = 86_400;
/// Days from Monday 1969-12-29 to 1970-01-01, the day the naive clock counts from.
const EPOCH_WEEKDAY: i64 = 3;
/// How far ahead `add_business_seconds` looks for the next offset change at a time.
const LOOKAHEAD: i64 = 366 * DAY;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Working hours per weekday and holidays, in one time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    tz: Tz,
    /// Monday first; each day's ranges are sorted, disjoint and not touching, in seconds
    /// from local midnight (an end of 86 400 is "24:00").
    hours: [Vec<(i64, i64)>; 7],
    holidays: BTreeSet<NaiveDate>,
    /// Business seconds of a whole weekday, and their running sum from Monday.
    day_secs: [i64; 7],
    week_prefix: [i64; 8],
    /// Holidays as days since 1970-01-01, and the business seconds they remove, summed.
    holiday_days: Vec<i64>,
    holiday_prefix: Vec<i64>,
    /// UTC and the `Etc/` zones never change offset.
    fixed_offset: bool,
}

/// A calendar from config that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}: use an IANA name such as \"Europe/Berlin\"")]
    UnknownTimeZone(String),
    #[error("business hours {line:?}: {reason}")]
    Hours { line: String, reason: String },
    #[error("business hours on {day} overlap: {first} and {second}")]
    Overlap {
        day: &'static str,
        first: String,
        second: String,
    },
    #[error("holiday {0:?}: expected a date like 2025-12-25")]
    Holiday(String),
    #[error("no business hours: add a line like \"mon-fri 09:00-17:00\"")]
    Empty,
}

impl Calendar {
    /// A calendar from config strings.
    ///
    /// - `tz`: an IANA name, e.g. "Europe/Berlin".
    /// - `hours`: lines of days then ranges, e.g. "mon-fri 09:00-12:00, 13:00-17:00",
    ///   "sat 10:00-14:00", "mon,wed 08:00-24:00". Days are `mon`..`sun` (or full names),
    ///   comma-separated, with `a-b` spans (which may wrap: "fri-mon"). A range may end at
    ///   "24:00"; a night shift is two lines ("mon 22:00-24:00", "tue 00:00-06:00").
    ///   Ranges on one day must not overlap; touching ones are joined.
    /// - `holidays`: dates like "2025-12-25", with no business hours at all.
    pub fn new<H, D>(tz: &str, hours: H, holidays: D) -> Result<Self, CalendarError>
    where
        H: IntoIterator,
        H::Item: AsRef<str>,
        D: IntoIterator,
        D::Item: AsRef<str>,
    {
        let tz: Tz = tz
            .trim()
            .parse()
            .map_err(|_| CalendarError::UnknownTimeZone(tz.to_owned()))?;
        let mut week: [Vec<(i64, i64)>; 7] = Default::default();
        for line in hours {
            let line = line.as_ref();
            parse_line(line, &mut week).map_err(|reason| CalendarError::Hours {
                line: line.to_owned(),
                reason,
            })?;
        }
        for (day, ranges) in week.iter_mut().enumerate() {
            ranges.sort_unstable();
            let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
            for &(start, end) in ranges.iter() {
                match merged.last_mut() {
                    Some(last) if start < last.1 => {
                        return Err(CalendarError::Overlap {
                            day: DAY_NAMES[day],
                            first: format_range(*last),
                            second: format_range((start, end)),
                        });
                    }
                    Some(last) if start == last.1 => last.1 = end,
                    _ => merged.push((start, end)),
                }
            }
            *ranges = merged;
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::Empty);
        }
        let holidays = holidays
            .into_iter()
            .map(|d| {
                let d = d.as_ref();
                NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| CalendarError::Holiday(d.to_owned()))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(Calendar::build(tz, week, holidays))
    }

    /// Around the clock, every day, in UTC: business time is elapsed time.
    pub fn always() -> Self {
        Calendar::build(
            Tz::UTC,
            std::array::from_fn(|_| vec![(0, DAY)]),
            BTreeSet::new(),
        )
    }

    fn build(tz: Tz, hours: [Vec<(i64, i64)>; 7], holidays: BTreeSet<NaiveDate>) -> Self {
        let day_secs: [i64; 7] = std::array::from_fn(|d| hours[d].iter().map(|r| r.1 - r.0).sum());
        let mut week_prefix = [0; 8];
        for d in 0..7 {
            week_prefix[d + 1] = week_prefix[d] + day_secs[d];
        }
        let holiday_days: Vec<i64> = holidays.iter().map(|d| day_number(*d)).collect();
        let mut holiday_prefix = Vec::with_capacity(holiday_days.len() + 1);
        holiday_prefix.push(0);
        for &d in &holiday_days {
            let sum = holiday_prefix.last().copied().unwrap_or(0) + day_secs[weekday(d)];
            holiday_prefix.push(sum);
        }
        let name = tz.name();
        Calendar {
            fixed_offset: name == "UTC" || name.starts_with("Etc/"),
            tz,
            hours,
            holidays,
            day_secs,
            week_prefix,
            holiday_days,
            holiday_prefix,
        }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn holidays(&self) -> &BTreeSet<NaiveDate> {
        &self.holidays
    }

    /// Business seconds in a week without holidays.
    pub fn weekly_business_secs(&self) -> i64 {
        self.week_prefix[7]
    }

    /// The hours of a weekday as config text, e.g. "09:00-12:00, 13:00-17:00" ("" if closed).
    pub fn hours_text(&self, day: chrono::Weekday) -> String {
        let ranges: Vec<String> = self.hours[day.num_days_from_monday() as usize]
            .iter()
            .map(|r| format_range(*r))
            .collect();
        ranges.join(", ")
    }

    /// Whether the desk is working at `at`.
    pub fn is_business_time(&self, at: DateTime<Utc>) -> bool {
        let t = at.timestamp();
        let local = t + self.offset_at(t);
        self.count(local + 1) > self.count(local)
    }

    /// Business seconds in `[start, end)`; negative when `end` is before `start`.
    pub fn business_seconds_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> i64 {
        let (a, b) = (start.timestamp(), end.timestamp());
        if b < a {
            return -self.business_seconds_between(end, start);
        }
        let mut total = 0;
        let mut t = a;
        while t < b {
            let (stretch_end, off) = self.stretch(t, b);
            total += self.count(stretch_end + off) - self.count(t + off);
            t = stretch_end;
        }
        total
    }

    /// The earliest instant by which `secs` business seconds have passed since `start`:
    /// the deadline. `start` itself when `secs <= 0`; the end of time if never.
    pub fn add_business_seconds(&self, start: DateTime<Utc>, secs: i64) -> DateTime<Utc> {
        if secs <= 0 {
            return start;
        }
        let max = DateTime::<Utc>::MAX_UTC.timestamp();
        let mut t = start.timestamp();
        // Budgets beyond the end of time (e.g. "no target" sentinels) end here, not after
        // probing offsets for every day until then. Repeated fall-back hours add far less
        // than the factor of 2.
        let weeks_left = (max - t) / (7 * DAY) + 1;
        if secs / 2 > weeks_left.saturating_mul(self.weekly_business_secs()) {
            return DateTime::<Utc>::MAX_UTC;
        }
        let mut need = secs;
        while t < max {
            let limit = if self.fixed_offset {
                max
            } else {
                t.saturating_add(LOOKAHEAD).min(max)
            };
            let (end, off) = self.stretch(t, limit);
            let before = self.count(t + off);
            let have = self.count(end + off) - before;
            if have >= need {
                let local = self.first_reaching(before + need, t + off, end + off);
                return DateTime::from_timestamp(local - off, 0)
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
            }
            need -= have;
            t = end;
        }
        DateTime::<Utc>::MAX_UTC
    }

    /// The UTC offset in seconds at instant `t` (seconds since the epoch).
    fn offset_at(&self, t: i64) -> i64 {
        if self.tz == Tz::UTC {
            return 0;
        }
        let Some(at) = DateTime::from_timestamp(t, 0) else {
            return 0;
        };
        i64::from(
            self.tz
                .offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc(),
        )
    }

    /// From instant `t`, the end of its constant-offset stretch (at most `limit`) and the
    /// offset in it. Probes once a day, then bisects to the exact second of a change.
    fn stretch(&self, t: i64, limit: i64) -> (i64, i64) {
        let off = self.offset_at(t);
        if self.fixed_offset {
            return (limit, off);
        }
        let mut lo = t;
        loop {
            let probe = lo.saturating_add(DAY).min(limit);
            if self.offset_at(probe) != off {
                let mut hi = probe;
                while hi - lo > 1 {
                    let mid = lo + (hi - lo) / 2;
                    if self.offset_at(mid) == off {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                return (hi, off);
            }
            if probe >= limit {
                return (limit, off);
            }
            lo = probe;
        }
    }

    /// Business seconds on the naive local clock from Monday 1969-12-29 00:00 to `x`
    /// (seconds since 1970-01-01 00:00 local). Negative before then; only differences count.
    fn count(&self, x: i64) -> i64 {
        let day = x.div_euclid(DAY);
        let sec = x.rem_euclid(DAY);
        let from_monday = day + EPOCH_WEEKDAY;
        let wd = weekday(day);
        let base = from_monday.div_euclid(7) * self.week_prefix[7]
            + self.week_prefix[wd]
            + self.partial(wd, sec);
        let i = self.holiday_days.partition_point(|&h| h < day);
        let mut off = self.holiday_prefix[i];
        if self.holiday_days.get(i) == Some(&day) {
            off += self.partial(wd, sec);
        }
        base - off
    }

    /// Business seconds on weekday `wd` before `sec` seconds past midnight.
    fn partial(&self, wd: usize, sec: i64) -> i64 {
        self.hours[wd]
            .iter()
            .map(|&(start, end)| sec.clamp(start, end) - start)
            .sum()
    }

    /// The least naive `x` in `[lo, hi]` with `count(x) >= target`; `count(hi) >= target`.
    fn first_reaching(&self, target: i64, mut lo: i64, mut hi: i64) -> i64 {
        if self.count(lo) >= target {
            return lo;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.count(mid) >= target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

/// Days since 1970-01-01.
fn day_number(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - 719_163
}

/// Monday = 0 for a day number.
fn weekday(day: i64) -> usize {
    (day + EPOCH_WEEKDAY).rem_euclid(7) as usize
}

fn format_range((start, end): (i64, i64)) -> String {
    let hm = |s: i64| format!("{:02}:{:02}", s / 3600, s % 3600 / 60);
    format!("{}-{}", hm(start), hm(end))
}

/// Adds one "days ranges" line to `week`.
fn parse_line(line: &str, week: &mut [Vec<(i64, i64)>; 7]) -> Result<(), String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(());
    }
    let (days, ranges) = line
        .split_once(char::is_whitespace)
        .ok_or("expected days then hours, e.g. \"mon-fri 09:00-17:00\"")?;
    let days = parse_days(days)?;
    let ranges = ranges
        .split([',', ' ', '\t'])
        .filter(|r| !r.is_empty())
        .map(parse_range)
        .collect::<Result<Vec<_>, _>>()?;
    if ranges.is_empty() {
        return Err("expected hours after the days, e.g. \"09:00-17:00\"".into());
    }
    for (d, on) in days.iter().enumerate() {
        if *on {
            week[d].extend_from_slice(&ranges);
        }
    }
    Ok(())
}

fn parse_days(spec: &str) -> Result<[bool; 7], String> {
    let mut on = [false; 7];
    for item in spec.split(',') {
        let (first, last) = match item.split_once('-') {
            Some((a, b)) => (parse_day(a)?, parse_day(b)?),
            None => (parse_day(item)?, parse_day(item)?),
        };
        let mut d = first;
        loop {
            on[d] = true;
            if d == last {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    Ok(on)
}

fn parse_day(name: &str) -> Result<usize, String> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let lower = name.trim().to_ascii_lowercase();
    (0..7)
        .find(|&d| lower == DAY_NAMES[d] || lower == FULL[d])
        .ok_or_else(|| format!("unknown day {name:?}: use mon, tue, wed, thu, fri, sat, sun"))
}

fn parse_range(range: &str) -> Result<(i64, i64), String> {
    let (start, end) = range
        .split_once('-')
        .ok_or_else(|| format!("expected a range like 09:00-17:00, got {range:?}"))?;
    let (start, end) = (parse_time(start)?, parse_time(end)?);
    if start == DAY {
        return Err(format!(
            "{range:?} starts at 24:00; use 00:00 of the next day"
        ));
    }
    if start >= end {
        return Err(format!(
            "{range:?} does not end after it starts; split a night shift into two lines, \
             e.g. \"mon 22:00-24:00\" and \"tue 00:00-06:00\""
        ));
    }
    Ok((start, end))
}

/// "HH:MM" in seconds; "24:00" allowed.
fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || format!("expected a time like 09:00, got {s:?}");
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let ok_digits = |p: &str| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
    if !ok_digits(h) || m.len() != 2 || !ok_digits(m) {
        return Err(bad());
    }
    let (h, m): (i64, i64) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m > 59 || h > 24 || (h == 24 && m > 0) {
        return Err(format!("{s:?} is not a time of day (00:00 to 24:00)"));
    }
    Ok(h * 3600 + m * 60)
}

#[cfg(test)]
#[path = "calendar_tests.rs"]
mod tests;
