//! Bad input gets a clear JSON 4xx, never a 500, and changes nothing.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

async fn error_code(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: Value = resp.json().await.expect("error bodies are JSON");
    (
        status,
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// POSTs a raw `body` with `headers`; returns the status and the error code.
async fn post_raw(
    s: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (StatusCode, String) {
    let mut req = s.http.post(s.url(path)).body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    error_code(req.send().await.unwrap()).await
}

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test]
async fn malformed_json_gets_a_json_400() {
    let s = TestServer::spawn().await;
    let (_, creds) = s.enrolled_agent().await;
    let auth = agent_auth(&creds);
    assert_eq!(
        post_raw(
            &s,
            steward_shared::CHECKIN_PATH,
            &[("authorization", &auth), JSON],
            "{\"inventory\": {\"hostname\": ",
        )
        .await,
        (StatusCode::BAD_REQUEST, "invalid_body".into())
    );
    assert_eq!(
        post_raw(&s, steward_shared::ENROLL_PATH, &[JSON], "[1,2").await,
        (StatusCode::BAD_REQUEST, "invalid_body".into())
    );
    assert_eq!(
        post_raw(&s, steward_shared::ENROLL_PATH, &[], "token=x").await,
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type".into()
        )
    );
    s.stop().await;
}

#[tokio::test]
async fn a_20_mb_body_gets_a_json_413() {
    let s = TestServer::spawn().await;
    let (_, creds) = s.enrolled_agent().await;
    let big = format!(
        "{{\"inventory\": {{\"hostname\": \"{}\"}}}}",
        "x".repeat(20 * 1024 * 1024)
    );
    let auth = agent_auth(&creds);
    assert_eq!(
        post_raw(
            &s,
            steward_shared::CHECKIN_PATH,
            &[("authorization", &auth), JSON],
            big.clone(),
        )
        .await,
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    assert_eq!(
        post_raw(&s, steward_shared::ENROLL_PATH, &[JSON], big).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large".into())
    );
    // Nothing was stored.
    let admin = s.admin_token().await;
    let (_, list) = s.get_json("/api/v1/assets", &admin).await;
    assert!(list["items"].as_array().unwrap().is_empty());
    s.stop().await;
}

#[tokio::test]
async fn unreasonable_inventory_is_refused_with_422() {
    let s = TestServer::spawn().await;
    let (client, creds) = s.enrolled_agent().await;
    let mut r = report("pc", "12345678-aaaa-bbbb-cccc-1234567890ab", &[("", "1.0")]);
    let err = client.checkin(&creds, &r).await.unwrap_err();
    assert!(
        matches!(err, steward_agent::client::ClientError::Http { status: 422, ref code, .. } if code == "invalid_inventory"),
        "{err:?}"
    );
    r.inventory.software.clear();
    r.inventory.hostname = "h".repeat(300);
    assert!(client.checkin(&creds, &r).await.is_err());
    s.stop().await;
}

#[tokio::test]
async fn bad_query_parameters_and_unknown_things_are_4xx() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    for (path, status, code) in [
        ("/api/v1/assets?limit=0", 400, "invalid_limit"),
        ("/api/v1/assets?limit=100000", 400, "invalid_limit"),
        ("/api/v1/assets?cursor=abc", 400, "invalid_cursor"),
        ("/api/v1/assets/999", 404, "not_found"),
        ("/api/v1/assets/999/software", 404, "not_found"),
        ("/api/v1/assets/999/history", 404, "not_found"),
        ("/api/v1/assets/1/software?cursor=zz", 400, "invalid_cursor"),
        ("/api/v1/nope", 404, "not_found"),
    ] {
        let (st, body) = s.get_json(path, &admin).await;
        assert_eq!(
            (st.as_u16(), body["error"]["code"].as_str().unwrap_or("")),
            (status, code),
            "{path}: {body}"
        );
    }
    // Search syntax that FTS5 would choke on is treated as plain words.
    for q in ["\"", "a AND (", "NEAR(", "*", "-x", "col:val"] {
        let (st, _) = s
            .get_json(&format!("/api/v1/assets?q={}", urlencode(q)), &admin)
            .await;
        assert_eq!(st, StatusCode::OK, "q={q}");
    }
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
