//! API tokens for scripts: stored as a SHA-256 hash, shown once at creation.

use super::users::User;
use super::{DbResult, optional};
use rusqlite::{Connection, params};

/// What a token may do: `Read` only reads (GET and HEAD); `Write` anything its user may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Scope, String> {
        match s {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(format!("unknown token scope {other:?}: use read or write")),
        }
    }
}

/// Stores a new token for `user_id`; `token` is the plain value, only its hash is kept.
pub fn insert(
    c: &Connection,
    user_id: i64,
    name: &str,
    token: &str,
    expires_at: Option<i64>,
    scope: Scope,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, expires_at, scope)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user_id,
            name,
            crate::crypto::token_hash(token),
            token.chars().take(12).collect::<String>(),
            now,
            expires_at,
            scope.as_str()
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// The enabled user owning a valid (not revoked, not expired) token, and its scope.
pub fn authenticate(c: &Connection, token: &str, now: i64) -> DbResult<Option<(User, Scope)>> {
    let hash = crate::crypto::token_hash(token);
    let found: Option<(i64, String)> = optional(c.query_row(
        "SELECT t.user_id, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ?1 AND t.revoked_at IS NULL
           AND (t.expires_at IS NULL OR t.expires_at > ?2) AND u.disabled = 0",
        params![hash, now],
        |r| Ok((r.get(0)?, r.get(1)?)),
    ))?;
    let Some((id, scope)) = found else {
        return Ok(None);
    };
    // The column's CHECK allows nothing else; a stranger value reads as the narrower scope.
    let scope = scope.parse().unwrap_or(Scope::Read);
    Ok(super::users::by_id(c, id)?.map(|u| (u, scope)))
}
