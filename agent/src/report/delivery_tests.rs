//! [`ReportQueue::deliver`] against the scripted HTTP server of the run tests: what stays
//! spooled, what is dropped, and what a request for a full report does.

use super::*;
use crate::client::Client;
use crate::run::RunError;
use crate::run::http_tests::ScriptedServer;
use crate::state::Credentials;
use std::time::Duration;
use steward_shared::{AgentCommand, Health, Inventory, ReportKind, Software};

const OK: (u16, &str) = (200, r#"{"asset_id":5,"commands":[]}"#);
const FULL_PLEASE: (u16, &str) = (
    200,
    r#"{"asset_id":5,"commands":[{"kind":"send_full_report"}]}"#,
);

fn creds() -> Credentials {
    Credentials {
        server_url: "http://unused".into(),
        agent_id: "agt_1".into(),
        secret: "s3cret".into(),
    }
}

fn client(url: &str) -> Client {
    Client::new(url, None, Duration::from_secs(5)).expect("client")
}

/// A URL where nothing listens.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// An inventory large enough that a full report goes gzipped.
fn inventory(version: &str) -> Inventory {
    Inventory {
        hostname: "pc1".into(),
        software: (0..100)
            .map(|i| Software {
                name: format!("package-{i}"),
                version: version.into(),
                source: "dpkg".into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn produce(q: &mut ReportQueue, inv: Inventory, at: i64) -> steward_shared::CheckinRequest {
    let health = Health {
        taken_at: at,
        ..Default::default()
    };
    q.produce(inv, health, at).expect("produce")
}

#[tokio::test]
async fn reports_wait_for_a_server_that_is_down_then_go_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("open");
    produce(&mut q, inventory("1"), 1_000);
    produce(&mut q, inventory("1"), 2_000);
    produce(&mut q, inventory("2"), 3_000);

    let e = q
        .deliver(&client(&dead_url()), &creds())
        .await
        .expect_err("nothing listens");
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(q.pending(), vec![1, 2, 3]);

    // A restart in between loses nothing.
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("reopen");
    let server = ScriptedServer::start(vec![OK, OK, OK]).await;
    let d = q
        .deliver(&client(&server.url), &creds())
        .await
        .expect("delivers");
    assert_eq!(d.delivered, vec![1, 2, 3]);
    assert_eq!(d.last_response.map(|r| r.asset_id), Some(5));
    assert!(!d.full_requested);
    assert!(q.pending().is_empty());

    let seen = server.seen();
    let kinds: Vec<_> = seen.iter().map(|s| s.body["kind"].clone()).collect();
    assert_eq!(kinds, ["full", "heartbeat", "delta"]);
    assert_eq!(seen[0].header("content-encoding"), Some("gzip"));
    assert!(
        seen[0].wire_bytes < GZIP_THRESHOLD,
        "{}",
        seen[0].wire_bytes
    );
    assert_eq!(seen[1].header("content-encoding"), None);
    assert_eq!(seen[1].header("content-type"), Some("application/json"));
    assert_eq!(
        seen[0].body["inventory"]["software"]
            .as_array()
            .map(Vec::len),
        Some(100)
    );
    assert_eq!(seen[2].body["base_digest"], seen[0].body["digest"]);
    assert_eq!(
        seen[2].body["delta"]["software_added"]
            .as_array()
            .map(Vec::len),
        Some(100)
    );
    assert_eq!(seen[2].header("authorization"), Some("Bearer agt_1.s3cret"));
}

#[tokio::test]
async fn a_request_for_a_full_report_clears_the_spool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("open");
    for (i, version) in ["1", "2", "3", "4"].iter().enumerate() {
        produce(&mut q, inventory(version), 1_000 + i as i64);
    }
    let server = ScriptedServer::start(vec![OK, FULL_PLEASE, OK]).await;
    let d = q
        .deliver(&client(&server.url), &creds())
        .await
        .expect("delivers");
    assert_eq!(d.delivered, vec![1, 2]);
    assert!(d.full_requested);
    assert_eq!(d.commands, vec![AgentCommand::SendFullReport]);
    assert!(
        q.pending().is_empty(),
        "3 and 4 build on a chain the server lost"
    );
    assert_eq!(server.seen().len(), 2);

    // The next report is full, and so it stays across a restart.
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("reopen");
    let r = produce(&mut q, inventory("4"), 2_000);
    assert_eq!(
        (r.kind, r.seq, r.base_digest.as_str()),
        (ReportKind::Full, 5, "")
    );
    let d = q
        .deliver(&client(&server.url), &creds())
        .await
        .expect("delivers");
    assert_eq!(d.delivered, vec![5]);
    assert!(!d.full_requested);
}

#[tokio::test]
async fn invalid_reports_are_dropped_and_the_rest_delivered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("open");
    produce(&mut q, inventory("1"), 1_000);
    produce(&mut q, inventory("1"), 2_000);
    let invalid = (
        422,
        r#"{"error":{"code":"invalid_report","message":"bad digest"}}"#,
    );
    let server = ScriptedServer::start(vec![invalid, OK]).await;
    let d = q
        .deliver(&client(&server.url), &creds())
        .await
        .expect("delivers");
    assert_eq!((d.delivered, d.dropped), (vec![2], 1));
    assert!(q.pending().is_empty());
}

#[tokio::test]
async fn revoked_and_transient_errors_keep_the_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("open");
    produce(&mut q, inventory("1"), 1_000);
    produce(&mut q, inventory("1"), 2_000);
    let server = ScriptedServer::start(vec![
        (
            401,
            r#"{"error":{"code":"invalid_agent_credential","message":"no"}}"#,
        ),
        (
            200,
            r#"{"asset_id":5,"commands":[{"kind":"set_schedule","cron":"0 * * * *"}]}"#,
        ),
        (503, "busy"),
        OK,
    ])
    .await;
    let c = client(&server.url);
    let e = q.deliver(&c, &creds()).await.expect_err("revoked");
    assert!(matches!(e, RunError::Revoked), "{e:?}");
    assert_eq!(q.pending(), vec![1, 2]);

    // Seq 1 goes through, seq 2 hits a 503: the error is returned, seq 2 stays, and the
    // reply to seq 1 is handed out by the next successful delivery.
    let e = q.deliver(&c, &creds()).await.expect_err("503");
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(q.pending(), vec![2]);
    let d = q.deliver(&c, &creds()).await.expect("delivers");
    assert_eq!(d.delivered, vec![1, 2]);
    assert_eq!(
        d.commands,
        vec![AgentCommand::SetSchedule {
            cron: "0 * * * *".into()
        }]
    );
    assert!(q.pending().is_empty());
}

#[tokio::test]
async fn a_server_without_gzip_gets_plain_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut q = ReportQueue::open(dir.path(), SpoolLimits::default()).expect("open");
    produce(&mut q, inventory("1"), 1_000);
    let no_gzip = (
        400,
        r#"{"error":{"code":"invalid_json","message":"expected value at line 1"}}"#,
    );
    let server = ScriptedServer::start(vec![no_gzip, OK]).await;
    let d = q
        .deliver(&client(&server.url), &creds())
        .await
        .expect("delivers");
    assert_eq!((d.delivered, d.dropped), (vec![1], 0));
    let seen = server.seen();
    assert_eq!(seen[0].header("content-encoding"), Some("gzip"));
    assert_eq!(seen[1].header("content-encoding"), None);
    assert_eq!(seen[1].body["kind"], "full");
}
