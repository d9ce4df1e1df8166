//! Signed self-update end to end: the real server holds a newer signed "build" (a copy
//! of a small real executable, /bin/true, under a test version string); the real agent
//! code checks in, is offered it, downloads, verifies and swaps the binary of a temporary
//! installation. A restart is simulated by running the agent code again with the
//! installation's version set to the swapped binary's: the test process cannot exec
//! /bin/true as an agent, and the agent's version is otherwise compiled in.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use steward_agent::config::AgentConfig;
use steward_agent::run::{RunError, run_once_updating};
use steward_agent::update::{Installation, UpdateState, swap};
use steward_server::signed_releases::{self as releases, ReleaseMeta};

const NEW: &str = "99.1.0";
const OS: &str = std::env::consts::OS;
const ARCH: &str = std::env::consts::ARCH;

struct World {
    s: TestServer,
    keys: tempfile::TempDir,
    public: String,
    config: AgentConfig,
    state_dir: PathBuf,
    exe: PathBuf,
    build: PathBuf,
}

impl World {
    async fn new() -> World {
        let s = TestServer::spawn().await;
        let keys = tempfile::tempdir().unwrap();
        let public = releases::keygen(keys.path()).unwrap();
        let (mut config, state_dir) = s.enrolled_agent_dir().await;
        config.update.public_keys = vec![public.clone()];
        let bin = s.dir.path().join("install");
        std::fs::create_dir_all(&bin).unwrap();
        let exe = bin.join("steward-agent");
        std::fs::write(&exe, b"the old agent binary").unwrap();
        let build = s.dir.path().join("build");
        std::fs::copy("/bin/true", &build).unwrap();
        World {
            s,
            keys,
            public,
            config,
            state_dir,
            exe,
            build,
        }
    }

    fn install(&self, version: &str) -> Installation {
        Installation {
            exe: self.exe.clone(),
            version: version.into(),
            os: OS.into(),
            arch: ARCH.into(),
        }
    }

    /// Signs the build with `key_dir`'s key, stores it and rolls it out to everyone.
    async fn publish(&self, key_dir: &Path) -> i64 {
        publish(&self.s, key_dir, &self.build, NEW).await
    }

    async fn agent_row(&self) -> Value {
        let admin = self.s.admin_token().await;
        let (status, page) = self.s.get_json("/api/v1/agents", &admin).await;
        assert_eq!(status, StatusCode::OK);
        page["items"][0].clone()
    }
}

/// Signs `build` as `version` for this platform with `key_dir`'s key, stores it in the
/// server and rolls it out to every agent; its id.
pub async fn publish(s: &TestServer, key_dir: &Path, build: &Path, version: &str) -> i64 {
    let key = key_dir.join(releases::PRIVATE_KEY_FILE);
    let sig = releases::sign(&key, build, version, OS, ARCH).unwrap();
    let (build, data_dir) = (build.to_path_buf(), s.state.config.server.data_dir.clone());
    let meta = ReleaseMeta {
        version: version.into(),
        os: OS.into(),
        arch: ARCH.into(),
    };
    let id = s
        .with_db(move |db| releases::add(db, &data_dir, &build, &sig, &meta, 0).unwrap())
        .await;
    let admin = s.admin_token().await;
    let resp = s
        .http
        .patch(s.url(&format!("/api/v1/agent-releases/{id}")))
        .bearer_auth(&admin)
        .json(&json!({"percentage": 100}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    id
}

#[tokio::test]
async fn a_signed_release_is_installed_and_confirmed_by_the_next_check_in() {
    let w = World::new().await;
    w.publish(w.keys.path()).await;
    let old = steward_agent::AGENT_VERSION;

    let first = run_once_updating(&w.config, &w.state_dir, w.install(old))
        .await
        .unwrap();
    let offer = first.response.update.expect("offered");
    assert_eq!(offer.version, NEW);
    assert_eq!(first.installed.as_deref(), Some(NEW));
    assert_eq!(
        std::fs::read(&w.exe).unwrap(),
        std::fs::read(&w.build).unwrap()
    );
    assert_eq!(
        std::fs::read(swap::previous_path(&w.exe)).unwrap(),
        b"the old agent binary"
    );
    let pending = UpdateState::load(&w.state_dir).pending.expect("pending");
    assert_eq!(pending.version, NEW);

    // The restart: the same agent code, now running as the swapped binary's version.
    let second = run_once_updating(&w.config, &w.state_dir, w.install(NEW))
        .await
        .unwrap();
    assert_eq!(second.response.update, None, "nothing newer to offer");
    assert_eq!(second.installed, None);
    assert_eq!(UpdateState::load(&w.state_dir), UpdateState::default());
    let row = w.agent_row().await;
    assert_eq!(row["agent_version"], NEW);
    assert_eq!(row["platform"], format!("{OS}/{ARCH}"));
    assert_eq!(row["update_error"], Value::Null);
    assert!(!w.public.is_empty());
}

#[tokio::test]
async fn a_release_with_a_bad_signature_is_refused_and_reported() {
    let w = World::new().await;
    let stranger = tempfile::tempdir().unwrap();
    releases::keygen(stranger.path()).unwrap();
    w.publish(stranger.path()).await;
    let old = steward_agent::AGENT_VERSION;

    let first = run_once_updating(&w.config, &w.state_dir, w.install(old))
        .await
        .unwrap();
    assert!(first.response.update.is_some());
    assert_eq!(first.installed, None);
    assert_eq!(std::fs::read(&w.exe).unwrap(), b"the old agent binary");
    assert!(!swap::previous_path(&w.exe).exists());

    let second = run_once_updating(&w.config, &w.state_dir, w.install(old))
        .await
        .unwrap();
    assert_eq!(
        second.installed, None,
        "a refused release is not fetched again"
    );
    let row = w.agent_row().await;
    let error = row["update_error"].as_str().expect("error reported");
    assert!(error.contains("signature"), "{error}");
    assert_eq!(row["agent_version"], old);
}

#[tokio::test]
async fn an_update_that_never_confirms_is_rolled_back() {
    let w = World::new().await;
    w.publish(w.keys.path()).await;
    let old = steward_agent::AGENT_VERSION;
    let out = run_once_updating(&w.config, &w.state_dir, w.install(old))
        .await
        .unwrap();
    assert_eq!(out.installed.as_deref(), Some(NEW));

    // The new binary starts but never gets through (here: nothing listens where it
    // reports). Each start and each failed round is an attempt; the third is the last.
    let unreachable = AgentConfig {
        server_url: "http://127.0.0.1:1".into(),
        ..w.config.clone()
    };
    let first = run_once_updating(&unreachable, &w.state_dir, w.install(NEW)).await;
    assert!(matches!(first, Err(RunError::Client(_))), "{first:?}");
    assert_eq!(
        std::fs::read(&w.exe).unwrap(),
        std::fs::read(&w.build).unwrap()
    );
    let second = run_once_updating(&unreachable, &w.state_dir, w.install(NEW)).await;
    assert!(matches!(second, Err(RunError::Restart)), "{second:?}");
    assert_eq!(std::fs::read(&w.exe).unwrap(), b"the old agent binary");

    // The previous binary starts again, reports why, and is not offered the same build.
    let back = run_once_updating(&w.config, &w.state_dir, w.install(old))
        .await
        .unwrap();
    assert_eq!(back.installed, None);
    assert_eq!(std::fs::read(&w.exe).unwrap(), b"the old agent binary");
    let row = w.agent_row().await;
    let error = row["update_error"].as_str().expect("error reported");
    assert!(error.contains("rolled back"), "{error}");
    assert_eq!(row["agent_version"], old);
}

#[tokio::test]
async fn the_updates_page_shows_versions_releases_and_failures_and_steers_a_rollout() {
    use crate::browser::{hidden_field, page_text, post_form, session_cookie, submit_login};
    let w = World::new().await;
    let stranger = tempfile::tempdir().unwrap();
    releases::keygen(stranger.path()).unwrap();
    let id = w.publish(stranger.path()).await;
    let old = steward_agent::AGENT_VERSION;
    for _ in 0..2 {
        // Refused, then reported with the next check-in.
        run_once_updating(&w.config, &w.state_dir, w.install(old))
            .await
            .unwrap();
    }
    let login = submit_login(&w.s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&login);

    let html = page_text(&w.s, &cookie, "/admin/updates").await;
    assert!(
        html.contains(&format!("<title>{old} {OS}/{ARCH}: 1 agent(s)</title>")),
        "{html}"
    );
    assert!(html.contains(&format!("id=\"release-{id}\"")), "{html}");
    assert!(
        html.contains(&format!("<td>{NEW}</td><td>{OS}/{ARCH}</td>")),
        "{html}"
    );
    assert!(html.contains("value=\"100\""), "{html}");
    let row = w.agent_row().await;
    let error = row["update_error"].as_str().unwrap();
    assert!(html.contains(error), "the failure is listed: {html}");
    assert!(
        html.contains("does not check release signatures itself"),
        "{html}"
    );

    let asset = row["asset_id"].as_i64().unwrap();
    let page = page_text(&w.s, &cookie, &format!("/assets/{asset}")).await;
    assert!(page.contains("<dt>Agent update</dt>"), "{page}");
    assert!(page.contains(error), "{page}");

    let csrf = hidden_field(&html, "csrf");
    let path = format!("/admin/updates/{id}");
    let form = [
        ("csrf", csrf.as_str()),
        ("percentage", "25"),
        ("paused", "on"),
    ];
    let saved = post_form(&w.s, &cookie, &path, &form).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let admin = w.s.admin_token().await;
    let (_, list) = w.s.get_json("/api/v1/agent-releases", &admin).await;
    let release = &list["items"][0];
    assert_eq!(
        (release["percentage"].clone(), release["paused"].clone()),
        (json!(25), json!(true))
    );
    let bad = [("csrf", csrf.as_str()), ("percentage", "101")];
    let refused = post_form(&w.s, &cookie, &path, &bad).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let forged = [("csrf", "nope"), ("percentage", "0")];
    let refused = post_form(&w.s, &cookie, &path, &forged).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (_, list) = w.s.get_json("/api/v1/agent-releases", &admin).await;
    assert_eq!(
        list["items"][0]["percentage"], 25,
        "refused forms change nothing"
    );
}
