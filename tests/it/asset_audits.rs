//! Walking a room with a scanner, QR labels, and the public problem report a label opens.

use crate::asset_records::{new_asset, place};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["asset_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_room_audit_reports_found_missing_misplaced_and_unknown() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let site = place(&s, &admin, None, "HQ").await;
    let building = place(&s, &admin, Some(site), "Main").await;
    let floor = place(&s, &admin, Some(building), "Ground").await;
    let room_a = place(&s, &admin, Some(floor), "Meeting room A").await;
    let room_b = place(&s, &admin, Some(floor), "Meeting room B").await;
    let asset = |name: &str, tag: &str, room: i64| json!({"type": "projector", "name": name, "asset_tag": tag, "location_id": room});
    let a1 = new_asset(&s, &tech, asset("Projector A", "PJ-1", room_a)).await;
    let a2 = new_asset(&s, &tech, asset("Screen A", "PJ-2", room_a)).await;
    let a3 = new_asset(&s, &tech, asset("Projector B", "PJ-3", room_b)).await;
    let gone = new_asset(&s, &tech, asset("Old projector", "PJ-4", room_a)).await;
    let id = |a: &Value| a["id"].as_i64().unwrap();
    let (_, states) = s.get_json("/api/v1/asset-states", &tech).await;
    let disposed = states["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Disposed")
        .unwrap()["id"]
        .clone();
    patch(
        &s,
        &format!("/api/v1/assets/{}", id(&gone)),
        &tech,
        json!({"state_id": disposed}),
    )
    .await;

    // The room page lists what should be there: not the disposed one.
    let login = crate::browser::submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let tree = crate::browser::page_text(&s, &cookie, "/locations").await;
    assert!(
        tree.contains("Meeting room A") && tree.contains("depth-3"),
        "{tree}"
    );
    let room = crate::browser::page_text(&s, &cookie, &format!("/locations/{room_a}")).await;
    assert!(
        room.contains("Projector A") && room.contains("PJ-2"),
        "{room}"
    );
    assert!(
        !room.contains("Old projector") && !room.contains("Projector B"),
        "{room}"
    );

    let (status, audit) = post(&s, "/api/v1/audits", &tech, json!({"location_id": room_a})).await;
    assert_eq!(status, StatusCode::CREATED, "{audit}");
    assert_eq!(
        audit["location_path"],
        "HQ / Main / Ground / Meeting room A"
    );
    let audit_id = audit["id"].as_i64().unwrap();
    let scans = format!("/api/v1/audits/{audit_id}/scans");
    // The tag, the projector from room B by its label's URL, a code nobody knows, and the
    // first one again.
    let label_url = format!(
        "https://steward.example.test{}",
        a3["public_path"].as_str().unwrap()
    );
    let mut results = Vec::new();
    for code in ["pj-1", &label_url, "NOPE-1", "pj-1"] {
        let (status, r) = post(&s, &scans, &tech, json!({ "code": code })).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        results.push(r["result"].as_str().unwrap().to_owned());
    }
    assert_eq!(results, ["found", "misplaced", "unknown", "found"]);

    let (_, report) = s
        .get_json(&format!("/api/v1/audits/{audit_id}"), &tech)
        .await;
    assert_eq!(ids(&report["found"]), vec![id(&a1)]);
    assert_eq!(
        ids(&report["missing"]),
        vec![id(&a2)],
        "the disposed one is not expected"
    );
    assert_eq!(ids(&report["misplaced"]), vec![id(&a3)]);
    assert_eq!(report["misplaced"][0]["location_id"], room_b);
    assert_eq!(report["unknown"], json!(["NOPE-1"]));

    // Finishing stamps the audit dates and, when asked, moves the misplaced one here.
    let (status, done) = post(
        &s,
        &format!("/api/v1/audits/{audit_id}/finish"),
        &tech,
        json!({"move_misplaced": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["finished_at"].is_i64());
    let (_, moved) = s
        .get_json(&format!("/api/v1/assets/{}", id(&a3)), &tech)
        .await;
    assert_eq!(moved["location_id"], room_a);
    assert!(moved["last_audit_at"].is_i64());
    assert!(moved["audit_due_at"].as_i64().unwrap() > moved["last_audit_at"].as_i64().unwrap());
    let (_, never) = s
        .get_json(&format!("/api/v1/assets/{}", id(&a2)), &tech)
        .await;
    assert_eq!(never["last_audit_at"], Value::Null);
    let (status, e) = post(&s, &scans, &tech, json!({"code": "PJ-2"})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("audit_finished"))
    );
    let (status, _) = post(&s, "/api/v1/audits", &tech, json!({"location_id": 9999})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

#[tokio::test]
async fn anyone_with_the_label_reports_a_problem_and_follows_it() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let printer = new_asset(
        &s,
        &tech,
        json!({"type": "printer", "name": "Floor 3 printer", "asset_tag": "PR-3"}),
    )
    .await;
    let printer_id = printer["id"].as_i64().unwrap();
    let page_path = printer["public_path"].as_str().unwrap().to_owned();

    // The label sheet carries the page's address; only staff print labels.
    let sheet = s
        .http
        .get(s.url(&format!("/api/v1/assets/labels.svg?ids={printer_id}")))
        .bearer_auth(&tech)
        .send()
        .await
        .unwrap();
    assert_eq!(sheet.status(), StatusCode::OK);
    assert_eq!(
        sheet.headers()["content-type"],
        "image/svg+xml; charset=utf-8"
    );
    let svg = sheet.text().await.unwrap();
    assert_eq!(svg.matches("class=\"label\"").count(), 1);
    assert!(
        svg.contains("Floor 3 printer") && svg.contains("PR-3"),
        "{svg}"
    );
    let (status, _) = s
        .get_json(&format!("/api/v1/assets/labels.svg?ids={printer_id}"), &ann)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, e) = s
        .get_json("/api/v1/assets/labels.svg?ids=one,two", &tech)
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_ids"))
    );

    // No account needed to see the page.
    let page = s.http.get(s.url(&page_path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Floor 3 printer"));
    let unknown = s
        .http
        .get(s.url("/p/00000000000000000000000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    let report = |summary: &'static str, website: &'static str| {
        let url = s.url(&format!("{page_path}/report"));
        let http = s.http.clone();
        async move {
            http.post(url)
                .form(&[
                    ("summary", summary),
                    ("details", "Tray 2 jams every page"),
                    ("contact", "Visitor in 3.14"),
                    ("website", website),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // A bot filling the hidden field files nothing.
    assert_eq!(
        report("Buy cheap pills", "http://spam.example")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let resp = report("Paper jam", "").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let follow = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(follow.starts_with(&format!("{page_path}/t/")), "{follow}");

    // Staff see a ticket on the printer, from the QR label.
    let (_, list) = s
        .get_json(
            &format!("/api/v1/tickets?asset={printer_id}&status=all"),
            &tech,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    let ticket_id = items[0]["id"].as_i64().unwrap();
    let (_, t) = s
        .get_json(&format!("/api/v1/tickets/{ticket_id}"), &tech)
        .await;
    assert_eq!(t["title"], "Paper jam");
    assert_eq!(t["source"], "qr");
    assert!(
        t["description"]
            .as_str()
            .unwrap()
            .contains("Visitor in 3.14"),
        "{t}"
    );
    let comments = format!("/api/v1/tickets/{ticket_id}/comments");
    post(
        &s,
        &comments,
        &tech,
        json!({"body": "On my way with a new roller"}),
    )
    .await;
    post(
        &s,
        &comments,
        &tech,
        json!({"body": "Roller stock is low", "internal": true}),
    )
    .await;

    // The reporter's private link shows the public reply only.
    let page = s
        .http
        .get(s.url(&follow))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Paper jam") && page.contains("On my way with a new roller"),
        "{page}"
    );
    assert!(!page.contains("Roller stock"), "{page}");
    let wrong = s
        .http
        .get(s.url(&format!("{page_path}/t/ffffffffffffffffffffffffffffffff")))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);

    // Rate-limited: five reports an hour from one address.
    for _ in 0..4 {
        assert_eq!(
            report("Still jammed", "").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    assert_eq!(
        report("Jammed again", "").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let (_, list) = s
        .get_json(
            &format!("/api/v1/tickets?asset={printer_id}&status=all&limit=50"),
            &tech,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 5);
    s.stop().await;
}
