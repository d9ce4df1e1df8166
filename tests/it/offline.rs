//! The agent's report queue against a server that goes away: nothing lost, nothing
//! doubled, order kept; and deltas from a real dpkg database.

use crate::helpers::*;
use steward_agent::report::{ReportQueue, SpoolLimits};
use steward_agent::state::Credentials;
use steward_shared::{Health, ReportKind};

fn with_package(mut inv: steward_shared::Inventory, name: &str) -> steward_shared::Inventory {
    inv.software.push(steward_shared::Software {
        name: name.into(),
        version: "1.0".into(),
        arch: "amd64".into(),
        source: "dpkg".into(),
        ..Default::default()
    });
    inv
}

#[tokio::test]
async fn reports_made_while_the_server_is_down_arrive_in_order_once() {
    let s = TestServer::spawn().await;
    let (_, state_dir) = s.enrolled_agent_dir().await;
    let creds = Credentials::load(&state_dir).unwrap().unwrap();

    let mut queue = ReportQueue::open(&state_dir, SpoolLimits::default()).unwrap();
    let mut inv = report(
        "office-pc",
        "0ff11e00-0000-1111-2222-333333333333",
        &[("base", "1")],
    )
    .inventory;
    let first = queue
        .produce(inv.clone(), Health::default(), 1_000)
        .unwrap();
    assert_eq!(first.kind, ReportKind::Full);
    let d = queue.deliver(&agent_client(&s.url), &creds).await.unwrap();
    assert_eq!(d.delivered, vec![first.seq]);
    let asset = d.last_response.unwrap().asset_id;

    // The server goes down; the agent keeps producing, one new package per report.
    let dir = s.stop_keeping_data().await;
    let down = agent_client("http://127.0.0.1:9");
    for (i, pkg) in ["pkg-b", "pkg-c", "pkg-d"].iter().enumerate() {
        inv = with_package(inv, pkg);
        let r = queue
            .produce(inv.clone(), Health::default(), 2_000 + i as i64)
            .unwrap();
        assert_eq!(r.kind, ReportKind::Delta);
        assert!(
            queue.deliver(&down, &creds).await.is_err(),
            "nobody is listening"
        );
    }
    let pending = queue.pending();
    assert_eq!(pending.len(), 3);

    // The agent restarts: the spool survives.
    drop(queue);
    let mut queue = ReportQueue::open(&state_dir, SpoolLimits::default()).unwrap();
    assert_eq!(queue.pending(), pending);

    // The server comes back (same database, new address).
    let s = TestServer::spawn_in(dir).await;
    let d = queue.deliver(&agent_client(&s.url), &creds).await.unwrap();
    assert_eq!(d.delivered, pending);
    assert!(!d.full_requested && d.dropped == 0, "{d:?}");
    assert!(queue.pending().is_empty());
    // Delivering again sends nothing.
    assert!(
        queue
            .deliver(&agent_client(&s.url), &creds)
            .await
            .unwrap()
            .delivered
            .is_empty()
    );

    let admin = s.admin_token().await;
    let (_, hist) = s
        .get_json(&format!("/api/v1/assets/{asset}/history?limit=500"), &admin)
        .await;
    let mut installed: Vec<(i64, String)> = hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "software_installed")
        .map(|e| {
            (
                e["id"].as_i64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    installed.sort();
    let names: Vec<&str> = installed.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["pkg-b", "pkg-c", "pkg-d"], "in order, each once");
    let (_, detail) = s.get_json(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(detail["software_count"], 4);
    s.stop().await;
}

const STATUS: &str = "Package: base-files
Status: install ok installed
Maintainer: Debian <debian@example.org>
Architecture: amd64
Version: 12.4
Description: base system files

Package: hello
Status: install ok installed
Maintainer: Debian <debian@example.org>
Architecture: amd64
Version: 2.10-3
Description: the classic greeting
 A longer description.
";

#[tokio::test]
async fn installing_a_package_sends_only_that_change() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let dpkg = s.dir.path().join("dpkg");
    std::fs::create_dir_all(&dpkg).unwrap();
    let status = dpkg.join("status");
    std::fs::write(&status, STATUS).unwrap();
    let (_, state_dir) = s.enrolled_agent_dir().await;
    let creds = Credentials::load(&state_dir).unwrap().unwrap();
    let options = steward_agent::collect::CollectOptions {
        software: true,
        dpkg_status: Some(status.clone()),
    };
    let collect = |o: steward_agent::collect::CollectOptions| {
        tokio::task::spawn_blocking(move || steward_agent::collect::collect(&o))
    };

    let mut queue = ReportQueue::open(&state_dir, SpoolLimits::default()).unwrap();
    let client = agent_client(&s.url);
    let (inv, health) = collect(options.clone()).await.unwrap();
    assert_eq!(
        inv.software.iter().filter(|p| p.source == "dpkg").count(),
        2
    );
    queue.produce(inv, health, 1).unwrap();
    let asset = queue
        .deliver(&client, &creds)
        .await
        .unwrap()
        .last_response
        .unwrap()
        .asset_id;

    let mut text = STATUS.to_owned();
    text.push_str("\nPackage: steward-fake\nStatus: install ok installed\nMaintainer: Test <t@example.org>\nArchitecture: all\nVersion: 0.1\nDescription: fake\n");
    std::fs::write(&status, text).unwrap();
    let (inv, health) = collect(options).await.unwrap();
    let r = queue.produce(inv, health, 2).unwrap();
    assert_eq!(r.kind, ReportKind::Delta);
    let delta = r.delta.as_ref().unwrap();
    let added: Vec<&str> = delta
        .software_added
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(added, ["steward-fake"]);
    assert!(delta.software_removed.is_empty() && delta.system.is_none() && delta.disks.is_none());
    let bytes = steward_agent::report::wire_size(&r);
    assert!(
        bytes < 2048,
        "a one-package delta is small on the wire: {bytes} bytes"
    );
    let d = queue.deliver(&client, &creds).await.unwrap();
    assert!(!d.full_requested);

    let (_, hist) = s
        .get_json(&format!("/api/v1/assets/{asset}/history"), &admin)
        .await;
    let hit = hist["items"].as_array().unwrap().iter().any(|e| {
        e["kind"] == "software_installed" && e["field"] == "steward-fake" && e["new_value"] == "0.1"
    });
    assert!(hit, "{hist}");
    s.stop().await;
}
