//! The audit log and sign-in lockout over real HTTP: failed sign-ins lock an account
//! until an admin unlocks it, an address is limited, and security actions (sign-ins,
//! roles, tokens, agents, exports, webhooks) land in an append-only log only admins read.

use crate::browser::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

const LOCKED: &str = "Too many failed sign-ins. Try again in 15 minutes or ask an administrator.";

/// Every entry matching `query` (a query string without `limit`), newest first, read
/// page by page through the cursor.
async fn entries(s: &TestServer, admin: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = s
            .get_json(
                &format!("/api/v1/audit-log?limit=500&{query}&cursor={cursor}"),
                admin,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return out,
        }
    }
}

fn actions(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|i| i["action"].as_str().unwrap())
        .collect()
}

/// The first (newest) entry with `action`.
fn find<'a>(items: &'a [Value], action: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["action"] == action)
        .unwrap_or_else(|| panic!("no {action} in {items:#?}"))
}

#[tokio::test]
async fn failed_sign_ins_lock_the_account_until_an_admin_unlocks_it() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (uid, _) = person(&s, Role::Technician, "locky@example.test").await;
    for _ in 0..4 {
        let resp = submit_login(&s, "locky@example.test", "not the password", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert!(
            resp.text()
                .await
                .unwrap()
                .contains("Wrong email or password")
        );
    }
    // The fifth failure locks.
    let resp = submit_login(&s, "locky@example.test", "not the password", None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.text().await.unwrap().contains(LOCKED));
    // Now even the right password is refused, with the same words.
    let resp = submit_login(&s, "locky@example.test", USER_PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(cookie_value(resp.headers(), "steward_session").is_none());
    assert!(resp.text().await.unwrap().contains(LOCKED));
    let (_, user) = s.get_json(&format!("/api/v1/users/{uid}"), &admin).await;
    assert!(user["locked_until"].as_i64().is_some(), "{user}");

    // Only an admin can unlock.
    let tech = s.token_for(Role::Technician).await;
    let path = format!("/api/v1/users/{uid}");
    let (status, _) = patch(&s, &path, &tech, json!({"unlock": true})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, user) = patch(&s, &path, &admin, json!({"unlock": true})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["locked_until"], Value::Null);
    let resp = submit_login(&s, "locky@example.test", USER_PASSWORD, Some("/tickets")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(cookie_value(resp.headers(), "steward_session").is_some());

    // A success starts the count again: four more failures do not lock.
    for _ in 0..4 {
        let resp = submit_login(&s, "locky@example.test", "wrong again!", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = submit_login(&s, "locky@example.test", USER_PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let log = entries(&s, &admin, "action=auth.").await;
    let target = format!("user:{uid}");
    let about: Vec<&Value> = log.iter().filter(|e| e["target"] == target).collect();
    let count = |a: &str| about.iter().filter(|e| e["action"] == a).count();
    assert_eq!(count("auth.login_failed"), 4 + 1 + 1 + 4);
    assert_eq!(count("auth.locked"), 1);
    assert_eq!(count("auth.login"), 2);
    let locked = find(&log, "auth.locked");
    assert_eq!(locked["actor_label"], "locky@example.test");
    assert_eq!(locked["ip"], "127.0.0.1");
    assert_eq!(locked["detail"]["failures"], 5);
    let refused = about
        .iter()
        .find(|e| e["detail"]["reason"] == "locked")
        .expect("the refusal while locked is recorded");
    assert_eq!(refused["action"], "auth.login_failed");
    let login = find(&log, "auth.login");
    assert_eq!(login["actor_user_id"], uid);
    let unlocked = &entries(&s, &admin, "action=user.unlocked").await[0];
    assert_eq!(unlocked["target"], target);
    assert_eq!(unlocked["actor_label"], ADMIN_EMAIL);
    s.stop().await;
}

#[tokio::test]
async fn one_address_cannot_spray_many_emails() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.auth.max_failed_logins_per_ip = 3;
    })
    .await;
    for i in 0..3 {
        let resp = submit_login(&s, &format!("nobody{i}@example.test"), "guess guess", None).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(resp.text().await.unwrap().contains("from your network"));
    let admin = s.admin_token().await;
    let failed = entries(&s, &admin, "action=auth.login_failed").await;
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[0]["actor_label"], "nobody2@example.test");
    assert_eq!(failed[0]["actor_user_id"], Value::Null);
    assert_eq!(failed[0]["detail"]["reason"], "unknown_email");
    s.stop().await;
}

#[tokio::test]
async fn security_actions_are_recorded_with_who_and_from_where() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (_, me) = s.get_json("/api/v1/me", &admin).await;
    let admin_id = me["id"].as_i64().unwrap();

    let (status, u) = post(
        &s,
        "/api/v1/users",
        &admin,
        json!({"email": "new@example.test", "name": "New", "role": "employee"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let uid = u["id"].as_i64().unwrap();
    let path = format!("/api/v1/users/{uid}");
    patch(&s, &path, &admin, json!({"role": "technician"})).await;
    patch(
        &s,
        &path,
        &admin,
        json!({"role": "technician", "name": "Same role"}),
    )
    .await;
    patch(&s, &path, &admin, json!({"disabled": true})).await;

    let (status, enr) = post(&s, "/api/v1/enrollment-tokens", &admin, json!({"uses": 1})).await;
    assert_eq!(status, StatusCode::CREATED);
    let reply = agent_client(&s.url)
        .enroll(enr["token"].as_str().unwrap(), "audited-pc")
        .await
        .unwrap();
    let agent = reply.agent_id;
    let status = s
        .http
        .post(s.url(&format!("/api/v1/agents/{agent}/revoke")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::NO_CONTENT);

    for path in ["/api/v1/assets.csv?q=laptop", "/api/v1/tickets.csv"] {
        let resp = s
            .http
            .get(s.url(path))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.text().await.unwrap();
    }
    let (status, hook) = post(
        &s,
        "/api/v1/webhooks",
        &admin,
        json!({"url": "https://hooks.example.test/steward"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let hook_path = format!("/api/v1/webhooks/{}", hook["id"]);
    assert_eq!(delete(&s, &hook_path, &admin).await, StatusCode::NO_CONTENT);

    let log = entries(&s, &admin, "").await;
    let token = find(&log, "api_token.created");
    assert_eq!(token["actor_label"], "cli");
    assert_eq!(token["target"], format!("user:{admin_id}"));
    let created = find(&log, "user.created");
    assert_eq!(
        (&created["target"], &created["actor_user_id"]),
        (&json!(format!("user:{uid}")), &json!(admin_id))
    );
    assert_eq!(created["ip"], "127.0.0.1");
    let roles: Vec<&Value> = log
        .iter()
        .filter(|e| e["action"] == "user.role_changed")
        .collect();
    assert_eq!(roles.len(), 1, "an unchanged role is not recorded again");
    assert_eq!(
        roles[0]["detail"],
        json!({"old": "employee", "new": "technician"})
    );
    assert_eq!(find(&log, "user.disabled")["target"], format!("user:{uid}"));
    let enrollment = find(&log, "enrollment_token.created");
    assert_eq!(
        enrollment["target"],
        format!("enrollment_token:{}", enr["id"])
    );
    let enrolled = find(&log, "agent.enrolled");
    assert_eq!(enrolled["target"], format!("agent:{agent}"));
    assert_eq!(enrolled["actor_label"], format!("agent {agent}"));
    assert_eq!(enrolled["detail"]["hostname"], "audited-pc");
    let revoked = find(&log, "agent.revoked");
    assert_eq!(
        (&revoked["target"], &revoked["actor_user_id"]),
        (&json!(format!("agent:{agent}")), &json!(admin_id))
    );
    assert_eq!(
        find(&log, "export.assets_csv")["detail"]["query"],
        "q=laptop"
    );
    find(&log, "export.tickets_csv");
    assert_eq!(
        find(&log, "webhook.created")["detail"]["url"],
        "https://hooks.example.test/steward"
    );
    find(&log, "webhook.deleted");

    // Filters: an action prefix, an actor, a time range; pages through the cursor.
    let users = entries(&s, &admin, "action=user.").await;
    assert!(
        actions(&users).iter().all(|a| a.starts_with("user.")),
        "{users:?}"
    );
    assert!(users.len() >= 4);
    let by_admin = entries(&s, &admin, &format!("actor={admin_id}")).await;
    assert!(by_admin.iter().all(|e| e["actor_user_id"] == admin_id));
    assert!(actions(&by_admin).contains(&"agent.revoked"));
    assert!(entries(&s, &admin, "until=1").await.is_empty());
    assert_eq!(
        entries(&s, &admin, "since=2000-01-01").await.len(),
        log.len()
    );
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = s
            .get_json(
                &format!("/api/v1/audit-log?limit=3&cursor={cursor}"),
                &admin,
            )
            .await;
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let all: Vec<i64> = log.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(paged, all);
    assert!(all.windows(2).all(|w| w[0] > w[1]), "newest first");

    for (query, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=501", "invalid_limit"),
        ("action=Auth%27", "invalid_action"),
        ("actor=ann", "invalid_actor"),
        ("since=tomorrow", "invalid_time"),
        ("cursor=abc", "invalid_cursor"),
        ("colour=red", "invalid_query"),
    ] {
        let (status, body) = s
            .get_json(&format!("/api/v1/audit-log?{query}"), &admin)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["error"]["code"], code, "{query}");
    }
    s.stop().await;
}

#[tokio::test]
async fn only_admins_read_the_audit_log() {
    let s = TestServer::spawn().await;
    for path in ["/api/v1/audit-log", "/api/v1/audit-log.csv"] {
        let resp = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{path}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    for (role, email) in [
        (Role::Employee, "emp@example.test"),
        (Role::Technician, "tech@example.test"),
    ] {
        let (_, token) = person(&s, role, email).await;
        for path in ["/api/v1/audit-log", "/api/v1/audit-log.csv"] {
            let (status, body) = s.get_json(path, &token).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} {path}");
            assert_eq!(body["error"]["code"], "forbidden");
        }
        let login = submit_login(&s, email, USER_PASSWORD, None).await;
        let cookie = session_cookie(&login);
        let resp = get_page(&s, &cookie, "/admin/audit").await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{role}");
        assert!(!resp.text().await.unwrap().contains("href=\"/admin/audit\""));
    }
    let resp = s.http.get(s.url("/admin/audit")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    // Nobody's export of the log was recorded, since nobody got one.
    let admin = s.admin_token().await;
    assert!(entries(&s, &admin, "action=export.").await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn the_csv_export_has_every_matching_entry_and_is_audited() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (_, me) = s.get_json("/api/v1/me", &admin).await;
    s.with_db(|db| {
        for i in 0..12 {
            steward_server::accounts::create_api_token(db, ADMIN_EMAIL, &format!("t{i}"), None)
                .unwrap();
        }
    })
    .await;
    let resp = s
        .http
        .get(s.url("/api/v1/audit-log.csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("audit-log.csv")
    );
    let text = resp.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,at,actor_user_id,actor_label,ip,action,target,detail"
    );
    // Newest first: the export itself, then 12 + 1 tokens and the admin's creation.
    assert_eq!(lines.len(), 1 + 1 + 13 + 1, "{text}");
    assert!(lines[1].contains(",export.audit_log,"), "{}", lines[1]);
    assert!(
        lines[1].contains(&format!(",{},{ADMIN_EMAIL},127.0.0.1,", me["id"])),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(",api_token.created,"))
            .count(),
        13
    );
    assert!(lines[2].contains(r#"""name"":""t11"""#), "{}", lines[2]);
    assert!(lines.last().unwrap().contains(",user.created,"));
    // Filters apply to the file too.
    let resp = s
        .http
        .get(s.url("/api/v1/audit-log.csv?action=user.created"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap().lines().count(), 2);
    let exports = entries(&s, &admin, "action=export.audit_log").await;
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0]["detail"]["query"], "action=user.created");
    let (status, body) = s.get_json("/api/v1/audit-log.csv?since=nope", &admin).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_time"))
    );
    s.stop().await;
}

#[tokio::test]
async fn the_page_escapes_labels_and_pages_newer_and_older() {
    let s = TestServer::spawn().await;
    let evil = "<script>alert(1)</script>@evil.test";
    let resp = submit_login(&s, evil, "whatever pass", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    s.with_db(|db| {
        for i in 0..60 {
            steward_server::accounts::create_api_token(db, ADMIN_EMAIL, &format!("t{i}"), None)
                .unwrap();
        }
    })
    .await;
    let login = submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = session_cookie(&login);
    let html = page_text(&s, &cookie, "/admin/audit").await;
    assert!(
        html.contains("href=\"/admin/audit\""),
        "the nav links to the page"
    );
    assert!(html.contains("auth.login"));
    assert!(!html.contains("Newer"), "the first page is the newest");
    let older = html
        .split("href=\"")
        .find(|h| h.starts_with("/admin/audit?before="))
        .unwrap();
    let older = older.split('"').next().unwrap().replace("&amp;", "&");
    let html2 = page_text(&s, &cookie, &older).await;
    assert!(html2.contains("Newer"));
    // The oldest entries are on the second page: the failed sign-in, escaped.
    assert!(!html2.contains("<script>alert(1)"), "{html2}");
    assert!(
        html2.contains("&lt;script&gt;alert(1)&lt;/script&gt;@evil.test")
            || html2.contains("&#60;script&#62;"),
        "{html2}"
    );
    let newer = html2
        .split("href=\"")
        .find(|h| h.starts_with("/admin/audit?after="))
        .unwrap();
    let newer = newer.split('"').next().unwrap().replace("&amp;", "&");
    let html3 = page_text(&s, &cookie, &newer).await;
    let rows = |h: &str| h.matches("<tr>").count();
    assert_eq!(rows(&html3), rows(&html), "back to the newest page");
    assert!(!html3.contains("Newer"));

    // Filter by the label that was tried, and by action.
    let html = page_text(
        &s,
        &cookie,
        "/admin/audit?actor=%3Cscript%3Ealert(1)%3C%2Fscript%3E%40evil.test",
    )
    .await;
    assert!(html.contains("<code>auth.login_failed</code>"));
    assert!(!html.contains("<code>api_token.created</code>"));
    assert!(
        html.contains("actor_label=%3Cscript%3E"),
        "the CSV link keeps the filter"
    );
    let html = page_text(&s, &cookie, "/admin/audit?action=auth.").await;
    assert!(!html.contains("<code>api_token.created</code>"));
    let resp = get_page(&s, &cookie, "/admin/audit?action=DROP%20TABLE").await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    s.stop().await;
}
