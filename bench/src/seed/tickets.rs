//! Generating tickets (no SQL here): what a desk accumulates over five years. Most tickets
//! are closed; about 5% are new, open or pending, most of them recent, plus an old backlog.
//! Priorities come from impact and urgency through the server's own priority matrix.

use super::assets::Fleet;
use super::people::{People, employee_name};
use crate::rng::Rng;
use crate::words::{
    CLOSINGS, INTERNAL_NOTES, LOCATIONS, REQUESTER_REPLIES, SITES, Slots, TECH_FIRST_REPLIES,
    TOPICS, fill_one,
};
use steward_server::domain::tickets::{Level, PriorityMatrix};

const MIN: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
/// How far back the oldest ticket goes.
pub const HISTORY_DAYS: i64 = 5 * 365;

/// SLA targets by P-number (index 0 is P1), in hours.
const RESPONSE_HOURS: [i64; 5] = [1, 4, 8, 24, 72];
const RESOLUTION_HOURS: [i64; 5] = [4, 24, 72, 120, 240];

const TAGS: &[&str] = &["vip", "known-issue", "hardware-swap", "follow-up", "remote"];

/// One reply or internal note.
#[derive(Debug, Clone)]
pub struct Comment {
    pub author_id: i64,
    pub internal: bool,
    pub body: String,
    pub created_at: i64,
}

/// One status change: (at, actor, old, new).
pub type StatusChange = (i64, String, Option<&'static str>, &'static str);

/// A ticket with everything that hangs off it.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: i64,
    pub ticket_type: &'static str,
    pub status: &'static str,
    pub title: String,
    pub description: String,
    pub category_id: Option<i64>,
    pub requester_id: i64,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub location: String,
    pub source: &'static str,
    pub created_at: i64,
    pub updated_at: i64,
    pub first_response_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub response_due_at: i64,
    pub resolution_due_at: i64,
    pub sla_paused: bool,
    pub breached_at: Option<i64>,
    pub satisfaction: Option<i64>,
    pub asset_id: Option<i64>,
    pub tag: Option<&'static str>,
    pub comments: Vec<Comment>,
    pub history: Vec<StatusChange>,
}

/// Makes ticket after ticket, oldest first.
pub struct Generator<'a> {
    people: &'a People,
    fleet: &'a Fleet,
    rng: Rng,
    now: i64,
    total: i64,
    /// Upper bound (exclusive) of the uniform comment count: the mean is half of it.
    comment_span: u64,
    matrix: PriorityMatrix,
    topic_weights: Vec<u32>,
}

impl<'a> Generator<'a> {
    pub fn new(
        people: &'a People,
        fleet: &'a Fleet,
        seed: u64,
        now: i64,
        total: u64,
        comments_per_ticket: f64,
    ) -> Self {
        Generator {
            people,
            fleet,
            rng: Rng::new(seed),
            now,
            total: total.max(1) as i64,
            comment_span: (2.0 * comments_per_ticket.max(0.0)).round() as u64 + 1,
            matrix: PriorityMatrix::default(),
            topic_weights: TOPICS.iter().map(|t| t.weight).collect(),
        }
    }

    /// Ticket number `id` (1-based) of `total`.
    pub fn ticket(&mut self, id: i64) -> Ticket {
        let (p, f) = (self.people, self.fleet);
        let r = &mut self.rng;
        let span = HISTORY_DAYS * DAY;
        let start = self.now - span;
        let created = start + (id - 1) * span / self.total + r.range(0, (span / self.total).max(1));
        let age = self.now - created;

        let topic = &TOPICS[r.weighted(&self.topic_weights)];
        let emp = r.skewed(p.employees);
        let requester_id = p.first_employee + emp as i64;
        let (first, _) = employee_name(emp);
        let site = (emp % SITES.len() as u64) as usize;
        let computer = f.computers.get(emp as usize).and_then(|c| c.first());
        let (asset, model) = computer.map_or(("a loaner laptop", "laptop"), |c| {
            (c.name.as_str(), c.model.as_str())
        });
        let mut fix = String::new();
        let blank = Slots {
            first,
            asset,
            model,
            fix: "",
            site,
        };
        fill_one(&mut fix, topic.fixes, r, &blank);
        let slots = Slots { fix: &fix, ..blank };
        let mut title = String::new();
        fill_one(&mut title, topic.titles, r, &slots);
        let mut description = String::new();
        fill_one(&mut description, topic.details, r, &slots);
        let mut location = String::new();
        fill_one(&mut location, LOCATIONS, r, &slots);

        let impact =
            Level::from_value(1 + r.weighted(&[40, 40, 15, 5]) as u8).unwrap_or(Level::Medium);
        let urgency =
            Level::from_value(1 + r.weighted(&[35, 40, 18, 7]) as u8).unwrap_or(Level::Medium);
        let priority = i64::from(self.matrix.priority(impact, urgency).number());
        let pi = (priority - 1).clamp(0, 4) as usize;
        let response_due_at = created + RESPONSE_HOURS[pi] * HOUR;
        let resolution_due_at = created + RESOLUTION_HOURS[pi] * HOUR;

        let group_index = crate::words::GROUPS
            .iter()
            .position(|g| g.0 == topic.group)
            .unwrap_or(0);
        let group_id = p.group_ids.get(group_index).copied();
        let members = p.members.get(group_index).map_or(&[][..], |m| &m[..]);
        let tech = (!members.is_empty()).then(|| *r.pick(members));

        // Lifecycle: done (resolved, then closed 3 days later) or still open.
        let open_chance = if age < 60 * DAY { 0.5 } else { 0.035 };
        let mut first_response =
            Some(created + r.range(5 * MIN, 8 * HOUR)).filter(|t| *t < self.now);
        let mut resolved = None;
        let mut closed = None;
        let status = if r.chance(open_chance) || first_response.is_none() {
            if first_response.is_none() || (age < DAY && r.chance(0.6)) || r.chance(0.1) {
                first_response = None;
                "new"
            } else if r.chance(0.25) {
                "pending"
            } else {
                "open"
            }
        } else {
            let fr = first_response.unwrap_or(created);
            let took = r.range(20 * MIN, RESOLUTION_HOURS[pi] * HOUR * 3 / 2);
            match fr + took {
                at if at >= self.now => "open",
                at => {
                    resolved = Some(at);
                    let auto_close = at + 3 * DAY;
                    if auto_close < self.now {
                        closed = Some(auto_close);
                        "closed"
                    } else {
                        "resolved"
                    }
                }
            }
        };
        let assignee_id = match status {
            "new" if r.chance(0.5) => None,
            "open" if r.chance(0.05) => None,
            _ => tech,
        };
        let breached_at = [
            (first_response.unwrap_or(self.now) > response_due_at).then_some(response_due_at),
            (resolved.unwrap_or(self.now) > resolution_due_at).then_some(resolution_due_at),
        ]
        .into_iter()
        .flatten()
        .min();

        // Conversation.
        let mut comments = Vec::new();
        let n = r.below(self.comment_span) as usize;
        let staff = assignee_id.or(tech).unwrap_or(requester_id);
        let end = resolved.unwrap_or(self.now);
        if status == "new" {
            if n > 0 {
                let mut body = String::new();
                fill_one(&mut body, REQUESTER_REPLIES, r, &slots);
                comments.push(comment(
                    requester_id,
                    false,
                    body,
                    r.range(created, self.now),
                ));
            }
        } else if let Some(fr) = first_response {
            let closing = resolved.is_some() && n > 0;
            let opening = n > usize::from(closing);
            if opening {
                let mut body = String::new();
                fill_one(&mut body, TECH_FIRST_REPLIES, r, &slots);
                comments.push(comment(staff, false, body, fr));
            }
            let middle = n - usize::from(closing) - usize::from(opening);
            let mut times: Vec<i64> = (0..middle)
                .map(|_| r.range(fr + 1, end.max(fr + 2)))
                .collect();
            times.sort_unstable();
            for at in times {
                let mut body = String::new();
                if r.chance(0.6) {
                    fill_one(&mut body, REQUESTER_REPLIES, r, &slots);
                    comments.push(comment(requester_id, false, body, at));
                } else {
                    fill_one(&mut body, INTERNAL_NOTES, r, &slots);
                    comments.push(comment(staff, true, body, at));
                }
            }
            if closing {
                let mut body = String::new();
                fill_one(&mut body, CLOSINGS, r, &slots);
                comments.push(comment(staff, false, body, end));
            }
        }

        let mut history: Vec<StatusChange> =
            vec![(created, format!("user:{requester_id}"), None, "new")];
        let by_staff = format!("user:{staff}");
        if let Some(fr) = first_response {
            history.push((fr, by_staff.clone(), Some("new"), "open"));
        }
        if status == "pending" {
            let fr = first_response.unwrap_or(created);
            history.push((
                r.range(fr, self.now),
                by_staff.clone(),
                Some("open"),
                "pending",
            ));
        }
        if let Some(at) = resolved {
            history.push((at, by_staff, Some("open"), "resolved"));
        }
        if let Some(at) = closed {
            history.push((at, "system:auto-close".into(), Some("resolved"), "closed"));
        }

        let asset_id = match topic.category {
            "Hardware" | "Software" | "Security" if r.chance(0.7) => computer.map(|c| c.id),
            "Maintenance" if !f.servers.is_empty() && r.chance(0.8) => Some(*r.pick(&f.servers)),
            _ => None,
        };
        let updated_at = [
            Some(created),
            resolved,
            closed,
            comments.last().map(|c| c.created_at),
        ]
        .into_iter()
        .flatten()
        .chain(history.iter().map(|h| h.0))
        .max()
        .unwrap_or(created);
        Ticket {
            id,
            ticket_type: topic.ticket_type,
            status,
            title,
            description,
            category_id: p.category_ids.get(topic.category).copied(),
            requester_id,
            assignee_id,
            group_id,
            impact: i64::from(impact.value()),
            urgency: i64::from(urgency.value()),
            priority,
            location,
            source: ["portal", "email", "phone", "api"][r.weighted(&[50, 30, 15, 5])],
            created_at: created,
            updated_at,
            first_response_at: first_response,
            resolved_at: resolved,
            closed_at: closed,
            response_due_at,
            resolution_due_at,
            sla_paused: status == "pending",
            breached_at,
            satisfaction: (status == "closed" && r.chance(0.2))
                .then(|| 1 + r.weighted(&[3, 4, 10, 30, 53]) as i64),
            asset_id,
            tag: r.chance(0.08).then(|| *r.pick(TAGS)),
            comments,
            history,
        }
    }
}

fn comment(author_id: i64, internal: bool, body: String, created_at: i64) -> Comment {
    Comment {
        author_id,
        internal,
        body,
        created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::assets::Computer;

    fn world() -> (People, Fleet) {
        let people = People {
            first_employee: 100,
            employees: 500,
            technicians: (1..=12).collect(),
            group_ids: (1..=6).collect(),
            members: (0..6).map(|g| vec![g + 1, g + 7]).collect(),
            category_ids: crate::words::CATEGORIES
                .iter()
                .zip(1..)
                .map(|(c, i)| (*c, i))
                .collect(),
        };
        let fleet = Fleet {
            computers: (0..500)
                .map(|i| {
                    vec![Computer {
                        id: i + 1,
                        name: format!("LT-BER-{i:06}"),
                        model: "Latitude 5440".into(),
                    }]
                })
                .collect(),
            servers: vec![900, 901],
        };
        (people, fleet)
    }

    #[test]
    fn most_tickets_are_done_and_about_five_percent_open() {
        let (people, fleet) = world();
        let now = 2_000_000_000;
        let total = 20_000;
        let mut g = Generator::new(&people, &fleet, 1, now, total, 2.0);
        let (mut open, mut comments, mut last_created) = (0, 0, 0);
        for id in 1..=total as i64 {
            let t = g.ticket(id);
            assert!(t.created_at <= now && t.updated_at >= t.created_at);
            assert!(t.created_at >= last_created - DAY, "roughly in id order");
            last_created = t.created_at;
            assert!((1..=5).contains(&t.priority));
            assert_eq!(t.history.last().map(|h| h.3), Some(t.status));
            if ["new", "open", "pending"].contains(&t.status) {
                open += 1;
            }
            comments += t.comments.len();
            assert!(
                t.comments
                    .windows(2)
                    .all(|w| w[0].created_at <= w[1].created_at)
            );
        }
        let share = f64::from(open) / total as f64;
        assert!((0.03..0.08).contains(&share), "open share {share}");
        let per = comments as f64 / total as f64;
        assert!((1.6..2.2).contains(&per), "comments per ticket {per}");
    }
}
