//! Sign in and sign out. Login forms carry a CSRF token bound to a short-lived cookie
//! (double submit); signed-in forms carry the token bound to the session. Failed
//! sign-ins lock the account (`domain::lockout`, state in `users`) and limit the client
//! address (`crate::sign_in_limit`); every attempt goes to the audit log.

use super::{Nav, render};
use crate::db::{
    self,
    audit::{Actor, Entry, action},
    users::User,
};
use crate::domain::lockout::{Failures, Gate, minutes_left};
use crate::http::AppState;
use crate::http::Routes;
use crate::http::auth::{ClientIp, SESSION_COOKIE, cookie};
use askama::Template;
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

const LOGIN_CSRF_COOKIE: &str = "steward_login_csrf";

pub fn router() -> Routes {
    Routes::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only same-site paths are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: i64,
) -> HeaderValue {
    let secure = if state.config.auth.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let same_site = if name == SESSION_COOKIE {
        "Lax"
    } else {
        "Strict"
    };
    let v = format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<String>,
) -> Response {
    let csrf = crate::crypto::random_hex(16);
    let mut resp = render(&LoginPage {
        nav: None,
        csrf: csrf.clone(),
        next,
        email,
        error,
    });
    *resp.status_mut() = status;
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(state, LOGIN_CSRF_COOKIE, &csrf, "/login", 3600),
    );
    resp
}

async fn login_form(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    login_page(
        &state,
        StatusCode::OK,
        safe_next(q.next.as_deref()),
        String::new(),
        None,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

async fn login(State(state): State<AppState>, ip: ClientIp, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let expected = cookie(&parts, LOGIN_CSRF_COOKIE)
        .unwrap_or_default()
        .to_owned();
    let req = Request::from_parts(parts, body);
    let Ok(Form(form)) = Form::<LoginForm>::from_request(req, &state).await else {
        return login_page(
            &state,
            StatusCode::BAD_REQUEST,
            "/".into(),
            String::new(),
            Some("The form was incomplete; please try again.".into()),
        );
    };
    let next = safe_next(form.next.as_deref());
    if expected.is_empty() || !crate::crypto::constant_time_eq(&expected, &form.csrf) {
        return login_page(
            &state,
            StatusCode::FORBIDDEN,
            next,
            form.email,
            Some("Your sign-in form expired; please try again.".into()),
        );
    }
    if form.email.len() > 254 || form.password.len() > 1024 {
        return login_page(
            &state,
            StatusCode::BAD_REQUEST,
            next,
            String::new(),
            Some("Email or password is too long.".into()),
        );
    }
    let now = crate::clock::now();
    if let Some(until) = ip.0.and_then(|a| state.sign_ins.blocked(a, now)) {
        tracing::info!(client = ?ip.0, "sign-in refused: too many failures from this address");
        let text = format!(
            "Too many failed sign-ins from your network. Try again in {} minutes.",
            minutes_left(until, now)
        );
        return login_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            next,
            form.email,
            Some(text),
        );
    }
    let (email, password) = (form.email.clone(), form.password);
    let checked = state
        .db
        .read(move |c| {
            let found = db::users::credentials(c, &email)?;
            Ok(match found {
                // Refused whatever the password, so it is not even checked.
                Some((user, _)) if user.locked_until.is_some_and(|u| now < u) => {
                    Check::Wrong(Some(user), "locked")
                }
                Some((user, Some(hash)))
                    if !user.disabled && crate::crypto::verify_password(&password, &hash) =>
                {
                    Check::Right(user)
                }
                Some((user, hash)) => {
                    let why = match (user.disabled, hash) {
                        (true, _) => "disabled",
                        (false, None) => "no_password",
                        (false, Some(_)) => "wrong_password",
                    };
                    Check::Wrong(Some(user), why)
                }
                None => {
                    // Same work for unknown emails, so timing does not reveal who has an account.
                    let _ = crate::crypto::verify_password(&password, DUMMY_HASH);
                    Check::Wrong(None, "unknown_email")
                }
            })
        })
        .await;
    let user = match checked {
        Ok(Check::Right(user)) => user,
        Ok(Check::Wrong(user, why)) => {
            return failed(&state, ip, now, user, &form.email, why, next).await;
        }
        Err(e) => return crate::http::AppError::from(e).into_response(),
    };
    let session = crate::crypto::random_hex(32);
    let csrf = crate::crypto::random_hex(16);
    let ttl = (state.config.auth.session_ttl_hours * 3600) as i64;
    let (s, uid) = (session.clone(), user.id);
    let actor = Actor::user(user.id, &user.email, ip.text());
    let started = state
        .db
        .write(move |tx| {
            // Failures that raced this sign-in may have locked the account meanwhile.
            let f = db::users::failures(tx, uid)?;
            if let Gate::Locked { until } = f.gate(now) {
                return Ok(Some(until));
            }
            if f != Failures::cleared() {
                db::users::set_failures(tx, uid, &Failures::cleared())?;
            }
            db::sessions::create(tx, &s, uid, &csrf, now, ttl)?;
            let e = Entry::new(now, &actor, action::LOGIN).target(format!("user:{uid}"));
            db::audit::record(tx, &e)?;
            Ok(None)
        })
        .await;
    match started {
        Ok(None) => {}
        Ok(Some(until)) => return locked_page(&state, next, form.email, until, now),
        Err(e) => return crate::http::AppError::from(e).into_response(),
    }
    tracing::info!(user_id = user.id, "signed in");
    let mut resp = Redirect::to(&next).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, &session, "/", ttl),
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(&state, LOGIN_CSRF_COOKIE, "", "/login", 0),
    );
    resp
}

/// What the password check found.
enum Check {
    Right(User),
    /// The account (if the email has one) and why it failed, as the audit log says it.
    Wrong(Option<User>, &'static str),
}

/// The refusal for a locked account: the same whether or not the password was right.
fn locked_page(state: &AppState, next: String, email: String, until: i64, now: i64) -> Response {
    let text = format!(
        "Too many failed sign-ins. Try again in {} minutes or ask an administrator.",
        minutes_left(until, now)
    );
    login_page(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        next,
        email,
        Some(text),
    )
}

/// Counts a failed sign-in (for the address, and for the account if the email has one),
/// locks the account when that was one failure too many, records it all in the audit
/// log, and answers.
async fn failed(
    state: &AppState,
    ip: ClientIp,
    now: i64,
    user: Option<User>,
    email: &str,
    why: &'static str,
    next: String,
) -> Response {
    tracing::info!(email = %email, reason = why, "failed sign-in");
    if let Some(addr) = ip.0 {
        state.sign_ins.failed(addr, now);
    }
    let policy = state.config.auth.lockout_policy();
    let actor = Actor::anonymous(Some(email), ip.text());
    let account = user.as_ref().map(|u| u.id);
    let recorded = state
        .db
        .write(move |tx| {
            let mut entry =
                Entry::new(now, &actor, action::LOGIN_FAILED).detail(json!({ "reason": why }));
            let Some(uid) = account else {
                db::audit::record(tx, &entry)?;
                return Ok(None);
            };
            entry = entry.target(format!("user:{uid}"));
            db::audit::record(tx, &entry)?;
            let before = db::users::failures(tx, uid)?;
            if let Gate::Locked { until } = before.gate(now) {
                return Ok(Some(until));
            }
            let (after, locked) = before.after_failure(&policy, now);
            db::users::set_failures(tx, uid, &after)?;
            match after.locked_until {
                Some(until) if locked => {
                    let e = Entry::new(now, &actor, action::LOCKED)
                        .target(format!("user:{uid}"))
                        .detail(json!({ "until": until, "failures": policy.max_failures }));
                    db::audit::record(tx, &e)?;
                    Ok(Some(until))
                }
                _ => Ok(None),
            }
        })
        .await;
    match recorded {
        Ok(Some(until)) => {
            if let Some(u) = &user {
                tracing::warn!(
                    user_id = u.id,
                    until,
                    "account locked after failed sign-ins"
                );
            }
            locked_page(state, next, email.to_owned(), until, now)
        }
        Ok(None) => login_page(
            state,
            StatusCode::UNAUTHORIZED,
            next,
            email.to_owned(),
            Some("Wrong email or password.".into()),
        ),
        Err(e) => crate::http::AppError::from(e).into_response(),
    }
}

/// A valid argon2id hash of a random string, verified against for unknown users.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Rld2FyZGR1bW15c2FsdA$1KGlvUiGPHbWtP8Nq3yObMLHlGSVlVHPbnX0bWY8yXs";

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(State(state): State<AppState>, ip: ClientIp, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Some(value) = cookie(&parts, SESSION_COOKIE).map(str::to_owned) else {
        return Redirect::to("/login").into_response();
    };
    let Ok(Form(form)) =
        Form::<LogoutForm>::from_request(Request::from_parts(parts, body), &state).await
    else {
        return (StatusCode::BAD_REQUEST, "missing csrf field").into_response();
    };
    let now = crate::clock::now();
    let v = value.clone();
    let result = state
        .db
        .write(move |tx| {
            let session = db::sessions::lookup(tx, &v, now)?;
            match session {
                Some(s) if crate::crypto::constant_time_eq(&s.csrf_token, &form.csrf) => {
                    db::sessions::delete(tx, &v)?;
                    let actor = Actor::user(s.user.id, &s.user.email, ip.text());
                    let e = Entry::new(now, &actor, action::LOGOUT)
                        .target(format!("user:{}", s.user.id));
                    db::audit::record(tx, &e)?;
                    Ok(true)
                }
                Some(_) => Ok(false),
                None => Ok(true),
            }
        })
        .await;
    match result {
        Ok(true) => {
            let mut resp = Redirect::to("/login").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(&state, SESSION_COOKIE, "", "/", 0),
            );
            resp
        }
        Ok(false) => super::message(
            StatusCode::FORBIDDEN,
            None,
            "Sign-out refused",
            "The form did not come from this site. Reload the page and try again.",
        ),
        Err(e) => crate::http::AppError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_site() {
        assert_eq!(safe_next(Some("/assets?q=x")), "/assets?q=x");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn dummy_hash_is_well_formed() {
        assert!(argon2::password_hash::phc::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
