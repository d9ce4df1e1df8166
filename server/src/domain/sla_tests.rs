#![allow(clippy::unwrap_used)]

use super::*;
use Status::*;
use chrono::TimeDelta;

const H: i64 = 3600;

/// Mon-Fri 09:00-17:00 UTC; 2025-06-16 is a Monday.
fn office() -> Calendar {
    Calendar::new("UTC", ["mon-fri 09:00-17:00"], [] as [&str; 0]).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2025-06-{s}:00Z"))
        .unwrap()
        .with_timezone(&Utc)
}

fn policy() -> SlaPolicy {
    SlaPolicy {
        first_response_secs: H,
        resolution_secs: 8 * H,
    }
}

fn change(when: &str, status: Status) -> StatusChange {
    StatusChange {
        at: at(when),
        status,
    }
}

fn eval(history: &[StatusChange], reply: Option<&str>, now: &str) -> SlaState {
    evaluate(
        &policy(),
        &office(),
        at("16T09:00"),
        history,
        reply.map(at),
        at(now),
    )
}

#[test]
fn policy_lookup() {
    let p = |secs| SlaPolicy {
        first_response_secs: secs,
        resolution_secs: 10 * secs,
    };
    let mut rules = SlaRules::default();
    rules.by_priority.insert(Priority::High, p(H));
    rules.by_priority.insert(Priority::Low, p(8 * H));
    rules
        .by_category_priority
        .entry("network".into())
        .or_default()
        .insert(Priority::High, Some(p(600)));
    // "No SLA for low-priority facilities tickets" overrides the general low target.
    rules
        .by_category_priority
        .entry("facilities".into())
        .or_default()
        .insert(Priority::Low, None);
    assert_eq!(rules.policy_for(Priority::Low, Some("facilities")), None);
    assert_eq!(rules.policy_for(Priority::High, None), Some(&p(H)));
    assert_eq!(
        rules.policy_for(Priority::High, Some("network")),
        Some(&p(600))
    );
    assert_eq!(
        rules.policy_for(Priority::Low, Some("network")),
        Some(&p(8 * H))
    );
    assert_eq!(
        rules.policy_for(Priority::High, Some("printers")),
        Some(&p(H))
    );
    assert_eq!(rules.policy_for(Priority::Critical, Some("network")), None);
}

#[test]
fn running_clock() {
    let s = eval(&[change("16T09:05", Open)], None, "16T09:30");
    assert_eq!(s.first_response_due, Some(at("16T10:00")));
    assert_eq!(s.resolution_due, Some(at("16T17:00")));
    assert_eq!(s.resolution_remaining_secs, Some(7 * H + 1800));
    assert!(!s.first_response_breached && !s.resolution_breached && !s.paused);
    assert_eq!(s.breached_at, None);
    // Created after hours: both clocks start at the next opening.
    let s = evaluate(
        &policy(),
        &office(),
        at("20T18:00"),
        &[],
        None,
        at("21T12:00"),
    );
    assert_eq!(s.first_response_due, Some(at("23T10:00")));
    assert_eq!(s.resolution_due, Some(at("23T17:00")));
    assert_eq!(s.resolution_remaining_secs, Some(8 * H));
}

#[test]
fn first_response() {
    // Met: the clock stops at the reply and nothing is due any more.
    let s = eval(&[change("16T09:05", Open)], Some("16T09:40"), "16T12:00");
    assert_eq!(s.first_response_due, None);
    assert!(!s.first_response_breached);
    assert_eq!(s.breached_at, None);
    // Met exactly at the deadline.
    let s = eval(&[], Some("16T10:00"), "16T12:00");
    assert!(!s.first_response_breached);
    // Late reply: breached at the deadline, for good.
    let s = eval(&[], Some("16T11:00"), "16T12:00");
    assert!(s.first_response_breached);
    assert_eq!(s.first_response_due, None);
    assert_eq!(s.breached_at, Some(at("16T10:00")));
    // No reply yet: due date passed, escalate.
    let s = eval(&[], None, "16T10:30");
    assert!(s.first_response_breached);
    assert_eq!(s.first_response_due, Some(at("16T10:00")));
    assert!(escalation_due(&s, at("16T10:30")));
    // A reply in the future (clock skew) does not count yet.
    let s = eval(&[], Some("16T11:00"), "16T09:30");
    assert_eq!(s.first_response_due, Some(at("16T10:00")));
}

#[test]
fn pending_pauses_and_moves_the_deadline() {
    let history = [
        change("16T09:00", Open),
        change("16T10:00", Pending),
        change("17T11:00", Open),
    ];
    // While pending: paused, the deadline is where it would be if resumed now.
    let s = eval(&history[..2], Some("16T09:30"), "17T10:00");
    assert!(s.paused);
    assert_eq!(s.resolution_remaining_secs, Some(7 * H));
    assert_eq!(s.resolution_due, Some(at("17T17:00")));
    assert!(!escalation_due(&s, at("30T09:00")));
    assert!(!at_risk(&s, 0.99));
    // Resumed: paused business time Mon 10-17 + Tue 9-11 = 9h, added to the Mon 17:00 deadline.
    let s = eval(&history, Some("16T09:30"), "17T12:00");
    assert!(!s.paused);
    assert_eq!(s.resolution_due, Some(at("18T10:00")));
    let cal = office();
    let paused = cal.business_seconds_between(at("16T10:00"), at("17T11:00"));
    assert_eq!(paused, 9 * H);
    assert_eq!(
        s.resolution_due,
        Some(cal.add_business_seconds(at("16T17:00"), paused))
    );
    assert_eq!(s.resolution_remaining_secs, Some(6 * H));
}

#[test]
fn pause_shift_holds_for_many_pauses() {
    let cal = Calendar::new(
        "Europe/Berlin",
        ["mon-fri 08:00-12:00, 13:00-18:00"],
        ["2025-06-19"],
    )
    .unwrap();
    let policy = SlaPolicy {
        first_response_secs: 2 * H,
        resolution_secs: 40 * H,
    };
    let created = at("02T08:00");
    let mut seed: u64 = 9;
    let mut next = |n: i64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % n as u64) as i64
    };
    for _ in 0..200 {
        let pause = created + TimeDelta::minutes(next(8 * 24 * 60));
        let resume = pause + TimeDelta::minutes(next(5 * 24 * 60));
        let now = resume + TimeDelta::minutes(next(24 * 60));
        let history = [
            StatusChange {
                at: pause,
                status: Pending,
            },
            StatusChange {
                at: resume,
                status: Open,
            },
        ];
        let s = evaluate(&policy, &cal, created, &history, None, now);
        let plain = cal.add_business_seconds(created, policy.resolution_secs);
        let moved = cal.add_business_seconds(plain, cal.business_seconds_between(pause, resume));
        if plain < pause {
            // The deadline passed before the pause: breached, and it stays put.
            assert!(s.resolution_breached);
            assert_eq!(s.resolution_due, Some(plain));
        } else if plain > pause {
            // Met, breached or still open, the deadline is the pause-shifted one.
            assert_eq!(s.resolution_due, Some(moved), "{pause} {resume} {now}");
            assert_eq!(s.resolution_breached, moved < now);
        }
    }
}

#[test]
fn breach_detection() {
    let history = [change("16T09:00", Open)];
    // Due at closing time; an hour later nothing more has been used, but the deadline passed.
    let s = eval(&history, Some("16T09:10"), "16T18:00");
    assert!(s.resolution_breached);
    assert_eq!(s.resolution_due, Some(at("16T17:00")));
    assert_eq!(s.resolution_remaining_secs, Some(0));
    assert_eq!(s.breached_at, Some(at("16T17:00")));
    // Next day: negative remaining business time.
    let s = eval(&history, Some("16T09:10"), "17T10:30");
    assert_eq!(s.resolution_remaining_secs, Some(-(H + 1800)));
    assert!(escalation_due(&s, at("17T10:30")));
    assert!(!at_risk(&s, 0.2));
    // Exactly at the deadline: due now, not yet breached.
    let s = eval(&history, Some("16T09:10"), "16T17:00");
    assert!(!s.resolution_breached);
    assert_eq!(s.resolution_remaining_secs, Some(0));
    // Paused right at the deadline, resumed later: breached on resuming.
    let paused_at_deadline = [change("16T17:00", Pending), change("18T12:00", Open)];
    let s = eval(&paused_at_deadline, Some("16T09:10"), "18T12:30");
    assert_eq!(s.breached_at, Some(at("18T12:00")));
}

#[test]
fn resolving_stops_the_clock() {
    let on_time = [change("16T09:00", Open), change("16T15:00", Resolved)];
    let s = eval(&on_time, Some("16T09:10"), "20T12:00");
    assert_eq!(s.resolution_due, None);
    assert_eq!(s.resolution_remaining_secs, None);
    assert!(!s.resolution_breached && !escalation_due(&s, at("30T12:00")));
    // Resolved without any reply: the first-response clock stops too.
    let s = eval(&[change("16T09:30", Resolved)], None, "20T12:00");
    assert_eq!(s.first_response_due, None);
    assert!(!s.first_response_breached);
    // Late: the breach stays on record after resolving and closing.
    let late = [
        change("16T09:00", Open),
        change("17T10:00", Resolved),
        change("18T10:00", Closed),
    ];
    let s = eval(&late, Some("16T09:10"), "20T12:00");
    assert!(s.resolution_breached);
    assert_eq!(s.breached_at, Some(at("16T17:00")));
    assert_eq!(s.resolution_due, None);
}

#[test]
fn reopening_resumes_the_clock() {
    let history = [
        change("16T09:00", Open),
        change("16T15:00", Resolved),
        change("18T09:00", Open),
    ];
    let s = eval(&history, Some("16T09:10"), "18T10:00");
    assert_eq!(s.resolution_remaining_secs, Some(H));
    assert_eq!(s.resolution_due, Some(at("18T11:00")));
    assert!(!s.resolution_breached);
    assert!(at_risk(&s, 0.2));
    assert!(!at_risk(&s, 0.1));
    assert!(!escalation_due(&s, at("18T11:00")));
    assert!(escalation_due(&s, at("18T11:01")));
}

#[test]
fn history_is_taken_as_given() {
    // Out of order, a change before creation, and one after now.
    let history = [
        change("16T12:00", Pending),
        change("16T08:00", Open),
        change("30T09:00", Resolved),
    ];
    let s = eval(&history, None, "16T13:00");
    assert!(s.paused);
    assert_eq!(s.resolution_remaining_secs, Some(5 * H));
    // `now` before creation: nothing used yet.
    let s = eval(&[], None, "16T08:00");
    assert_eq!(s.resolution_remaining_secs, Some(8 * H));
    assert_eq!(s.resolution_due, Some(at("16T17:00")));
}

#[test]
fn at_risk_threshold() {
    let history = [change("16T09:00", Open)];
    let s = eval(&history, Some("16T09:10"), "16T12:00");
    assert_eq!(s.resolution_remaining_secs, Some(5 * H));
    assert!(!at_risk(&s, 0.2));
    assert!(at_risk(&s, 0.7));
    let s = eval(&history, Some("16T09:10"), "16T15:30");
    assert!(at_risk(&s, 0.2));
}

#[test]
fn clock_per_status() {
    let clocks: Vec<Clock> = Status::ALL.iter().map(|s| Clock::of(*s)).collect();
    assert_eq!(
        clocks,
        [
            Clock::Running,
            Clock::Running,
            Clock::Paused,
            Clock::Stopped,
            Clock::Stopped
        ]
    );
}
