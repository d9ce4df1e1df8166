//! Who may do what: roles on the API, tokens.

use crate::helpers::*;
use reqwest::StatusCode;
use steward_server::domain::roles::Role;

#[tokio::test]
async fn employee_cannot_list_assets_but_staff_can() {
    let s = TestServer::spawn().await;
    let employee = s.token_for(Role::Employee).await;
    let (status, body) = s.get_json("/api/v1/assets", &employee).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");

    let tech = s.token_for(Role::Technician).await;
    let (status, body) = s.get_json("/api/v1/assets", &tech).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["items"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn anonymous_and_bad_tokens_are_refused() {
    let s = TestServer::spawn().await;
    let resp = s.http.get(s.url("/api/v1/assets")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");

    let (status, body) = s.get_json("/api/v1/assets", "stw_not_a_real_token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_token");
    s.stop().await;
}

#[tokio::test]
async fn only_admins_create_enrollment_tokens() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let resp = s
        .http
        .post(s.url("/api/v1/enrollment-tokens"))
        .bearer_auth(&tech)
        .json(&serde_json::json!({"uses": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let admin = s.admin_token().await;
    let resp = s
        .http
        .post(s.url("/api/v1/enrollment-tokens"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"uses": 3, "expires": "1h"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: serde_json::Value = resp.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    // The new token really enrolls an agent.
    agent_client(&s.url).enroll(token, "pc").await.unwrap();
    s.stop().await;
}

#[tokio::test]
async fn me_reports_the_caller() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (status, body) = s.get_json("/api/v1/me", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], ADMIN_EMAIL);
    assert_eq!(body["role"], "admin");
    s.stop().await;
}

/// A read-scoped token reads but changes nothing (API and web forms alike); an expired
/// token is refused outright; the scope is in the audit log.
#[tokio::test]
async fn read_tokens_only_read_and_expired_tokens_are_refused() {
    use steward_server::accounts::create_scoped_api_token;
    use steward_server::db::tokens::Scope;
    let s = TestServer::spawn().await;
    let reader = s
        .with_db(|db| create_scoped_api_token(db, ADMIN_EMAIL, "dashboards", None, Scope::Read))
        .await
        .unwrap();
    let (status, body) = s.get_json("/api/v1/assets", &reader).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post(
        &s,
        "/api/v1/locations",
        &reader,
        serde_json::json!({"name": "HQ"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_scope");
    let status = delete(&s, "/api/v1/views/1", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.get_json("/api/v1/locations", &reader).await;
    assert_eq!(
        body["items"].as_array().map(Vec::len),
        Some(0),
        "{status} {body}"
    );

    let writer = s.admin_token().await;
    let (status, body) = post(
        &s,
        "/api/v1/locations",
        &writer,
        serde_json::json!({"name": "HQ"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let expired = s
        .with_db(|db| create_scoped_api_token(db, ADMIN_EMAIL, "old", Some(-1), Scope::Write))
        .await
        .unwrap();
    let (status, body) = s.get_json("/api/v1/assets", &expired).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_token");

    let (_, log) = s
        .get_json("/api/v1/audit-log?action=api_token.created", &writer)
        .await;
    let scopes: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["detail"]["scope"].as_str())
        .collect();
    assert!(
        scopes.contains(&"read") && scopes.contains(&"write"),
        "{log}"
    );
}
