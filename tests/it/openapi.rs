//! `GET /api/v1/openapi.json` against the real server: valid OpenAPI 3.0 (checked by
//! openapi-spec-validator), exactly the methods the router serves, and a schemathesis
//! run over every operation with an admin token: no 5xx, no response outside the
//! status codes, content types and schemas the document promises. Both tools come from
//! PyPI into `tests/.venv` (`bash tests/setup.sh`).

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use steward_server::domain::roles::Role;

fn venv_bin(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    assert!(
        p.exists(),
        "{} is missing: run `bash tests/setup.sh` (it installs schemathesis and \
         openapi-spec-validator into tests/.venv)",
        p.display()
    );
    p
}

async fn run(program: PathBuf, args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || Command::new(&program).args(&args).output())
        .await
        .unwrap()
        .unwrap()
}

async fn document(s: &TestServer) -> Value {
    let resp = s
        .http
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "anyone may read the document"
    );
    resp.json().await.unwrap()
}

/// A URL path for a route template: every parameter `1`.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "1" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_valid_and_lists_exactly_the_served_methods() {
    let s = TestServer::spawn().await;
    let doc = document(&s).await;
    let file = s.dir.path().join("openapi.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = run(
        venv_bin("openapi-spec-validator"),
        vec![file.display().to_string()],
    )
    .await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "not valid OpenAPI: {text}");

    // Which methods each path answers: axum says 405 before any extractor runs.
    let described: BTreeSet<(String, String)> = steward_server::http::openapi::operations(&doc)
        .into_iter()
        .collect();
    let pages: Vec<&str> = steward_server::ui::router().paths().to_vec();
    let mut served = BTreeSet::new();
    for path in steward_server::http::api_routes(1 << 20).paths() {
        let path = path.replace("{*", "{");
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            let status = s
                .http
                .request(method.clone(), s.url(&concrete(&path)))
                .send()
                .await
                .unwrap()
                .status();
            let op = (method.to_string(), path.clone());
            // `/` is a web page (GET) and a legacy inventory path (POST): only the
            // latter is an API operation.
            let page = pages.contains(&path.as_str()) && !described.contains(&op);
            if status != StatusCode::METHOD_NOT_ALLOWED && !page {
                served.insert(op);
            }
        }
    }
    let missing: Vec<_> = served.difference(&described).collect();
    let extra: Vec<_> = described.difference(&served).collect();
    assert!(missing.is_empty(), "served but not described: {missing:?}");
    assert!(extra.is_empty(), "described but not served: {extra:?}");
    println!(
        "openapi.json: {} operations on {} paths, {} schemas",
        described.len(),
        doc["paths"].as_object().unwrap().len(),
        doc["components"]["schemas"].as_object().unwrap().len()
    );
}

/// Something behind the first id of most resources, so the fuzzer's `1`s find data.
async fn seed(s: &TestServer, admin: &str) {
    let (client, creds) = s.enrolled_agent().await;
    let r = report(
        "fuzz-01",
        "01010101-aaaa-bbbb-cccc-dddddddddddd",
        &[("curl", "8.5.0"), ("vim", "9.1")],
    );
    client.checkin(&creds, &r).await.unwrap();
    let (_, employee) = person(s, Role::Employee, "fuzz-employee@example.test").await;
    file_ticket(s, &employee, "The printer on floor 2 jams").await;
    for (path, body) in [
        ("/api/v1/locations", json!({"name": "HQ"})),
        ("/api/v1/groups", json!({"name": "Desk"})),
        (
            "/api/v1/canned-responses",
            json!({"title": "Reboot", "body": "Please restart."}),
        ),
        (
            "/api/v1/views",
            json!({"name": "Mine", "query": "status=open"}),
        ),
    ] {
        let (status, body) = post(s, path, admin, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_response_outside_the_document() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    seed(&s, &admin).await;
    let args: Vec<String> = [
        "run",
        &s.url("/api/v1/openapi.json"),
        "--header",
        &format!("Authorization: Bearer {admin}"),
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,\
         response_headers_conformance,response_schema_conformance",
        "--max-examples",
        "15",
        "--seed",
        "20261126",
        "--generation-deterministic",
        // The legacy agents' XML protocol has its own hostile-input tests.
        "--exclude-path-regex",
        "^/(ocsinventory|plugins|front|marketplace|$)",
        "--no-color",
    ]
    .map(str::to_owned)
    .to_vec();
    let out = run(venv_bin("schemathesis"), args).await;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = text.rsplit("SUMMARY").next().unwrap_or(&text);
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    let cases: u64 = summary
        .lines()
        .find_map(|l| l.trim().split_once(" generated,")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no case count in:\n{summary}"));
    assert!(cases > 1000, "only {cases} cases:\n{summary}");
    println!("API fuzz: {cases} schemathesis cases, no failures");
}
