//! Listing, searching and paginating assets.

use crate::helpers::*;

#[tokio::test]
async fn keyset_pagination_and_search() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (client, creds) = s.enrolled_agent().await;
    for i in 0..7 {
        let mut r = report(
            &format!("ws-{i:02}"),
            &format!("0000000{i}-aaaa-bbbb-cccc-dddddddddddd"),
            &[],
        );
        if i == 3 {
            r.inventory.hardware.model = "Latitude 7440".into();
        }
        client.checkin(&creds, &r).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = s
            .get_json(&format!("/api/v1/assets?limit=3&cursor={cursor}"), &admin)
            .await;
        assert_eq!(status, 200);
        for item in page["items"].as_array().unwrap() {
            seen.push(item["name"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    let expected: Vec<String> = (0..7).map(|i| format!("ws-{i:02}")).collect();
    assert_eq!(seen, expected);

    let (_, found) = s.get_json("/api/v1/assets?q=latit", &admin).await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "ws-03");

    let (_, found) = s
        .get_json("/api/v1/assets?vendor=test%20vendor&limit=500", &admin)
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 7);
    s.stop().await;
}

#[tokio::test]
async fn healthz_and_metrics() {
    let s = TestServer::spawn().await;
    let resp = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let (client, creds) = s.enrolled_agent().await;
    client
        .checkin(
            &creds,
            &report("m", "12121212-aaaa-bbbb-cccc-dddddddddddd", &[]),
        )
        .await
        .unwrap();
    let text = s
        .http
        .get(s.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("steward_assets 1"), "{text}");
    s.stop().await;
}

#[tokio::test]
async fn backup_is_a_working_database() {
    let s = TestServer::spawn().await;
    let (client, creds) = s.enrolled_agent().await;
    client
        .checkin(
            &creds,
            &report("b", "34343434-aaaa-bbbb-cccc-dddddddddddd", &[("x", "1")]),
        )
        .await
        .unwrap();
    let target = s.dir.path().join("backup.db");
    let t = target.clone();
    s.with_db(move |db| db.backup_to(&t).unwrap()).await;
    let conn = rusqlite::Connection::open(&target).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM asset_software", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    assert!(data_dir(s.dir.path()).join("steward.db").exists());
    s.stop().await;
}
