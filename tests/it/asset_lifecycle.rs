//! An asset's life: check-out to a person who accepts (over the API or the web), check-in,
//! and the lifecycle states admins define.

use crate::asset_records::new_asset;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

#[tokio::test]
async fn check_out_to_a_person_who_accepts_then_check_in() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let (ann_id, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, bob) = person(&s, Role::Employee, "bob@example.test").await;
    let monitor = new_asset(
        &s,
        &tech,
        json!({"type": "monitor", "name": "Dell U2723QE", "asset_tag": "MON-7"}),
    )
    .await;
    let id = monitor["id"].as_i64().unwrap();
    let path = |what: &str| format!("/api/v1/assets/{id}/{what}");

    let (status, _) = post(&s, &path("checkout"), &ann, json!({"user_id": ann_id})).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "employees do not hand out assets"
    );
    let (status, e) = post(
        &s,
        &path("checkout"),
        &tech,
        json!({"user_id": ann_id, "location_id": 1}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_target"))
    );

    let (status, out) = post(
        &s,
        &path("checkout"),
        &tech,
        json!({"user_id": ann_id, "expected_back": "2027-01-31"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["state"], "Deployed");
    assert_eq!(out["checked_out_kind"], "user");
    assert_eq!(out["checked_out_id"], ann_id);
    assert_eq!(out["assigned_user_id"], ann_id);
    assert_eq!(out["checkout"]["accepted_at"], Value::Null);
    let (status, e) = post(&s, &path("checkout"), &tech, json!({"user_id": ann_id})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("already_checked_out"))
    );

    // Ann sees it waiting for her; Bob cannot answer for her.
    let (_, waiting) = s.get_json("/api/v1/me/checkouts", &ann).await;
    assert_eq!(waiting["items"][0]["asset_id"], id);
    let (status, _) = post(&s, &path("accept"), &bob, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, c) = post(&s, &path("accept"), &ann, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert!(c["accepted_at"].is_i64());
    let (_, waiting) = s.get_json("/api/v1/me/checkouts", &ann).await;
    assert_eq!(waiting["items"], json!([]));
    // Her own asset may now go on her tickets.
    let (status, t) = post(
        &s,
        "/api/v1/tickets",
        &ann,
        json!({"title": "Flickers", "asset_ids": [id]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");

    let (status, back) = post(
        &s,
        &path("checkin"),
        &tech,
        json!({"note": "returned at desk"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(back["state"], "In stock");
    assert_eq!(back["checked_out_kind"], Value::Null);
    assert_eq!(back["assigned_user_id"], Value::Null);
    let (status, e) = post(&s, &path("checkin"), &tech, json!({})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_checked_out"))
    );

    // Retired assets cannot go out.
    let (_, states) = s.get_json("/api/v1/asset-states", &tech).await;
    let retired = states["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Retired")
        .unwrap()["id"]
        .clone();
    patch(
        &s,
        &format!("/api/v1/assets/{id}"),
        &tech,
        json!({"state_id": retired}),
    )
    .await;
    let (status, e) = post(&s, &path("checkout"), &tech, json!({"user_id": ann_id})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_deployable"))
    );

    // The record of it all.
    let (_, h) = s.get_json(&path("history"), &tech).await;
    let kinds: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["created", "checkout", "accepted", "checkin"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let (_, c) = s.get_json(&path("checkouts"), &tech).await;
    assert_eq!(c["items"][0]["note"], "returned at desk");
    assert_eq!(c["items"][0]["expected_back"], "2027-01-31");
    s.stop().await;
}

#[tokio::test]
async fn a_person_answers_a_hand_over_on_the_web() {
    let s = TestServer::spawn().await;
    let tech = s.token_for(Role::Technician).await;
    let (ann_id, _) = person(&s, Role::Employee, "ann@example.test").await;
    let dock = new_asset(&s, &tech, json!({"type": "computer", "name": "USB-C dock"})).await;
    let phone = new_asset(&s, &tech, json!({"type": "phone", "name": "Desk phone"})).await;
    for a in [&dock, &phone] {
        let (status, r) = post(
            &s,
            &format!("/api/v1/assets/{}/checkout", a["id"]),
            &tech,
            json!({ "user_id": ann_id }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{r}");
    }
    let login = crate::browser::submit_login(&s, "ann@example.test", USER_PASSWORD, None).await;
    let cookie = crate::browser::session_cookie(&login);
    let page = crate::browser::page_text(&s, &cookie, "/me/devices").await;
    assert!(
        page.contains("USB-C dock") && page.contains("Desk phone"),
        "{page}"
    );
    assert_eq!(page.matches("I have it").count(), 2);
    let csrf = crate::browser::hidden_field(&page, "csrf");
    let answer = |id: &Value, answer: &'static str, csrf: String| {
        let path = format!("/me/devices/{id}/answer");
        let cookie = cookie.clone();
        let s = &s;
        async move {
            crate::browser::post_form(s, &cookie, &path, &[("csrf", &csrf), ("answer", answer)])
                .await
        }
    };
    assert_eq!(
        answer(&dock["id"], "accept", "forged".into())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        answer(&dock["id"], "accept", csrf.clone()).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        answer(&phone["id"], "decline", csrf.clone()).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, d) = s
        .get_json(&format!("/api/v1/assets/{}", dock["id"]), &tech)
        .await;
    assert!(d["checkout"]["accepted_at"].is_i64(), "{d}");
    let (_, p) = s
        .get_json(&format!("/api/v1/assets/{}", phone["id"]), &tech)
        .await;
    assert!(p["checkout"]["declined_at"].is_i64(), "{p}");
    // The declined phone leaves her list; the dock stays, accepted.
    let page = crate::browser::page_text(&s, &cookie, "/me/devices").await;
    assert!(
        page.contains("USB-C dock") && !page.contains("Desk phone"),
        "{page}"
    );
    assert!(!page.contains("I have it"), "{page}");
    s.stop().await;
}

#[tokio::test]
async fn admins_rename_and_remove_states_but_keep_the_ones_check_out_needs() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let (status, lost) = post(
        &s,
        "/api/v1/asset-states",
        &admin,
        json!({"name": "Lost", "kind": "undeployable"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{lost}");
    let lost_id = lost["id"].as_i64().unwrap();
    let (status, _) = patch(
        &s,
        &format!("/api/v1/asset-states/{lost_id}"),
        &tech,
        json!({"name": "Missing"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, renamed) = patch(
        &s,
        &format!("/api/v1/asset-states/{lost_id}"),
        &admin,
        json!({"name": "Missing"}),
    )
    .await;
    assert_eq!(
        (status, renamed["name"].as_str()),
        (StatusCode::OK, Some("Missing"))
    );

    // In use: not deleted. The only deployable and deployed states stay.
    let phone = new_asset(
        &s,
        &tech,
        json!({"type": "phone", "name": "Spare phone", "state_id": lost_id}),
    )
    .await;
    assert_eq!(phone["state"], "Missing");
    let status = delete(&s, &format!("/api/v1/asset-states/{lost_id}"), &admin).await;
    assert_eq!(status, StatusCode::CONFLICT);
    for (id, body) in [
        (1, json!({"kind": "archived"})),
        (2, json!({"kind": "undeployable"})),
    ] {
        let (status, e) = patch(&s, &format!("/api/v1/asset-states/{id}"), &admin, body).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("last_state_of_kind"))
        );
    }
    patch(
        &s,
        &format!("/api/v1/assets/{}", phone["id"]),
        &tech,
        json!({"state": "Retired"}),
    )
    .await;
    assert_eq!(
        delete(&s, &format!("/api/v1/asset-states/{lost_id}"), &admin).await,
        StatusCode::NO_CONTENT
    );
    let (_, states) = s.get_json("/api/v1/asset-states", &tech).await;
    assert!(
        !states["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "Missing")
    );
    s.stop().await;
}
