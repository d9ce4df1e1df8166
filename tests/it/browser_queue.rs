//! The technician's queue from the keyboard, in a real browser: j/k move between tickets,
//! x selects, "with selected" assigns them in one go, / jumps to search, o opens a ticket.
//! A filtered list keeps its filters when searched. Saves
//! `target/screenshots/queue_keyboard.png`.

use crate::helpers::*;
use crate::webdriver::Browser;
use serde_json::json;
use steward_server::domain::roles::Role;

#[tokio::test]
async fn a_technician_works_the_queue_from_the_keyboard() {
    let s = TestServer::spawn().await;
    let (ann, _) = person(&s, Role::Employee, "ann@example.test").await;
    let (tess_id, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let mut ids = Vec::new();
    for title in ["Printer offline", "Laptop slow", "Mail bounces"] {
        let t = file_ticket_with(&s, &tess, json!({"title": title, "requester_id": ann})).await;
        ids.push(t["id"].as_i64().unwrap());
    }

    let b = Browser::start().await;
    b.goto(&s.url("/login?next=%2Ftickets%3Fview%3Dunassigned"))
        .await;
    b.find("#email").await.fill("tess@example.test").await;
    b.find("#password").await.fill(USER_PASSWORD).await;
    b.find("form[action='/login'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_url("view=unassigned").await;
    assert_eq!(b.find_all("table[data-queue] tbody tr").await.len(), 3);

    // j moves down, k up; x ticks the current ticket's box.
    b.press("jx").await;
    b.press("jx").await;
    b.press("jk").await;
    let state = b
        .execute(
            "return Array.from(document.querySelectorAll('table[data-queue] tbody tr')).map(r => \
             [r.classList.contains('kb-current'), r.querySelector('input[type=checkbox]').checked])",
            vec![],
        )
        .await;
    assert_eq!(
        state,
        json!([[false, true], [true, true], [false, false]]),
        "two ticked, the cursor back on the second"
    );
    b.screenshot("queue_keyboard").await;

    // With selected: assign to me.
    b.choose("#bulk-action", "Assign to me").await;
    b.find("#bulk button[type=submit]").await.click().await;
    b.wait_until("the queue to shrink", async |b: &Browser| {
        b.find_all("table[data-queue] tbody tr").await.len() == 1
    })
    .await;
    assert!(
        b.url().await.contains("view=unassigned"),
        "back on the same queue"
    );
    let admin = s.admin_token().await;
    let mut assigned = Vec::new();
    for id in &ids {
        let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &admin).await;
        assigned.push(t["assignee"]["id"].as_i64() == Some(tess_id));
    }
    assert_eq!(assigned.iter().filter(|a| **a).count(), 2, "{assigned:?}");

    // / goes to the search box (and typing there is not a shortcut); o opens the ticket.
    b.press("/").await;
    let focused = b.execute("return document.activeElement.id", vec![]).await;
    assert_eq!(focused, json!("tq"));
    b.press("jo").await;
    assert_eq!(
        b.find("#tq").await.property("value").await,
        json!("jo"),
        "keys typed into the search box stay there"
    );
    b.find("main h1").await.click().await;
    b.press("jo").await;
    b.wait_until("a ticket to open", async |b: &Browser| {
        b.url().await.contains("/tickets/")
    })
    .await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}

#[tokio::test]
async fn searching_a_filtered_list_keeps_its_filters() {
    let s = TestServer::spawn().await;
    let (ann, _) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let mut ids = Vec::new();
    for title in [
        "VPN drops hourly",
        "VPN certificate expired",
        "Printer jams",
    ] {
        let t = file_ticket_with(&s, &tess, json!({"title": title, "requester_id": ann})).await;
        ids.push(t["id"].as_i64().unwrap());
    }
    let (status, t) = patch(
        &s,
        &format!("/api/v1/tickets/{}", ids[1]),
        &tess,
        json!({"status": "open"}),
    )
    .await;
    assert!(status.is_success(), "{t}");

    let b = Browser::start().await;
    b.goto(&s.url("/login?next=%2Ftickets%3Fstatus%3Dnew"))
        .await;
    b.find("#email").await.fill("tess@example.test").await;
    b.find("#password").await.fill(USER_PASSWORD).await;
    b.find("form[action='/login'] button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_url("status=new").await;
    assert_eq!(b.find_all("table[data-queue] tbody tr").await.len(), 2);

    // Searching the new tickets for VPN finds the new one only, and says so in the address.
    b.find("#tq").await.send_keys("VPN\n").await;
    b.wait_for_url("q=VPN").await;
    let url = b.url().await;
    assert!(url.contains("status=new"), "the filter stays: {url}");
    let rows = b.text("table[data-queue] tbody").await;
    assert!(rows.contains("VPN drops hourly"), "{rows}");
    assert!(
        !rows.contains("VPN certificate expired"),
        "an open ticket: {rows}"
    );
    assert!(!rows.contains("Printer jams"), "{rows}");
    assert_eq!(b.find("#tq").await.property("value").await, json!("VPN"));
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
