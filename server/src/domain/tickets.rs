//! Service-desk tickets: types, statuses, the impact x urgency priority matrix and the
//! status workflow (who may move a ticket from which status to which).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares a fieldless enum with `as_str`, `ALL`, `Display` and `FromStr` over the
/// snake_case names serde uses.
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $what:literal { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let lower = s.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == lower)
                    .or_else(|| $name::from_number_str(&lower))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                        format!("unknown {} {s:?}: use {}", $what, names.join(", "))
                    })
            }
        }
    };
}

named_enum!(
    /// What kind of work a ticket asks for.
    TicketType, "ticket type" {
        /// Something is broken.
        Incident => "incident",
        /// Someone wants something (access, hardware, software).
        Request => "request",
        /// Planned work on an asset.
        Maintenance => "maintenance",
    }
);

named_enum!(
    /// Where a ticket is in its life. See [`transition`] for the allowed moves.
    Status, "status" {
        New => "new",
        Open => "open",
        /// Waiting on the requester or a third party; the SLA clock is paused.
        Pending => "pending",
        Resolved => "resolved",
        Closed => "closed",
    }
);

named_enum!(
    /// Impact (how much is affected) or urgency (how fast it hurts), 1 (low) to 4 (critical).
    Level, "level" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

named_enum!(
    /// How soon a ticket must be handled: `Critical` is P1, `Planning` is P5.
    ///
    /// The derived order runs from least to most pressing
    /// (`Planning < Low < Medium < High < Critical`), so the most pressing ticket is the `max`;
    /// [`Priority::number`] gives the conventional P-number where 1 is the highest.
    Priority, "priority" {
        Planning => "planning",
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

impl TicketType {
    fn from_number_str(_: &str) -> Option<Self> {
        None
    }
}

impl Status {
    fn from_number_str(_: &str) -> Option<Self> {
        None
    }
}

impl Level {
    /// 1 (low) to 4 (critical).
    pub fn value(self) -> u8 {
        self as u8 + 1
    }

    pub fn from_value(n: u8) -> Option<Self> {
        Level::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    fn index(self) -> usize {
        self as usize
    }

    fn from_number_str(s: &str) -> Option<Self> {
        Level::from_value(s.parse().ok()?)
    }
}

impl Priority {
    /// The P-number: 1 (critical) to 5 (planning).
    pub fn number(self) -> u8 {
        5 - self as u8
    }

    pub fn from_number(n: u8) -> Option<Self> {
        Priority::ALL
            .get(5usize.checked_sub(usize::from(n))?)
            .copied()
    }

    /// Accepts "1".."5" and "p1".."p5" besides the names.
    fn from_number_str(s: &str) -> Option<Self> {
        let digits = s.strip_prefix('p').unwrap_or(s);
        Priority::from_number(digits.parse().ok()?)
    }
}

/// Impact x urgency -> priority. Rows are impact low..critical, columns urgency low..critical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriorityMatrix {
    rows: [[Priority; 4]; 4],
}

/// A priority matrix from config that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("priority matrix: {0}")]
pub struct MatrixError(String);

impl Default for PriorityMatrix {
    /// The ITIL-style matrix, by the sum of impact and urgency (2..8):
    ///
    /// | impact \ urgency | low      | medium | high     | critical |
    /// |------------------|----------|--------|----------|----------|
    /// | low              | planning | low    | medium   | medium   |
    /// | medium           | low      | medium | medium   | high     |
    /// | high             | medium   | medium | high     | critical |
    /// | critical         | medium   | high   | critical | critical |
    fn default() -> Self {
        use Priority::*;
        PriorityMatrix {
            rows: [
                [Planning, Low, Medium, Medium],
                [Low, Medium, Medium, High],
                [Medium, Medium, High, Critical],
                [Medium, High, Critical, Critical],
            ],
        }
    }
}

impl PriorityMatrix {
    /// A matrix from config: 4 rows (impact low..critical) of 4 priorities (urgency
    /// low..critical), each a name ("high"), a number ("2") or a P-number ("p2").
    /// Raising impact or urgency must never lower the priority.
    pub fn from_rows(rows: Vec<Vec<String>>) -> Result<Self, MatrixError> {
        if rows.len() != 4 {
            return Err(MatrixError(format!(
                "expected 4 rows (impact low, medium, high, critical), got {}",
                rows.len()
            )));
        }
        let mut out = [[Priority::Planning; 4]; 4];
        for (i, row) in rows.iter().enumerate() {
            let impact = Level::ALL[i];
            if row.len() != 4 {
                return Err(MatrixError(format!(
                    "row for impact {impact} has {} entries; expected 4 (urgency low, medium, high, critical)",
                    row.len()
                )));
            }
            for (u, cell) in row.iter().enumerate() {
                out[i][u] = cell.parse().map_err(|e| {
                    MatrixError(format!("impact {impact}, urgency {}: {e}", Level::ALL[u]))
                })?;
            }
        }
        for i in 0..4 {
            for u in 0..4 {
                let (here, name) = (out[i][u], (Level::ALL[i], Level::ALL[u]));
                if i > 0 && out[i - 1][u] > here {
                    return Err(MatrixError(format!(
                        "impact {} urgency {} is {here}, lower than {} for the smaller impact {}",
                        name.0,
                        name.1,
                        out[i - 1][u],
                        Level::ALL[i - 1]
                    )));
                }
                if u > 0 && out[i][u - 1] > here {
                    return Err(MatrixError(format!(
                        "impact {} urgency {} is {here}, lower than {} for the smaller urgency {}",
                        name.0,
                        name.1,
                        out[i][u - 1],
                        Level::ALL[u - 1]
                    )));
                }
            }
        }
        Ok(PriorityMatrix { rows: out })
    }

    /// The rows as config strings; `from_rows(m.to_rows())` gives `m` back.
    pub fn to_rows(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| r.iter().map(|p| p.as_str().to_owned()).collect())
            .collect()
    }

    pub fn priority(&self, impact: Level, urgency: Level) -> Priority {
        self.rows[impact.index()][urgency.index()]
    }
}

/// Who asks for a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The person the ticket is for.
    Requester,
    /// A technician or admin.
    Staff,
    /// The server itself (timers).
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Requester => "requester",
            Actor::Staff => "staff",
            Actor::System => "system",
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The timers of the workflow, from config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkflowRules {
    /// The system closes a resolved ticket once it has been resolved this long.
    pub auto_close_after: TimeDelta,
    /// A requester may reopen a closed ticket for this long after it was closed.
    pub reopen_window: TimeDelta,
}

impl Default for WorkflowRules {
    fn default() -> Self {
        WorkflowRules {
            auto_close_after: TimeDelta::days(7),
            reopen_window: TimeDelta::days(14),
        }
    }
}

/// Why a move is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `from == to`.
    Unchanged,
    /// The actor may never make this move.
    NotPermitted,
    /// The system may close a resolved ticket only after `auto_close_after`.
    AutoCloseNotDue(TimeDelta),
    /// The requester's reopen window has passed.
    ReopenWindowPassed(TimeDelta),
}

/// A refused status change, with a message that lists the moves that are allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowError {
    pub from: Status,
    pub to: Status,
    pub actor: Actor,
    pub refusal: Refusal,
    /// What `actor` may do from `from` instead.
    pub allowed: Vec<Status>,
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let WorkflowError {
            from, to, actor, ..
        } = self;
        match self.refusal {
            Refusal::Unchanged => write!(f, "the ticket is already {from}")?,
            Refusal::NotPermitted => write!(f, "{actor} cannot move a ticket from {from} to {to}")?,
            Refusal::AutoCloseNotDue(after) => write!(
                f,
                "a resolved ticket closes automatically only {} after it was resolved",
                human(after)
            )?,
            Refusal::ReopenWindowPassed(window) => write!(
                f,
                "a requester can reopen a closed ticket only within {} of closing; ask staff to reopen it",
                human(window)
            )?,
        }
        if self.allowed.is_empty() {
            write!(f, "; {actor} cannot move it from {from} at all")
        } else {
            let list: Vec<&str> = self.allowed.iter().map(|s| s.as_str()).collect();
            write!(
                f,
                "; from {from} {actor} may move it to: {}",
                list.join(", ")
            )
        }
    }
}

impl std::error::Error for WorkflowError {}

/// Whether `actor` may move a ticket from `from` to `to`.
///
/// `time_in_from` is how long the ticket has been in `from` (now minus the time of the
/// change into `from`); it matters for the system's auto-close and the requester's reopen
/// window. The moves:
///
/// - new -> open, pending, resolved: staff
/// - open -> pending: staff; pending -> open: staff, requester (by replying), system (pending timer)
/// - open, pending -> resolved: staff
/// - resolved -> closed: requester (confirms), system once resolved for `auto_close_after`
/// - resolved -> open: requester, staff (reopen)
/// - closed -> open: staff; requester within `reopen_window` of closing
pub fn transition(
    from: Status,
    to: Status,
    actor: Actor,
    time_in_from: TimeDelta,
    rules: &WorkflowRules,
) -> Result<(), WorkflowError> {
    check(from, to, actor, time_in_from, rules).map_err(|refusal| WorkflowError {
        from,
        to,
        actor,
        refusal,
        allowed: allowed_next(from, actor, time_in_from, rules),
    })
}

/// The statuses `actor` may move a ticket to from `from`, in workflow order.
pub fn allowed_next(
    from: Status,
    actor: Actor,
    time_in_from: TimeDelta,
    rules: &WorkflowRules,
) -> Vec<Status> {
    Status::ALL
        .iter()
        .copied()
        .filter(|&to| check(from, to, actor, time_in_from, rules).is_ok())
        .collect()
}

fn check(
    from: Status,
    to: Status,
    actor: Actor,
    time_in_from: TimeDelta,
    rules: &WorkflowRules,
) -> Result<(), Refusal> {
    use Actor::*;
    use Status::*;
    if from == to {
        return Err(Refusal::Unchanged);
    }
    let ok = match (from, to, actor) {
        (New, Open | Pending | Resolved, Staff) => true,
        (Open, Pending, Staff) => true,
        (Pending, Open, Staff | Requester | System) => true,
        (Open | Pending, Resolved, Staff) => true,
        (Resolved, Closed, Requester) => true,
        (Resolved, Closed, System) => {
            if time_in_from < rules.auto_close_after {
                return Err(Refusal::AutoCloseNotDue(rules.auto_close_after));
            }
            true
        }
        (Resolved, Open, Requester | Staff) => true,
        (Closed, Open, Staff) => true,
        (Closed, Open, Requester) => {
            if time_in_from > rules.reopen_window {
                return Err(Refusal::ReopenWindowPassed(rules.reopen_window));
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Refusal::NotPermitted)
    }
}

/// "7 days", "36 hours", "90 minutes".
fn human(d: TimeDelta) -> String {
    let secs = d.num_seconds();
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3_600 == 0 {
        (secs / 3_600, "hour")
    } else {
        (secs / 60, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
#[path = "tickets_tests.rs"]
mod tests;
