//! Publishing an agent release over HTTP: the binary uploaded as the raw body of
//! `POST /api/v1/agent-releases/binaries`, then published by its digest, with the
//! server's own signature check against `[agent_releases] public_keys`.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use steward_server::signed_releases as releases;

const MAX: u64 = 64 * 1024;

async fn upload(s: &TestServer, token: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(s.url("/api/v1/agent-releases/binaries"))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn publish(s: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(s.url("/api/v1/agent-releases"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn a_release_is_uploaded_over_http_and_must_be_signed_by_a_key_the_server_trusts() {
    let keys = tempfile::tempdir().unwrap();
    let public = releases::keygen(keys.path()).unwrap();
    let stranger = tempfile::tempdir().unwrap();
    releases::keygen(stranger.path()).unwrap();
    let trusted = public.clone();
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), move |c| {
        c.agent_releases.public_keys = vec![trusted];
        c.agent_releases.max_upload_bytes = MAX;
    })
    .await;
    let admin = s.admin_token().await;
    let tech = s
        .token_for(steward_server::domain::roles::Role::Technician)
        .await;
    let store = s.state.config.server.data_dir.join("agent-releases");

    let build: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    let sha = hex::encode(Sha256::digest(&build));
    let (status, reply) = upload(&s, &tech, build.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{reply}");
    let (status, reply) = upload(&s, &admin, build.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply, json!({"sha256": sha, "size": build.len()}));
    assert!(std::fs::read(store.join(&sha)).unwrap() == build);
    // The same bytes again: the same file.
    let (status, again) = upload(&s, &admin, build.clone()).await;
    assert_eq!((status, &again), (StatusCode::CREATED, &reply));

    // Too large or empty: refused, and nothing is left behind.
    let (status, reply) = upload(&s, &admin, vec![7; MAX as usize + 1]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reply}");
    assert_eq!(reply["error"]["code"], "payload_too_large", "{reply}");
    let (status, reply) = upload(&s, &admin, Vec::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["error"]["code"], "empty_binary", "{reply}");
    let mut stored: Vec<String> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "tmp")
        .collect();
    stored.sort();
    assert_eq!(stored, std::slice::from_ref(&sha));
    assert_eq!(std::fs::read_dir(store.join("tmp")).unwrap().count(), 0);

    // Publishing: the signature must verify with the server's key, for this version.
    let file = s.dir.path().join("build");
    std::fs::write(&file, &build).unwrap();
    let (os, arch) = ("linux", "x86_64");
    let sign = |dir: &std::path::Path, version: &str| {
        releases::sign(
            &dir.join(releases::PRIVATE_KEY_FILE),
            &file,
            version,
            os,
            arch,
        )
        .unwrap()
    };
    let body = |version: &str, signature: String| {
        json!({"version": version, "os": os, "arch": arch, "sha256": sha,
               "signature": signature, "percentage": 100})
    };
    for (signature, why) in [
        (sign(stranger.path(), "7.0.0"), "another key"),
        (sign(keys.path(), "6.9.0"), "another version"),
    ] {
        let (status, reply) = publish(&s, &admin, body("7.0.0", signature)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{why}: {reply}");
        assert_eq!(
            reply["error"]["code"], "untrusted_signature",
            "{why}: {reply}"
        );
    }
    let unknown = json!({"version": "7.0.0", "os": os, "arch": arch, "sha256": "ab".repeat(32),
                         "signature": sign(keys.path(), "7.0.0")});
    let (status, reply) = publish(&s, &admin, unknown).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{reply}");
    assert_eq!(reply["error"]["code"], "unknown_binary", "{reply}");

    let (status, release) = publish(&s, &admin, body("7.0.0", sign(keys.path(), "7.0.0"))).await;
    assert_eq!(status, StatusCode::CREATED, "{release}");
    assert_eq!(release["sha256"], sha.as_str());
    assert_eq!(release["size"], build.len());

    // What an agent downloads is what was uploaded.
    let (_, creds) = s.enrolled_agent().await;
    let id = release["id"].as_i64().unwrap();
    let resp = s
        .http
        .get(s.url(&format!("/api/v1/agent/releases/{id}/binary")))
        .header("authorization", agent_auth(&creds))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.bytes().await.unwrap() == build);
    s.stop().await;
}

#[test]
fn the_cli_refuses_a_release_the_configured_keys_do_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let public = releases::keygen(&keys).unwrap();
    let other = releases::keygen(&dir.path().join("other")).unwrap();
    let data = dir.path().join("data");
    let config = steward_server::config::ServerConfig::load(
        None,
        Vec::new(),
        &steward_server::config::Overrides {
            data_dir: Some(data.clone()),
            listen: None,
        },
    )
    .unwrap();
    let db = steward_server::open(config).unwrap().db;
    let file = dir.path().join("build");
    std::fs::write(&file, b"a build").unwrap();
    let meta = releases::ReleaseMeta {
        version: "3.0.0".into(),
        os: "linux".into(),
        arch: "x86_64".into(),
    };
    let key = keys.join(releases::PRIVATE_KEY_FILE);
    let sig = releases::sign(&key, &file, "3.0.0", "linux", "x86_64").unwrap();
    let refused = releases::add_trusted(&db, &data, &file, &sig, &meta, 0, &[other]);
    assert!(
        matches!(refused, Err(releases::ReleaseError::Untrusted(_))),
        "{refused:?}"
    );
    assert!(!data.join("agent-releases").exists(), "nothing stored");
    let id = releases::add_trusted(&db, &data, &file, &sig, &meta, 0, &[public]).unwrap();
    assert!(id > 0);
}
