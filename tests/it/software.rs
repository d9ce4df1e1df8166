//! The fleet's software catalog over agent-reported software: which machines have a title
//! below a version, install counts that follow each report, installs and removals per day.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;
use steward_agent::client::Client;
use steward_agent::report::{ReportQueue, SpoolLimits};
use steward_agent::state::Credentials;
use steward_server::domain::roles::Role;
use steward_shared::Health;

const OLD: &str = "1.1.1n-0+deb11u5";
const NEW: &str = "3.0.11-1~deb12u2";
const ALPHA: &str = "3.0.0~alpha1-1";
const PRINTER: &str = "HP LaserJet M402/M403 Drivers";

/// Enrolls an agent and checks in one full report; returns the agent and its asset id.
async fn machine(
    s: &TestServer,
    host: &str,
    uuid: &str,
    software: &[(&str, &str)],
) -> (Client, Credentials, i64) {
    let (client, creds) = s.enrolled_agent().await;
    let reply = client
        .checkin(&creds, &report(host, uuid, software))
        .await
        .unwrap();
    (client, creds, reply.asset_id)
}

/// The (hostname, version) of every machine a holders query lists, walking all pages.
async fn holders(s: &TestServer, token: &str, query: &str, limit: u32) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = s
            .get_json(
                &format!("/api/v1/software/openssl/assets?{query}&limit={limit}&cursor={cursor}"),
                token,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for h in page["items"].as_array().unwrap() {
            out.push((
                h["hostname"].as_str().unwrap().to_owned(),
                h["version"].as_str().unwrap().to_owned(),
            ));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(h, v)| ((*h).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn which_machines_have_openssl_below_3_0() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let fleet = [("pc-a", OLD), ("pc-b", OLD), ("pc-c", NEW), ("pc-d", ALPHA)];
    for (i, (host, version)) in fleet.iter().enumerate() {
        let uuid = format!("50f70000-0000-0000-0000-00000000000{i}");
        machine(
            &s,
            host,
            &uuid,
            &[("openssl", version), ("curl", "7.88.1-10")],
        )
        .await;
    }
    machine(
        &s,
        "pc-e",
        "50f70000-0000-0000-0000-0000000000ff",
        &[("curl", "8.5.0-2"), (PRINTER, "20.1.0")],
    )
    .await;

    // 3.0.0~alpha1 comes after 3.0 (3.0 < 3.0.0~alpha1 < 3.0.0), so only 1.1.1n is below 3.0.
    let below = pairs(&[("pc-a", OLD), ("pc-b", OLD)]);
    assert_eq!(holders(&s, &tech, "below=3.0", 50).await, below);
    assert_eq!(holders(&s, &tech, "below=3.0", 1).await, below, "paged");
    assert_eq!(
        holders(&s, &tech, "below=3.0.0", 1).await,
        pairs(&[("pc-a", OLD), ("pc-b", OLD), ("pc-d", ALPHA)])
    );
    assert_eq!(
        holders(&s, &tech, "at_or_above=3.0", 50).await,
        pairs(&[("pc-c", NEW), ("pc-d", ALPHA)])
    );
    assert_eq!(
        holders(&s, &tech, "at_or_above=3.0.0&below=3.1", 50).await,
        pairs(&[("pc-c", NEW)])
    );
    assert_eq!(
        holders(&s, &tech, &format!("version={}", urlencode(NEW)), 50).await,
        pairs(&[("pc-c", NEW)])
    );
    assert!(holders(&s, &tech, "below=1.0", 50).await.is_empty());

    let (_, page) = s
        .get_json("/api/v1/software/openssl/assets?below=3.0", &tech)
        .await;
    assert_eq!(page["installs"], 2, "{page}");
    assert_eq!(page["versions"][0]["version"], OLD, "{page}");
    assert!(page["items"][0]["asset_id"].as_i64().unwrap() > 0);
    assert_eq!(page["items"][0]["name"], "pc-a");

    // The catalog: titles with installs and versions; versions newest first.
    let (status, list) = s.get_json("/api/v1/software?q=SSL", &tech).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(
        list["items"],
        serde_json::json!([{"name": "openssl", "installs": 4, "versions": 3}])
    );
    let (_, all) = s.get_json("/api/v1/software?limit=1", &tech).await;
    assert_eq!(all["items"][0]["name"], PRINTER);
    let next = all["next_cursor"].as_str().unwrap();
    let (_, rest) = s
        .get_json(&format!("/api/v1/software?limit=1&cursor={next}"), &tech)
        .await;
    assert_eq!(rest["items"][0]["name"], "curl");
    assert_eq!(rest["items"][0]["installs"], 5);
    // A title with a slash and spaces, percent-encoded in the path.
    let (status, printer) = s
        .get_json(
            &format!("/api/v1/software/{}/assets", urlencode(PRINTER)),
            &tech,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{printer}");
    assert_eq!(printer["items"][0]["hostname"], "pc-e");
    let (_, versions) = s.get_json("/api/v1/software/openssl/versions", &tech).await;
    assert_eq!(
        versions["items"],
        serde_json::json!([
            {"version": NEW, "installs": 1},
            {"version": ALPHA, "installs": 1},
            {"version": OLD, "installs": 2},
        ])
    );
    let (_, first) = s
        .get_json("/api/v1/software/openssl/versions?limit=2", &tech)
        .await;
    let next = first["next_cursor"].as_str().unwrap();
    let (_, last) = s
        .get_json(
            &format!("/api/v1/software/openssl/versions?limit=2&cursor={next}"),
            &tech,
        )
        .await;
    assert_eq!(
        last["items"],
        serde_json::json!([{"version": OLD, "installs": 2}])
    );
    assert_eq!(last["next_cursor"], Value::Null);
    // The same on the web: the catalog, the version bars, the machines below 3.0.
    let login = crate::browser::submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let catalog = crate::browser::page_text(&s, &cookie, "/software?q=SSL").await;
    assert!(catalog.contains("href=\"/software/openssl\""), "{catalog}");
    assert!(!catalog.contains("curl"), "{catalog}");
    let page = crate::browser::page_text(&s, &cookie, "/software/openssl?below=3.0").await;
    assert!(page.contains("pc-a") && page.contains("pc-b"), "{page}");
    assert!(!page.contains("pc-c") && !page.contains("pc-d"), "{page}");
    assert_eq!(
        page.matches("class=\"hit\"").count(),
        1,
        "only {OLD} is below 3.0"
    );
    assert!(page.contains("2 installs below 3.0"), "{page}");
    // Typed text is escaped; a control character is refused with a message.
    let odd = crate::browser::page_text(&s, &cookie, "/software/openssl?below=%3Cx%3E").await;
    assert!(odd.contains("&#60;x&#62;") && !odd.contains("<x>"), "{odd}");
    let bad = crate::browser::page_text(&s, &cookie, "/software/openssl?below=3%07").await;
    assert!(bad.contains("role=\"alert\""), "{bad}");
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn versions(s: &TestServer, token: &str, title: &str) -> Value {
    let (status, v) = s
        .get_json(&format!("/api/v1/software/{title}/versions"), token)
        .await;
    if status == StatusCode::NOT_FOUND {
        return Value::Null;
    }
    assert_eq!(status, StatusCode::OK, "{v}");
    v["items"].clone()
}

/// A title's [installed, removed, upgraded, downgraded] this week, from its daily history
/// (summed over the days, so a test running across midnight UTC still counts them).
async fn this_week(s: &TestServer, token: &str, title: &str) -> Value {
    let (status, h) = s
        .get_json(&format!("/api/v1/software/{title}/history?days=7"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{h}");
    let items = h["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "{h}");
    assert_eq!(items[0]["date"], h["from"]);
    assert_eq!(items[6]["date"], h["to"]);
    let sum = |k: &str| items.iter().map(|d| d[k].as_i64().unwrap()).sum::<i64>();
    serde_json::json!([
        sum("installed"),
        sum("removed"),
        sum("upgraded"),
        sum("downgraded")
    ])
}

#[tokio::test]
async fn counts_and_history_follow_each_report() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    // One machine reports through the real agent's report queue (full, then deltas).
    let (_, state_dir) = s.enrolled_agent_dir().await;
    let creds = Credentials::load(&state_dir).unwrap().unwrap();
    let client = agent_client(&s.url);
    let mut queue = ReportQueue::open(&state_dir, SpoolLimits::default()).unwrap();
    let uuid = "c0c0c0c0-0000-1111-2222-333333333333";
    let first = report("desk-1", uuid, &[("openssl", OLD), ("vim", "2:9.0.1378-2")]);
    queue
        .produce(first.inventory, Health::default(), 1_000)
        .unwrap();
    queue.deliver(&client, &creds).await.unwrap();
    let (other, other_creds, _) = machine(
        &s,
        "desk-2",
        "c0c0c0c0-0000-1111-2222-444444444444",
        &[("openssl", OLD)],
    )
    .await;

    assert_eq!(
        versions(&s, &tech, "openssl").await,
        serde_json::json!([{"version": OLD, "installs": 2}])
    );
    // First reports are machines joining, not installs.
    assert_eq!(
        this_week(&s, &tech, "openssl").await,
        serde_json::json!([0, 0, 0, 0])
    );

    // The next report upgrades openssl, removes vim, installs htop: a delta.
    let next = report("desk-1", uuid, &[("openssl", NEW), ("htop", "3.2.2-2")]);
    let sent = queue
        .produce(next.inventory, Health::default(), 2_000)
        .unwrap();
    assert_eq!(sent.kind, steward_shared::ReportKind::Delta);
    let d = queue.deliver(&client, &creds).await.unwrap();
    assert_eq!(d.delivered.len(), 1);

    assert_eq!(
        versions(&s, &tech, "openssl").await,
        serde_json::json!([{"version": NEW, "installs": 1}, {"version": OLD, "installs": 1}])
    );
    assert_eq!(
        versions(&s, &tech, "vim").await,
        Value::Null,
        "removed everywhere"
    );
    assert_eq!(
        holders(&s, &tech, "below=3.0", 50).await,
        pairs(&[("desk-2", OLD)])
    );
    assert_eq!(
        this_week(&s, &tech, "openssl").await,
        serde_json::json!([0, 0, 1, 0])
    );
    assert_eq!(
        this_week(&s, &tech, "vim").await,
        serde_json::json!([0, 1, 0, 0])
    );
    assert_eq!(
        this_week(&s, &tech, "htop").await,
        serde_json::json!([1, 0, 0, 0])
    );

    // A full report from the other machine without openssl removes its install.
    other
        .checkin(
            &other_creds,
            &report("desk-2", "c0c0c0c0-0000-1111-2222-444444444444", &[]),
        )
        .await
        .unwrap();
    assert_eq!(
        versions(&s, &tech, "openssl").await,
        serde_json::json!([{"version": NEW, "installs": 1}])
    );
    assert!(holders(&s, &tech, "below=3.0", 50).await.is_empty());
    assert_eq!(
        this_week(&s, &tech, "openssl").await,
        serde_json::json!([0, 1, 1, 0])
    );
    let (_, list) = s.get_json("/api/v1/software", &tech).await;
    assert_eq!(
        list["items"],
        serde_json::json!([
            {"name": "htop", "installs": 1, "versions": 1},
            {"name": "openssl", "installs": 1, "versions": 1},
        ])
    );
    s.stop().await;
}

#[tokio::test]
async fn employees_are_refused_and_bad_parameters_get_codes() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let employee = s.token_for(Role::Employee).await;
    machine(
        &s,
        "pc",
        "ba0ba0ba-0000-1111-2222-333333333333",
        &[("openssl", OLD)],
    )
    .await;

    for path in [
        "/api/v1/software",
        "/api/v1/software/openssl/versions",
        "/api/v1/software/openssl/assets?below=3.0",
        "/api/v1/software/openssl/history",
        "/api/v1/software/openssl/assets?below=",
    ] {
        let (status, body) = s.get_json(path, &employee).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["error"]["code"], "forbidden");
        let anonymous = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{path}");
    }

    let long = "9".repeat(201);
    let cases: Vec<(String, StatusCode, &str)> = vec![
        (
            "/api/v1/software?limit=0".into(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "/api/v1/software?limit=501".into(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "/api/v1/software?limit=ten".into(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "/api/v1/software?cursor=zz".into(),
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/api/v1/software?sort=name".into(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            format!("/api/v1/software?q={}", "x".repeat(201)),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/api/v1/software/openssl/assets?below=".into(),
            StatusCode::BAD_REQUEST,
            "invalid_version",
        ),
        (
            format!("/api/v1/software/openssl/assets?below={long}"),
            StatusCode::BAD_REQUEST,
            "invalid_version",
        ),
        (
            "/api/v1/software/openssl/assets?below=3.0%0A".into(),
            StatusCode::OK,
            "",
        ),
        (
            "/api/v1/software/openssl/assets?below=1%0A2".into(),
            StatusCode::BAD_REQUEST,
            "invalid_version",
        ),
        (
            "/api/v1/software/openssl/assets?below=2.0&at_or_above=3.0".into(),
            StatusCode::BAD_REQUEST,
            "invalid_range",
        ),
        (
            "/api/v1/software/openssl/assets?cursor=00".into(),
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "/api/v1/software/openssl/assets?above=3.0".into(),
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        (
            "/api/v1/software/openssl/versions?limit=-1".into(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "/api/v1/software/openssl/history?days=0".into(),
            StatusCode::BAD_REQUEST,
            "invalid_days",
        ),
        (
            "/api/v1/software/openssl/history?days=367".into(),
            StatusCode::BAD_REQUEST,
            "invalid_days",
        ),
        (
            "/api/v1/software/openssl/history?days=week".into(),
            StatusCode::BAD_REQUEST,
            "invalid_days",
        ),
        (
            "/api/v1/software/%20/versions".into(),
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            format!("/api/v1/software/{}/versions", "n".repeat(513)),
            StatusCode::BAD_REQUEST,
            "invalid_name",
        ),
        (
            "/api/v1/software/%FF/versions".into(),
            StatusCode::BAD_REQUEST,
            "invalid_path",
        ),
        (
            "/api/v1/software/emacs/versions".into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/software/emacs/assets?below=3".into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/software/emacs/history".into(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (path, status, code) in cases {
        let (got, body) = s.get_json(&path, &tech).await;
        assert_eq!(got, status, "{path}: {body}");
        if !code.is_empty() {
            assert_eq!(body["error"]["code"], code, "{path}: {body}");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
    }
    s.stop().await;
}
