//! The asset list's "with selected" in a real browser: a technician ticks assets and sets
//! their location, checks them out to a person (one is refused and listed, the others
//! change) and retires one (audited, as a single edit would be). Each asset goes through
//! the single-asset code path, so its history names the technician. Saves
//! `target/screenshots/asset_bulk.png`.

use crate::browser::{hidden_field, page_text, post_form, session_cookie, submit_login};
use crate::browser_journeys::{sign_in, user};
use crate::helpers::*;
use crate::webdriver::Browser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

async fn made(s: &TestServer, path: &str, token: &str, body: Value) -> Value {
    let (status, v) = post(s, path, token, body).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

async fn tick(b: &Browser, ids: &[i64]) {
    for id in ids {
        b.find(&format!("input[type=checkbox][form=bulk][value='{id}']"))
            .await
            .click()
            .await;
    }
}

/// Chooses `action` and applies it; waits for the next page to load.
async fn apply(b: &Browser, action: &str) {
    b.choose("#bulk-action", action).await;
    b.execute("document.body.dataset.before = 'yes';", vec![])
        .await;
    b.find("#bulk button[type=submit]").await.click().await;
    b.wait_until("the next page", async |b: &Browser| {
        b.execute("return document.body && !document.body.dataset.before && document.readyState === 'complete';", vec![])
            .await
            == json!(true)
    })
    .await;
}

#[tokio::test]
async fn a_technician_changes_ticked_assets_together() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let (emma, emma_token) = person(&s, Role::Employee, "emma@example.test").await;
    let mut ids = Vec::new();
    for name in ["Screen A", "Screen B", "Screen C"] {
        let a = made(
            &s,
            "/api/v1/assets",
            &admin,
            json!({"type": "monitor", "name": name}),
        )
        .await;
        ids.push(a["id"].as_i64().unwrap());
    }
    let hq = made(&s, "/api/v1/locations", &admin, json!({"name": "HQ"})).await["id"]
        .as_i64()
        .unwrap();
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;
    b.goto(&s.url("/assets?q=Screen")).await;

    // Two of three to HQ; back on the same list.
    tick(&b, &ids[..2]).await;
    apply(&b, "Location: HQ").await;
    b.wait_for_url("/assets?q=Screen").await;
    for (i, id) in ids.iter().enumerate() {
        let (_, a) = s.get_json(&format!("/api/v1/assets/{id}"), &admin).await;
        let want = if i < 2 { json!(hq) } else { Value::Null };
        assert_eq!(a["location_id"], want, "asset {id}");
    }
    let (_, history) = s
        .get_json(&format!("/api/v1/assets/{}/history", ids[0]), &admin)
        .await;
    assert!(
        history.to_string().contains("user:tess@example.test"),
        "the change is in the asset's history, by the technician: {history}"
    );

    // One is already out: checking all three out to Emma changes two, lists the third.
    made(
        &s,
        &format!("/api/v1/assets/{}/checkout", ids[2]),
        &admin,
        json!({"user_id": 1}),
    )
    .await;
    tick(&b, &ids).await;
    b.find("#bulk-person")
        .await
        .send_keys("emma@example.test")
        .await;
    b.screenshot("asset_bulk").await;
    apply(&b, "Check out to the person below").await;
    b.wait_for_text("h1", "Some assets were not changed").await;
    let said = b.text("main").await;
    assert!(said.contains("2 changed"), "{said}");
    assert!(
        said.contains(&format!("#{}: check the asset in first", ids[2])),
        "{said}"
    );
    let (_, mine) = s.get_json("/api/v1/me/checkouts", &emma_token).await;
    let mut held: Vec<i64> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["asset_id"].as_i64().unwrap())
        .collect();
    held.sort();
    assert_eq!(held, ids[..2], "checked out to Emma ({emma})");

    // Retiring is audited like a single edit.
    b.goto(&s.url("/assets")).await;
    tick(&b, &ids[2..]).await;
    apply(&b, "State: Retired").await;
    b.wait_for_url("/assets").await;
    let (_, log) = s
        .get_json("/api/v1/audit-log?action=asset.archived", &admin)
        .await;
    let log = log.to_string();
    assert!(log.contains(&format!("asset:{}", ids[2])), "{log}");
    assert!(log.contains("tess@example.test"), "{log}");
    // The refusal page answered 409, which the console reports.
    b.assert_clean_console(&[
        "/assets/bulk - Failed to load resource: the server responded with a status of 409",
    ])
    .await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn the_asset_bulk_form_needs_its_csrf_token_and_a_choice() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let a = made(
        &s,
        "/api/v1/assets",
        &admin,
        json!({"type": "monitor", "name": "Screen"}),
    )
    .await;
    let id = a["id"].as_i64().unwrap().to_string();
    let login = submit_login(&s, ADMIN_EMAIL, ADMIN_PASSWORD, None).await;
    let cookie = session_cookie(&login);
    let page = page_text(&s, &cookie, "/assets").await;
    let csrf = hidden_field(&page, "csrf");

    let forged = post_form(
        &s,
        &cookie,
        "/assets/bulk",
        &[("id", &id), ("action", "state:4")],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let vague = post_form(
        &s,
        &cookie,
        "/assets/bulk",
        &[("csrf", &csrf), ("id", &id), ("action", "delete:1")],
    )
    .await;
    assert_eq!(vague.status(), StatusCode::BAD_REQUEST);
    let nobody = post_form(
        &s,
        &cookie,
        "/assets/bulk",
        &[
            ("csrf", &csrf),
            ("id", &id),
            ("action", "checkout"),
            ("person", "no@example.test"),
        ],
    )
    .await;
    assert_eq!(nobody.status(), StatusCode::BAD_REQUEST);
    assert!(nobody.text().await.unwrap().contains("no active user"));
    let (_, after) = s.get_json(&format!("/api/v1/assets/{id}"), &admin).await;
    assert_eq!(after["state"], "In stock", "nothing changed: {after}");
    s.stop().await;
}
