//! When maintenance falls due, in a site's local time.
//!
//! Schedules are evaluated on the local wall clock, then placed on the real timeline:
//! - a local time that does not exist (the hour skipped when clocks go forward) runs at
//!   the same distance after the jump, e.g. 02:30 becomes 03:30 in Europe/Berlin in March;
//!   a run is never skipped;
//! - a local time that exists twice (the hour repeated when clocks go back) runs at the
//!   first of the two instants only; a run is never doubled.
//!
//! Rules: a cron expression (crontab's 5 fields, `steward_shared::schedule`), the n-th or
//! last weekday of every k-th month at a time of day ("first Monday", "last Friday"), and
//! a fixed interval. The caller combines rules ("whichever comes first") by taking the
//! earliest `next_after`.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use steward_shared::schedule::Schedule;

/// Which weekday of the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nth {
    /// 1 to 4: the first to the fourth.
    Number(u8),
    Last,
}

/// A recurrence rule on the local clock of `tz`.
#[derive(Debug, Clone)]
pub enum Rule {
    Cron(Schedule),
    /// The `nth` `weekday` of every `every_months`-th month (counted from January) at `at`.
    MonthlyWeekday {
        nth: Nth,
        weekday: Weekday,
        at: NaiveTime,
        every_months: u32,
    },
}

/// Places a local wall-clock time on the timeline by the rules in the module docs.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // In the gap: find where the wall clock resumes and keep the distance.
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe += Duration::minutes(1);
                if let LocalResult::Single(t) | LocalResult::Ambiguous(t, _) =
                    tz.from_local_datetime(&probe)
                {
                    // `probe` is the first valid minute after the gap; the gap's length is
                    // the offset change, which the local time skipped over.
                    let before = tz.offset_from_utc_datetime(&(t.naive_utc() - Duration::hours(6)));
                    let after = tz.offset_from_utc_datetime(&t.naive_utc());
                    use chrono::Offset;
                    let jump = after.fix().local_minus_utc() - before.fix().local_minus_utc();
                    let shifted = local + Duration::seconds(i64::from(jump.max(0)));
                    return match tz.from_local_datetime(&shifted) {
                        LocalResult::Single(s) | LocalResult::Ambiguous(s, _) => {
                            s.with_timezone(&Utc)
                        }
                        LocalResult::None => t.with_timezone(&Utc),
                    };
                }
            }
            // No zone has a day-long gap; fall back to reading the time as UTC.
            Utc.from_utc_datetime(&local)
        }
    }
}

/// The day of `nth` `weekday` in a month, if the month has one.
pub fn nth_weekday(year: i32, month: u32, nth: Nth, weekday: Weekday) -> Option<NaiveDate> {
    match nth {
        Nth::Number(n) => NaiveDate::from_weekday_of_month_opt(year, month, weekday, n),
        Nth::Last => {
            let (ny, nm) = if month == 12 {
                (year + 1, 1)
            } else {
                (year, month + 1)
            };
            let mut d = NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?;
            while d.weekday() != weekday {
                d = d.pred_opt()?;
            }
            Some(d)
        }
    }
}

impl Rule {
    /// The first run strictly after `after`, evaluated on `tz`'s wall clock.
    pub fn next_after(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Rule::Cron(s) => {
                // The local wall clock, read as if it were UTC, is what the cron fields mean.
                // Start an hour back so a run placed after a gap is not passed over.
                let local_after = after.with_timezone(&tz).naive_local() - Duration::hours(3);
                let mut cursor = Utc.from_utc_datetime(&local_after);
                for _ in 0..10_000 {
                    let next_local = s.next_after(cursor)?;
                    let real = resolve(tz, next_local.naive_utc());
                    if real > after {
                        return Some(real);
                    }
                    cursor = next_local;
                }
                None
            }
            Rule::MonthlyWeekday {
                nth,
                weekday,
                at,
                every_months,
            } => {
                let every = (*every_months).max(1);
                let local = after.with_timezone(&tz).naive_local();
                let (mut year, mut month) = (local.year(), local.month());
                for _ in 0..(12 * 50) {
                    if (month - 1) % every == 0
                        && let Some(day) = nth_weekday(year, month, *nth, *weekday)
                    {
                        let real = resolve(tz, day.and_time(*at));
                        if real > after {
                            return Some(real);
                        }
                    }
                    (year, month) = if month == 12 {
                        (year + 1, 1)
                    } else {
                        (year, month + 1)
                    };
                }
                None
            }
        }
    }

    /// The next `n` runs after `after`.
    pub fn preview(&self, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut t = after;
        while out.len() < n {
            match self.next_after(tz, t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> Tz {
        "Europe/Berlin".parse().expect("zone")
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn cron(expr: &str) -> Rule {
        Rule::Cron(Schedule::parse(expr).expect("schedule"))
    }

    #[test]
    fn two_at_night_in_berlin_fires_once_every_day_of_2027() {
        let runs = cron("0 2 * * *").preview(berlin(), utc("2026-12-31T23:00:00Z"), 365);
        assert_eq!(runs.len(), 365);
        let days: Vec<NaiveDate> = runs
            .iter()
            .map(|t| t.with_timezone(&berlin()).date_naive())
            .collect();
        let mut want = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date");
        for d in &days {
            assert_eq!(*d, want, "one run a day, none skipped or doubled");
            want = want.succ_opt().expect("date");
        }
        // 28 March 2027: 02:00 does not exist; it runs at 03:00 CEST (01:00 UTC).
        assert!(runs.contains(&utc("2027-03-28T01:00:00Z")));
        // 31 October 2027: 02:00 happens twice; it runs at the first, 02:00 CEST (00:00 UTC).
        assert!(runs.contains(&utc("2027-10-31T00:00:00Z")));
        assert!(!runs.contains(&utc("2027-10-31T01:00:00Z")));
        // Everywhere else it is 02:00 local.
        assert!(runs.iter().all(|t| {
            let l = t.with_timezone(&berlin());
            l.format("%H:%M").to_string() == "02:00"
                || l.date_naive() == NaiveDate::from_ymd_opt(2027, 3, 28).expect("date")
        }));
    }

    #[test]
    fn a_run_inside_the_skipped_hour_moves_by_the_jump() {
        // 02:30 on 28 March 2027 does not exist in Berlin: it runs at 03:30 CEST.
        let runs = cron("30 2 * * *").preview(berlin(), utc("2027-03-27T12:00:00Z"), 2);
        assert_eq!(
            runs,
            vec![utc("2027-03-28T01:30:00Z"), utc("2027-03-29T00:30:00Z")]
        );
    }

    #[test]
    fn hourly_runs_across_the_repeated_hour_are_not_doubled() {
        // Clocks go back at 03:00 CEST on 31 October 2027: local 02:00-02:59 happens twice.
        let runs = cron("0 * * * *").preview(berlin(), utc("2027-10-30T22:30:00Z"), 4);
        let local: Vec<String> = runs
            .iter()
            .map(|t| t.with_timezone(&berlin()).format("%H:%M %Z").to_string())
            .collect();
        assert_eq!(
            local,
            ["01:00 CEST", "02:00 CEST", "03:00 CET", "04:00 CET"]
        );
    }

    #[test]
    fn first_monday_and_last_friday_over_24_months() {
        let first_monday = Rule::MonthlyWeekday {
            nth: Nth::Number(1),
            weekday: Weekday::Mon,
            at: NaiveTime::from_hms_opt(9, 0, 0).expect("time"),
            every_months: 1,
        };
        let last_friday = Rule::MonthlyWeekday {
            nth: Nth::Last,
            weekday: Weekday::Fri,
            at: NaiveTime::from_hms_opt(16, 0, 0).expect("time"),
            every_months: 1,
        };
        let start = utc("2026-12-31T23:00:00Z");
        for (rule, weekday, last) in [
            (first_monday, Weekday::Mon, false),
            (last_friday, Weekday::Fri, true),
        ] {
            let runs = rule.preview(berlin(), start, 24);
            assert_eq!(runs.len(), 24);
            for (i, t) in runs.iter().enumerate() {
                let l = t.with_timezone(&berlin());
                assert_eq!(l.weekday(), weekday);
                assert_eq!(l.month0() as usize, i % 12, "one run a month, in order");
                if last {
                    assert!(l.day() + 7 > days_in_month(l.year(), l.month()), "{l}");
                } else {
                    assert!(l.day() <= 7, "{l}");
                }
            }
        }
        // Known dates: first Monday of February 2027 is the 1st; last Friday of April 2027
        // is the 30th.
        assert_eq!(
            nth_weekday(2027, 2, Nth::Number(1), Weekday::Mon),
            NaiveDate::from_ymd_opt(2027, 2, 1)
        );
        assert_eq!(
            nth_weekday(2027, 4, Nth::Last, Weekday::Fri),
            NaiveDate::from_ymd_opt(2027, 4, 30)
        );
        assert_eq!(
            nth_weekday(2027, 2, Nth::Number(5), Weekday::Mon),
            None,
            "no fifth Monday"
        );
    }

    #[test]
    fn quarterly_weekday_rules_skip_the_months_between() {
        let rule = Rule::MonthlyWeekday {
            nth: Nth::Number(2),
            weekday: Weekday::Tue,
            at: NaiveTime::from_hms_opt(10, 0, 0).expect("time"),
            every_months: 3,
        };
        let months: Vec<u32> = rule
            .preview(berlin(), utc("2027-01-01T00:00:00Z"), 4)
            .iter()
            .map(|t| t.with_timezone(&berlin()).month())
            .collect();
        assert_eq!(months, [1, 4, 7, 10]);
    }

    fn days_in_month(y: i32, m: u32) -> u32 {
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        NaiveDate::from_ymd_opt(ny, nm, 1)
            .and_then(|d| d.pred_opt())
            .map_or(31, |d| d.day())
    }
}

#[cfg(test)]
#[path = "recurrence_tests.rs"]
mod props;
