//! The web UI over real HTTP: sign-in with CSRF, pages, escaping, sign-out.

use crate::browser::*;
use crate::helpers::*;
use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;

/// Signs in as the admin through the form; returns the session's `Cookie` header.
async fn sign_in(s: &TestServer) -> String {
    let resp = submit_login(s, ADMIN_EMAIL, ADMIN_PASSWORD, Some("/assets")).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/assets");
    let raw = resp
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        raw.contains("HttpOnly") && raw.contains("SameSite=Lax"),
        "{raw}"
    );
    session_cookie(&resp)
}

#[tokio::test]
async fn pages_need_a_session_and_login_needs_csrf() {
    let s = TestServer::spawn().await;
    let resp = s.http.get(s.url("/assets")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/login?next=%2Fassets");

    // Without the login cookie the form is refused, even with the right password.
    let resp = s
        .http
        .post(s.url("/login"))
        .form(&[
            ("csrf", "forged"),
            ("email", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(cookie_value(resp.headers(), "steward_session").is_none());

    // Wrong password.
    let resp = submit_login(&s, ADMIN_EMAIL, "wrong password!", None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("Wrong email or password")
    );
    s.stop().await;
}

#[tokio::test]
async fn asset_pages_render_and_escape_agent_data() {
    let s = TestServer::spawn().await;
    let (client, creds) = s.enrolled_agent().await;
    let hostile = "<script>alert(1)</script>";
    let r = client
        .checkin(
            &creds,
            &report(
                hostile,
                "aaaaaaaa-1111-2222-3333-444444444444",
                &[("curl", "8.0")],
            ),
        )
        .await
        .unwrap();
    let cookie = sign_in(&s).await;

    let list = get_page(&s, &cookie, "/assets").await;
    assert_eq!(list.status(), StatusCode::OK);
    let csp = list.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = list.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
    assert!(!html.contains(hostile));

    let page = get_page(&s, &cookie, &format!("/assets/{}", r.asset_id)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(!html.contains(hostile));
    assert!(html.contains("curl") && html.contains("Test Vendor"));

    let search = page_text(&s, &cookie, "/assets?q=nothing-matches-this").await;
    assert!(search.contains("No asset matches"));
    s.stop().await;
}

#[tokio::test]
async fn cookie_sessions_need_csrf_for_api_writes_and_end_at_logout() {
    let s = TestServer::spawn().await;
    let cookie = sign_in(&s).await;
    let body = serde_json::json!({"uses": 1});

    let resp = s
        .http
        .post(s.url("/api/v1/enrollment-tokens"))
        .header("cookie", &cookie)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    let me: serde_json::Value = get_page(&s, &cookie, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let resp = s
        .http
        .post(s.url("/api/v1/enrollment-tokens"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);

    // Sign-out needs the token too, then the session is gone.
    let resp = post_form(&s, &cookie, "/logout", &[("csrf", "wrong")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = post_form(&s, &cookie, "/logout", &[("csrf", csrf.as_str())]).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let resp = get_page(&s, &cookie, "/api/v1/me").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    s.stop().await;
}

#[tokio::test]
async fn employees_file_and_follow_requests_in_the_portal() {
    let s = TestServer::spawn().await;
    s.with_db(|db| {
        steward_server::accounts::add_user(
            db,
            "emp@example.test",
            "Erin Employee",
            steward_server::domain::roles::Role::Employee,
            "employee password 1",
        )
        .unwrap();
    })
    .await;
    let resp = submit_login(&s, "emp@example.test", "employee password 1", None).await;
    let cookie = session_cookie(&resp);
    let home = get_page(&s, &cookie, "/").await;
    assert_eq!(home.status(), StatusCode::OK);
    let html = home.text().await.unwrap();
    assert!(
        html.contains("Your open requests"),
        "the employee's home: {html}"
    );
    let mine = get_page(&s, &cookie, "/tickets").await;
    assert_eq!(mine.status(), StatusCode::OK);
    let html = mine.text().await.unwrap();
    assert!(
        html.contains("My requests") && html.contains("Erin Employee"),
        "{html}"
    );
    assert_eq!(
        get_page(&s, &cookie, "/assets").await.status(),
        StatusCode::FORBIDDEN
    );

    // File a request through the form; a hostile title comes back escaped.
    let form = page_text(&s, &cookie, "/tickets/new").await;
    let csrf = hidden_field(&form, "csrf");
    let hostile = "<script>alert(1)</script>";
    let resp = post_form(
        &s,
        &cookie,
        "/tickets/new",
        &[
            ("csrf", csrf.as_str()),
            ("title", hostile),
            ("description", "Printer on floor 2"),
            ("urgency", "high"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.trim_start_matches("/tickets/").parse().unwrap();
    // A forged form (wrong token) is refused.
    let forged = post_form(
        &s,
        &cookie,
        "/tickets/new",
        &[("csrf", "forged"), ("title", "x")],
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // A technician answers publicly and notes something internally.
    let tech = s
        .token_for(steward_server::domain::roles::Role::Technician)
        .await;
    for (body, internal) in [("On my way", false), ("Suspect the fuser", true)] {
        let (status, _) = post(
            &s,
            &format!("/api/v1/tickets/{id}/comments"),
            &tech,
            serde_json::json!({"body": body, "internal": internal}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let page = page_text(&s, &cookie, &location).await;
    assert!(!page.contains(hostile), "title not escaped");
    assert!(page.contains("&lt;script&gt;") || page.contains("&#60;script&#62;"));
    assert!(page.contains("On my way"));
    assert!(
        !page.contains("Suspect the fuser"),
        "internal note shown to the requester"
    );

    // Erin replies through the form.
    let csrf = hidden_field(&page, "csrf");
    let resp = post_form(
        &s,
        &cookie,
        &format!("/tickets/{id}/reply"),
        &[("csrf", csrf.as_str()), ("body", "Thanks!")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(page_text(&s, &cookie, &location).await.contains("Thanks!"));
    s.stop().await;
}

#[tokio::test]
async fn staff_triage_and_answer_with_a_canned_response_from_the_page() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    let id = file_ticket(&s, &admin, "Password reset").await;
    let (_, canned) = post(
        &s,
        "/api/v1/canned-responses",
        &admin,
        serde_json::json!({"title": "Reset link", "body": "Use the self-service reset page."}),
    )
    .await;
    let (_, group) = post(
        &s,
        "/api/v1/groups",
        &admin,
        serde_json::json!({"name": "Service desk"}),
    )
    .await;
    let cookie = sign_in(&s).await;
    let page = page_text(&s, &cookie, &format!("/tickets/{id}")).await;
    assert!(
        page.contains("Reset link") && page.contains("Service desk"),
        "{page}"
    );
    let csrf = hidden_field(&page, "csrf");
    let canned_id = canned["id"].to_string();
    let resp = post_form(
        &s,
        &cookie,
        &format!("/tickets/{id}/reply"),
        &[
            ("csrf", csrf.as_str()),
            ("canned_id", canned_id.as_str()),
            ("body", ""),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let group_id = group["id"].to_string();
    let resp = post_form(
        &s,
        &cookie,
        &format!("/tickets/{id}/update"),
        &[
            ("csrf", csrf.as_str()),
            ("status", "pending"),
            ("group_id", group_id.as_str()),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, t) = s.get_json(&format!("/api/v1/tickets/{id}"), &admin).await;
    assert_eq!(t["comments"][0]["body"], "Use the self-service reset page.");
    assert_eq!(t["status"], "pending");
    assert_eq!(t["group_id"], group["id"]);
    s.stop().await;
}
