//! Enroll and check in against a small scripted HTTP server on a free loopback port.

use super::*;
use crate::state::Credentials;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    headers: Vec<(String, String)>,
    body: serde_json::Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers each connection's one request with the next scripted `(status, body)`.
struct ScriptedServer {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ScriptedServer {
    async fn start(script: Vec<(u16, &'static str)>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let mut script: VecDeque<_> = script.into();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let Some(request) = read_request(&mut conn).await else {
                    continue;
                };
                log.lock().expect("lock").push(request);
                let (status, body) = script.pop_front().unwrap_or((500, "script exhausted"));
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(response.as_bytes()).await;
                let _ = conn.shutdown().await;
            }
        });
        ScriptedServer { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }
}

async fn read_request(conn: &mut tokio::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let mut chunk = [0u8; 65536];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..head_end + len]).unwrap_or_default();
    Some(Seen {
        request_line,
        headers,
        body,
    })
}

#[tokio::test]
async fn enroll_then_check_in() {
    let server = ScriptedServer::start(vec![
        (200, r#"{"agent_id":"agt_7","secret":"very-secret"}"#),
        (
            200,
            r#"{"asset_id":42,"commands":[{"kind":"collect_now"}]}"#,
        ),
        (
            401,
            r#"{"error":{"code":"unauthorized","message":"unknown agent"}}"#,
        ),
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = AgentConfig {
        collect_software: false,
        ..AgentConfig::default()
    };

    let creds = enroll(&config, &server.url, " tok-123 ", dir.path())
        .await
        .expect("enrolls");
    assert_eq!(creds.agent_id, "agt_7");
    assert_eq!(Credentials::load(dir.path()).expect("load"), Some(creds));

    let reply = run_once(&config, dir.path()).await.expect("checks in");
    assert_eq!(reply.asset_id, 42);

    let e = run_once(&config, dir.path()).await.expect_err("revoked");
    assert!(matches!(e, RunError::Revoked), "{e:?}");

    let seen = server.seen();
    assert_eq!(seen[0].request_line, "POST /api/v1/agent/enroll HTTP/1.1");
    assert_eq!(seen[0].body["token"], "tok-123");
    assert!(seen[0].header("authorization").is_none());
    assert_eq!(seen[1].request_line, "POST /api/v1/agent/checkin HTTP/1.1");
    assert_eq!(
        seen[1].header("authorization"),
        Some("Bearer agt_7.very-secret")
    );
    assert!(seen[1].body["inventory"]["hostname"].is_string());
    assert!(seen[1].body["health"]["taken_at"].is_i64());
}

#[tokio::test]
async fn refused_enrollment_says_what_to_do() {
    let server = ScriptedServer::start(vec![(
        403,
        r#"{"error":{"code":"token_expired","message":"this enrollment token has expired"}}"#,
    )])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let e = enroll(&AgentConfig::default(), &server.url, "old", dir.path())
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, RunError::EnrollRefused { status: 403, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("has expired"), "{e}");
    assert!(
        e.to_string().contains("steward-server enrollment create"),
        "{e}"
    );
    assert_eq!(Credentials::load(dir.path()).expect("load"), None);

    let e = enroll(
        &AgentConfig::default(),
        "http://steward.example",
        "t",
        dir.path(),
    )
    .await
    .expect_err("insecure");
    assert!(e.to_string().contains("allow_insecure_http"), "{e}");
}
