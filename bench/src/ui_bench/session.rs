//! Signing in the way a browser does: `GET /login` for the form's CSRF token and its
//! cookie, `POST /login` with both, and the session cookie from the answer. Pages are
//! then requested with that cookie, and redirects are not followed (a page that answers
//! anything but 200 is an error in the benchmark).

use anyhow::{Context, bail};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, SET_COOKIE};
use std::time::Duration;

/// Who a page is requested as: a `Cookie` header value, or nobody.
#[derive(Debug, Clone)]
pub struct Session {
    pub who: &'static str,
    pub cookie: Option<String>,
}

impl Session {
    pub fn anonymous() -> Session {
        Session {
            who: "public",
            cookie: None,
        }
    }
}

/// A client that does not follow redirects, so sign-in cookies and refusals are seen.
pub fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(300))
        .build()?)
}

/// The value of cookie `name` among the `Set-Cookie` headers.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| k.trim() == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// The `value` of the hidden input `name` in a form.
fn hidden(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_owned())
}

/// `application/x-www-form-urlencoded` for a few fields.
fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Signs in through the login form; returns the session.
pub async fn sign_in(
    http: &reqwest::Client,
    base: &str,
    who: &'static str,
    email: &str,
    password: &str,
) -> anyhow::Result<Session> {
    let resp = http.get(format!("{base}/login")).send().await?;
    let login_cookie = set_cookie(resp.headers(), "steward_login_csrf")
        .context("GET /login set no steward_login_csrf cookie")?;
    let html = resp.text().await?;
    let csrf = hidden(&html, "csrf").context("the login form has no csrf field")?;
    let resp = http
        .post(format!("{base}/login"))
        .header(COOKIE, format!("steward_login_csrf={login_cookie}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("csrf", &csrf),
            ("email", email),
            ("password", password),
            ("next", "/"),
        ]))
        .send()
        .await?;
    let status = resp.status();
    let Some(session) = set_cookie(resp.headers(), "steward_session") else {
        let body = resp.text().await.unwrap_or_default();
        bail!("signing in as {email} answered {status} without a session cookie: {body:.300}");
    };
    if status != StatusCode::SEE_OTHER && !status.is_redirection() {
        bail!("signing in as {email} answered {status}, not a redirect");
    }
    Ok(Session {
        who,
        cookie: Some(format!("steward_session={session}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_form_and_cookies() {
        let html = r#"<form><input type="hidden" name="csrf" value="ab12"><input name="email" value=""></form>"#;
        assert_eq!(hidden(html, "csrf").as_deref(), Some("ab12"));
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            "steward_login_csrf=; Path=/login; Max-Age=0"
                .parse()
                .expect("header"),
        );
        h.append(
            SET_COOKIE,
            "steward_session=s3; Path=/; HttpOnly"
                .parse()
                .expect("header"),
        );
        assert_eq!(set_cookie(&h, "steward_session").as_deref(), Some("s3"));
        assert_eq!(set_cookie(&h, "steward_login_csrf"), None);
        assert_eq!(form(&[("a", "x y&z")]), "a=x%20y%26z");
    }
}
