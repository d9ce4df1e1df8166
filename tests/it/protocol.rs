//! The check-in chain on the server: deltas, heartbeats, duplicates, broken chains,
//! commands, compressed bodies, clones.

use crate::helpers::*;
use steward_shared::{
    AgentCommand, CheckinRequest, InventoryDelta, ReportKind, Software, SystemSection,
};

fn sw(name: &str, version: &str) -> Software {
    Software {
        name: name.into(),
        version: version.into(),
        arch: "amd64".into(),
        source: "dpkg".into(),
        ..Default::default()
    }
}

fn full(seq: u64, digest: &str, base: CheckinRequest) -> CheckinRequest {
    CheckinRequest {
        kind: ReportKind::Full,
        seq,
        digest: digest.into(),
        ..base
    }
}

fn delta(seq: u64, base: &str, digest: &str, d: InventoryDelta) -> CheckinRequest {
    CheckinRequest {
        kind: ReportKind::Delta,
        seq,
        base_digest: base.into(),
        digest: digest.into(),
        delta: Some(d),
        ..Default::default()
    }
}

fn heartbeat(seq: u64, digest: &str) -> CheckinRequest {
    CheckinRequest {
        kind: ReportKind::Heartbeat,
        seq,
        base_digest: digest.into(),
        digest: digest.into(),
        ..Default::default()
    }
}

async fn history_count(s: &TestServer, token: &str, asset: i64) -> usize {
    let (_, h) = s
        .get_json(&format!("/api/v1/assets/{asset}/history?limit=500"), token)
        .await;
    h["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn deltas_and_heartbeats_apply_on_the_chain_and_retries_apply_once() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    let uuid = "d1d1d1d1-0000-1111-2222-333333333333";
    let r1 = client
        .checkin(
            &creds,
            &full(
                1,
                "D1",
                report("pc", uuid, &[("curl", "7.88"), ("vim", "9.0")]),
            ),
        )
        .await
        .unwrap();
    let asset = r1.asset_id;
    assert!(r1.commands.is_empty());

    let d = InventoryDelta {
        software_added: vec![sw("htop", "3.2")],
        software_removed: vec![sw("vim", "9.0")],
        ..Default::default()
    };
    let r2 = client
        .checkin(&creds, &delta(2, "D1", "D2", d.clone()))
        .await
        .unwrap();
    assert_eq!(r2.asset_id, asset);
    assert!(r2.commands.is_empty(), "{:?}", r2.commands);
    let names = software_names(&s, &admin, asset).await;
    assert_eq!(names, ["curl", "htop"]);
    let after_delta = history_count(&s, &admin, asset).await;

    // The same report again (its reply was lost): acknowledged, not applied twice.
    let again = client
        .checkin(&creds, &delta(2, "D1", "D2", d))
        .await
        .unwrap();
    assert_eq!(again.asset_id, asset);
    assert!(again.commands.is_empty());
    assert_eq!(history_count(&s, &admin, asset).await, after_delta);

    // A heartbeat changes nothing but health and last seen.
    let mut hb = heartbeat(3, "D2");
    hb.health.uptime_secs = 4242;
    let r3 = client.checkin(&creds, &hb).await.unwrap();
    assert_eq!(r3.asset_id, asset);
    assert!(r3.commands.is_empty());
    assert_eq!(history_count(&s, &admin, asset).await, after_delta);
    let (_, detail) = s.get_json(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(detail["health"]["uptime_secs"], 4242);

    // A delta renaming the machine: the system section replaces the stored one.
    let mut system = SystemSection::of(&report("pc-renamed", uuid, &[]).inventory);
    system.memory.total_bytes = 16 << 30;
    let r4 = client
        .checkin(
            &creds,
            &delta(
                4,
                "D2",
                "D3",
                InventoryDelta {
                    system: Some(system),
                    ..Default::default()
                },
            ),
        )
        .await
        .unwrap();
    assert_eq!(r4.asset_id, asset);
    let (_, detail) = s.get_json(&format!("/api/v1/assets/{asset}"), &admin).await;
    assert_eq!(detail["name"], "pc-renamed");
    assert_eq!(
        detail["software_count"], 2,
        "a system-only delta keeps the software"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_broken_chain_asks_for_a_full_report_and_applies_nothing() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    // A delta before any full report.
    let r = client
        .checkin(&creds, &delta(1, "X", "Y", InventoryDelta::default()))
        .await
        .unwrap();
    assert_eq!(r.commands, vec![AgentCommand::SendFullReport]);

    let r = client
        .checkin(
            &creds,
            &full(
                2,
                "F2",
                report("pc", "b2b2b2b2-0000-1111-2222-333333333333", &[("a", "1")]),
            ),
        )
        .await
        .unwrap();
    let asset = r.asset_id;
    let before = history_count(&s, &admin, asset).await;
    // A delta on a base the server never acknowledged (say, the server was restored from
    // a backup, or the agent's spool dropped a report).
    let d = InventoryDelta {
        software_added: vec![sw("b", "1")],
        ..Default::default()
    };
    let r = client
        .checkin(&creds, &delta(5, "F4", "F5", d))
        .await
        .unwrap();
    assert_eq!(r.commands, vec![AgentCommand::SendFullReport]);
    assert_eq!(history_count(&s, &admin, asset).await, before);
    let r = client.checkin(&creds, &heartbeat(6, "F5")).await.unwrap();
    assert_eq!(r.commands, vec![AgentCommand::SendFullReport]);
    // The full report repairs the chain.
    let r = client
        .checkin(
            &creds,
            &full(
                7,
                "F7",
                report(
                    "pc",
                    "b2b2b2b2-0000-1111-2222-333333333333",
                    &[("a", "1"), ("b", "1")],
                ),
            ),
        )
        .await
        .unwrap();
    assert!(r.commands.is_empty());
    assert_eq!(
        client
            .checkin(&creds, &heartbeat(8, "F7"))
            .await
            .unwrap()
            .commands,
        vec![]
    );
    s.stop().await;
}

#[tokio::test]
async fn staff_commands_reach_the_agent_once() {
    let s = TestServer::spawn().await;
    let tech = s
        .token_for(steward_server::domain::roles::Role::Technician)
        .await;
    let (client, creds) = s.enrolled_agent().await;
    let post = |body: serde_json::Value| {
        s.http
            .post(s.url(&format!("/api/v1/agents/{}/commands", creds.agent_id)))
            .bearer_auth(&tech)
            .json(&body)
            .send()
    };
    assert_eq!(
        post(serde_json::json!({"kind": "collect_now"}))
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(serde_json::json!({"kind": "set_schedule", "cron": "0 9 * * 1"}))
            .await
            .unwrap()
            .status(),
        202
    );
    assert_eq!(
        post(serde_json::json!({"kind": "set_schedule", "cron": "every tuesday"}))
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        post(serde_json::json!({"kind": "format_disk"}))
            .await
            .unwrap()
            .status(),
        400
    );

    let r = client
        .checkin(
            &creds,
            &full(
                1,
                "A",
                report("pc", "c3c3c3c3-0000-1111-2222-333333333333", &[]),
            ),
        )
        .await
        .unwrap();
    assert_eq!(
        r.commands,
        vec![
            AgentCommand::CollectNow,
            AgentCommand::SetSchedule {
                cron: "0 9 * * 1".into()
            }
        ]
    );
    let r = client.checkin(&creds, &heartbeat(2, "A")).await.unwrap();
    assert!(r.commands.is_empty());

    let (status, agents) = s.get_json("/api/v1/agents", &tech).await;
    assert_eq!(status, 200);
    let me = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == creds.agent_id.as_str())
        .unwrap();
    assert_eq!(me["last_seq"], 2);
    assert_eq!(me["asset_id"], r.asset_id);
    s.stop().await;
}

#[tokio::test]
async fn gzip_bodies_are_accepted_and_corrupt_ones_refused() {
    use std::io::Write;
    let s = TestServer::spawn().await;
    let (_, creds) = s.enrolled_agent().await;
    let body = serde_json::to_vec(&full(
        1,
        "G",
        report("gz", "e4e4e4e4-0000-1111-2222-333333333333", &[("x", "1")]),
    ))
    .unwrap();
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&body).unwrap();
    let gz = enc.finish().unwrap();
    let send = |b: Vec<u8>| {
        s.http
            .post(s.url(steward_shared::CHECKIN_PATH))
            .header("authorization", agent_auth(&creds))
            .header("content-type", "application/json")
            .header("content-encoding", "gzip")
            .body(b)
            .send()
    };
    let resp = send(gz).await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = send(b"not gzip at all".to_vec()).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_body");

    // A gzip bomb: small on the wire, over the limit once inflated.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![b' '; 20 * 1024 * 1024]).unwrap();
    let resp = send(enc.finish().unwrap()).await.unwrap();
    assert_eq!(resp.status(), 413);
    s.stop().await;
}

#[tokio::test]
async fn two_live_agents_with_one_identity_are_flagged_not_merged() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (a, creds_a) = s.enrolled_agent().await;
    let (b, creds_b) = s.enrolled_agent().await;
    // B enrolled a minute ago; A reported after that, so both run at the same time.
    let id_b = creds_b.agent_id.clone();
    s.with_db(move |db| {
        db.write_blocking(|tx| {
            Ok(tx.execute(
                "UPDATE agents SET enrolled_at = enrolled_at - 60 WHERE id = ?1",
                [&id_b],
            )?)
        })
        .unwrap();
    })
    .await;
    let uuid = "f5f5f5f5-0000-1111-2222-333333333333";
    let ra = a
        .checkin(&creds_a, &report("golden-1", uuid, &[]))
        .await
        .unwrap();
    let rb = b
        .checkin(&creds_b, &report("golden-2", uuid, &[]))
        .await
        .unwrap();
    assert_ne!(
        ra.asset_id, rb.asset_id,
        "a clone must not overwrite the original"
    );
    let (_, clone) = s
        .get_json(&format!("/api/v1/assets/{}", rb.asset_id), &admin)
        .await;
    assert_eq!(clone["clone_of"], ra.asset_id);
    let (_, original) = s
        .get_json(&format!("/api/v1/assets/{}", ra.asset_id), &admin)
        .await;
    assert!(original["clone_of"].is_null());
    // Both keep reporting to their own asset.
    assert_eq!(
        a.checkin(&creds_a, &report("golden-1", uuid, &[]))
            .await
            .unwrap()
            .asset_id,
        ra.asset_id
    );
    assert_eq!(
        b.checkin(&creds_b, &report("golden-2", uuid, &[]))
            .await
            .unwrap()
            .asset_id,
        rb.asset_id
    );
    let (_, hist) = s
        .get_json(&format!("/api/v1/assets/{}/history", ra.asset_id), &admin)
        .await;
    assert!(
        hist["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "clone_suspected")
    );
    s.stop().await;
}

#[tokio::test]
async fn re_enrolling_a_machine_keeps_its_asset() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (old, creds_old) = s.enrolled_agent().await;
    let uuid = "a6a6a6a6-0000-1111-2222-333333333333";
    let first = old
        .checkin(&creds_old, &report("pc", uuid, &[]))
        .await
        .unwrap();
    // The old agent last reported an hour before the machine was enrolled again.
    let id_old = creds_old.agent_id.clone();
    s.with_db(move |db| {
        db.write_blocking(|tx| {
            Ok(tx.execute(
                "UPDATE agents SET last_seen_at = last_seen_at - 3600 WHERE id = ?1",
                [&id_old],
            )?)
        })
        .unwrap();
    })
    .await;
    let (new, creds_new) = s.enrolled_agent().await;
    let second = new
        .checkin(&creds_new, &report("pc", uuid, &[]))
        .await
        .unwrap();
    assert_eq!(second.asset_id, first.asset_id);
    let (_, detail) = s
        .get_json(&format!("/api/v1/assets/{}", first.asset_id), &admin)
        .await;
    assert!(detail["clone_of"].is_null());
    s.stop().await;
}

/// A software-only delta is applied title by title (without loading the whole machine);
/// it must store exactly what the general path stores for the same change: the same
/// software, the same history and the same fleet counts. Two machines start equal; one
/// gets the change as a software-only delta, the other with an unchanged user list
/// attached, which takes the general path.
#[tokio::test]
async fn a_software_only_delta_stores_what_the_general_path_stores() {
    let s = TestServer::spawn().await;
    let tech = s
        .token_for(steward_server::domain::roles::Role::Technician)
        .await;
    let before = [
        sw("linux-image", "6.1"),
        sw("linux-image", "6.2"),
        sw("curl", "8.0"),
        sw("bash", "5.2"),
    ];
    let mut assets = Vec::new();
    for (i, extra) in [false, true].into_iter().enumerate() {
        let (client, creds) = s.enrolled_agent().await;
        let mut base = report(
            &format!("pc-{i}"),
            &format!("4c4c4544-0000-0000-0000-00000000010{i}"),
            &[],
        );
        base.inventory.software = before.to_vec();
        base.inventory.logged_in_users = vec!["ann".into()];
        let r = client.checkin(&creds, &full(1, "d1", base)).await.unwrap();
        let change = InventoryDelta {
            software_removed: vec![sw("linux-image", "6.1"), sw("curl", "8.0"), sw("gone", "1")],
            software_added: vec![sw("linux-image", "6.3"), sw("curl", "8.1"), sw("jq", "1.7")],
            logged_in_users: extra.then(|| vec!["ann".into()]),
            ..Default::default()
        };
        let reply = client
            .checkin(&creds, &delta(2, "d1", "d2", change))
            .await
            .unwrap();
        assert!(!reply.commands.contains(&AgentCommand::SendFullReport));
        assets.push(r.asset_id);
    }
    let software = |id: i64| {
        let (s, tech) = (&s, tech.clone());
        async move {
            let (_, v) = s
                .get_json(&format!("/api/v1/assets/{id}/software"), &tech)
                .await;
            let mut items: Vec<(String, String)> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap().into(),
                        i["version"].as_str().unwrap().into(),
                    )
                })
                .collect();
            items.sort();
            items
        }
    };
    let history = |id: i64| {
        let (s, tech) = (&s, tech.clone());
        async move {
            let (_, v) = s
                .get_json(&format!("/api/v1/assets/{id}/history?limit=500"), &tech)
                .await;
            let mut rows: Vec<String> = v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| h["kind"] != "created")
                .map(|h| {
                    format!(
                        "{} {} {} {}",
                        h["kind"], h["field"], h["old_value"], h["new_value"]
                    )
                })
                .collect();
            rows.sort();
            rows
        }
    };
    let fast = software(assets[0]).await;
    assert_eq!(fast, software(assets[1]).await);
    let want: Vec<(String, String)> = [
        ("bash", "5.2"),
        ("curl", "8.1"),
        ("jq", "1.7"),
        ("linux-image", "6.2"),
        ("linux-image", "6.3"),
    ]
    .iter()
    .map(|(n, v)| ((*n).into(), (*v).into()))
    .collect();
    assert_eq!(fast, want);
    let h = history(assets[0]).await;
    assert_eq!(h, history(assets[1]).await);
    assert!(
        h.iter()
            .any(|r| r.contains("curl") && r.contains("8.0") && r.contains("8.1")),
        "{h:?}"
    );
    // The catalog counts both machines the same way.
    let (_, curl) = s.get_json("/api/v1/software/curl/versions", &tech).await;
    let text = curl.to_string();
    assert!(
        text.contains("\"8.1\"") && !text.contains("\"8.0\""),
        "{text}"
    );
    assert!(text.contains("\"installs\":2"), "{text}");
    s.stop().await;
}
