//! Alerts from health reports and from silence.

use crate::helpers::*;
use steward_shared::{FsUsage, ReportKind};

#[tokio::test]
async fn a_full_disk_opens_an_alert_that_resolves_when_fixed() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let mut r = report("fileserver", "a1e2a1e2-0000-1111-2222-333333333333", &[]);
    r.seq = 1;
    r.digest = "D".into();
    r.health.filesystems = vec![FsUsage {
        mount_point: "/srv".into(),
        total_bytes: 1000,
        used_bytes: 950,
        available_bytes: Some(30),
    }];
    r.health.failed_services = vec!["backup.service".into()];
    let asset = client.checkin(&creds, &r).await.unwrap().asset_id;

    let (_, alerts) = s.get_json("/api/v1/alerts", &admin).await;
    let items = alerts["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.contains(&"disk_full") && kinds.contains(&"failed_services"),
        "{alerts}"
    );
    let disk = items.iter().find(|a| a["kind"] == "disk_full").unwrap();
    assert_eq!(disk["asset_id"], asset);
    assert_eq!(disk["message"], "/srv is 97% full");
    let (_, detail) = s.get_json(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(detail["alerts"].as_array().unwrap().len(), 2);

    // The same condition again keeps one alert, not two.
    let mut hb = r.clone();
    hb.kind = ReportKind::Heartbeat;
    hb.seq = 2;
    hb.base_digest = "D".into();
    client.checkin(&creds, &hb).await.unwrap();
    let (_, alerts) = s.get_json("/api/v1/alerts", &admin).await;
    assert_eq!(alerts["items"].as_array().unwrap().len(), 2);

    // Space freed, service fixed: both resolve.
    hb.seq = 3;
    hb.health.filesystems[0].used_bytes = 100;
    hb.health.filesystems[0].available_bytes = Some(880);
    hb.health.failed_services.clear();
    client.checkin(&creds, &hb).await.unwrap();
    let (_, open) = s.get_json("/api/v1/alerts", &admin).await;
    assert!(open["items"].as_array().unwrap().is_empty(), "{open}");
    let (_, resolved) = s.get_json("/api/v1/alerts?state=resolved", &admin).await;
    assert_eq!(resolved["items"].as_array().unwrap().len(), 2);
    s.stop().await;
}

#[tokio::test]
async fn a_silent_agent_is_flagged_and_unflagged_when_it_reports() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let laptop = report("laptop", "5113e000-0000-1111-2222-333333333333", &[]);
    let asset = client.checkin(&creds, &laptop).await.unwrap().asset_id;
    let now = steward_server::clock::now();
    // A day and a bit later, by the server's clock.
    let later = now + 25 * 3600;
    assert_eq!(
        steward_server::sweeper::sweep_once(&s.state, later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        steward_server::sweeper::sweep_once(&s.state, now)
            .await
            .unwrap(),
        0
    );
    let (_, alerts) = s.get_json("/api/v1/alerts", &admin).await;
    let items = alerts["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "agent_silent");
    assert_eq!(items[0]["asset_id"], asset);
    assert_eq!(items[0]["message"], "no report from its agent for 25 hours");

    client.checkin(&creds, &laptop).await.unwrap();
    let (_, alerts) = s.get_json("/api/v1/alerts", &admin).await;
    assert!(alerts["items"].as_array().unwrap().is_empty());
    // Employees never see alerts.
    let employee = s
        .token_for(steward_server::domain::roles::Role::Employee)
        .await;
    assert_eq!(s.get_json("/api/v1/alerts", &employee).await.0, 403);
    s.stop().await;
}

#[tokio::test]
async fn alerts_can_open_one_ticket_each() {
    let s = TestServer::spawn_with(tempfile::tempdir().unwrap(), |c| {
        c.alerts.open_tickets = true
    })
    .await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let mut r = report("nas", "a1e7a1e7-0000-1111-2222-333333333333", &[]);
    r.health.filesystems = vec![FsUsage {
        mount_point: "/data".into(),
        total_bytes: 100,
        used_bytes: 99,
        available_bytes: Some(0),
    }];
    let asset = client.checkin(&creds, &r).await.unwrap().asset_id;
    // The same alert again does not open a second ticket.
    client.checkin(&creds, &r).await.unwrap();
    let (_, tickets) = s
        .get_json(&format!("/api/v1/tickets?asset={asset}"), &admin)
        .await;
    let items = tickets["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{tickets}");
    assert_eq!(items[0]["title"], "nas: /data is 100% full");
    assert_eq!(items[0]["type"], "incident");
    s.stop().await;
}
