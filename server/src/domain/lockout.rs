//! Sign-in lockout: when failed sign-ins lock an account (or a client address), as plain
//! functions of the state and `now`. The state lives in `users` for accounts (so a lock
//! survives a restart) and in memory for addresses (`crate::sign_in_limit`).

/// How many failures lock, within what window, for how long (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures within `window_secs` that lock; at least 1.
    pub max_failures: u32,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

/// Failed sign-ins counted so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Failures {
    /// Failures since `since` (consecutive: a success resets them).
    pub count: u32,
    /// When the first counted failure happened.
    pub since: Option<i64>,
    /// Locked until this time (exclusive).
    pub locked_until: Option<i64>,
}

/// Whether a sign-in may be tried at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Open,
    /// Refused whatever the password; `until` is when it opens again.
    Locked {
        until: i64,
    },
}

impl Failures {
    /// Locked now? A lock ends by itself at `locked_until`.
    pub fn gate(&self, now: i64) -> Gate {
        match self.locked_until {
            Some(until) if now < until => Gate::Locked { until },
            _ => Gate::Open,
        }
    }

    /// The state after one more failure at `now`, and whether this failure locked it.
    /// Failures older than the window no longer count; reaching `max_failures` locks for
    /// `lockout_secs` and starts counting afresh. A failure while locked changes nothing
    /// (the lock is not extended, so an attacker cannot keep an account locked forever
    /// with one attempt per lockout; the address limit stops hammering).
    pub fn after_failure(self, policy: &Policy, now: i64) -> (Failures, bool) {
        if let Gate::Locked { .. } = self.gate(now) {
            return (self, false);
        }
        let in_window = self
            .since
            .is_some_and(|s| now >= s && now - s < policy.window_secs);
        let (count, since) = if in_window {
            (self.count.saturating_add(1), self.since)
        } else {
            (1, Some(now))
        };
        if count >= policy.max_failures.max(1) {
            let locked = Failures {
                count: 0,
                since: None,
                locked_until: Some(now.saturating_add(policy.lockout_secs)),
            };
            return (locked, true);
        }
        (
            Failures {
                count,
                since,
                locked_until: None,
            },
            false,
        )
    }

    /// The state after a successful sign-in (or an admin's unlock): nothing counted.
    pub fn cleared() -> Failures {
        Failures::default()
    }
}

/// Whole minutes until `until`, at least 1: what the refusal tells the person.
pub fn minutes_left(until: i64, now: i64) -> i64 {
    ((until - now).max(0) + 59).div_euclid(60).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Policy = Policy {
        max_failures: 5,
        window_secs: 15 * 60,
        lockout_secs: 15 * 60,
    };

    fn fail_times(mut f: Failures, times: &[i64]) -> (Failures, Vec<bool>) {
        let mut locks = Vec::new();
        for &t in times {
            let (next, locked) = f.after_failure(&P, t);
            f = next;
            locks.push(locked);
        }
        (f, locks)
    }

    #[test]
    fn the_fifth_failure_in_the_window_locks_for_the_lockout() {
        let (f, locks) = fail_times(Failures::default(), &[100, 110, 120, 130]);
        assert_eq!(locks, [false; 4]);
        assert_eq!(f.count, 4);
        assert_eq!(f.gate(131), Gate::Open);
        let (f, locked) = f.after_failure(&P, 140);
        assert!(locked);
        assert_eq!(f.gate(140), Gate::Locked { until: 140 + 900 });
        assert_eq!(f.gate(140 + 899), Gate::Locked { until: 1040 });
        assert_eq!(f.gate(140 + 900), Gate::Open);
    }

    #[test]
    fn failures_older_than_the_window_do_not_count() {
        // Four early failures, then one after the window: counting starts again.
        let (f, locks) = fail_times(Failures::default(), &[0, 1, 2, 3, 900]);
        assert_eq!(locks, [false; 5]);
        assert_eq!(f.count, 1);
        assert_eq!(f.since, Some(900));
        // Four more within the new window lock.
        let (f, locks) = fail_times(f, &[901, 902, 903, 904]);
        assert_eq!(locks, [false, false, false, true]);
        assert!(matches!(f.gate(905), Gate::Locked { .. }));
    }

    #[test]
    fn failures_while_locked_do_not_extend_the_lock() {
        let (f, _) = fail_times(Failures::default(), &[0, 1, 2, 3, 4]);
        let until = f.locked_until.expect("locked");
        let (g, locked) = f.after_failure(&P, 500);
        assert!(!locked);
        assert_eq!(g, f);
        assert_eq!(g.gate(until), Gate::Open);
        // After the lock a new round of failures is needed to lock again.
        let (g, locks) = fail_times(g, &[until, until + 1]);
        assert_eq!(locks, [false, false]);
        assert_eq!(g.count, 2);
    }

    #[test]
    fn success_clears_everything() {
        let (f, _) = fail_times(Failures::default(), &[0, 1, 2]);
        assert_eq!(f.count, 3);
        let f = Failures::cleared();
        let (f, locks) = fail_times(f, &[3, 4, 5, 6]);
        assert_eq!(locks, [false; 4], "{f:?}");
    }

    #[test]
    fn a_clock_going_backwards_starts_a_new_window() {
        let (f, _) = fail_times(Failures::default(), &[1000, 1001]);
        let (f, locked) = f.after_failure(&P, 10);
        assert!(!locked);
        assert_eq!((f.count, f.since), (1, Some(10)));
    }

    #[test]
    fn one_allowed_failure_locks_at_once() {
        let p = Policy {
            max_failures: 1,
            ..P
        };
        let (f, locked) = Failures::default().after_failure(&p, 7);
        assert!(locked);
        assert_eq!(f.locked_until, Some(7 + 900));
    }

    #[test]
    fn minutes_are_rounded_up() {
        assert_eq!(minutes_left(1000, 100), 15);
        assert_eq!(minutes_left(1000, 999), 1);
        assert_eq!(minutes_left(1000, 1000), 1);
        assert_eq!(minutes_left(1000, 941), 1);
        assert_eq!(minutes_left(1000, 939), 2);
    }
}
