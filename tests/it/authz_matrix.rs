//! The authorization matrix: every route the server serves, called by every kind of
//! caller (anonymous, an employee, another employee, a technician, an admin, a live agent
//! and a revoked one) against the real server, each cell with the outcome it must have.
//! A route served without rows here, or rows for a route no longer served, fail the test;
//! so does a cookie-authenticated state change that works without its CSRF token.

mod cells;
mod fixtures;
mod rows;

use crate::helpers::TestServer;
use fixtures::{Fixtures, Fx};
use reqwest::StatusCode;
use std::collections::BTreeSet;

/// The callers, in the order of each row's expectations.
pub const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Employee,
    Caller::OtherEmployee,
    Caller::Technician,
    Caller::Admin,
    Caller::Agent,
    Caller::RevokedAgent,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// Owns the employee fixtures: the ticket, its file, the saved view, the check-outs.
    Employee,
    /// An employee who must not see the first one's things.
    OtherEmployee,
    Technician,
    Admin,
    /// A live agent's credential as `Authorization: Bearer <id>.<secret>`.
    Agent,
    RevokedAgent,
}

/// What a caller gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx, or a redirect anywhere but the login page.
    Ok,
    /// A web page's redirect to `/login?next=...`.
    Login,
    /// 401.
    Unauth,
    /// 403.
    Forbidden,
    /// 404: not there for this caller.
    Hidden,
    /// Let through, then the request itself refused (400, 409, 422): the body is minimal.
    Passed,
}

/// A row's JSON body, from the fixtures and the row's resolved ids.
pub type JsonFn = fn(&Fixtures, &[String]) -> serde_json::Value;
/// A row's form fields, from the fixtures and the row's resolved ids.
pub type FormFn = fn(&Fixtures, &[String]) -> Vec<(&'static str, String)>;

/// How a row's request carries its body.
#[derive(Clone, Copy)]
pub enum Body {
    None,
    /// JSON from the fixtures and the row's resolved ids.
    Json(JsonFn),
    /// An urlencoded form; session callers add their `csrf` field.
    Form(FormFn),
    /// A raw body with its content type.
    Raw(&'static str, &'static str),
    /// A multipart form with these fields and a file (name, type, bytes); session callers
    /// add their `csrf` field first.
    Multipart(
        &'static [(&'static str, &'static str)],
        (&'static str, &'static str, &'static str),
    ),
}

/// One route and method, and what each caller gets.
pub struct Row {
    pub method: &'static str,
    pub path: &'static str,
    /// A web page or form: people call it with a session cookie (and CSRF field), not a
    /// token.
    pub web: bool,
    /// Fixtures for the path's placeholders, in order; extra ones are for the body and
    /// query (`{0}`, `{1}`, ...).
    pub ids: &'static [Fx],
    pub query: &'static str,
    pub body: Body,
    /// Sign in again for this row's cells (sign-out ends the session).
    pub fresh_session: bool,
    /// The live agent caller is a newly enrolled one (for requests that revoke it).
    pub fresh_agent: bool,
    /// The employee's reply shows their own things (so that nobody else's showing
    /// none of them means something).
    pub shows_own: bool,
    pub expect: [Outcome; 7],
}

impl Row {
    fn new(web: bool, method: &'static str, path: &'static str, expect: [Outcome; 7]) -> Row {
        Row {
            method,
            path,
            web,
            ids: &[],
            query: "",
            body: Body::None,
            fresh_session: false,
            fresh_agent: false,
            shows_own: false,
            expect,
        }
    }
    pub fn ids(mut self, ids: &'static [Fx]) -> Row {
        self.ids = ids;
        self
    }
    pub fn query(mut self, q: &'static str) -> Row {
        self.query = q;
        self
    }
    pub fn json(mut self, f: JsonFn) -> Row {
        self.body = Body::Json(f);
        self
    }
    pub fn form(mut self, f: FormFn) -> Row {
        self.body = Body::Form(f);
        self
    }
    pub fn raw(mut self, content_type: &'static str, text: &'static str) -> Row {
        self.body = Body::Raw(content_type, text);
        self
    }
    pub fn multipart(
        mut self,
        fields: &'static [(&'static str, &'static str)],
        file: (&'static str, &'static str, &'static str),
    ) -> Row {
        self.body = Body::Multipart(fields, file);
        self
    }
    pub fn shows_own(mut self) -> Row {
        self.shows_own = true;
        self
    }
    pub fn fresh_session(mut self) -> Row {
        self.fresh_session = true;
        self
    }
    pub fn fresh_agent(mut self) -> Row {
        self.fresh_agent = true;
        self
    }
    /// Whether people call it signed in, and only they (so a cookie needs its CSRF token).
    fn needs_sign_in(&self) -> bool {
        matches!(self.expect[0], Outcome::Login | Outcome::Unauth)
            && self.expect[1..5].iter().any(|o| *o != Outcome::Unauth)
    }
}

/// An API route (people call it with API tokens).
pub fn api(method: &'static str, path: &'static str, expect: [Outcome; 7]) -> Row {
    Row::new(false, method, path, expect)
}

/// A web page or form (people call it with a session cookie).
pub fn web(method: &'static str, path: &'static str, expect: [Outcome; 7]) -> Row {
    Row::new(true, method, path, expect)
}

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every `(method, path)` the server answers: the router's paths, each probed with each
/// method; axum answers 405 for a method it does not route, before any extractor runs.
async fn served(s: &TestServer) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for path in steward_server::http::routes(s.state.config.legacy_inventory.max_body_bytes).paths()
    {
        let concrete = fill(path, &[], "1");
        for m in METHODS {
            let resp = s
                .http
                .request(m.parse().unwrap(), s.url(&concrete))
                .send()
                .await
                .unwrap();
            if resp.status() != StatusCode::METHOD_NOT_ALLOWED {
                out.insert((m.to_owned(), (*path).to_owned()));
            }
        }
    }
    out
}

/// `path` with its placeholders replaced by `ids` in order (`default` past their end).
fn fill(path: &str, ids: &[String], default: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    let mut n = 0;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        out.push_str(ids.get(n).map_or(default, String::as_str));
        n += 1;
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// What a response is, if it is one of the outcomes.
fn classify(status: StatusCode, location: Option<&str>) -> Option<Outcome> {
    Some(match status.as_u16() {
        401 => Outcome::Unauth,
        403 => Outcome::Forbidden,
        404 => Outcome::Hidden,
        400 | 409 | 422 => Outcome::Passed,
        300..=399 if location.is_some_and(|l| l.starts_with("/login")) => Outcome::Login,
        200..=399 => Outcome::Ok,
        _ => return None,
    })
}

/// Rows whose callers differ from what `GET /api/v1/openapi.json` says (`Allowed: ...`).
fn promises_kept(rows: &[Row], s: &TestServer) -> Vec<String> {
    use Outcome::{Forbidden, Login, Unauth};
    let doc = steward_server::http::openapi::build(s.state.config.legacy_inventory.max_body_bytes);
    let let_in = |o: Outcome| !matches!(o, Unauth | Login | Forbidden);
    let mut out = Vec::new();
    for row in rows.iter().filter(|r| !r.web) {
        let path = row.path.replace("{*", "{");
        let op = &doc["paths"][&path][row.method.to_ascii_lowercase()];
        let Some(allowed) = op["description"].as_str() else {
            out.push(format!("{} {}: not in the document", row.method, row.path));
            continue;
        };
        let e = row.expect;
        let kept = match allowed {
            "Allowed: anyone." => e.iter().all(|o| let_in(*o)),
            // Staff may still be refused what only the requester does (a resolution).
            "Allowed: employee, technician, admin." => !let_in(e[0]) && let_in(e[1]),
            "Allowed: technician, admin." => {
                !let_in(e[0]) && !let_in(e[1]) && let_in(e[3]) && let_in(e[4])
            }
            "Allowed: admin." => !let_in(e[0]) && !let_in(e[3]) && let_in(e[4]),
            "Allowed: agent." => !e[..5].iter().any(|o| let_in(*o)) && let_in(e[5]),
            // Enrollment by token, legacy agents by their basic credentials.
            _ => true,
        };
        if !kept {
            out.push(format!("{} {}: {allowed} but {e:?}", row.method, row.path));
        }
    }
    out
}

#[tokio::test]
async fn authz_matrix_every_route_by_every_caller() {
    let started = std::time::Instant::now();
    let s = fixtures::server().await;
    let rows = rows::rows();

    // The table covers exactly what the server serves.
    let table: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(table.len(), rows.len(), "a (method, path) has two rows");
    let served = served(&s).await;
    let missing: Vec<_> = served.difference(&table).collect();
    let extra: Vec<_> = table.difference(&served).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "the authorization matrix and the router disagree;\nserved without rows: {missing:#?}\nrows for nothing served: {extra:#?}"
    );

    let promised = promises_kept(&rows, &s);
    assert!(
        promised.is_empty(),
        "the OpenAPI document promises other callers than the matrix holds:\n{}",
        promised.join("\n")
    );

    let fx = Fixtures::create(&s).await;
    let mut failures = Vec::new();
    let mut checks = 0;
    for row in &rows {
        for (i, caller) in CALLERS.iter().enumerate() {
            checks += 1;
            if let Err(e) = fx.check(&s, row, *caller, row.expect[i]).await {
                failures.push(e);
            }
        }
        if row.method != "GET" && row.needs_sign_in() {
            checks += 1;
            if let Err(e) = fx.check_without_csrf(&s, row).await {
                failures.push(e);
            }
        }
    }
    println!(
        "authorization matrix: {} routes x {} callers = {} checks (+{} with a forged CSRF token) in {:.1?}",
        rows.len(),
        CALLERS.len(),
        rows.len() * CALLERS.len(),
        checks - rows.len() * CALLERS.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {checks} cells differ from the matrix:\n{}",
        failures.len(),
        failures.join("\n")
    );
    s.stop().await;
}
