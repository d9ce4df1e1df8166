//! Enrollment and check-in with the real agent client.

use crate::helpers::*;
use steward_agent::client::ClientError;
use steward_server::db;

fn http_code(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Http { status, code, .. } => (status, code),
        other => panic!("expected an HTTP error, got {other:?}"),
    }
}

#[tokio::test]
async fn enrollment_token_valid_reused_expired_unknown() {
    let s = TestServer::spawn().await;
    let client = agent_client(&s.url);

    let token = s.enrollment_token(1).await;
    let first = client.enroll(&token, "pc-1").await.unwrap();
    assert!(first.agent_id.starts_with("agt_"));
    assert!(first.secret.len() >= 32);

    let reused = client.enroll(&token, "pc-2").await.unwrap_err();
    assert_eq!(http_code(reused), (401, "enrollment_token_used_up".into()));

    let expired = "enr_expired_for_test".to_string();
    let t = expired.clone();
    s.with_db(move |d| {
        let now = steward_server::clock::now();
        d.write_blocking(|tx| db::enrollment::insert(tx, &t, 5, Some(now - 1), None, now - 100))
            .unwrap();
    })
    .await;
    let err = client.enroll(&expired, "pc-3").await.unwrap_err();
    assert_eq!(http_code(err), (401, "enrollment_token_expired".into()));

    let err = client.enroll("enr_unknown", "pc-4").await.unwrap_err();
    assert_eq!(http_code(err), (401, "invalid_enrollment_token".into()));

    // A multi-use token serves exactly its number of agents.
    let multi = s.enrollment_token(2).await;
    client.enroll(&multi, "a").await.unwrap();
    client.enroll(&multi, "b").await.unwrap();
    assert_eq!(
        http_code(client.enroll(&multi, "c").await.unwrap_err()).1,
        "enrollment_token_used_up"
    );
    s.stop().await;
}

#[tokio::test]
async fn checkin_creates_one_asset_and_rename_updates_it() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;

    let old = report(
        "pc-old",
        "4c4c4544-0042-3510-8052-b4c04f563532",
        &[("curl", "7.88"), ("vim", "9.0")],
    );
    let first = client.checkin(&creds, &old).await.unwrap();
    let again = client.checkin(&creds, &old).await.unwrap();
    assert_eq!(first.asset_id, again.asset_id);
    let (_, list) = s.get_json("/api/v1/assets", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // Same hardware, new hostname, curl upgraded, htop installed, vim removed.
    let renamed = client
        .checkin(
            &creds,
            &report(
                "pc-new",
                "4C4C4544-0042-3510-8052-B4C04F563532",
                &[("curl", "8.0"), ("htop", "3.2")],
            ),
        )
        .await
        .unwrap();
    assert_eq!(renamed.asset_id, first.asset_id);
    let (_, list) = s.get_json("/api/v1/assets", &admin).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "pc-new");
    assert_eq!(items[0]["software_count"], 2);

    let (_, hist) = s
        .get_json(
            &format!("/api/v1/assets/{}/history", first.asset_id),
            &admin,
        )
        .await;
    let entries = hist["items"].as_array().unwrap();
    let has = |kind: &str, field: &str, old: Option<&str>, new: Option<&str>| {
        entries.iter().any(|e| {
            e["kind"] == kind
                && e["field"] == field
                && e["old_value"].as_str() == old
                && e["new_value"].as_str() == new
        })
    };
    assert!(
        has("changed", "hostname", Some("pc-old"), Some("pc-new")),
        "{hist}"
    );
    assert!(
        has("software_updated", "curl", Some("7.88"), Some("8.0")),
        "{hist}"
    );
    assert!(
        has("software_installed", "htop", None, Some("3.2")),
        "{hist}"
    );
    assert!(has("software_removed", "vim", Some("9.0"), None), "{hist}");
    assert!(entries.iter().any(|e| e["kind"] == "created"));
    // The unchanged second report added nothing: created + 4 changes.
    assert_eq!(entries.len(), 5, "{hist}");

    let names = software_names(&s, &admin, first.asset_id).await;
    assert_eq!(names, ["curl", "htop"]);
    s.stop().await;
}

#[tokio::test]
async fn different_hardware_is_a_different_asset() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let (client2, creds2) = s.enrolled_agent().await;
    let a = client
        .checkin(
            &creds,
            &report("same-name", "11111111-2222-3333-4444-555555555555", &[]),
        )
        .await
        .unwrap();
    let b = client2
        .checkin(
            &creds2,
            &report("same-name", "99999999-2222-3333-4444-555555555555", &[]),
        )
        .await
        .unwrap();
    assert_ne!(
        a.asset_id, b.asset_id,
        "hostname alone must never merge two machines"
    );
    let (_, list) = s.get_json("/api/v1/assets?q=same-name", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn revoked_or_unknown_agents_are_refused() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let pc = report("pc", "abcdef01-2222-3333-4444-555555555555", &[]);
    client.checkin(&creds, &pc).await.unwrap();

    let resp = s
        .http
        .post(s.url(&format!("/api/v1/agents/{}/revoke", creds.agent_id)))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let err = client.checkin(&creds, &pc).await.unwrap_err();
    assert_eq!(http_code(err), (401, "agent_revoked".into()));

    let mut forged = creds.clone();
    forged.secret = "0".repeat(64);
    let err = client
        .checkin(&forged, &report("pc", "x", &[]))
        .await
        .unwrap_err();
    assert_eq!(http_code(err), (401, "invalid_agent_credential".into()));
    s.stop().await;
}

#[tokio::test]
async fn this_machine_reports_its_real_inventory() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (config, state_dir) = s.enrolled_agent_dir().await;
    let reply = steward_agent::run::run_once(&config, &state_dir)
        .await
        .unwrap();

    let collected = tokio::task::spawn_blocking(|| {
        steward_agent::collect::collect_inventory(&steward_agent::collect::CollectOptions {
            software: true,
            ..Default::default()
        })
    })
    .await
    .unwrap();
    let (status, asset) = s
        .get_json(&format!("/api/v1/assets/{}", reply.asset_id), &admin)
        .await;
    assert_eq!(status, 200);
    assert_eq!(asset["hostname"], collected.hostname.as_str());
    assert_eq!(
        asset["software_count"].as_u64().unwrap() as usize,
        collected.software.len()
    );
    assert!(asset["health"]["memory_total_bytes"].as_u64().unwrap() > 0);
    // On a Debian machine the count must equal what dpkg itself lists.
    if let Ok(out) = std::process::Command::new("dpkg-query").arg("-W").output() {
        let dpkg = String::from_utf8_lossy(&out.stdout).lines().count();
        assert_eq!(asset["software_count"].as_u64().unwrap() as usize, dpkg);
    }
    s.stop().await;
}
