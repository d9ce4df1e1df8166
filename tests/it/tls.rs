//! HTTPS with rustls: the agent pins the server's CA and never skips verification.

use crate::helpers::*;
use std::path::Path;
use std::time::Duration;
use steward_agent::client::{Client, ClientError};

#[tokio::test]
async fn the_agent_talks_https_only_to_the_pinned_ca() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_pki(dir.path(), "steward");
    let (other_ca, _, _) = make_pki(dir.path(), "other");
    let s = TestServer::spawn_with(dir, |c| {
        c.tls.cert = Some(cert.clone());
        c.tls.key = Some(key.clone());
    })
    .await;
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let client = |ca: Option<&Path>| Client::new(&s.url, ca, Duration::from_secs(10)).unwrap();

    // Pinned to the right CA: enrollment and check-in work over TLS.
    let token = s.enrollment_token(1).await;
    let pinned = client(Some(&ca));
    let reply = pinned.enroll(&token, "tls-pc").await.unwrap();
    let creds = steward_agent::state::Credentials {
        server_url: s.url.clone(),
        agent_id: reply.agent_id,
        secret: reply.secret,
    };
    pinned
        .checkin(
            &creds,
            &report("tls-pc", "7150a000-0000-1111-2222-333333333333", &[]),
        )
        .await
        .unwrap();

    // The system trust store does not know our CA, and another CA is not ours: refused.
    for c in [client(None), client(Some(&other_ca))] {
        let err = c
            .enroll(&s.enrollment_token(1).await, "x")
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
    }
    // Plain HTTP to the HTTPS port gets nothing useful.
    let plain = Client::new(
        &s.url.replace("https://", "http://"),
        None,
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(
        plain
            .enroll(&s.enrollment_token(1).await, "x")
            .await
            .is_err()
    );
    s.stop().await;
}

#[test]
fn plain_http_is_refused_for_remote_servers_unless_allowed() {
    use steward_agent::config::check_server_url;
    assert!(check_server_url("http://127.0.0.1:8080", false).is_ok());
    assert!(check_server_url("http://localhost:8080", false).is_ok());
    assert!(check_server_url("http://10.0.0.5:8080", false).is_err());
    assert!(check_server_url("http://10.0.0.5:8080", true).is_ok());
    assert!(check_server_url("https://steward.example.com", false).is_ok());
}
