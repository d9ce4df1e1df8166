//! Account and credential administration shared by the CLI, quickstart and tests:
//! the first admin, users, API tokens, enrollment tokens, agent revocation. Each is
//! audited as done by `cli` (whoever can run `steward-server` on the machine).

use crate::db::audit::{Actor, Entry, action};
use crate::db::{self, Db, DbError};
use crate::domain::roles::Role;
use serde_json::json;

fn user_created(
    tx: &rusqlite::Connection,
    id: i64,
    email: &str,
    role: Role,
    now: i64,
) -> Result<i64, DbError> {
    let e = Entry::new(now, &Actor::cli(), action::USER_CREATED)
        .target(format!("user:{id}"))
        .detail(json!({ "email": email, "role": role.as_str() }));
    db::audit::record(tx, &e)
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Invalid(String),
    #[error("no user with email {0}; create one with `steward-server user add`")]
    NoSuchUser(String),
    #[error("a user with email {0} already exists")]
    Exists(String),
}

/// On an empty database, creates the admin. Returns the password when one was generated
/// (it is shown once; only its argon2id hash is stored).
pub fn ensure_admin(
    db: &Db,
    email: &str,
    password: Option<String>,
) -> Result<Option<String>, AccountError> {
    if db.read_blocking(db::users::count)? > 0 {
        return Ok(None);
    }
    let generated = password.is_none();
    let password = password.unwrap_or_else(|| crate::crypto::random_hex(10));
    crate::crypto::check_password_policy(&password).map_err(AccountError::Invalid)?;
    let hash = crate::crypto::hash_password(&password)
        .map_err(|e| AccountError::Invalid(e.to_string()))?;
    let now = crate::clock::now();
    let email = email.to_owned();
    db.write_blocking(move |tx| {
        // Checked again inside the transaction: two servers starting at once create one admin.
        if db::users::count(tx)? == 0 {
            let id = db::users::insert(tx, &email, "Administrator", Role::Admin, Some(&hash), now)?;
            user_created(tx, id, &email, Role::Admin, now)?;
        }
        Ok(())
    })?;
    Ok(generated.then_some(password))
}

pub fn add_user(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<i64, AccountError> {
    if !db::users::valid_email(email) {
        return Err(AccountError::Invalid(format!(
            "{email:?} is not an email address"
        )));
    }
    if name.trim().is_empty() || name.len() > 200 {
        return Err(AccountError::Invalid(
            "the name must be 1 to 200 characters".into(),
        ));
    }
    crate::crypto::check_password_policy(password).map_err(AccountError::Invalid)?;
    let hash =
        crate::crypto::hash_password(password).map_err(|e| AccountError::Invalid(e.to_string()))?;
    let now = crate::clock::now();
    let (e, n) = (email.to_owned(), name.trim().to_owned());
    let id = db.write_blocking(move |tx| {
        if db::users::by_email(tx, &e)?.is_some() {
            return Ok(None);
        }
        let id = db::users::insert(tx, &e, &n, role, Some(&hash), now)?;
        user_created(tx, id, &e, role, now)?;
        Ok(Some(id))
    })?;
    id.ok_or_else(|| AccountError::Exists(email.to_owned()))
}

/// Creates a read-write API token for the user with `email`; returns the token (shown once).
pub fn create_api_token(
    db: &Db,
    email: &str,
    name: &str,
    expires_in: Option<i64>,
) -> Result<String, AccountError> {
    create_scoped_api_token(db, email, name, expires_in, db::tokens::Scope::Write)
}

/// Creates an API token with `scope` for the user with `email`; returns it (shown once).
pub fn create_scoped_api_token(
    db: &Db,
    email: &str,
    name: &str,
    expires_in: Option<i64>,
    scope: db::tokens::Scope,
) -> Result<String, AccountError> {
    let token = crate::crypto::new_api_token();
    let now = crate::clock::now();
    let (e, n, t) = (email.to_owned(), name.to_owned(), token.clone());
    let created = db.write_blocking(move |tx| {
        let Some(user) = db::users::by_email(tx, &e)? else {
            return Ok(false);
        };
        let expires_at = expires_in.map(|s| now + s);
        let id = db::tokens::insert(tx, user.id, &n, &t, expires_at, scope, now)?;
        let e = Entry::new(now, &Actor::cli(), action::API_TOKEN_CREATED)
            .target(format!("user:{}", user.id))
            .detail(json!({ "token_id": id, "name": n, "expires_at": expires_at,
                            "scope": scope.as_str() }));
        db::audit::record(tx, &e)?;
        Ok(true)
    })?;
    if created {
        Ok(token)
    } else {
        Err(AccountError::NoSuchUser(email.to_owned()))
    }
}

/// Creates an enrollment token with `uses` uses, expiring after `expires_in` seconds.
pub fn create_enrollment_token(
    db: &Db,
    uses: u32,
    expires_in: Option<i64>,
) -> Result<String, AccountError> {
    if uses == 0 {
        return Err(AccountError::Invalid("--uses must be at least 1".into()));
    }
    let token = crate::crypto::new_enrollment_token();
    let now = crate::clock::now();
    let t = token.clone();
    db.write_blocking(move |tx| {
        let expires_at = expires_in.map(|s| now + s);
        let id = db::enrollment::insert(tx, &t, uses, expires_at, None, now)?;
        let e = Entry::new(now, &Actor::cli(), action::ENROLLMENT_TOKEN_CREATED)
            .target(format!("enrollment_token:{id}"))
            .detail(json!({ "uses": uses, "expires_at": expires_at }));
        db::audit::record(tx, &e)
    })?;
    Ok(token)
}

/// Revokes agent `id`; false when there is no active agent with that id.
pub fn revoke_agent(db: &Db, id: &str) -> Result<bool, AccountError> {
    let now = crate::clock::now();
    let id = id.to_owned();
    Ok(db.write_blocking(move |tx| {
        let revoked = db::agents::revoke(tx, &id, now)?;
        if revoked {
            let e =
                Entry::new(now, &Actor::cli(), action::AGENT_REVOKED).target(format!("agent:{id}"));
            db::audit::record(tx, &e)?;
        }
        Ok(revoked)
    })?)
}
