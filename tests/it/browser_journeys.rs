//! The web UI in a real browser: headless Chromium, driven over WebDriver, goes through
//! the journeys people make every day (sign in; find an asset; file a ticket and read the
//! reply; triage the queue; schedule maintenance and complete the work order; print QR
//! labels), checking what the page shows and that its console stays free of errors
//! (script errors, refused loads, Content-Security-Policy violations). Each journey saves
//! a screenshot to `target/screenshots/<journey>.png`; README's tour shows them.

use crate::helpers::*;
use crate::webdriver::Browser;
use reqwest::StatusCode;
use serde_json::json;
use steward_server::accounts;
use steward_server::domain::roles::Role;

/// A user with a name (what the pages and screenshots show); returns an API token.
pub(crate) async fn user(s: &TestServer, role: Role, email: &str, name: &str) -> String {
    let (email, name) = (email.to_owned(), name.to_owned());
    s.with_db(move |db| {
        accounts::add_user(db, &email, &name, role, USER_PASSWORD).unwrap();
        accounts::create_api_token(db, &email, "t", None).unwrap()
    })
    .await
}

/// Signs in through the login form and waits to leave it.
pub(crate) async fn sign_in(b: &Browser, s: &TestServer, email: &str, password: &str) {
    b.goto(&s.url("/login")).await;
    b.find("#email").await.fill(email).await;
    b.find("#password").await.fill(password).await;
    b.find("form[action='/login'] button[type=submit]")
        .await
        .click()
        .await;
    b.find("header.top .who").await;
}

/// The number at the end of the current address (`/tickets/12` -> 12).
async fn id_in_url(b: &Browser) -> i64 {
    let url = b.url().await;
    let last = url.split(['?', '#']).next().unwrap().rsplit('/').next();
    last.and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no id at the end of {url}"))
}

/// An asset made through the API; returns its id.
async fn asset(s: &TestServer, token: &str, body: serde_json::Value) -> i64 {
    let (status, a) = post(s, "/api/v1/assets", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    a["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_person_signs_in_through_the_form() {
    let s = TestServer::spawn().await;
    let b = Browser::start().await;

    // A page that needs a session sends the browser to the form, remembering the page.
    b.goto(&s.url("/assets")).await;
    b.wait_for_url("/login?next=%2Fassets").await;
    assert_eq!(b.text("h1").await, "Sign in to Steward");
    assert_eq!(b.title().await, "Sign in · Steward");

    // A wrong password is refused with a message, keeping the email typed.
    b.find("#email").await.fill(ADMIN_EMAIL).await;
    b.find("#password").await.fill("not the password").await;
    b.find("button[type=submit]").await.click().await;
    b.wait_for_text("p.error[role=alert]", "Wrong email or password")
        .await;
    assert_eq!(b.find("#email").await.property("value").await, ADMIN_EMAIL);

    b.find("#password").await.fill(ADMIN_PASSWORD).await;
    b.screenshot("sign_in").await;
    b.find("button[type=submit]").await.click().await;

    // Signed in, on the page first asked for, with the name in the top bar.
    b.wait_for_url("/assets").await;
    assert!(!b.url().await.contains("/login"));
    b.wait_for_text("h1", "Assets").await;
    let who = b.text("header.top .who").await;
    assert!(who.contains("(admin)"), "{who}");
    b.assert_clean_console(&["status of 401"]).await;

    // Signing out ends the session: the pages ask for the form again.
    b.find("header.top .who button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_url("/login").await;
    b.goto(&s.url("/tickets")).await;
    b.wait_for_url("/login?next=%2Ftickets").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn a_technician_finds_an_asset_by_searching() {
    let s = TestServer::spawn().await;
    for (host, uuid) in [
        ("reception-pc", "11111111-0000-0000-0000-000000000001"),
        ("db-server-01", "11111111-0000-0000-0000-000000000002"),
        ("lab-laptop-07", "11111111-0000-0000-0000-000000000003"),
    ] {
        let (client, creds) = s.enrolled_agent().await;
        let sw = [("postgresql", "15.4"), ("openssh-server", "9.2")];
        client
            .checkin(&creds, &report(host, uuid, &sw))
            .await
            .unwrap();
    }
    user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;

    b.find("header.top nav a[href='/assets']")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "Assets").await;
    assert_eq!(b.find_all("main tbody tr").await.len(), 3);

    // Typing is enough: the page's script fetches the matches and swaps the table in
    // (so the Content-Security-Policy lets our own script run), and keeps the search in
    // the address.
    b.find("#q").await.send_keys("db-server").await;
    b.wait_until("one matching row", async |b| {
        b.find_all("main tbody tr").await.len() == 1
    })
    .await;
    b.wait_for_url("q=db-server").await;
    let row = b.text("main tbody tr").await;
    assert!(row.contains("db-server-01"), "{row}");
    assert!(row.contains("Test Vendor T-1000"), "{row}");
    assert_eq!(
        b.find("#q").await.property("value").await,
        "db-server",
        "the search box keeps what was typed"
    );
    b.screenshot("asset_search").await;

    b.find("main tbody tr a").await.click().await;
    b.wait_for_text("h1", "db-server-01").await;
    let page = b.body_text().await;
    assert!(page.contains("postgresql"), "{page}");
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn an_employee_files_a_ticket_and_reads_the_reply() {
    let s = TestServer::spawn().await;
    user(&s, Role::Employee, "emma@example.test", "Emma Stone").await;
    let tech = user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let b = Browser::start().await;
    sign_in(&b, &s, "emma@example.test", USER_PASSWORD).await;

    // Employees start at their home page, which links to their requests.
    b.wait_for_text("main", "Your open requests").await;
    b.find("header.top nav a[href='/tickets']")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "My requests").await;
    b.wait_for_text("p.empty", "You have no requests here")
        .await;
    b.find("a.button[href='/tickets/new']").await.click().await;
    b.wait_for_text("h1", "New request").await;
    b.find("#title")
        .await
        .send_keys("The printer on floor 2 jams")
        .await;
    b.choose("#urgency", "I am blocked").await;
    b.find("#description")
        .await
        .send_keys("Every second page comes out crumpled.")
        .await;
    b.find("form[action='/tickets/new'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "The printer on floor 2 jams").await;
    let id = id_in_url(&b).await;
    assert_eq!(
        b.text("h1").await,
        format!("#{id} The printer on floor 2 jams")
    );
    b.wait_for_text(".message", "Every second page comes out crumpled.")
        .await;

    // A technician answers (through the API); the employee sees the answer on the page.
    let (status, c) = post(
        &s,
        &format!("/api/v1/tickets/{id}/comments"),
        &tech,
        json!({"body": "On my way with a new fuser unit."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    b.refresh().await;
    b.wait_for_text(".message", "On my way with a new fuser unit.")
        .await;
    let conversation = b.text("section[aria-labelledby=conv]").await;
    assert!(conversation.contains("Tess Tech"), "{conversation}");

    // And replies from the same page.
    b.find("#body").await.send_keys("Thank you!").await;
    b.find("form[action$='/reply'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_text(".message", "Thank you!").await;
    b.screenshot_page("ticket_reply").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn a_technician_triages_from_the_queue() {
    let s = TestServer::spawn().await;
    let emma = user(&s, Role::Employee, "emma@example.test", "Emma Stone").await;
    user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let vpn = file_ticket_with(
        &s,
        &emma,
        json!({"title": "VPN drops every hour", "urgency": "high"}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    file_ticket(&s, &emma, "New starter needs a laptop").await;
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;

    // Staff start at the dashboard; the queues are one click away, and the unassigned
    // one holds both new tickets.
    b.wait_for_text("h1", "Dashboard").await;
    b.find("header.top nav a[href='/tickets']")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "Tickets").await;
    b.find("nav.views a[href*='view=unassigned']")
        .await
        .click()
        .await;
    b.wait_for_url("view=unassigned").await;
    b.wait_for_text("nav.views a[aria-current=page]", "Unassigned 2")
        .await;
    let rows = b.text("main tbody").await;
    assert!(rows.contains("VPN drops every hour"), "{rows}");
    assert!(rows.contains("New starter needs a laptop"), "{rows}");

    // Open the ticket; take it, open it up and raise its impact (so its priority).
    b.find(&format!("main tbody a[href='/tickets/{vpn}']"))
        .await
        .click()
        .await;
    b.wait_for_text("h1", "VPN drops every hour").await;
    let about = b.text("section[aria-labelledby=about]").await;
    assert!(about.contains("Priority\nmedium"), "{about}");
    b.choose("#status", "open").await;
    b.choose("#assignee", "Tess Tech").await;
    b.choose("#impact", "high").await;
    b.find("form[action$='/update'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_text(".heading .badge", "open").await;
    let about = b.text("section[aria-labelledby=about]").await;
    assert!(about.contains("Assignee\nTess Tech"), "{about}");
    assert!(about.contains("Priority\nhigh"), "{about}");
    assert_eq!(
        b.text("#impact option:first-child").await,
        "(keep high)",
        "the form shows the new impact"
    );

    // It has left the unassigned queue for "Mine".
    b.find("p.crumbs a[href='/tickets']").await.click().await;
    b.find("nav.views a[href*='view=unassigned']")
        .await
        .click()
        .await;
    b.wait_for_text("nav.views a[aria-current=page]", "Unassigned 1")
        .await;
    b.find("nav.views a[href*='view=mine']").await.click().await;
    b.wait_for_text("nav.views a[aria-current=page]", "Mine 1")
        .await;
    b.wait_for_text("main tbody", "VPN drops every hour").await;
    b.find("nav.views a[href*='view=open']").await.click().await;
    b.wait_for_text("nav.views a[aria-current=page]", "All open 2")
        .await;
    let first = b.text("main tbody tr").await;
    assert!(
        first.contains("VPN drops every hour")
            && first.contains("high")
            && first.contains("Tess Tech"),
        "the most pressing ticket comes first: {first}"
    );
    b.screenshot("triage_queue").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn a_maintenance_plan_is_scheduled_and_its_work_order_completed() {
    let s = TestServer::spawn().await;
    let tech = user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let printer = asset(
        &s,
        &tech,
        json!({"type": "printer", "name": "Printer floor 2"}),
    )
    .await;
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;

    b.find("header.top nav a[href='/maintenance']")
        .await
        .click()
        .await;
    b.find("a[href='/maintenance/plans/new']")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "New maintenance plan").await;
    b.find("#title").await.send_keys("Printer service").await;
    b.find("#instructions")
        .await
        .send_keys("Open the side panel and clean the rollers.")
        .await;
    b.find("#checklist")
        .await
        .send_keys("Clean rollers\nReplace toner")
        .await;
    b.choose("#kind", "Cron expression").await;
    b.find("#cron").await.send_keys("0 9 * * 1").await;
    b.find("#timezone").await.send_keys("UTC").await;
    b.find("#lead_hours").await.fill("24").await;
    b.choose("#assignee_id", "Tess Tech").await;
    b.find("#target_assets")
        .await
        .send_keys(&printer.to_string())
        .await;
    b.find("form[action='/maintenance/plans/new'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "Printer service").await;
    let plan = id_in_url(&b).await;
    b.wait_for_text("section[aria-labelledby=assets]", "Printer floor 2")
        .await;
    assert!(!b.find_all("ol.preview li").await.is_empty());

    // The scheduler's pass (the time is its input) creates the work order within the
    // plan's lead time of the due date.
    let (_, due) = s
        .get_json(&format!("/api/v1/maintenance/plans/{plan}/assets"), &tech)
        .await;
    let due = due["items"][0]["next_due_at"].as_i64().unwrap();
    let pass = steward_server::maintenance::evaluate(&s.state, due - 3600)
        .await
        .unwrap();
    assert_eq!(pass.generated, 1, "{pass:?}");
    b.refresh().await;
    b.find("section[aria-labelledby=orders] a[href^='/work-orders/']")
        .await
        .click()
        .await;
    b.wait_for_text("h1", "Work order #").await;
    b.wait_for_text(".heading .badge", "open").await;
    for c in b.find_all("input[name=done]").await {
        c.click().await;
    }
    b.find("#notes")
        .await
        .send_keys("Rollers were dusty.")
        .await;
    b.find("#minutes_spent").await.send_keys("25").await;
    b.find("button[name=action][value=complete]")
        .await
        .click()
        .await;
    b.wait_for_text(".heading .badge", "done").await;
    let evidence = b.text("section[aria-labelledby=evidence]").await;
    assert!(evidence.contains("✓ done: Clean rollers"), "{evidence}");
    assert!(evidence.contains("✓ done: Replace toner"), "{evidence}");
    assert!(evidence.contains("25 min"), "{evidence}");
    assert!(evidence.contains("Rollers were dusty."), "{evidence}");
    b.screenshot_page("work_order_done").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn a_technician_prints_qr_labels_for_assets() {
    let s = TestServer::spawn().await;
    let tech = user(&s, Role::Technician, "tess@example.test", "Tess Tech").await;
    for (kind, name, tag) in [
        ("projector", "Projector room A", "IT-0042"),
        ("printer", "Label printer", "IT-0043"),
        ("monitor", "Lobby screen", "IT-0044"),
    ] {
        asset(
            &s,
            &tech,
            json!({"type": kind, "name": name, "asset_tag": tag}),
        )
        .await;
    }
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;
    b.goto(&s.url("/assets")).await;
    b.find("a[href^='/api/v1/assets/labels.svg']")
        .await
        .click()
        .await;
    b.wait_for_url("/api/v1/assets/labels.svg?ids=").await;

    // One label per asset on the page: a QR code, the name and the tag.
    b.wait_until("three labels", async |b| {
        b.find_all("g.label").await.len() == 3
    })
    .await;
    assert_eq!(b.find_all("g.label path").await.len(), 3, "a QR code each");
    let labels = b
        .execute("return document.documentElement.textContent;", vec![])
        .await;
    let labels = labels.as_str().unwrap();
    for expected in [
        "Projector room A",
        "IT-0042",
        "Label printer",
        "IT-0043",
        "Lobby screen",
        "IT-0044",
    ] {
        assert!(labels.contains(expected), "{expected} missing: {labels}");
    }
    b.screenshot("qr_labels").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
