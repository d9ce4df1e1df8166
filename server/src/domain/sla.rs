//! SLA targets by priority and category, and the SLA clock: when a ticket's first
//! response and resolution are due in business time, paused while pending.
//!
//! The clock runs while a ticket is new or open, pauses while it is pending (the deadline
//! moves later by the paused business time), and stops while it is resolved or closed;
//! reopening resumes it where it stopped. The first-response clock follows the same rules
//! and stops for good at the first public staff reply. A target is breached when its
//! deadline (the earliest instant its business seconds are used up) passes with the clock
//! not stopped; a breach stays on record after resolving.

use super::calendar::Calendar;
use super::tickets::{Priority, Status};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Targets in business seconds of the ticket's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaPolicy {
    pub first_response_secs: i64,
    pub resolution_secs: i64,
}

/// Which policy applies to a ticket: by category and priority, else by priority.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlaRules {
    pub by_priority: BTreeMap<Priority, SlaPolicy>,
    /// Category name -> priority -> policy (`None`: no SLA); overrides `by_priority`
    /// where present.
    pub by_category_priority: BTreeMap<String, BTreeMap<Priority, Option<SlaPolicy>>>,
}

impl SlaRules {
    /// The policy for a ticket; `None` when no rule covers its priority (no SLA).
    pub fn policy_for(&self, priority: Priority, category: Option<&str>) -> Option<&SlaPolicy> {
        match category
            .and_then(|c| self.by_category_priority.get(c))
            .and_then(|by_priority| by_priority.get(&priority))
        {
            Some(for_category) => for_category.as_ref(),
            None => self.by_priority.get(&priority),
        }
    }
}

/// A ticket's move into `status` at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusChange {
    pub at: DateTime<Utc>,
    pub status: Status,
}

/// What a status does to the SLA clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    Running,
    Paused,
    Stopped,
}

impl Clock {
    pub fn of(status: Status) -> Clock {
        match status {
            Status::New | Status::Open => Clock::Running,
            Status::Pending => Clock::Paused,
            Status::Resolved | Status::Closed => Clock::Stopped,
        }
    }
}

/// Where a ticket stands against its SLA at some `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaState {
    /// `None` once a staff member replied or while the clock is stopped. While paused,
    /// the deadline if the ticket resumed now; once breached, the deadline that passed.
    pub first_response_due: Option<DateTime<Utc>>,
    pub first_response_breached: bool,
    /// `None` while resolved or closed; otherwise as `first_response_due`.
    pub resolution_due: Option<DateTime<Utc>>,
    pub resolution_breached: bool,
    /// The ticket is pending: nothing is counting down.
    pub paused: bool,
    /// Business seconds left to resolve, negative once business time runs past the
    /// deadline (0 between a deadline at closing time and the next opening).
    /// `None` while resolved or closed.
    pub resolution_remaining_secs: Option<i64>,
    /// The policy's resolution target, for [`at_risk`].
    pub resolution_target_secs: i64,
    /// When the ticket first missed a target (first response or resolution).
    pub breached_at: Option<DateTime<Utc>>,
}

/// The SLA state of a ticket created at `created` (as `new`), which then went through
/// `history` (in any order; changes after `now` are ignored, changes before `created`
/// count from `created`), with its first public staff reply at `first_staff_reply`.
pub fn evaluate(
    policy: &SlaPolicy,
    calendar: &Calendar,
    created: DateTime<Utc>,
    history: &[StatusChange],
    first_staff_reply: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaState {
    let (spans, status_now) = timeline(created, history, now);
    let running = spans
        .iter()
        .filter(|s| Clock::of(s.status) == Clock::Running)
        .map(|s| (s.from, s.to));
    let clock_now = Clock::of(status_now);

    let resolution = Target::run(
        calendar,
        policy.resolution_secs,
        running.clone(),
        clock_now,
        now,
    );

    let replied = first_staff_reply.filter(|r| *r <= now);
    let until_reply = running.filter_map(|(a, b)| match replied {
        Some(r) if r <= a => None,
        Some(r) => Some((a, b.min(r))),
        None => Some((a, b)),
    });
    let response_clock = if replied.is_some() {
        Clock::Stopped
    } else {
        clock_now
    };
    let response = Target::run(
        calendar,
        policy.first_response_secs,
        until_reply,
        response_clock,
        now,
    );

    SlaState {
        first_response_due: response.due,
        first_response_breached: response.breached_at.is_some(),
        resolution_due: resolution.due,
        resolution_breached: resolution.breached_at.is_some(),
        paused: clock_now == Clock::Paused,
        resolution_remaining_secs: (clock_now != Clock::Stopped).then_some(resolution.remaining),
        resolution_target_secs: policy.resolution_secs,
        breached_at: match (response.breached_at, resolution.breached_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        },
    }
}

/// Whether the ticket is close to missing its resolution target: running (not paused),
/// not yet breached, and less than `threshold_fraction` (e.g. 0.2) of the target left.
pub fn at_risk(state: &SlaState, threshold_fraction: f64) -> bool {
    !state.paused
        && !state.resolution_breached
        && state.resolution_remaining_secs.is_some_and(|left| {
            (left as f64) < threshold_fraction * state.resolution_target_secs as f64
        })
}

/// Whether a running target's deadline has passed by `now` (which may be later than the
/// `now` the state was computed at, as long as the ticket has not changed since): the
/// ticket should be escalated. Recording that it was escalated is the caller's job.
pub fn escalation_due(state: &SlaState, now: DateTime<Utc>) -> bool {
    !state.paused
        && [state.first_response_due, state.resolution_due]
            .into_iter()
            .flatten()
            .any(|due| due < now)
}

/// A stretch of time `[from, to)` the ticket spent in `status`.
struct Span {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    status: Status,
}

/// The ticket's spans covering `[created, now)`, and its status at `now`.
fn timeline(
    created: DateTime<Utc>,
    history: &[StatusChange],
    now: DateTime<Utc>,
) -> (Vec<Span>, Status) {
    let mut changes: Vec<StatusChange> = history.iter().filter(|c| c.at <= now).copied().collect();
    changes.sort_by_key(|c| c.at);
    let mut spans = Vec::with_capacity(changes.len() + 1);
    let (mut since, mut status) = (created, Status::New);
    for change in changes {
        let at = change.at.max(created);
        if at > since {
            spans.push(Span {
                from: since,
                to: at,
                status,
            });
            since = at;
        }
        status = change.status;
    }
    if now > since {
        spans.push(Span {
            from: since,
            to: now,
            status,
        });
    }
    (spans, status)
}

/// One target's clock over the running spans.
struct Target {
    due: Option<DateTime<Utc>>,
    breached_at: Option<DateTime<Utc>>,
    remaining: i64,
}

impl Target {
    fn run(
        calendar: &Calendar,
        target_secs: i64,
        running: impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)>,
        clock_now: Clock,
        now: DateTime<Utc>,
    ) -> Target {
        let mut used = 0;
        let mut breached_at = None;
        for (from, to) in running {
            let secs = calendar.business_seconds_between(from, to);
            if breached_at.is_none() && used + secs >= target_secs {
                // The budget ran out inside this span; a breach unless exactly at its end.
                let at = calendar.add_business_seconds(from, target_secs - used);
                if at < to {
                    breached_at = Some(at);
                }
            }
            used += secs;
        }
        let remaining = target_secs - used;
        let due = match (clock_now, breached_at) {
            (Clock::Stopped, _) => None,
            (_, Some(at)) => Some(at),
            _ => Some(calendar.add_business_seconds(now, remaining)),
        };
        Target {
            due,
            breached_at,
            remaining,
        }
    }
}

#[cfg(test)]
#[path = "sla_tests.rs"]
mod tests;
