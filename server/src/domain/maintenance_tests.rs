//! Tests of the maintenance schedule arithmetic, with times injected.

use super::*;
use proptest::prelude::*;

fn berlin() -> Tz {
    "Europe/Berlin".parse().expect("zone")
}

fn t(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).expect("time").timestamp()
}

fn local(tz: Tz, at: i64) -> String {
    utc(at)
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

fn trigger(json: &str) -> Compiled {
    serde_json::from_str::<Trigger>(json)
        .expect("json")
        .compile()
        .expect("valid")
}

#[test]
fn fixed_interval_keeps_its_rhythm_and_floating_follows_the_completion() {
    let tz = berlin();
    let fixed = trigger(
        r#"{"calendar": {"kind": "interval", "every_days": 30, "at": "08:00", "starts_on": "2027-01-04"}}"#,
    );
    let floating = trigger(
        r#"{"calendar": {"kind": "interval", "every_days": 30, "from": "floating", "at": "08:00", "starts_on": "2027-01-04"}}"#,
    );
    let anchor = t("2027-01-01T00:00:00Z");
    let fresh = PairState {
        anchor_at: anchor,
        ..Default::default()
    };
    // Both are first due on the start day.
    for c in [&fixed, &floating] {
        let due = c.next_due(tz, &fresh).expect("due");
        assert_eq!(local(tz, due.at), "2027-01-04 08:00 CET");
        assert_eq!(due.cause, Cause::Schedule);
    }
    // The first work order was generated; it is done 10 days late, on 14 January.
    let after = PairState {
        anchor_at: anchor,
        cursor_at: Some(t("2027-01-04T07:00:00Z")),
        waiting: false,
        last_done_at: Some(t("2027-01-14T15:00:00Z")),
    };
    // Fixed: 30 days after the schedule's date, whenever the work was done.
    assert_eq!(
        local(tz, fixed.next_due(tz, &after).expect("due").at),
        "2027-02-03 08:00 CET"
    );
    // Floating: 30 days after the completion.
    assert_eq!(
        local(tz, floating.next_due(tz, &after).expect("due").at),
        "2027-02-13 08:00 CET"
    );
    // While the work order is open, a floating plan waits; a fixed one goes on.
    let open = PairState {
        waiting: true,
        last_done_at: None,
        ..after
    };
    assert_eq!(floating.next_due(tz, &open), None);
    assert!(fixed.next_due(tz, &open).is_some());
}

#[test]
fn fixed_interval_crosses_daylight_saving_on_the_local_clock() {
    let tz = berlin();
    let weekly = trigger(
        r#"{"calendar": {"kind": "interval", "every_days": 7, "at": "02:30", "starts_on": "2027-03-21"}}"#,
    );
    let runs: Vec<String> = weekly
        .preview(tz, t("2027-03-01T00:00:00Z"), 3)
        .iter()
        .map(|d| local(tz, d.at))
        .collect();
    // 02:30 on 28 March does not exist: it runs at 03:30 CEST, then back to 02:30.
    assert_eq!(
        runs,
        [
            "2027-03-21 02:30 CET",
            "2027-03-28 03:30 CEST",
            "2027-04-04 02:30 CEST"
        ]
    );
    let notes: Vec<bool> = weekly
        .preview(tz, t("2027-03-01T00:00:00Z"), 3)
        .iter()
        .map(|d| dst_note(tz, d.at).is_some())
        .collect();
    assert_eq!(notes, [false, true, false]);
    let back = dst_note(tz, t("2027-10-31T00:00:00Z")).expect("clocks go back");
    assert!(back.contains("go back"), "{back}");
}

#[test]
fn max_interval_wins_when_it_comes_first() {
    let tz = berlin();
    // Monthly on the first Monday, but at most 30 days between inspections.
    let c = trigger(
        r#"{"calendar": {"kind": "monthly_weekday", "nth": "first", "weekday": "monday", "at": "09:00"},
            "max_interval_days": 30}"#,
    );
    // Last done 10 January 2027; the first Monday of February is the 1st (22 days later),
    // so the calendar wins.
    let s = PairState {
        anchor_at: t("2027-01-01T00:00:00Z"),
        cursor_at: Some(t("2027-01-04T08:00:00Z")),
        waiting: false,
        last_done_at: Some(t("2027-01-10T10:00:00Z")),
    };
    let due = c.next_due(tz, &s).expect("due");
    assert_eq!(due.cause, Cause::Schedule);
    assert_eq!(local(tz, due.at), "2027-02-01 09:00 CET");
    // Done on 4 February: the first Monday of March (the 1st) still comes before the
    // 30-day limit (6 March).
    let s2 = PairState {
        cursor_at: Some(due.at),
        last_done_at: Some(t("2027-02-04T10:00:00Z")),
        ..s
    };
    assert_eq!(c.next_due(tz, &s2).expect("due").cause, Cause::Schedule);
    // A quarterly weekday rule with the same 30-day limit: the limit comes first.
    let q = trigger(
        r#"{"calendar": {"kind": "monthly_weekday", "nth": "last", "weekday": "friday", "every_months": 3},
            "max_interval_days": 30}"#,
    );
    let due = q.next_due(tz, &s2).expect("due");
    assert_eq!(due.cause, Cause::MaxInterval);
    assert_eq!(due.at, t("2027-02-04T10:00:00Z") + 30 * 86_400);
    // A maximum interval alone is due 30 days after the last completion, once.
    let only = trigger(r#"{"max_interval_days": 30}"#);
    let due = only.next_due(tz, &s2).expect("due");
    let generated = PairState {
        cursor_at: Some(due.at),
        waiting: true,
        ..s2
    };
    assert_eq!(only.next_due(tz, &generated), None, "not again until done");
}

#[test]
fn a_meter_crossing_fires_once() {
    let rule = MeterRule {
        meter: "pages".into(),
        every: 10_000.0,
    };
    // The first reading sets the next threshold at the next multiple of 10,000.
    let (fire, next) = meter_crossing(&rule, None, 153_000.0);
    assert!(!fire);
    assert_eq!(next, 160_000.0);
    // Readings below the threshold do nothing; the crossing fires; readings after it do
    // not fire again.
    let mut threshold = Some(next);
    let mut fired = 0;
    for v in [155_000.0, 159_999.0, 160_000.0, 160_500.0, 169_000.0] {
        let (fire, next) = meter_crossing(&rule, threshold, v);
        fired += usize::from(fire);
        threshold = Some(next);
    }
    assert_eq!(fired, 1);
    assert_eq!(threshold, Some(170_000.0));
    // A jump over three thresholds fires once, and the next threshold is past the reading.
    let (fire, next) = meter_crossing(&rule, Some(173_000.0), 201_000.0);
    assert!(fire);
    assert_eq!(next, 203_000.0);
}

#[test]
fn bad_triggers_are_explained() {
    for (json, want) in [
        (r#"{}"#, "needs a calendar rule"),
        (
            r#"{"calendar": {"kind": "cron", "expr": "61 * * * *"}}"#,
            "invalid schedule",
        ),
        (
            r#"{"calendar": {"kind": "monthly_weekday", "nth": "fifth", "weekday": "monday"}}"#,
            "not first",
        ),
        (
            r#"{"calendar": {"kind": "monthly_weekday", "nth": "last", "weekday": "funday"}}"#,
            "weekday",
        ),
        (
            r#"{"calendar": {"kind": "interval", "every_days": 0}}"#,
            "every_days",
        ),
        (
            r#"{"calendar": {"kind": "interval", "every_days": 7, "at": "25:00"}}"#,
            "time of day",
        ),
        (
            r#"{"meter": {"meter": "Pages!", "every": 10}}"#,
            "meter name",
        ),
        (r#"{"meter": {"meter": "pages", "every": -1}}"#, "positive"),
        (r#"{"max_interval_days": 0}"#, "max_interval_days"),
    ] {
        let err = serde_json::from_str::<Trigger>(json)
            .expect("json")
            .compile()
            .expect_err(json);
        assert!(err.contains(want), "{json}: {err}");
    }
    assert!(serde_json::from_str::<Trigger>(r#"{"calendar": {"kind": "hourly"}}"#).is_err());
    assert!(serde_json::from_str::<Trigger>(r#"{"sometimes": true}"#).is_err());
}

fn zones() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Santiago",
        "UTC",
    ])
    .prop_map(|z| z.parse::<Tz>().expect("zone"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Daily at any minute, in any zone, from any start: one run per local day, in order,
    /// none skipped or doubled, each at the rule's minute unless the clocks jumped.
    #[test]
    fn daily_cron_runs_once_per_local_day(
        tz in zones(),
        hour in 0u32..24,
        minute in 0u32..60,
        start in 1_767_225_600i64..1_830_297_600,
    ) {
        let c = trigger(&format!(r#"{{"calendar": {{"kind": "cron", "expr": "{minute} {hour} * * *"}}}}"#));
        let runs = c.preview(tz, start, 400);
        prop_assert_eq!(runs.len(), 400);
        let mut day = date_of(tz, runs[0].at);
        for w in runs.windows(2) {
            prop_assert!(w[1].at > w[0].at);
            let next = date_of(tz, w[1].at);
            prop_assert_eq!(next, day + Duration::days(1));
            day = next;
        }
    }

    /// Fixed intervals of any length land on the start day plus multiples of the interval.
    #[test]
    fn fixed_intervals_stay_on_their_days(
        tz in zones(),
        every in 1u32..120,
        start_day in 0i64..700,
    ) {
        let starts = NaiveDate::from_ymd_opt(2027, 1, 1).expect("date") + Duration::days(start_day);
        let c = trigger(&format!(
            r#"{{"calendar": {{"kind": "interval", "every_days": {every}, "at": "02:30", "starts_on": "{starts}"}}}}"#
        ));
        let runs = c.preview(tz, t("2026-12-01T00:00:00Z"), 30);
        prop_assert_eq!(runs.len(), 30);
        for (k, d) in runs.iter().enumerate() {
            prop_assert_eq!(date_of(tz, d.at), starts + Duration::days(k as i64 * i64::from(every)));
        }
    }

    /// A meter fires exactly once per threshold crossed, whatever the readings.
    #[test]
    fn meters_fire_at_most_once_per_threshold(
        steps in prop::collection::vec(0.0f64..5_000.0, 1..200),
        every in 100.0f64..10_000.0,
    ) {
        let rule = MeterRule { meter: "pages".into(), every };
        let mut value = 0.0;
        let (_, mut next) = meter_crossing(&rule, None, value);
        let mut fired = 0u32;
        for s in steps {
            value += s;
            let (fire, n) = meter_crossing(&rule, Some(next), value);
            prop_assert!(n > value);
            fired += u32::from(fire);
            next = n;
        }
        prop_assert!(f64::from(fired) <= (value / every).floor());
    }
}
