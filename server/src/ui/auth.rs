//! Sign in and sign out. Login forms carry a CSRF token bound to a short-lived cookie
//! (double submit); signed-in forms carry the token bound to the session.

use super::{Nav, render};
use crate::db;
use crate::http::AppState;
use crate::http::Routes;
use crate::http::auth::{SESSION_COOKIE, cookie};
use askama::Template;
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

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

async fn login(State(state): State<AppState>, req: Request) -> Response {
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
    let (email, password) = (form.email.clone(), form.password);
    let verified = state
        .db
        .read(move |c| {
            let found = db::users::credentials(c, &email)?;
            Ok(match found {
                Some((user, Some(hash)))
                    if !user.disabled && crate::crypto::verify_password(&password, &hash) =>
                {
                    Some(user)
                }
                Some(_) => None,
                None => {
                    // Same work for unknown emails, so timing does not reveal who has an account.
                    let _ = crate::crypto::verify_password(&password, DUMMY_HASH);
                    None
                }
            })
        })
        .await;
    let user = match verified {
        Ok(Some(user)) => user,
        Ok(None) => {
            tracing::info!(email = %form.email, "failed sign-in");
            return login_page(
                &state,
                StatusCode::UNAUTHORIZED,
                next,
                form.email,
                Some("Wrong email or password.".into()),
            );
        }
        Err(e) => return crate::http::AppError::from(e).into_response(),
    };
    let session = crate::crypto::random_hex(32);
    let csrf = crate::crypto::random_hex(16);
    let ttl = (state.config.auth.session_ttl_hours * 3600) as i64;
    let now = crate::clock::now();
    let (s, uid) = (session.clone(), user.id);
    if let Err(e) = state
        .db
        .write(move |tx| db::sessions::create(tx, &s, uid, &csrf, now, ttl))
        .await
    {
        return crate::http::AppError::from(e).into_response();
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

/// A valid argon2id hash of a random string, verified against for unknown users.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Rld2FyZGR1bW15c2FsdA$1KGlvUiGPHbWtP8Nq3yObMLHlGSVlVHPbnX0bWY8yXs";

#[derive(Deserialize)]
struct LogoutForm {
    csrf: String,
}

async fn logout(State(state): State<AppState>, req: Request) -> Response {
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
