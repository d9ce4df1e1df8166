//! Reference data the tickets point at: employees who file them, technicians who work
//! them, the groups technicians belong to, and ticket categories.

use crate::words::{CATEGORIES, FIRST_NAMES, GROUPS, LAST_NAMES};
use anyhow::Context;
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// Ids of what [`insert`] created.
#[derive(Debug, Default)]
pub struct People {
    pub first_employee: i64,
    pub employees: u64,
    pub technicians: Vec<i64>,
    /// Group ids, in the order of [`GROUPS`].
    pub group_ids: Vec<i64>,
    /// Technicians in each group, in the order of [`GROUPS`].
    pub members: Vec<Vec<i64>>,
    pub category_ids: HashMap<&'static str, i64>,
}

/// An employee's first and last name, from their index (unique up to 4,800 employees; the
/// email address carries the index, so it is always unique).
pub fn employee_name(i: u64) -> (&'static str, &'static str) {
    let f = FIRST_NAMES.len() as u64;
    let l = LAST_NAMES.len() as u64;
    (
        FIRST_NAMES[(i % f) as usize],
        LAST_NAMES[((i / f) % l) as usize],
    )
}

fn technician_name(i: u64) -> (&'static str, &'static str) {
    let f = FIRST_NAMES.len() as u64;
    let l = LAST_NAMES.len() as u64;
    (
        FIRST_NAMES[((i * 11 + 5) % f) as usize],
        LAST_NAMES[((i * 17 + 3) % l) as usize],
    )
}

/// Inserts users, groups with members and categories. Returns the number of rows.
pub fn insert(
    c: &Connection,
    employees: u64,
    technicians: u64,
    now: i64,
) -> anyhow::Result<(People, u64)> {
    let mut people = People {
        employees,
        ..Default::default()
    };
    let mut rows = 0;
    let mut user = c.prepare(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, NULL, ?4)",
    )?;
    for i in 0..technicians {
        let (first, last) = technician_name(i);
        let email = format!(
            "{}.{}.{i}@it.example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        user.execute(params![email, format!("{first} {last}"), "technician", now])
            .context("inserting a technician")?;
        people.technicians.push(c.last_insert_rowid());
        rows += 1;
    }
    for i in 0..employees {
        let (first, last) = employee_name(i);
        let email = format!(
            "{}.{}.{i}@example.com",
            first.to_lowercase(),
            last.to_lowercase()
        );
        user.execute(params![email, format!("{first} {last}"), "employee", now])
            .context("inserting an employee")?;
        if i == 0 {
            people.first_employee = c.last_insert_rowid();
        }
        rows += 1;
    }
    let mut group =
        c.prepare("INSERT INTO groups (name, assignment, created_at) VALUES (?1, ?2, ?3)")?;
    let mut member = c.prepare("INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2)")?;
    for (g, (name, rule)) in GROUPS.iter().enumerate() {
        group.execute(params![name, rule, now])?;
        let id = c.last_insert_rowid();
        people.group_ids.push(id);
        // Everyone is in one group by turn; the service desk (group 0) also has every
        // third technician, as first line.
        let members: Vec<i64> = people
            .technicians
            .iter()
            .enumerate()
            .filter(|(t, _)| t % GROUPS.len() == g || (g == 0 && t % 3 == 0))
            .map(|(_, id)| *id)
            .collect();
        for m in &members {
            member.execute(params![id, m])?;
        }
        rows += 1 + members.len() as u64;
        people.members.push(members);
    }
    let mut category = c.prepare("INSERT INTO categories (name, created_at) VALUES (?1, ?2)")?;
    for name in CATEGORIES {
        category.execute(params![name, now])?;
        people.category_ids.insert(name, c.last_insert_rowid());
        rows += 1;
    }
    Ok((people, rows))
}
