//! The service desk's web pages as a browser uses them: saving a queue as a view, opening
//! and deleting it; admins staffing groups.

use crate::browser::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;
use steward_server::domain::roles::Role;

/// Signs in through the form; returns the session's `Cookie` header.
async fn signed_in(s: &TestServer, email: &str, password: &str) -> String {
    let login = submit_login(s, email, password, None).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    session_cookie(&login)
}

/// A hidden field's value as the browser submits it (the page has it HTML-escaped).
fn field(html: &str, name: &str) -> String {
    hidden_field(html, name)
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

#[tokio::test]
async fn a_technician_saves_a_search_as_a_view_and_deletes_it() {
    let s = TestServer::spawn().await;
    let (_, ann) = person(&s, Role::Employee, "ann@example.test").await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let (_, tom) = person(&s, Role::Technician, "tom@example.test").await;
    file_ticket(&s, &ann, "Printer jams on floor 2").await;
    file_ticket(&s, &ann, "VPN drops every hour").await;
    let cookie = signed_in(&s, "tess@example.test", USER_PASSWORD).await;

    let page = page_text(&s, &cookie, "/tickets?view=open&q=printer").await;
    assert!(page.contains("Printer jams on floor 2"), "{page}");
    assert!(!page.contains("VPN drops"), "{page}");
    let csrf = field(&page, "csrf");
    let query = field(&page, "query");
    assert_eq!(query, "sort=priority&q=printer");

    // A form from another page (a forged one) saves nothing.
    let resp = post_form(
        &s,
        &cookie,
        "/tickets/views",
        &[("csrf", "forged"), ("name", "Printers"), ("query", &query)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, views) = s.get_json("/api/v1/views", &tess).await;
    assert_eq!(views["items"], json!([]));

    let resp = post_form(
        &s,
        &cookie,
        "/tickets/views",
        &[("csrf", &csrf), ("name", "Printers"), ("query", &query)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, views) = s.get_json("/api/v1/views", &tess).await;
    let id = views["items"][0]["id"].as_i64().unwrap();
    assert_eq!(location, format!("/tickets?saved={id}"));
    assert_eq!(views["items"][0]["query"], "sort=priority&q=printer");

    // The view opens under its name, lists what it matches, and shows in the queue bar.
    let view = page_text(&s, &cookie, &location).await;
    assert!(view.contains("<h1>Printers</h1>"), "{view}");
    assert!(view.contains("Printer jams on floor 2"), "{view}");
    assert!(!view.contains("VPN drops"), "{view}");
    let queue = page_text(&s, &cookie, "/tickets").await;
    assert!(
        queue.contains(&format!("href=\"/tickets?saved={id}\"")),
        "{queue}"
    );
    // Another technician's views are not theirs to open.
    let (status, _) = s.get_json(&format!("/api/v1/views/{id}"), &tom).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let tom_cookie = signed_in(&s, "tom@example.test", USER_PASSWORD).await;
    let resp = get_page(&s, &tom_cookie, &location).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);

    let resp = post_form(
        &s,
        &cookie,
        &format!("/tickets/views/{id}/delete"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, views) = s.get_json("/api/v1/views", &tess).await;
    assert_eq!(views["items"], json!([]));
    s.stop().await;
}

#[tokio::test]
async fn admins_create_and_staff_groups_from_the_groups_page() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let (tess_id, _) = person(&s, Role::Technician, "tess@example.test").await;
    let (ann_id, _) = person(&s, Role::Employee, "ann@example.test").await;
    let cookie = signed_in(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // Only admins get the page, and only admins can post to it.
    let ann_cookie = signed_in(&s, "ann@example.test", USER_PASSWORD).await;
    let resp = get_page(&s, &ann_cookie, "/admin/groups").await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let ann_page = page_text(&s, &ann_cookie, "/tickets").await;
    let ann_csrf = field(&ann_page, "csrf");
    let resp = post_form(
        &s,
        &ann_cookie,
        "/admin/groups",
        &[("csrf", &ann_csrf), ("name", "Sneaky")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let page = page_text(&s, &cookie, "/admin/groups").await;
    assert!(page.contains("No groups yet"), "{page}");
    let csrf = field(&page, "csrf");
    let resp = post_form(
        &s,
        &cookie,
        "/admin/groups",
        &[
            ("csrf", &csrf),
            ("name", "Field support"),
            ("assignment", "round_robin"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, groups) = s.get_json("/api/v1/groups", &admin).await;
    let g = &groups["items"][0];
    assert_eq!(g["name"], "Field support");
    assert_eq!(g["assignment"], "round_robin");
    assert_eq!(g["members"], json!([]));
    let id = g["id"].as_i64().unwrap();

    // Edit: a new rule and a member, as the checkboxes send them.
    let path = format!("/admin/groups/{id}");
    let tess = tess_id.to_string();
    let resp = post_form(
        &s,
        &cookie,
        &path,
        &[
            ("csrf", &csrf),
            ("name", "Field support"),
            ("assignment", "least_loaded"),
            ("member", &tess),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, g) = s.get_json(&format!("/api/v1/groups/{id}"), &admin).await;
    assert_eq!(g["assignment"], "least_loaded");
    assert_eq!(g["members"][0]["id"], tess_id);
    let page = page_text(&s, &cookie, "/admin/groups").await;
    assert!(
        page.contains(&format!("name=\"member\" value=\"{tess_id}\" checked")),
        "{page}"
    );

    // An employee cannot be a member; the group stays as it was.
    let ann = ann_id.to_string();
    let resp = post_form(
        &s,
        &cookie,
        &path,
        &[("csrf", &csrf), ("member", &tess), ("member", &ann)],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("not an active technician")
    );
    let (_, g) = s.get_json(&format!("/api/v1/groups/{id}"), &admin).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 1);
    // A forged form changes nothing.
    let resp = post_form(&s, &cookie, &path, &[("csrf", "forged"), ("name", "X")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, g) = s.get_json(&format!("/api/v1/groups/{id}"), &admin).await;
    assert_eq!(g["name"], "Field support");
    s.stop().await;
}
