//! API tokens for scripts: stored as a SHA-256 hash, shown once at creation.

use super::users::User;
use super::{DbResult, optional};
use rusqlite::{Connection, params};

/// Stores a new token for `user_id`; `token` is the plain value, only its hash is kept.
pub fn insert(
    c: &Connection,
    user_id: i64,
    name: &str,
    token: &str,
    expires_at: Option<i64>,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user_id,
            name,
            crate::crypto::token_hash(token),
            token.chars().take(12).collect::<String>(),
            now,
            expires_at
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// The enabled user owning a valid (not revoked, not expired) token.
pub fn authenticate(c: &Connection, token: &str, now: i64) -> DbResult<Option<User>> {
    let hash = crate::crypto::token_hash(token);
    let user_id: Option<i64> = optional(c.query_row(
        "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > ?2) AND u.disabled = 0",
        params![hash, now],
        |r| r.get(0),
    ))?;
    match user_id {
        Some(id) => super::users::by_id(c, id),
        None => Ok(None),
    }
}
