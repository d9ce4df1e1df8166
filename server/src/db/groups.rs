//! Groups of technicians: the group, its members, its assignment rule, and handing a
//! ticket to a member when the ticket lands in the group unassigned.

use super::tickets::UserRef;
use super::{DbResult, optional};
use crate::domain::assignment::{self, Strategy};
use rusqlite::{Connection, params, types::Value};
use serde::Serialize;
use std::collections::HashMap;

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub assignment: Strategy,
    /// The member round robin picked last.
    pub last_assignee_id: Option<i64>,
    /// Members in user-id order.
    pub members: Vec<UserRef>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, name, assignment, last_assignee_id, created_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Group> {
    let assignment: String = r.get(2)?;
    Ok(Group {
        id: r.get(0)?,
        name: r.get(1)?,
        // The CHECK constraint keeps this to the three known values.
        assignment: assignment.parse().unwrap_or(Strategy::Manual),
        last_assignee_id: r.get(3)?,
        members: Vec::new(),
        created_at: r.get(4)?,
    })
}

pub fn exists(c: &Connection, id: i64) -> DbResult<bool> {
    Ok(optional(c.query_row("SELECT 1 FROM groups WHERE id = ?1", [id], |_| Ok(())))?.is_some())
}

pub fn count(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row("SELECT count(*) FROM groups", [], |r| r.get(0))?)
}

/// The id of the group called `name` (case-insensitive).
pub fn id_by_name(c: &Connection, name: &str) -> DbResult<Option<i64>> {
    optional(
        c.query_row("SELECT id FROM groups WHERE name = ?1", [name], |r| {
            r.get(0)
        }),
    )
}

pub fn insert(c: &Connection, name: &str, assignment: Strategy, now: i64) -> DbResult<i64> {
    c.execute(
        "INSERT INTO groups (name, assignment, created_at) VALUES (?1, ?2, ?3)",
        params![name, assignment.as_str(), now],
    )?;
    Ok(c.last_insert_rowid())
}

fn members(c: &Connection, group_id: i64) -> DbResult<Vec<UserRef>> {
    let mut stmt = c.prepare_cached(
        "SELECT u.id, u.name FROM group_members m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = ?1 ORDER BY u.id",
    )?;
    let rows = stmt.query_map([group_id], |r| {
        Ok(UserRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(c: &Connection, id: i64) -> DbResult<Option<Group>> {
    let found = optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM groups WHERE id = ?1"),
        [id],
        from_row,
    ))?;
    let Some(mut g) = found else { return Ok(None) };
    g.members = members(c, id)?;
    Ok(Some(g))
}

/// Up to `limit` groups by name, with their members.
pub fn list(c: &Connection, limit: u32) -> DbResult<Vec<Group>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM groups ORDER BY name, id LIMIT ?1"
    ))?;
    let mut groups: Vec<Group> = stmt
        .query_map([limit], from_row)?
        .collect::<Result<_, _>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT m.group_id, u.id, u.name FROM group_members m JOIN users u ON u.id = m.user_id
         ORDER BY m.group_id, u.id",
    )?;
    let mut by_group: HashMap<i64, Vec<UserRef>> = HashMap::new();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            UserRef {
                id: r.get(1)?,
                name: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (group_id, user) = row?;
        by_group.entry(group_id).or_default().push(user);
    }
    for g in &mut groups {
        g.members = by_group.remove(&g.id).unwrap_or_default();
    }
    Ok(groups)
}

/// Renames a group and/or changes its rule; false when there is no such group.
pub fn update(
    c: &Connection,
    id: i64,
    name: Option<&str>,
    assignment: Option<Strategy>,
) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE groups SET name = coalesce(?2, name), assignment = coalesce(?3, assignment)
         WHERE id = ?1",
        params![id, name, assignment.map(Strategy::as_str)],
    )? == 1)
}

/// Replaces the members of a group (the caller checked the users).
pub fn set_members(c: &Connection, id: i64, user_ids: &[i64]) -> DbResult<()> {
    c.execute("DELETE FROM group_members WHERE group_id = ?1", [id])?;
    let mut stmt = c.prepare_cached(
        "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)",
    )?;
    for user_id in user_ids {
        stmt.execute(params![id, user_id])?;
    }
    Ok(())
}

/// Members who can take tickets now (enabled technicians and admins), with their open
/// tickets from the trigger-kept `assignee:<id>` counts: one row per member, no scan.
fn loads(c: &Connection, group_id: i64) -> DbResult<Vec<(i64, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT m.user_id, coalesce(tc.n, 0)
         FROM group_members m
         JOIN users u ON u.id = m.user_id
         LEFT JOIN ticket_counts tc ON tc.key = 'assignee:' || m.user_id
         WHERE m.group_id = ?1 AND u.disabled = 0 AND u.role IN ('technician', 'admin')
         ORDER BY m.user_id",
    )?;
    let rows = stmt.query_map([group_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Hands an open, unassigned ticket in a round-robin or least-loaded group to a member,
/// recording the change in the ticket's history as `actor`. Returns the new assignee;
/// `None` when the ticket has no group, already has an assignee, is resolved or closed,
/// or its group is manual or has nobody to take it.
pub fn auto_assign(c: &Connection, ticket_id: i64, actor: &str, now: i64) -> DbResult<Option<i64>> {
    let found = optional(c.query_row(
        "SELECT g.id, g.assignment, g.last_assignee_id
         FROM tickets t JOIN groups g ON g.id = t.group_id
         WHERE t.id = ?1 AND t.assignee_id IS NULL AND t.status IN ('new', 'open', 'pending')",
        [ticket_id],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
            ))
        },
    ))?;
    let Some((group_id, strategy, last)) = found else {
        return Ok(None);
    };
    let strategy: Strategy = strategy.parse().unwrap_or(Strategy::Manual);
    let pick = match strategy {
        Strategy::Manual => None,
        Strategy::RoundRobin => {
            let ids: Vec<i64> = loads(c, group_id)?.into_iter().map(|(id, _)| id).collect();
            assignment::round_robin(&ids, last)
        }
        Strategy::LeastLoaded => assignment::least_loaded(&loads(c, group_id)?),
    };
    let Some(user_id) = pick else {
        return Ok(None);
    };
    super::tickets::set_field(
        c,
        ticket_id,
        "assignee_id",
        Value::Integer(user_id),
        Some(&user_id.to_string()),
        actor,
        now,
    )?;
    if strategy == Strategy::RoundRobin {
        c.execute(
            "UPDATE groups SET last_assignee_id = ?2 WHERE id = ?1",
            params![group_id, user_id],
        )?;
    }
    tracing::info!(
        ticket_id,
        group_id,
        user_id,
        assignment = strategy.as_str(),
        "ticket auto-assigned"
    );
    Ok(Some(user_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tickets::{self, NewTicket};
    use crate::domain::roles::Role;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().expect("open");
        crate::db::migrations::migrate(&mut c).expect("migrate");
        c
    }

    fn user(c: &Connection, email: &str, role: Role) -> i64 {
        crate::db::users::insert(c, email, email, role, None, 0).expect("user")
    }

    fn ticket(c: &Connection, requester: i64, group: i64) -> i64 {
        let t = NewTicket {
            ticket_type: "request".into(),
            title: "t".into(),
            requester_id: requester,
            group_id: Some(group),
            impact: 2,
            urgency: 2,
            priority: 3,
            ..Default::default()
        };
        tickets::insert(c, &t, "user:1", 0).expect("ticket")
    }

    #[test]
    fn round_robin_takes_turns_and_remembers() {
        let c = db();
        let req = user(&c, "req@x", Role::Employee);
        let techs: Vec<i64> = (0..3)
            .map(|i| user(&c, &format!("t{i}@x"), Role::Technician))
            .collect();
        let g = insert(&c, "Desk", Strategy::RoundRobin, 0).expect("group");
        set_members(&c, g, &techs).expect("members");
        let picked: Vec<Option<i64>> = (0..4)
            .map(|_| auto_assign(&c, ticket(&c, req, g), "user:1", 5).expect("assign"))
            .collect();
        let want: Vec<Option<i64>> = [0, 1, 2, 0].iter().map(|&i| Some(techs[i])).collect();
        assert_eq!(picked, want);
        assert_eq!(
            get(&c, g).expect("get").expect("group").last_assignee_id,
            Some(techs[0])
        );
    }

    #[test]
    fn nothing_happens_without_a_rule_or_members() {
        let c = db();
        let req = user(&c, "req@x", Role::Employee);
        let tech = user(&c, "t@x", Role::Technician);
        let manual = insert(&c, "Manual", Strategy::Manual, 0).expect("group");
        set_members(&c, manual, &[tech]).expect("members");
        assert_eq!(
            auto_assign(&c, ticket(&c, req, manual), "a", 0).expect("m"),
            None
        );
        let empty = insert(&c, "Empty", Strategy::LeastLoaded, 0).expect("group");
        assert_eq!(
            auto_assign(&c, ticket(&c, req, empty), "a", 0).expect("e"),
            None
        );
        // An employee left in a group (role changed) is never picked.
        let emp = insert(&c, "Employees", Strategy::RoundRobin, 0).expect("group");
        set_members(&c, emp, &[req]).expect("members");
        assert_eq!(
            auto_assign(&c, ticket(&c, req, emp), "a", 0).expect("x"),
            None
        );
    }

    #[test]
    fn least_loaded_reads_the_counts() {
        let c = db();
        let req = user(&c, "req@x", Role::Employee);
        let (a, b) = (
            user(&c, "a@x", Role::Technician),
            user(&c, "b@x", Role::Admin),
        );
        let g = insert(&c, "Desk", Strategy::LeastLoaded, 0).expect("group");
        set_members(&c, g, &[a, b]).expect("members");
        // Ties go to the lowest id, then the other member has fewer open tickets.
        assert_eq!(
            auto_assign(&c, ticket(&c, req, g), "s", 0).expect("1"),
            Some(a)
        );
        assert_eq!(
            auto_assign(&c, ticket(&c, req, g), "s", 0).expect("2"),
            Some(b)
        );
        assert_eq!(
            auto_assign(&c, ticket(&c, req, g), "s", 0).expect("3"),
            Some(a)
        );
        let history = tickets::changes(&c, 3).expect("history");
        let last = history.last().expect("a change");
        assert_eq!(
            (
                last.field.as_str(),
                last.new_value.as_deref(),
                last.actor.as_str()
            ),
            ("assignee_id", Some(a.to_string().as_str()), "s")
        );
    }
}
