//! How a group hands a new ticket to one of its members: round robin, least loaded, or
//! not at all (manual). Pure selection; `db/groups.rs` reads the members and applies it.

use serde::{Deserialize, Serialize};

/// A group's assignment rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Tickets wait in the group's queue until someone takes them.
    Manual,
    /// Members in turn, by user id, wrapping around.
    RoundRobin,
    /// The member with the fewest open tickets (new, open, pending).
    LeastLoaded,
}

impl Strategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Manual => "manual",
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastLoaded => "least_loaded",
        }
    }
}

impl std::str::FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "manual" => Ok(Strategy::Manual),
            "round_robin" => Ok(Strategy::RoundRobin),
            "least_loaded" => Ok(Strategy::LeastLoaded),
            other => Err(format!(
                "unknown assignment {other:?}: use manual, round_robin or least_loaded"
            )),
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The member after `last` in user-id order, wrapping to the lowest id; the lowest id when
/// nobody was picked yet or `last` left the group. `None` for an empty group.
pub fn round_robin(members: &[i64], last: Option<i64>) -> Option<i64> {
    let lowest = members.iter().copied().min();
    match last {
        None => lowest,
        Some(last) => members
            .iter()
            .copied()
            .filter(|&m| m > last)
            .min()
            .or(lowest),
    }
}

/// The member with the fewest open tickets, from `(user_id, open_tickets)`; ties go to the
/// lowest user id. `None` for an empty group.
pub fn least_loaded(loads: &[(i64, i64)]) -> Option<i64> {
    loads
        .iter()
        .min_by_key(|&&(id, open)| (open, id))
        .map(|&(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_takes_turns_and_wraps() {
        let members = [7, 3, 5];
        assert_eq!(round_robin(&members, None), Some(3));
        assert_eq!(round_robin(&members, Some(3)), Some(5));
        assert_eq!(round_robin(&members, Some(5)), Some(7));
        assert_eq!(round_robin(&members, Some(7)), Some(3), "wraps around");
    }

    #[test]
    fn round_robin_survives_the_last_assignee_leaving() {
        // 4 left the group: the next id after it still comes next.
        assert_eq!(round_robin(&[3, 5, 7], Some(4)), Some(5));
        assert_eq!(round_robin(&[3, 5, 7], Some(9)), Some(3));
        assert_eq!(round_robin(&[3], Some(3)), Some(3), "one member takes all");
    }

    #[test]
    fn empty_groups_pick_nobody() {
        assert_eq!(round_robin(&[], None), None);
        assert_eq!(round_robin(&[], Some(3)), None);
        assert_eq!(least_loaded(&[]), None);
    }

    #[test]
    fn least_loaded_picks_the_fewest_open_tickets() {
        assert_eq!(least_loaded(&[(3, 4), (5, 1), (7, 2)]), Some(5));
        assert_eq!(least_loaded(&[(3, 0)]), Some(3));
    }

    #[test]
    fn least_loaded_ties_go_to_the_lowest_id() {
        assert_eq!(least_loaded(&[(9, 1), (4, 1), (6, 1)]), Some(4));
        assert_eq!(least_loaded(&[(9, 0), (4, 2), (6, 0)]), Some(6));
    }

    #[test]
    fn strategies_parse_round_trip() {
        for s in [
            Strategy::Manual,
            Strategy::RoundRobin,
            Strategy::LeastLoaded,
        ] {
            assert_eq!(s.as_str().parse::<Strategy>(), Ok(s));
        }
        assert!("random".parse::<Strategy>().is_err());
    }
}
