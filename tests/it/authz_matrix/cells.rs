//! One cell of the matrix: the request a caller sends for a row, and what is checked of
//! the reply.

use super::fixtures::{EMPLOYEE, Fixtures, MARKER, OTHER, Session, TECHNICIAN, sign_in};
use super::{Body, Caller, Outcome, Row, classify, fill};
use crate::attachments::{multipart_body, multipart_type};
use crate::helpers::*;
use reqwest::StatusCode;

impl Fixtures {
    /// Sends `row`'s request as `caller` and compares the outcome with `expected`.
    pub async fn check(
        &self,
        s: &TestServer,
        row: &Row,
        caller: Caller,
        expected: Outcome,
    ) -> Result<(), String> {
        let (status, location, text) = self.send(s, row, caller, true).await;
        let got = classify(status, location.as_deref());
        let mut problems = Vec::new();
        if got != Some(expected) {
            problems.push(format!("expected {expected:?}, got {status}"));
        }
        let outsider = matches!(
            caller,
            Caller::Anonymous | Caller::OtherEmployee | Caller::Agent | Caller::RevokedAgent
        );
        if outsider && text.contains(MARKER) {
            problems.push("the reply shows the employee's own things".into());
        }
        if caller == Caller::Employee && row.shows_own && !text.contains(MARKER) {
            problems.push("the employee does not see their own things".into());
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "{} {} as {caller:?}: {} ({})",
            row.method,
            row.path,
            problems.join("; "),
            snippet(&text, location.as_deref())
        ))
    }

    /// A state change with the admin's session cookie but a forged CSRF token (what a
    /// page on another site can send) is refused.
    pub async fn check_without_csrf(&self, s: &TestServer, row: &Row) -> Result<(), String> {
        let (status, location, text) = self.send(s, row, Caller::Admin, false).await;
        if status == StatusCode::FORBIDDEN {
            return Ok(());
        }
        Err(format!(
            "{} {} with the admin's cookie and a forged CSRF token: expected 403, got {status} ({})",
            row.method,
            row.path,
            snippet(&text, location.as_deref())
        ))
    }

    /// One request; `csrf`: whether a session caller proves its token. Without it people
    /// call by session cookie even on API routes, and send a forged token.
    async fn send(
        &self,
        s: &TestServer,
        row: &Row,
        caller: Caller,
        csrf: bool,
    ) -> (StatusCode, Option<String>, String) {
        let mut ids = Vec::new();
        for fx in row.ids {
            ids.push(self.resolve(s, *fx).await);
        }
        let mut url = fill(row.path, &ids, "");
        if !row.query.is_empty() {
            let mut q = row.query.to_owned();
            for (n, v) in ids.iter().enumerate() {
                q = q.replace(&format!("{{{n}}}"), v);
            }
            url = format!("{url}?{q}");
        }
        let mut req = s.http.request(row.method.parse().unwrap(), s.url(&url));
        let who = match caller {
            Caller::Employee => Some("employee"),
            Caller::OtherEmployee => Some("other"),
            Caller::Technician => Some("technician"),
            Caller::Admin => Some("admin"),
            _ => None,
        };
        let mut session = None;
        match (caller, who) {
            (Caller::Agent, _) if row.fresh_agent => {
                let (_, creds) = s.enrolled_agent().await;
                req = req.bearer_auth(format!("{}.{}", creds.agent_id, creds.secret));
            }
            (Caller::Agent, _) => req = req.header("authorization", &self.agent),
            (Caller::RevokedAgent, _) => req = req.header("authorization", &self.revoked),
            (_, Some(who)) if row.web || !csrf => {
                let sess = if row.fresh_session {
                    let (email, password) = match who {
                        "employee" => (EMPLOYEE, USER_PASSWORD),
                        "other" => (OTHER, USER_PASSWORD),
                        "technician" => (TECHNICIAN, USER_PASSWORD),
                        _ => (ADMIN_EMAIL, ADMIN_PASSWORD),
                    };
                    sign_in(s, email, password).await
                } else {
                    self.sessions[who].clone()
                };
                req = req.header("cookie", &sess.cookie);
                if !row.web {
                    req = req.header("x-csrf-token", "forged");
                }
                session = Some(if csrf {
                    sess
                } else {
                    Session {
                        csrf: "forged".into(),
                        ..sess
                    }
                });
            }
            (_, Some(who)) => req = req.bearer_auth(self.token(who)),
            _ => {}
        }
        let csrf_field = session.as_ref().map(|s| ("csrf", s.csrf.clone()));
        req = match row.body {
            Body::None => req,
            Body::Json(f) => req.json(&f(self, &ids)),
            Body::Form(f) => {
                let own = f(self, &ids);
                // A form that brings its own `csrf` field keeps it.
                let mut fields: Vec<(&str, String)> = csrf_field
                    .filter(|_| !own.iter().any(|(k, _)| *k == "csrf"))
                    .into_iter()
                    .collect();
                fields.extend(own);
                req.form(&fields)
            }
            Body::Raw(content_type, text) => req
                .header("content-type", content_type)
                .body(text.to_owned()),
            Body::Multipart(fields, file) => {
                let mut all: Vec<(&str, &str)> = csrf_field
                    .as_ref()
                    .map(|(k, v)| (*k, v.as_str()))
                    .into_iter()
                    .collect();
                all.extend_from_slice(fields);
                req.header("content-type", multipart_type())
                    .body(multipart_body(&all, (file.0, file.1, file.2.as_bytes())))
            }
        };
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        (status, location, resp.text().await.unwrap_or_default())
    }
}

/// What to show of a reply that surprised us.
fn snippet(text: &str, location: Option<&str>) -> String {
    if let Some(l) = location {
        return format!("-> {l}");
    }
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    flat.chars().take(160).collect()
}
