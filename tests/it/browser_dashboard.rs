//! The staff dashboard in a real browser: a technician signs in, lands on it, reads the
//! figures and follows a tile to the queue it counts. Saves `target/screenshots/dashboard.png`.

use crate::asset_records::{new_asset, place};
use crate::helpers::*;
use crate::webdriver::Browser;
use serde_json::json;
use steward_server::domain::roles::Role;

#[tokio::test]
async fn a_technician_reads_the_dashboard_and_follows_a_tile() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (ann, _) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tech) = person(&s, Role::Technician, "tess@example.test").await;
    let site = place(&s, &admin, None, "Head office").await;
    let mut laptops = Vec::new();
    for (i, model) in [
        "Latitude 5440",
        "Latitude 5440",
        "Latitude 5440",
        "Latitude 5440",
        "Latitude 5440",
        "ThinkPad T14",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"type": "computer", "name": format!("PC-{i:02}"), "model": model,
                          "location_id": site, "purchase_date": "2021-06-01"});
        laptops.push(new_asset(&s, &tech, body).await["id"].as_i64().unwrap());
    }
    for (title, impact) in [
        ("VPN drops", "high"),
        ("New starter laptop", "low"),
        ("Dock flickers", "medium"),
    ] {
        let body = json!({"title": title, "requester_id": ann, "asset_ids": [laptops[0]],
                          "impact": impact, "urgency": impact});
        file_ticket_with(&s, &tech, body).await;
    }

    let b = Browser::start().await;
    b.goto(&s.url("/login")).await;
    b.find("#email").await.fill("tess@example.test").await;
    b.find("#password").await.fill(USER_PASSWORD).await;
    b.find("form[action='/login'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "Dashboard").await;
    let tiles = b.text("ul.tiles").await;
    assert!(
        tiles.contains("3\nOpen tickets") || tiles.contains("3 Open tickets"),
        "{tiles}"
    );
    assert!(b.find_all("svg.hbars").await.len() >= 4);
    let models = b.text("#d-model").await;
    assert_eq!(models, "Tickets per 100 devices, by model");
    b.assert_clean_console(&[]).await;
    b.screenshot_page("dashboard").await;

    b.find("ul.tiles li:first-child a").await.click().await;
    b.wait_for_url("/tickets").await;
    b.wait_for_text("main", "VPN drops").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
