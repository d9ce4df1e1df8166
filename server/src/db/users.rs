//! Users: accounts with a role and an argon2id password hash.

use super::{DbResult, optional};
use crate::domain::lockout::Failures;
use crate::domain::roles::Role;
use rusqlite::{Connection, params};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    /// Where the person is based.
    pub location_id: Option<i64>,
    /// Sign-in is refused until then after too many failures (`domain::lockout`); an
    /// admin can unlock earlier.
    pub locked_until: Option<i64>,
}

const COLUMNS: &str = "id, email, name, role, disabled, created_at, location_id, locked_until";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        name: r.get(2)?,
        role: role.parse().unwrap_or(Role::Employee),
        disabled: r.get(4)?,
        created_at: r.get(5)?,
        location_id: r.get(6)?,
        locked_until: r.get(7)?,
    })
}

pub fn insert(
    c: &Connection,
    email: &str,
    name: &str,
    role: Role,
    password_hash: Option<&str>,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![email, name, role.as_str(), password_hash, now],
    )?;
    Ok(c.last_insert_rowid())
}

pub fn count(c: &Connection) -> DbResult<i64> {
    Ok(c.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

pub fn by_id(c: &Connection, id: i64) -> DbResult<Option<User>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
        [id],
        from_row,
    ))
}

/// Active technicians and admins, by name: the people who can be in a group.
pub fn active_staff(c: &Connection, limit: u32) -> DbResult<Vec<User>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE role IN ('technician', 'admin') AND disabled = 0
         ORDER BY name, id LIMIT ?1"
    ))?;
    let rows = stmt.query_map([limit], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn by_email(c: &Connection, email: &str) -> DbResult<Option<User>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS} FROM users WHERE email = ?1"),
        [email],
        from_row,
    ))
}

/// The user and their password hash, for login.
pub fn credentials(c: &Connection, email: &str) -> DbResult<Option<(User, Option<String>)>> {
    optional(c.query_row(
        &format!("SELECT {COLUMNS}, password_hash FROM users WHERE email = ?1"),
        [email],
        |r| Ok((from_row(r)?, r.get(8)?)),
    ))
}

pub fn set_password(c: &Connection, id: i64, password_hash: &str) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id, password_hash],
    )? == 1)
}

/// The user's failed sign-ins as `domain::lockout` counts them.
pub fn failures(c: &Connection, id: i64) -> DbResult<Failures> {
    Ok(optional(c.query_row(
        "SELECT failed_logins, failed_logins_since, locked_until FROM users WHERE id = ?1",
        [id],
        |r| {
            Ok(Failures {
                count: r.get(0)?,
                since: r.get(1)?,
                locked_until: r.get(2)?,
            })
        },
    ))?
    .unwrap_or_default())
}

pub fn set_failures(c: &Connection, id: i64, f: &Failures) -> DbResult<()> {
    c.prepare_cached(
        "UPDATE users SET failed_logins = ?2, failed_logins_since = ?3, locked_until = ?4
         WHERE id = ?1",
    )?
    .execute(params![id, f.count, f.since, f.locked_until])?;
    Ok(())
}

/// Whether an email address looks usable (one `@`, something on each side, no spaces).
pub fn valid_email(email: &str) -> bool {
    let mut parts = email.split('@');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(local), Some(domain), None)
            if !local.is_empty() && !domain.is_empty() && !email.contains(char::is_whitespace) && email.len() <= 254
    )
}

/// A page of users by id after `after`, optionally matching `q` (email or name), a role,
/// or a set of locations.
pub fn list(
    c: &Connection,
    q: Option<&str>,
    role: Option<&str>,
    locations: &[i64],
    after: i64,
    limit: u32,
) -> DbResult<Vec<User>> {
    let places: Vec<String> = locations.iter().map(i64::to_string).collect();
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE id > ?1
           AND (?2 IS NULL OR email LIKE '%' || ?2 || '%' OR name LIKE '%' || ?2 || '%')
           AND (?3 IS NULL OR role = ?3)
           AND (?4 = '[]' OR location_id IN (SELECT value FROM json_each(?4)))
         ORDER BY id LIMIT ?5"
    ))?;
    let rows = stmt.query_map(
        params![after, q, role, format!("[{}]", places.join(",")), limit],
        from_row,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Active admins other than `except`.
pub fn other_admins(c: &Connection, except: i64) -> DbResult<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?1",
        [except],
        |r| r.get(0),
    )?)
}

/// Changes a user's name, role, disabled flag and location; each `None` keeps the value
/// (`location` is `Some(None)` to clear it).
pub fn update(
    c: &Connection,
    id: i64,
    name: Option<&str>,
    role: Option<Role>,
    disabled: Option<bool>,
    location: Option<Option<i64>>,
) -> DbResult<bool> {
    Ok(c.execute(
        "UPDATE users SET name = coalesce(?2, name), role = coalesce(?3, role),
             disabled = coalesce(?4, disabled),
             location_id = CASE WHEN ?5 THEN ?6 ELSE location_id END
         WHERE id = ?1",
        params![
            id,
            name,
            role.map(Role::as_str),
            disabled,
            location.is_some(),
            location.flatten()
        ],
    )? == 1)
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn email_validation() {
        assert!(valid_email("ann@example.com"));
        assert!(!valid_email("ann"));
        assert!(!valid_email("a@b@c"));
        assert!(!valid_email("a b@c"));
        assert!(!valid_email("@c"));
    }
}
