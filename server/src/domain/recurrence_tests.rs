//! Property tests of recurrence on a site's clock: in any zone, from any start, the runs of
//! a cron rule or a monthly weekday rule only move forward; in UTC a cron rule's runs are
//! exactly the schedule's.
#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(
        &[
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "America/Santiago",
            "Pacific/Chatham",
        ][..],
    )
    .prop_map(|z| z.parse().unwrap())
}

fn cron() -> impl Strategy<Value = Schedule> {
    (0u32..60, 0u32..24, 1u32..29, 0u32..7, 1u32..30, 0u8..5).prop_map(|(m, h, d, w, k, shape)| {
        let expr = match shape {
            0 => format!("{m} {h} * * *"),
            1 => format!("*/{k} * * * *"),
            2 => format!("{m} {h} {d} * *"),
            3 => format!("{m} {h} * * {w}"),
            _ => format!("{m} */{} * * *", k % 5 + 1),
        };
        Schedule::parse(&expr).unwrap()
    })
}

/// 2000 to 2060.
fn start() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..2_840_140_800).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn cron_runs_move_forward_in_any_zone(s in cron(), tz in zone(), from in start()) {
        let rule = Rule::Cron(s.clone());
        let runs = rule.preview(tz, from, 12);
        prop_assert_eq!(runs.len(), 12);
        prop_assert!(runs[0] > from);
        prop_assert!(runs.windows(2).all(|w| w[0] < w[1]), "{:?}", runs);
        let utc = rule.preview(chrono_tz::UTC, from, 12);
        let mut want = Vec::new();
        let mut t = from;
        for _ in 0..12 {
            t = s.next_after(t).unwrap();
            want.push(t);
        }
        prop_assert_eq!(utc, want);
    }

    #[test]
    fn monthly_weekday_runs_fall_on_that_weekday(
        n in 0u8..5,
        w in 0u8..7,
        hour in 0u32..24,
        every in 0u32..13,
        tz in zone(),
        from in start(),
    ) {
        let nth = if n == 0 { Nth::Last } else { Nth::Number(n) };
        let weekday = Weekday::try_from(w).unwrap();
        let at = NaiveTime::from_hms_opt(hour, 30, 0).unwrap();
        let rule = Rule::MonthlyWeekday { nth, weekday, at, every_months: every };
        let runs = rule.preview(tz, from, 6);
        prop_assert_eq!(runs.len(), 6);
        prop_assert!(runs[0] > from);
        prop_assert!(runs.windows(2).all(|p| p[0] < p[1]), "{:?}", runs);
        for r in &runs {
            let local = r.with_timezone(&tz);
            prop_assert_eq!(local.weekday(), weekday, "{} in {}", local, tz);
        }
    }
}
