//! The home page: the staff dashboard's figures and charts from real tickets, assets and
//! locations, and an employee's own requests and nothing else.

use crate::asset_records::{new_asset, place};
use crate::browser::{page_text, session_cookie, submit_login};
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use steward_server::domain::roles::Role;

async fn signed_in(s: &TestServer, email: &str, password: &str) -> String {
    let login = submit_login(s, email, password, None).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    session_cookie(&login)
}

#[tokio::test]
async fn staff_see_the_dashboard_and_employees_their_own_requests() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let tech = s.token_for(Role::Technician).await;
    let (ann_id, _) = person(&s, Role::Employee, "ann@example.test").await;
    let (bob_id, _) = person(&s, Role::Employee, "bob@example.test").await;
    let site = place(&s, &admin, None, "Berlin office").await;
    let room = place(&s, &admin, Some(site), "Room 101").await;

    let today = chrono::Utc::now().date_naive();
    let soon = (today + chrono::Days::new(30)).to_string();
    let mut laptops = Vec::new();
    for i in 0..6 {
        let mut body = json!({"type": "computer", "name": format!("LT-{i}"),
                              "model": "Latitude 5440", "location_id": room});
        if i < 2 {
            body["purchase_date"] = json!("2019-03-01");
        }
        if i == 5 {
            body["warranty_end"] = json!(soon);
        }
        laptops.push(new_asset(&s, &tech, body).await["id"].as_i64().unwrap());
    }
    for i in 0..4 {
        new_asset(
            &s,
            &tech,
            json!({"type": "computer", "name": format!("X1-{i}"), "model": "X1 Carbon"}),
        )
        .await;
    }
    let mut ann_tickets = Vec::new();
    for title in ["Dock flickers", "Battery drains", "Fan is loud"] {
        let body = json!({"title": title, "requester_id": ann_id, "asset_ids": [laptops[0]],
                          "impact": "high", "urgency": "high"});
        let t = file_ticket_with(&s, &tech, body).await;
        ann_tickets.push(t["id"].as_i64().unwrap());
    }
    let bob = file_ticket_with(
        &s,
        &tech,
        json!({"title": "Bob's secret printer issue", "requester_id": bob_id}),
    )
    .await;
    assert!(bob["id"].is_i64(), "{bob}");
    let (status, t) = patch(
        &s,
        &format!("/api/v1/tickets/{}", ann_tickets[2]),
        &tech,
        json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{t}");

    let cookie = signed_in(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let html = page_text(&s, &cookie, "/").await;
    assert!(html.contains("<h1>Dashboard</h1>"), "{html}");
    assert!(
        html.contains("<span class=\"figure\">3</span> <span class=\"what\">Open tickets</span>"),
        "three open (two of Ann's, Bob's): {html}"
    );
    assert!(
        html.contains("<title>P2 high: 2 open</title>"),
        "Ann's two open high/high tickets: {html}"
    );
    assert!(
        html.contains("Latitude 5440: 3 ticket(s) on 6 device(s) in 90 days"),
        "tickets per model count tickets on the model's assets: {html}"
    );
    assert!(
        html.contains("Berlin office: 3 ticket(s) on 6 device(s) in 90 days"),
        "by site: {html}"
    );
    assert!(
        !html.contains("X1 Carbon:"),
        "a model without tickets has no bar: {html}"
    );
    assert!(
        html.contains(": 1 resolved, "),
        "this week's resolved ticket: {html}"
    );
    assert!(
        html.contains("<title>5 years and more: 2 asset(s)</title>"),
        "{html}"
    );
    assert!(
        html.contains("<title>Under 1 year: 0 asset(s)</title>"),
        "{html}"
    );
    assert!(
        html.contains("<title>Purchase date unknown: 8 asset(s)</title>"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<a href=\"/assets/{}\">LT-5</a> <span class=\"muted\">{soon}</span>",
            laptops[5]
        )),
        "{html}"
    );
    assert!(
        html.contains("<title>In stock: 10 asset(s)</title>"),
        "{html}"
    );
    assert!(html.contains("No open alerts."), "{html}");
    assert!(html.contains("no work order came due"), "{html}");

    // The bars lead to the tickets they count: filters in the address.
    assert!(
        html.contains("href=\"/tickets?priority=high&#38;sort=priority\""),
        "{html}"
    );
    let p2 = page_text(&s, &cookie, "/tickets?priority=high&sort=priority").await;
    assert!(
        p2.contains("Dock flickers") && p2.contains("Battery drains"),
        "{p2}"
    );
    assert!(
        !p2.contains("secret printer"),
        "Bob's P3 ticket is not P2: {p2}"
    );
    let bad = page_text(&s, &cookie, "/tickets?priority=urgent&sort=priority").await;
    assert!(
        bad.contains("That did not work"),
        "a bad filter is refused: {bad}"
    );

    // Employees get their own requests, not the desk's figures or anyone else's tickets.
    let ann = signed_in(&s, "ann@example.test", USER_PASSWORD).await;
    let home = page_text(&s, &ann, "/").await;
    assert!(
        !home.contains("Dashboard</h1>") && !home.contains("Open tickets by"),
        "{home}"
    );
    assert!(
        home.contains(&format!(
            "<a href=\"/tickets/{}\">#{} Dock flickers</a>",
            ann_tickets[0], ann_tickets[0]
        )),
        "{home}"
    );
    assert!(home.contains("Battery drains"), "{home}");
    assert!(
        !home.contains("Fan is loud"),
        "resolved requests are not open: {home}"
    );
    assert!(
        !home.contains("secret printer"),
        "another person's ticket leaked: {home}"
    );
    s.stop().await;
}
