//! Ticket search over HTTP: whole words across titles, descriptions and comments, newest
//! first, paged, following edits, internal notes only for staff.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn search_finds_words_newest_first_across_pages_and_follows_edits() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let mut vpn = Vec::new();
    for i in 0..5 {
        let t = file_ticket_with(
            &s,
            &ann,
            json!({"title": format!("Laptop {i}"), "description": format!("The VPN drops, case {i}")}),
        )
        .await;
        vpn.push(t["id"].as_i64().unwrap());
        // Tickets without the word, between the ones with it.
        post(
            &s,
            "/api/v1/tickets",
            &ann,
            json!({"title": "Monitor flickers"}),
        )
        .await;
    }
    // A word only in a comment finds its ticket too, once.
    let (_, t) = post(&s, "/api/v1/tickets", &ann, json!({"title": "Slow login"})).await;
    let slow = t["id"].as_i64().unwrap();
    for body in ["Started after the vpn update", "Still vpn related?"] {
        let (status, _) = post(
            &s,
            &format!("/api/v1/tickets/{slow}/comments"),
            &ann,
            json!({ "body": body }),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut expected: Vec<i64> = vpn.clone();
    expected.push(slow);
    expected.reverse();

    // Two pages of three, newest first, no ticket twice.
    let (status, p1) = s.get_json("/api/v1/tickets?q=VPN&limit=3", &tech).await;
    assert_eq!(status, StatusCode::OK, "{p1}");
    let cursor = p1["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let (_, p2) = s
        .get_json(
            &format!("/api/v1/tickets?q=VPN&limit=3&cursor={cursor}"),
            &tech,
        )
        .await;
    let mut got = ids(&p1);
    got.extend(ids(&p2));
    assert_eq!(got, expected);
    // Sorted by priority (all medium here): the same set.
    let (_, by_priority) = s
        .get_json("/api/v1/tickets?q=vpn&sort=priority&limit=50", &tech)
        .await;
    let mut set = ids(&by_priority);
    set.sort_unstable();
    let mut want = expected.clone();
    want.sort_unstable();
    assert_eq!(set, want);

    // Whole words: "vp" is not "vpn", unless asked for as a prefix.
    let (_, none) = s.get_json("/api/v1/tickets?q=vp", &tech).await;
    assert!(ids(&none).is_empty(), "{none}");
    let (_, prefix) = s.get_json("/api/v1/tickets?q=vp*&limit=50", &tech).await;
    assert_eq!(ids(&prefix).len(), expected.len());
    // Every word must occur.
    let (_, both) = s.get_json("/api/v1/tickets?q=vpn%20case%203", &tech).await;
    assert_eq!(ids(&both), vec![vpn[3]]);

    // Renaming a ticket moves it in the index: the old title no longer finds it.
    let (status, _) = patch(
        &s,
        &format!("/api/v1/tickets/{slow}"),
        &tech,
        json!({"title": "Kerberos ticket expired"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, new) = s.get_json("/api/v1/tickets?q=kerberos", &tech).await;
    assert_eq!(ids(&new), vec![slow]);
    let (_, old) = s.get_json("/api/v1/tickets?q=slow", &tech).await;
    assert!(ids(&old).is_empty(), "{old}");
    // The employee searching her own tickets sees the same thing.
    let (_, own) = s.get_json("/api/v1/tickets?q=kerberos", &ann).await;
    assert_eq!(ids(&own), vec![slow]);

    // An internal note is searchable by staff only.
    let (status, _) = post(
        &s,
        &format!("/api/v1/tickets/{}/comments", vpn[0]),
        &tech,
        json!({"body": "Firmware quirk on this model", "internal": true}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, staff) = s.get_json("/api/v1/tickets?q=firmware", &tech).await;
    assert_eq!(ids(&staff), vec![vpn[0]]);
    let (_, employee) = s.get_json("/api/v1/tickets?q=firmware", &ann).await;
    assert!(ids(&employee).is_empty(), "{employee}");
    s.stop().await;
}
