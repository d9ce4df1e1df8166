//! Web sessions: a random cookie value (stored hashed) with a CSRF token bound to it.

use super::users::User;
use super::{DbResult, optional};
use rusqlite::{Connection, params};

pub struct Session {
    pub user: User,
    pub csrf_token: String,
}

pub fn create(
    c: &Connection,
    cookie_value: &str,
    user_id: i64,
    csrf: &str,
    now: i64,
    ttl_secs: i64,
) -> DbResult<()> {
    c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    c.execute(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![crate::crypto::token_hash(cookie_value), user_id, csrf, now, now + ttl_secs],
    )?;
    Ok(())
}

pub fn lookup(c: &Connection, cookie_value: &str, now: i64) -> DbResult<Option<Session>> {
    let row: Option<(i64, String)> = optional(c.query_row(
        "SELECT s.user_id, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
        params![crate::crypto::token_hash(cookie_value), now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    let Some((user_id, csrf_token)) = row else {
        return Ok(None);
    };
    Ok(super::users::by_id(c, user_id)?.map(|user| Session { user, csrf_token }))
}

pub fn delete(c: &Connection, cookie_value: &str) -> DbResult<()> {
    c.execute(
        "DELETE FROM sessions WHERE id_hash = ?1",
        [crate::crypto::token_hash(cookie_value)],
    )?;
    Ok(())
}
