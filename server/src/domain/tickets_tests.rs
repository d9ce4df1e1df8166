#![allow(clippy::unwrap_used)]

use super::*;
use Actor::*;
use Status::*;

fn rows(table: &[[&str; 4]]) -> Vec<Vec<String>> {
    table
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn names_roundtrip() {
    for t in TicketType::ALL {
        assert_eq!(t.as_str().parse::<TicketType>(), Ok(*t));
    }
    for s in Status::ALL {
        assert_eq!(s.as_str().parse::<Status>(), Ok(*s));
    }
    for l in Level::ALL {
        assert_eq!(l.as_str().parse::<Level>(), Ok(*l));
        assert_eq!(Level::from_value(l.value()), Some(*l));
    }
    for p in Priority::ALL {
        assert_eq!(p.as_str().parse::<Priority>(), Ok(*p));
        assert_eq!(Priority::from_number(p.number()), Some(*p));
    }
    assert_eq!("Open".parse::<Status>(), Ok(Open));
    assert_eq!("p1".parse::<Priority>(), Ok(Priority::Critical));
    assert_eq!("5".parse::<Priority>(), Ok(Priority::Planning));
    assert_eq!("4".parse::<Level>(), Ok(Level::Critical));
    assert_eq!(Priority::from_number(0), None);
    assert_eq!(Priority::from_number(6), None);
    assert_eq!(Level::from_value(0), None);
    let err = "waiting".parse::<Status>().unwrap_err();
    assert!(
        err.contains("new, open, pending, resolved, closed"),
        "{err}"
    );
    assert!("0".parse::<Level>().is_err() && "p6".parse::<Priority>().is_err());
    assert_eq!(
        serde_json::to_string(&TicketType::Maintenance).unwrap(),
        "\"maintenance\""
    );
    assert_eq!(
        serde_json::from_str::<Status>("\"pending\"").unwrap(),
        Pending
    );
}

#[test]
fn priority_order_and_numbers() {
    assert!(Priority::Critical > Priority::High && Priority::Low > Priority::Planning);
    let numbers: Vec<u8> = Priority::ALL.iter().map(|p| p.number()).collect();
    assert_eq!(numbers, [5, 4, 3, 2, 1]);
    let values: Vec<u8> = Level::ALL.iter().map(|l| l.value()).collect();
    assert_eq!(values, [1, 2, 3, 4]);
}

#[test]
fn default_matrix() {
    use Level as L;
    use Priority as P;
    let m = PriorityMatrix::default();
    let cases = [
        (L::Low, L::Low, P::Planning),
        (L::Low, L::Medium, P::Low),
        (L::Medium, L::Low, P::Low),
        (L::Medium, L::Medium, P::Medium),
        (L::Low, L::Critical, P::Medium),
        (L::Critical, L::Low, P::Medium),
        (L::Medium, L::Critical, P::High),
        (L::High, L::High, P::High),
        (L::High, L::Critical, P::Critical),
        (L::Critical, L::High, P::Critical),
        (L::Critical, L::Critical, P::Critical),
    ];
    for (impact, urgency, want) in cases {
        assert_eq!(m.priority(impact, urgency), want, "{impact} x {urgency}");
    }
    // Symmetric, and passes its own validation.
    for &i in Level::ALL {
        for &u in Level::ALL {
            assert_eq!(m.priority(i, u), m.priority(u, i));
        }
    }
    assert_eq!(PriorityMatrix::from_rows(m.to_rows()), Ok(m));
}

#[test]
fn custom_matrix() {
    let m = PriorityMatrix::from_rows(rows(&[
        ["5", "5", "4", "3"],
        ["p5", "4", "3", "2"],
        ["low", "Medium", "high", "critical"],
        ["medium", "high", "critical", "critical"],
    ]))
    .unwrap();
    assert_eq!(m.priority(Level::Low, Level::Medium), Priority::Planning);
    assert_eq!(m.priority(Level::Medium, Level::Critical), Priority::High);
    assert_eq!(m.priority(Level::High, Level::Low), Priority::Low);
    assert_eq!(m.priority(Level::Critical, Level::Low), Priority::Medium);
}

#[test]
fn bad_matrices_say_what_is_wrong() {
    let ok = ["low", "low", "low", "low"];
    let cases: [(Vec<Vec<String>>, &str); 4] = [
        (rows(&[ok, ok, ok]), "expected 4 rows"),
        (
            {
                let mut r = rows(&[ok, ok, ok, ok]);
                r[2].pop();
                r
            },
            "impact high has 3 entries",
        ),
        (
            rows(&[ok, ok, ["low", "urgent", "low", "low"], ok]),
            "impact high, urgency medium: unknown priority \"urgent\"",
        ),
        (
            rows(&[ok, ["low", "high", "low", "low"], ok, ok]),
            "lower than high",
        ),
    ];
    for (input, want) in cases {
        let err = PriorityMatrix::from_rows(input).unwrap_err().to_string();
        assert!(err.contains(want), "{err:?} should contain {want:?}");
    }
}

/// Every move allowed right after entering `from` (time_in_from = 0).
const ALLOWED_AT_ZERO: &[(Status, Status, Actor)] = &[
    (New, Open, Staff),
    (New, Pending, Staff),
    (New, Resolved, Staff),
    (Open, Pending, Staff),
    (Open, Resolved, Staff),
    (Pending, Open, Staff),
    (Pending, Open, Requester),
    (Pending, Open, System),
    (Pending, Resolved, Staff),
    (Resolved, Closed, Requester),
    (Resolved, Open, Requester),
    (Resolved, Open, Staff),
    (Closed, Open, Staff),
    (Closed, Open, Requester),
];

#[test]
fn every_transition() {
    let rules = WorkflowRules::default();
    let mut checked = 0;
    for &from in Status::ALL {
        for &to in Status::ALL {
            for actor in [Requester, Staff, System] {
                let want = ALLOWED_AT_ZERO.contains(&(from, to, actor));
                let got = transition(from, to, actor, TimeDelta::zero(), &rules);
                assert_eq!(got.is_ok(), want, "{from} -> {to} by {actor}: {got:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 75);
}

#[test]
fn allowed_next_lists() {
    let r = WorkflowRules::default();
    let z = TimeDelta::zero();
    assert_eq!(allowed_next(New, Staff, z, &r), [Open, Pending, Resolved]);
    assert_eq!(allowed_next(New, Requester, z, &r), []);
    assert_eq!(allowed_next(Open, Staff, z, &r), [Pending, Resolved]);
    assert_eq!(allowed_next(Pending, Requester, z, &r), [Open]);
    assert_eq!(allowed_next(Resolved, Requester, z, &r), [Open, Closed]);
    assert_eq!(allowed_next(Resolved, Staff, z, &r), [Open]);
    assert_eq!(allowed_next(Resolved, System, z, &r), []);
    assert_eq!(
        allowed_next(Resolved, System, TimeDelta::days(7), &r),
        [Closed]
    );
    assert_eq!(allowed_next(Closed, Requester, TimeDelta::days(15), &r), []);
}

#[test]
fn timers() {
    let rules = WorkflowRules {
        auto_close_after: TimeDelta::days(3),
        reopen_window: TimeDelta::hours(36),
    };
    let auto = |t| transition(Resolved, Closed, System, t, &rules);
    assert!(auto(TimeDelta::days(3) - TimeDelta::seconds(1)).is_err());
    assert!(auto(TimeDelta::days(3)).is_ok());
    assert!(auto(TimeDelta::days(30)).is_ok());

    let reopen = |actor, t| transition(Closed, Open, actor, t, &rules);
    assert!(reopen(Requester, TimeDelta::hours(36)).is_ok());
    assert!(reopen(Requester, TimeDelta::hours(37)).is_err());
    assert!(reopen(Staff, TimeDelta::days(400)).is_ok());
    assert!(reopen(System, TimeDelta::zero()).is_err());
}

#[test]
fn error_messages_list_allowed_moves() {
    let r = WorkflowRules::default();
    let z = TimeDelta::zero();
    let msg = |from, to, actor, t| transition(from, to, actor, t, &r).unwrap_err().to_string();
    assert_eq!(
        msg(Closed, Pending, Staff, z),
        "staff cannot move a ticket from closed to pending; from closed staff may move it to: open"
    );
    assert_eq!(
        msg(Open, Resolved, Requester, z),
        "requester cannot move a ticket from open to resolved; requester cannot move it from open at all"
    );
    assert_eq!(
        msg(Open, Open, Staff, z),
        "the ticket is already open; from open staff may move it to: pending, resolved"
    );
    assert_eq!(
        msg(Resolved, Closed, System, TimeDelta::days(2)),
        "a resolved ticket closes automatically only 7 days after it was resolved; \
         system cannot move it from resolved at all"
    );
    assert_eq!(
        msg(Closed, Open, Requester, TimeDelta::days(20)),
        "a requester can reopen a closed ticket only within 14 days of closing; \
         ask staff to reopen it; requester cannot move it from closed at all"
    );
    let e = transition(Closed, Open, Requester, TimeDelta::days(20), &r).unwrap_err();
    assert_eq!(e.refusal, Refusal::ReopenWindowPassed(TimeDelta::days(14)));
    assert_eq!(human(TimeDelta::hours(36)), "36 hours");
    assert_eq!(human(TimeDelta::minutes(1)), "1 minute");
}
