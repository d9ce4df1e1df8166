//! Enrollment tokens: limited uses and an expiry; exchanged by agents for their own secret.

use super::{DbResult, optional};
use rusqlite::{Connection, params};

/// Why an enrollment token was refused. Each maps to a stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unknown,
    Expired,
    UsedUp,
    Revoked,
}

pub fn insert(
    c: &Connection,
    token: &str,
    max_uses: u32,
    expires_at: Option<i64>,
    created_by: Option<i64>,
    now: i64,
) -> DbResult<i64> {
    c.execute(
        "INSERT INTO enrollment_tokens (token_hash, prefix, max_uses, expires_at, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            crate::crypto::token_hash(token),
            token.chars().take(12).collect::<String>(),
            max_uses,
            expires_at,
            now,
            created_by
        ],
    )?;
    Ok(c.last_insert_rowid())
}

/// The token's id if it could enroll an agent now, or why not. Uses nothing.
pub fn check(c: &Connection, token: &str, now: i64) -> DbResult<Result<i64, Refusal>> {
    type Row = (i64, i64, i64, Option<i64>, Option<i64>);
    let row: Option<Row> = optional(c.query_row(
        "SELECT id, max_uses, uses, expires_at, revoked_at FROM enrollment_tokens WHERE token_hash = ?1",
        [crate::crypto::token_hash(token)],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    ))?;
    let Some((id, max_uses, uses, expires_at, revoked_at)) = row else {
        return Ok(Err(Refusal::Unknown));
    };
    if revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    if expires_at.is_some_and(|e| e <= now) {
        return Ok(Err(Refusal::Expired));
    }
    if uses >= max_uses {
        return Ok(Err(Refusal::UsedUp));
    }
    Ok(Ok(id))
}

/// Uses one of the token's uses, returning its id, or says why it cannot be used.
/// Must run inside the write transaction that also creates the agent.
pub fn consume(c: &Connection, token: &str, now: i64) -> DbResult<Result<i64, Refusal>> {
    let id = match check(c, token, now)? {
        Ok(id) => id,
        Err(refusal) => return Ok(Err(refusal)),
    };
    c.execute(
        "UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = ?1",
        params![id],
    )?;
    Ok(Ok(id))
}

/// Parses durations like `30m`, `24h`, `7d`, `2w` into seconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s.find(|ch: char| !ch.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 30m, 24h or 7d"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(format!("{s:?}: unknown unit {unit:?}; use s, m, h, d or w")),
    };
    n.checked_mul(mult)
        .filter(|v| *v > 0)
        .ok_or_else(|| format!("{s:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(1800));
        assert_eq!(parse_duration("24h"), Ok(86_400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("0d").is_err());
    }
}
