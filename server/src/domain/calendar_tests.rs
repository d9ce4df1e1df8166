#![allow(clippy::unwrap_used)]

use super::*;
use chrono::{NaiveDateTime, TimeDelta, Timelike, Weekday};

const H: i64 = 3600;

fn cal(tz: &str, hours: &[&str], holidays: &[&str]) -> Calendar {
    Calendar::new(tz, hours, holidays).unwrap()
}

fn office(tz: &str) -> Calendar {
    cal(tz, &["mon-fri 09:00-17:00"], &[])
}

/// A local wall time in `tz` ("2025-03-28 16:00"); the earlier one if ambiguous.
fn local(tz: &str, s: &str) -> DateTime<Utc> {
    let tz: Tz = tz.parse().unwrap();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
    tz.from_local_datetime(&naive)
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Deterministic pseudo-random numbers (PCG's LCG step).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: i64) -> i64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as i64
    }
}

#[test]
fn parses_config_lines() {
    let c = cal(
        " Europe/Berlin ",
        &[
            "mon-fri 09:00-12:00, 13:00-17:00",
            "Saturday 10:00-14:00",
            "fri 17:00-18:00",
            "",
            "sun,wed 22:00-24:00",
        ],
        &["2025-12-25", " 2025-12-26"],
    );
    assert_eq!(c.tz(), chrono_tz::Europe::Berlin);
    assert_eq!(c.hours_text(Weekday::Mon), "09:00-12:00, 13:00-17:00");
    assert_eq!(
        c.hours_text(Weekday::Wed),
        "09:00-12:00, 13:00-17:00, 22:00-24:00"
    );
    assert_eq!(c.hours_text(Weekday::Fri), "09:00-12:00, 13:00-18:00");
    assert_eq!(c.hours_text(Weekday::Sat), "10:00-14:00");
    assert_eq!(c.hours_text(Weekday::Sun), "22:00-24:00");
    assert_eq!(c.holidays().len(), 2);
    assert_eq!(c.weekly_business_secs(), (5 * 7 + 1 + 4 + 2 + 2) * H);

    let wrap = cal("UTC", &["fri-mon 08:00-09:00"], &[]);
    assert_eq!(wrap.weekly_business_secs(), 4 * H);
    assert_eq!(wrap.hours_text(Weekday::Tue), "");
}

#[test]
fn rejects_bad_config() {
    let err = |tz: &str, hours: &[&str], holidays: &[&str]| {
        Calendar::new(tz, hours, holidays).unwrap_err().to_string()
    };
    let ok = ["mon 09:00-17:00"];
    let cases = [
        (
            err("Mars/Olympus", &ok, &[]),
            "unknown time zone \"Mars/Olympus\"",
        ),
        (err("UTC", &["mon"], &[]), "expected days then hours"),
        (
            err("UTC", &["mon-fry 09:00-17:00"], &[]),
            "unknown day \"fry\"",
        ),
        (err("UTC", &["mon 9-17"], &[]), "expected a time like 09:00"),
        (err("UTC", &["mon 09:00-24:30"], &[]), "not a time of day"),
        (err("UTC", &["mon 25:00-26:00"], &[]), "not a time of day"),
        (err("UTC", &["mon 09:00"], &[]), "expected a range"),
        (err("UTC", &["mon 22:00-06:00"], &[]), "split a night shift"),
        (
            err("UTC", &["mon 09:00-09:00"], &[]),
            "does not end after it starts",
        ),
        (err("UTC", &["mon 24:00-24:00"], &[]), "starts at 24:00"),
        (
            err("UTC", &["mon-fri 09:00-17:00", "fri 12:00-13:00"], &[]),
            "business hours on fri overlap: 09:00-17:00 and 12:00-13:00",
        ),
        (err("UTC", &ok, &["2025-02-30"]), "holiday \"2025-02-30\""),
        (err("UTC", &ok, &["25.12.2025"]), "holiday \"25.12.2025\""),
        (err("UTC", &[] as &[&str], &[]), "no business hours"),
    ];
    for (got, want) in cases {
        assert!(got.contains(want), "{got:?} should contain {want:?}");
    }
}

#[test]
fn friday_afternoon_rolls_to_monday() {
    for tz in ["UTC", "Europe/Berlin", "America/New_York"] {
        let c = office(tz);
        let due = c.add_business_seconds(local(tz, "2025-06-13 16:00"), 2 * H);
        assert_eq!(due, local(tz, "2025-06-16 10:00"), "{tz}");
        assert_eq!(
            c.business_seconds_between(local(tz, "2025-06-13 16:00"), due),
            2 * H
        );
        // Used up exactly at closing time: due then, not on Monday morning.
        let due = c.add_business_seconds(local(tz, "2025-06-13 16:00"), H);
        assert_eq!(due, local(tz, "2025-06-13 17:00"));
        // Starting outside hours counts from the next opening.
        let due = c.add_business_seconds(local(tz, "2025-06-14 12:00"), 30 * 60);
        assert_eq!(due, local(tz, "2025-06-16 09:30"));
    }
}

#[test]
fn holidays_are_skipped() {
    let tz = "Europe/Berlin";
    let c = cal(tz, &["mon-fri 09:00-17:00"], &["2025-12-25", "2025-12-26"]);
    let due = c.add_business_seconds(local(tz, "2025-12-24 16:00"), 2 * H);
    assert_eq!(due, local(tz, "2025-12-29 10:00"));
    let week =
        c.business_seconds_between(local(tz, "2025-12-22 00:00"), local(tz, "2025-12-29 00:00"));
    assert_eq!(week, 3 * 8 * H);
    assert!(!c.is_business_time(local(tz, "2025-12-25 10:00")));
    assert!(c.is_business_time(local(tz, "2025-12-24 10:00")));
    assert!(!c.is_business_time(local(tz, "2025-12-24 17:00")));
}

#[test]
fn several_ranges_per_day() {
    let c = cal("UTC", &["mon-fri 09:00-12:00, 13:00-17:00"], &[]);
    let due = c.add_business_seconds(utc("2025-06-16T11:00:00Z"), 2 * H);
    assert_eq!(due, utc("2025-06-16T14:00:00Z"));
    // Reaching the budget at 12:00 is due at 12:00, not after lunch.
    let due = c.add_business_seconds(utc("2025-06-16T11:00:00Z"), H);
    assert_eq!(due, utc("2025-06-16T12:00:00Z"));
    let day = c.business_seconds_between(utc("2025-06-16T00:00:00Z"), utc("2025-06-17T00:00:00Z"));
    assert_eq!(day, 7 * H);
}

#[test]
fn ranges_ending_at_midnight() {
    let c = cal("UTC", &["mon-sun 20:00-24:00"], &[]);
    let due = c.add_business_seconds(utc("2025-06-16T23:00:00Z"), 2 * H);
    assert_eq!(due, utc("2025-06-17T21:00:00Z"));
    // A night shift over two lines is one stretch.
    let night = cal("UTC", &["mon 22:00-24:00", "tue 00:00-06:00"], &[]);
    let due = night.add_business_seconds(utc("2025-06-16T23:00:00Z"), 2 * H);
    assert_eq!(due, utc("2025-06-17T01:00:00Z"));
    assert_eq!(
        night.add_business_seconds(utc("2025-06-16T23:00:00Z"), H),
        utc("2025-06-17T00:00:00Z")
    );
}

#[test]
fn dst_days_in_berlin_and_new_york() {
    // (zone, spring-forward Sunday, fall-back Sunday); both change at night.
    for (tz, spring, fall) in [
        ("Europe/Berlin", "2025-03-30", "2025-10-26"),
        ("America/New_York", "2025-03-09", "2025-11-02"),
    ] {
        let next = |d: &str| {
            let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap() + TimeDelta::days(1);
            format!("{d} 00:00")
        };
        let day = |c: &Calendar, d: &str| {
            c.business_seconds_between(local(tz, &format!("{d} 00:00")), local(tz, &next(d)))
        };
        let all_day = cal(tz, &["mon-sun 00:00-24:00"], &[]);
        assert_eq!(day(&all_day, spring), 23 * H, "{tz}");
        assert_eq!(day(&all_day, fall), 25 * H, "{tz}");

        let sunday = cal(tz, &["sun 09:00-17:00"], &[]);
        assert_eq!(day(&sunday, spring), 8 * H, "{tz}");
        assert_eq!(day(&sunday, fall), 8 * H, "{tz}");
        let start = local(tz, &format!("{spring} 00:00"));
        assert_eq!(
            sunday.add_business_seconds(start, 8 * H),
            local(tz, &format!("{spring} 17:00"))
        );
        let start = local(tz, &format!("{fall} 00:00"));
        assert_eq!(
            sunday.add_business_seconds(start, 8 * H),
            local(tz, &format!("{fall} 17:00"))
        );

        // The changed hour: skipped wall times count 0, repeated ones count twice.
        let night = cal(tz, &["sun 01:00-04:00"], &[]);
        assert_eq!(day(&night, spring), 2 * H, "{tz}");
        assert_eq!(day(&night, fall), 4 * H, "{tz}");
        // Both zones skip 02:00-03:00 in spring.
        let gap = cal(tz, &["sun 02:00-03:00"], &[]);
        assert_eq!(day(&gap, spring), 0, "{tz}");
        // 01:30 + 1h on the spring day: 01:30-02:00, then 03:00-03:30.
        let start = local(tz, &format!("{spring} 01:30"));
        assert_eq!(
            night.add_business_seconds(start, H),
            local(tz, &format!("{spring} 03:30"))
        );
    }
    // Berlin repeats 02:00-03:00; New York repeats 01:00-02:00.
    let berlin = cal("Europe/Berlin", &["sun 02:00-03:00"], &[]);
    assert_eq!(
        berlin.business_seconds_between(utc("2025-10-25T12:00:00Z"), utc("2025-10-26T12:00:00Z")),
        2 * H
    );
    let ny = cal("America/New_York", &["sun 01:00-02:00"], &[]);
    assert_eq!(
        ny.business_seconds_between(utc("2025-11-01T12:00:00Z"), utc("2025-11-02T12:00:00Z")),
        2 * H
    );
}

/// Counts minute by minute with chrono-tz directly, to check the fast path.
fn brute_force(
    tz: Tz,
    open: impl Fn(Weekday, i64) -> bool,
    holidays: &[NaiveDate],
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> i64 {
    let mut t = a;
    let mut secs = 0;
    while t < b {
        let l = t.with_timezone(&tz).naive_local();
        let minute = i64::from(l.hour() * 60 + l.minute());
        if !holidays.contains(&l.date()) && open(l.weekday(), minute) {
            secs += 60;
        }
        t += TimeDelta::minutes(1);
    }
    secs
}

#[test]
fn matches_brute_force_around_dst() {
    let holiday = NaiveDate::from_ymd_opt(2025, 3, 31).unwrap();
    for (name, around) in [
        (
            "Europe/Berlin",
            ["2025-03-27T00:00:00Z", "2025-10-23T00:00:00Z"],
        ),
        (
            "America/New_York",
            ["2025-03-06T00:00:00Z", "2025-10-30T00:00:00Z"],
        ),
    ] {
        let c = cal(
            name,
            &[
                "mon-fri 08:00-12:00, 13:00-18:30",
                "sat-sun 00:30-03:15, 22:00-24:00",
            ],
            &["2025-03-31"],
        );
        let open = |d: Weekday, m: i64| match d {
            Weekday::Sat | Weekday::Sun => (30..195).contains(&m) || m >= 22 * 60,
            _ => (8 * 60..12 * 60).contains(&m) || (13 * 60..18 * 60 + 30).contains(&m),
        };
        let mut rng = Lcg(7);
        for start in around {
            let start = utc(start);
            for _ in 0..12 {
                let a = start + TimeDelta::minutes(rng.below(6 * 24 * 60));
                let b = a + TimeDelta::minutes(rng.below(3 * 24 * 60));
                let want = brute_force(name.parse().unwrap(), open, &[holiday], a, b);
                assert_eq!(c.business_seconds_between(a, b), want, "{name} {a} {b}");
            }
        }
    }
}

#[test]
fn add_and_between_are_inverse() {
    let calendars = [
        Calendar::always(),
        cal(
            "Europe/Berlin",
            &["mon-fri 09:00-17:00"],
            &["2024-12-25", "2025-01-01", "2026-04-03"],
        ),
        cal(
            "America/New_York",
            &["mon-fri 07:00-11:00, 12:00-19:00", "sat 10:00-14:00"],
            &[],
        ),
        cal(
            "Australia/Lord_Howe",
            &["mon-sun 00:00-02:00, 23:30-24:00"],
            &[],
        ),
        cal("Asia/Kolkata", &["sun-thu 09:30-18:00"], &["2025-08-15"]),
    ];
    let base = utc("2023-01-01T00:00:00Z");
    let mut rng = Lcg(42);
    for c in &calendars {
        for _ in 0..300 {
            let start = base + TimeDelta::seconds(rng.below(4 * 365 * 86_400));
            let secs = rng.below(60 * 86_400);
            let due = c.add_business_seconds(start, secs);
            assert_eq!(
                c.business_seconds_between(start, due),
                secs,
                "{:?} {start} {secs}",
                c.tz()
            );
            if secs > 0 {
                let before = due - TimeDelta::seconds(1);
                assert_eq!(c.business_seconds_between(start, before), secs - 1);
                assert!(c.is_business_time(before));
            }
            let end = start + TimeDelta::seconds(rng.below(90 * 86_400));
            let between = c.business_seconds_between(start, end);
            assert!(c.add_business_seconds(start, between) <= end);
            assert_eq!(c.business_seconds_between(end, start), -between);
        }
    }
}

#[test]
fn around_the_clock_is_elapsed_time() {
    let berlin = cal("Europe/Berlin", &["mon-sun 00:00-24:00"], &[]);
    let always = Calendar::always();
    let mut rng = Lcg(1);
    for _ in 0..200 {
        let a = utc("2020-01-01T00:00:00Z") + TimeDelta::seconds(rng.below(10 * 365 * 86_400));
        let b = a + TimeDelta::seconds(rng.below(400 * 86_400));
        let elapsed = (b - a).num_seconds();
        assert_eq!(berlin.business_seconds_between(a, b), elapsed);
        assert_eq!(always.business_seconds_between(a, b), elapsed);
        assert_eq!(berlin.add_business_seconds(a, elapsed), b);
    }
}

#[test]
fn five_year_span() {
    let holidays = ["2021-12-24", "2022-12-26", "2023-05-01", "2024-10-03"];
    let c = cal("Europe/Berlin", &["mon-fri 09:00-17:00"], &holidays);
    let (a, b) = (
        local("Europe/Berlin", "2020-01-01 00:00"),
        local("Europe/Berlin", "2025-01-01 00:00"),
    );
    let mut want = 0;
    let mut d = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    while d.year() < 2025 {
        let holiday = holidays.contains(&d.format("%Y-%m-%d").to_string().as_str());
        if d.weekday().num_days_from_monday() < 5 && !holiday {
            want += 8 * H;
        }
        d += TimeDelta::days(1);
    }
    assert_eq!(c.business_seconds_between(a, b), want);
    assert_eq!(
        c.add_business_seconds(a, want),
        local("Europe/Berlin", "2024-12-31 17:00")
    );
    // Far-off deadlines still come back.
    let far = c.add_business_seconds(a, 40 * 52 * 40 * H);
    assert!(far.year() > 2055 && far.year() < 2070, "{far}");
    assert_eq!(
        Calendar::always().add_business_seconds(a, i64::MAX),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        c.add_business_seconds(a, i64::MAX / 4),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(c.add_business_seconds(a, 0), a);
    assert_eq!(c.add_business_seconds(a, -5), a);
}

#[test]
fn week_arithmetic_before_1970() {
    let c = office("UTC");
    let due = c.add_business_seconds(utc("1969-12-26T16:00:00Z"), 2 * H);
    assert_eq!(due, utc("1969-12-29T10:00:00Z"));
    let due = c.add_business_seconds(utc("1969-12-31T16:00:00Z"), 2 * H);
    assert_eq!(due, utc("1970-01-01T10:00:00Z"));
}
