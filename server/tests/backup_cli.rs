//! `steward-server backup` and `restore` as an operator runs them: the real binary, a
//! running server, a ticket with an attachment made over HTTP, a signed agent release
//! stored with `release add` and a build for the install one-liner.
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

    // A signed release, as a build machine and the operator make it.
    let keys = dir.path().join("keys");
    let build = dir.path().join("steward-agent-99.0.0");
    let build_bytes = b"signed agent build\n".repeat(400);
    std::fs::write(&build, &build_bytes).unwrap();
    let (ok, _, err) = run(
        &data,
        &["release", "keygen", "--out", keys.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    let key = keys.join("release-key.pk8");
    let (ok, _, err) = run(
        &data,
        &[
            "release",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--file",
            build.to_str().unwrap(),
            "--version",
            "99.0.0",
            "--os",
            "linux",
            "--arch",
            "x86_64",
        ],
    );
    assert!(ok, "{err}");
    let sig = dir.path().join("steward-agent-99.0.0.sig");
    let (ok, release, err) = run(
        &data,
        &[
            "release",
            "add",
            "--file",
            build.to_str().unwrap(),
            "--sig",
            sig.to_str().unwrap(),
            "--version",
            "99.0.0",
            "--os",
            "linux",
            "--arch",
            "x86_64",
            "--percentage",
            "100",
        ],
    );
    assert!(ok, "{err}");
    let release: i64 = release.trim().parse().unwrap();
    // The install one-liner's build, and a half-copied one beside it.
    let installer = b"agent for the one-liner\n".repeat(300);
    let platform = data.join("releases/linux-x86_64");
    std::fs::create_dir_all(&platform).unwrap();
    std::fs::write(platform.join("steward-agent"), &installer).unwrap();
    std::fs::write(platform.join("steward-agent.new"), b"half").unwrap();

    // Backup while the server runs: progress on stderr, a summary on stdout.
    let archive = dir.path().join("steward.tar");
    let to = archive.to_str().unwrap();
    let (ok, out, err) = run(&data, &["backup", "--to", to]);
    assert!(ok, "{err}");
    assert!(err.contains("backed up 4 / 4 files"), "{err}");
    assert!(out.contains("1 attachment files"), "{out}");
    assert!(
        out.contains("2 agent binaries (1 signed release, 1 for the install one-liner)"),
        "{out}"
    );
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
    assert!(out.contains("2 agent binaries"), "{out}");
    assert!(
        !restored
            .join("releases/linux-x86_64/steward-agent.new")
            .exists()
    );
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
    // The release is listed with its binary in place, byte for byte, and the one-liner's
    // build is served.
    let listed: Value = http
        .get(format!("{}/api/v1/agent-releases", server.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = &listed["items"][0];
    assert_eq!(row["id"], release, "{listed}");
    let sha = row["sha256"].as_str().unwrap();
    let stored = restored.join("agent-releases").join(sha);
    assert_eq!(std::fs::read(stored).unwrap(), build_bytes);
    let got = http
        .get(format!(
            "{}/install/files/linux-x86_64/steward-agent",
            server.url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), installer);
    server.kill();
}
