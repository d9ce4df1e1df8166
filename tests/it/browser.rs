//! Talking to the web UI the way a browser does: the login form with its CSRF cookie and
//! token, session cookies, pages and forms.

use crate::helpers::TestServer;
use reqwest::Response;
use reqwest::header::{HeaderMap, SET_COOKIE};

/// The value of the cookie `name` that a response sets, if it sets one.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split_once('='))
        .map(|(_, v)| v.to_owned())
}

/// The value of the form field `name` (the CSRF token, say) in a page.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// Opens the login page and posts its form back with the CSRF cookie and token it gave.
pub async fn submit_login(
    s: &TestServer,
    email: &str,
    password: &str,
    next: Option<&str>,
) -> Response {
    let page = s.http.get(s.url("/login")).send().await.unwrap();
    let login_cookie = cookie_value(page.headers(), "steward_login_csrf").unwrap();
    let csrf = hidden_field(&page.text().await.unwrap(), "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("email", email),
        ("password", password),
    ];
    form.extend(next.map(|n| ("next", n)));
    s.http
        .post(s.url("/login"))
        .header("cookie", format!("steward_login_csrf={login_cookie}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The `Cookie` header for the session that a successful login response set.
pub fn session_cookie(login: &Response) -> String {
    let session = cookie_value(login.headers(), "steward_session").unwrap();
    format!("steward_session={session}")
}

/// GET `path` with a session cookie.
pub async fn get_page(s: &TestServer, cookie: &str, path: &str) -> Response {
    s.http
        .get(s.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// GET `path` with a session cookie; the body as text.
pub async fn page_text(s: &TestServer, cookie: &str, path: &str) -> String {
    get_page(s, cookie, path).await.text().await.unwrap()
}

/// POST an urlencoded form to `path` with a session cookie.
pub async fn post_form(
    s: &TestServer,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Response {
    s.http
        .post(s.url(path))
        .header("cookie", cookie)
        .form(form)
        .send()
        .await
        .unwrap()
}
