//! Enroll and check in against a small scripted HTTP server on a free loopback port (which
//! the report queue's delivery tests use too).

use super::*;
use crate::state::Credentials;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as the server saw it (the body decompressed when it came gzipped).
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) request_line: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: serde_json::Value,
    /// Bytes of the body on the wire.
    pub(crate) wire_bytes: usize,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Answers each connection's one request with the next scripted `(status, body)`.
pub(crate) struct ScriptedServer {
    pub(crate) url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl ScriptedServer {
    pub(crate) async fn start(script: Vec<(u16, &'static str)>) -> ScriptedServer {
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

    pub(crate) fn seen(&self) -> Vec<Seen> {
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
    let raw = &buf[head_end..head_end + len];
    let gzip = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
    let mut json = Vec::new();
    if gzip {
        use std::io::Read;
        flate2::read::GzDecoder::new(raw)
            .read_to_end(&mut json)
            .ok()?;
    } else {
        json = raw.to_vec();
    }
    let body = serde_json::from_slice(&json).unwrap_or_default();
    Some(Seen {
        request_line,
        headers,
        body,
        wire_bytes: len,
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
        (200, r#"{"agent_id":"agt_8","secret":"new-secret"}"#),
        (200, r#"{"asset_id":42,"commands":[]}"#),
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
    assert!(
        crate::report::ReportQueue::open(dir.path(), Default::default())
            .expect("queue")
            .pending()
            .is_empty(),
        "delivered reports leave the spool"
    );

    let e = run_once(&config, dir.path()).await.expect_err("revoked");
    assert!(matches!(e, RunError::Revoked), "{e:?}");
    let queue = crate::report::ReportQueue::open(dir.path(), Default::default()).expect("queue");
    assert_eq!(queue.pending(), vec![2]);

    // Enrolled again: a new identity starts a new chain with a full report.
    enroll(&config, &server.url, "tok-456", dir.path())
        .await
        .expect("enrolls again");
    assert_eq!(
        run_once(&config, dir.path())
            .await
            .expect("checks in")
            .asset_id,
        42
    );

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
    assert_eq!(seen[1].body["kind"], "full");
    assert_eq!(seen[1].body["seq"], 1);
    // The second run compares with the first: no inventory, seq 2, chained on seq 1.
    assert_ne!(seen[2].body["kind"], "full");
    assert_eq!(seen[2].body["seq"], 2);
    assert_eq!(seen[2].body["base_digest"], seen[1].body["digest"]);
    assert!(seen[2].body.get("inventory").is_none());
    assert_eq!(
        seen[4].header("authorization"),
        Some("Bearer agt_8.new-secret")
    );
    assert_eq!(
        (&seen[4].body["kind"], &seen[4].body["seq"]),
        (&"full".into(), &1.into())
    );
}

#[tokio::test]
async fn run_once_answers_a_request_for_a_full_report() {
    let server = ScriptedServer::start(vec![
        (200, r#"{"asset_id":7,"commands":[]}"#),
        (
            200,
            r#"{"asset_id":7,"commands":[{"kind":"send_full_report"}]}"#,
        ),
        (200, r#"{"asset_id":8,"commands":[]}"#),
    ])
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    Credentials {
        server_url: server.url.clone(),
        agent_id: "agt_1".into(),
        secret: "s".into(),
    }
    .save(dir.path())
    .expect("save");
    let config = AgentConfig {
        collect_software: false,
        ..AgentConfig::default()
    };
    assert_eq!(
        run_once(&config, dir.path()).await.expect("first").asset_id,
        7
    );
    assert_eq!(
        run_once(&config, dir.path())
            .await
            .expect("second")
            .asset_id,
        8
    );
    let kinds: Vec<_> = server
        .seen()
        .iter()
        .map(|s| (s.body["seq"].as_u64(), s.body["kind"].clone()))
        .collect();
    assert_eq!(kinds[0], (Some(1), "full".into()));
    assert_eq!(kinds[1].0, Some(2));
    assert_eq!(kinds[2], (Some(3), "full".into()));
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
