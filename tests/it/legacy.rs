//! Existing agents report to Steward unchanged: the real Debian `fusioninventory-agent`
//! and `ocsinventory-agent` run against the server (installed by `tests/setup.sh`), and
//! GLPI Agent's JSON protocol is spoken with documents shaped like its own.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use steward_server::domain::roles::Role;

pub(crate) const USER: &str = "agents";
pub(crate) const PASSWORD: &str = "legacy secret 42";

/// A server with the legacy endpoints on.
pub(crate) async fn legacy_server() -> TestServer {
    TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.legacy_inventory.enabled = true;
        c.legacy_inventory.username = USER.into();
        c.legacy_inventory.password = Some(PASSWORD.into());
    })
    .await
}

/// Runs a program to completion off the async threads; panics with its output on failure.
async fn run(program: &'static str, args: Vec<String>) -> String {
    let out = tokio::task::spawn_blocking(move || Command::new(program).args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}); `bash tests/setup.sh` installs it (Debian package {program})")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} failed: {text}");
    text
}

async fn fusioninventory(s: &TestServer, dir: &std::path::Path) -> String {
    let conf = dir.join("agent.cfg");
    std::fs::write(&conf, "").unwrap();
    run(
        "fusioninventory-agent",
        vec![
            format!("--server={}/plugins/fusioninventory/", s.url),
            format!("--user={USER}"),
            format!("--password={PASSWORD}"),
            "--force".into(),
            "--tasks=inventory".into(),
            "--no-httpd".into(),
            "--logger=stderr".into(),
            format!("--conf-file={}", conf.display()),
        ],
    )
    .await
}

async fn ocs(s: &TestServer, dir: &std::path::Path) -> String {
    use base64::Engine;
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    // The OCS agent takes its user and password base64-encoded, as in its config file.
    let log = dir.join("ocs.log");
    run(
        "ocsinventory-agent",
        vec![
            format!("--server={}/ocsinventory", s.url),
            format!("--user={}", b64(USER)),
            format!("--password={}", b64(PASSWORD)),
            "--realm=Steward".into(),
            format!("--basevardir={}", dir.join("ocs").display()),
            format!("--logfile={}", log.display()),
            "--force".into(),
        ],
    )
    .await;
    std::fs::read_to_string(log).unwrap_or_default()
}

fn dpkg_count() -> usize {
    let out = Command::new("dpkg-query").arg("-W").output().unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

async fn assets(s: &TestServer, token: &str) -> Vec<Value> {
    let (_, page) = s.get_json("/api/v1/assets?limit=100", token).await;
    page["items"].as_array().unwrap().clone()
}

/// The agents bound to an asset: (id, version) pairs from the agents list.
async fn agents_of(s: &TestServer, token: &str, asset_id: &Value) -> Vec<(String, String)> {
    let (_, page) = s.get_json("/api/v1/agents?limit=100", token).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| &a["asset_id"] == asset_id)
        .map(|a| {
            (
                a["id"].as_str().unwrap_or_default().to_owned(),
                a["agent_version"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn our_agent_fusioninventory_and_ocs_on_one_machine_make_one_asset() {
    let s = legacy_server().await;
    let admin = s.admin_token().await;
    let dir = tempfile::tempdir().unwrap();

    // Our own agent first, then both legacy agents, each twice.
    let (config, state_dir) = s.enrolled_agent_dir().await;
    let ours = steward_agent::run::run_once(&config, &state_dir)
        .await
        .unwrap();
    let mut history = Vec::new();
    for _ in 0..2 {
        fusioninventory(&s, dir.path()).await;
        let log = ocs(&s, dir.path()).await;
        assert!(!log.contains("[error]"), "{log}");
        let (_, h) = s
            .get_json(
                &format!("/api/v1/assets/{}/history?limit=500", ours.asset_id),
                &admin,
            )
            .await;
        history.push(h);
    }
    // Our agent reports this machine, so its inventory stays: the legacy agents' runs
    // change nothing in the asset's history.
    assert_eq!(history[0], history[1], "no flapping between agents' views");
    assert_eq!(
        history[1]["items"].as_array().unwrap().len(),
        1,
        "only the creation by our agent: {}",
        history[1]
    );
    let all = assets(&s, &admin).await;
    assert_eq!(all.len(), 1, "one machine, one asset: {all:#?}");
    let asset = &all[0];
    assert_eq!(asset["id"], ours.asset_id);
    // Our agent's inventory, as dpkg lists it.
    assert_eq!(
        asset["software_count"].as_u64().unwrap() as usize,
        dpkg_count()
    );
    let agents = agents_of(&s, &admin, &asset["id"]).await;
    let versions: Vec<&str> = agents.iter().map(|a| a.1.as_str()).collect();
    assert!(versions.contains(&"FusionInventory 2.6"), "{agents:?}");
    assert!(versions.contains(&"OCS 2.10"), "{agents:?}");
    assert_eq!(
        agents.len(),
        3,
        "ours, FusionInventory's, OCS's: {agents:?}"
    );
    // The asset says who reported it and when.
    let (_, detail) = s
        .get_json(&format!("/api/v1/assets/{}", asset["id"]), &admin)
        .await;
    let by: Vec<&str> = detail["reported_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["agent"].as_str().unwrap())
        .collect();
    assert_eq!(by.len(), 3, "{detail}");
    assert!(
        by.contains(&"FusionInventory 2.6") && by.contains(&"OCS 2.10"),
        "{by:?}"
    );
    assert!(by.iter().any(|a| a.starts_with("Steward ")), "{by:?}");
    assert!(detail["reported_by"][0]["last_seen_at"].is_i64());
}

#[tokio::test]
async fn fusioninventory_alone_creates_the_asset_and_updates_it_on_the_next_run() {
    let s = legacy_server().await;
    let admin = s.admin_token().await;
    let dir = tempfile::tempdir().unwrap();
    fusioninventory(&s, dir.path()).await;
    let first = assets(&s, &admin).await;
    assert_eq!(first.len(), 1);
    assert_eq!(
        first[0]["software_count"].as_u64().unwrap() as usize,
        dpkg_count()
    );
    let host = run("hostname", vec![]).await;
    assert_eq!(first[0]["hostname"], host.trim());
    fusioninventory(&s, dir.path()).await;
    let second = assets(&s, &admin).await;
    assert_eq!(second.len(), 1, "the second run updates the same asset");
    assert_eq!(second[0]["id"], first[0]["id"]);
    assert!(second[0]["last_seen_at"].as_i64() >= first[0]["last_seen_at"].as_i64());
}

#[tokio::test]
async fn glpi_agent_contact_full_and_partial_inventories() {
    let s = legacy_server().await;
    let tech = s.token_for(Role::Technician).await;
    let fixture = |name: &str| {
        std::fs::read(format!(
            "{}/../server/src/legacy/fixtures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    let post_glpi = |body: Vec<u8>| {
        s.http
            .post(s.url("/front/inventory.php"))
            .basic_auth(USER, Some(PASSWORD))
            .header("GLPI-Agent-ID", "3a4f5b6c-1d2e-4f80-9a1b-2c3d4e5f6a7b")
            .header("User-Agent", "GLPI-Agent_v1.7.3")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let resp = post_glpi(fixture("glpi-contact.json")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let contact: Value = resp.json().await.unwrap();
    assert_eq!(contact["status"], "ok");
    assert!(contact["expiration"].as_u64().unwrap() >= 1);
    assert_eq!(contact["tasks"]["inventory"]["server"], "glpi");

    let resp = post_glpi(fixture("glpi-linux-desktop.json")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "ok");
    let (_, page) = s.get_json("/api/v1/assets", &tech).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let id = items[0]["id"].clone();
    let full: Value = serde_json::from_slice(&fixture("glpi-linux-desktop.json")).unwrap();
    let listed = full["content"]["softwares"].as_array().unwrap().len();
    let (_, asset) = s.get_json(&format!("/api/v1/assets/{id}"), &tech).await;
    let before = asset["software_count"].as_u64().unwrap() as usize;
    assert!(before > 0 && before <= listed, "{before} of {listed}");
    assert_eq!(
        asset["os_name"].as_str().map(|n| n.contains("Debian")),
        Some(true),
        "{asset}"
    );

    // A partial inventory replaces only the sections it carries.
    let resp = post_glpi(fixture("glpi-partial-software.json"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let partial: Value = serde_json::from_slice(&fixture("glpi-partial-software.json")).unwrap();
    let (_, after) = s.get_json(&format!("/api/v1/assets/{id}"), &tech).await;
    assert_eq!(after["id"], id);
    assert_eq!(after["serial"], asset["serial"], "hardware kept");
    assert_eq!(after["cpu_model"], asset["cpu_model"], "cpu kept");
    assert_ne!(
        after["software_count"].as_u64().unwrap() as usize,
        0,
        "{partial}"
    );
    let (_, history) = s
        .get_json(&format!("/api/v1/assets/{id}/history"), &tech)
        .await;
    assert!(
        history.to_string().contains("software"),
        "software changes are in the history: {history}"
    );

    // A message without a device id is refused with GLPI's error shape.
    let resp = s
        .http
        .post(s.url("/marketplace/glpiinventory/"))
        .basic_auth(USER, Some(PASSWORD))
        .body(json!({"action": "contact"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "error");
}
