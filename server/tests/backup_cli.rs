//! `steward-server backup` and `restore` as an operator runs them: the real binary, a
//! running server, a ticket with an attachment made over HTTP.
#![forbid(unsafe_code)]
#![allow(clippy::unwrap_used)]

mod common;

use common::{run, start};
use serde_json::Value;

#[tokio::test]
async fn backup_while_running_then_restore_elsewhere_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(&data);
    let (ok, token, err) = run(
        &data,
        &["token", "create", "--email", "admin@steward.local"],
    );
    assert!(ok, "{err}");
    let token = token.trim().to_owned();
    steward_server::install_crypto_provider();
    let http = reqwest::Client::new();
    let t: Value = http
        .post(format!("{}/api/v1/tickets", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"title": "Laptop fan is loud"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ticket = t["id"].as_i64().unwrap();
    let bytes = b"fan noise recording\n".repeat(1000);
    let a: Value = http
        .post(format!(
            "{}/api/v1/tickets/{ticket}/attachments?filename=fan.txt",
            server.url
        ))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(bytes.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = a["id"].as_i64().unwrap();

    // Backup while the server runs: progress on stderr, a summary on stdout.
    let archive = dir.path().join("steward.tar");
    let to = archive.to_str().unwrap();
    let (ok, out, err) = run(&data, &["backup", "--to", to]);
    assert!(ok, "{err}");
    assert!(err.contains("backed up 2 / 2 files"), "{err}");
    assert!(out.contains("1 attachment files"), "{out}");
    // Never over an existing file.
    let (ok, _, err) = run(&data, &["backup", "--to", to]);
    assert!(!ok && err.contains("already exists"), "{err}");
    // Not into the directory of a running server.
    let (ok, _, err) = run(&data, &["restore", "--from", to, "--force"]);
    assert!(!ok && err.contains("stop the server"), "{err}");

    // Into a new data directory, then serve it.
    let restored = dir.path().join("restored");
    let (ok, out, err) = run(&restored, &["restore", "--from", to]);
    assert!(ok, "{err}");
    assert!(out.contains("steward-server serve --data-dir"), "{out}");
    let (ok, _, err) = run(&restored, &["restore", "--from", to]);
    assert!(!ok && err.contains("--force"), "{err}");
    server.kill();
    let server = start(&restored);
    let got = http
        .get(format!("{}/api/v1/attachments/{attachment}", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    server.kill();
}
