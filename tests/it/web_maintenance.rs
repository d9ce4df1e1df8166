//! Preventive maintenance in the browser: a technician writes a plan through the form and
//! reads its next due dates (with the daylight-saving notes), works through a work order
//! to completion, and looks at the calendar and the compliance report; employees see none
//! of it.

use crate::browser::*;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use steward_server::domain::roles::Role;

/// Signs in through the form; returns the session's `Cookie` header.
async fn signed_in(s: &TestServer, email: &str, password: &str) -> String {
    let login = submit_login(s, email, password, None).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    session_cookie(&login)
}

/// Creates an asset through the API; returns its id.
async fn asset(s: &TestServer, token: &str, name: &str) -> i64 {
    let (status, a) = post(
        s,
        "/api/v1/assets",
        token,
        json!({"type": "printer", "name": name}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    a["id"].as_i64().unwrap()
}

/// Creates a plan through the API; returns its id.
async fn api_plan(s: &TestServer, token: &str, body: Value) -> i64 {
    let (status, p) = post(s, "/api/v1/maintenance/plans", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    p["id"].as_i64().unwrap()
}

/// A work order made by hand for `asset` under `plan`; returns it.
async fn work_order(s: &TestServer, token: &str, plan: i64, asset: i64) -> Value {
    let (status, w) = post(
        s,
        &format!("/api/v1/maintenance/plans/{plan}/work-orders"),
        token,
        json!({ "asset_id": asset }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{w}");
    w
}

/// The plan form as a browser sends it: every 7 days at 02:30 in Berlin from 2027-03-21.
fn plan_fields(csrf: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("csrf", csrf),
        ("title", "UPS battery check"),
        ("instructions", "Run the self test.\nNote the runtime."),
        ("checklist", "Self test passed\nRuntime above 10 min"),
        ("parts", "Fuse 10A x 2\nCleaning cloth"),
        ("estimated_minutes", "20"),
        ("kind", "interval"),
        ("every_days", "7"),
        ("interval_from", "fixed"),
        ("interval_at", "02:30"),
        ("starts_on", "2027-03-21"),
        ("nth", "first"),
        ("weekday", "monday"),
        ("monthly_at", "09:00"),
        ("every_months", "1"),
        ("cron", ""),
        ("meter", ""),
        ("meter_every", ""),
        ("max_interval_days", ""),
        ("timezone", "Europe/Berlin"),
        ("lead_hours", "0"),
        ("priority", "3"),
        ("group_id", ""),
        ("assignee_id", ""),
        ("escalate_after_hours", ""),
        ("escalate_group_id", ""),
        ("target_assets", ""),
        ("active", "true"),
    ]
}

fn escaped(html: &str) -> bool {
    html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&#60;script&#62;")
}

#[tokio::test]
async fn a_technician_creates_a_plan_through_the_form_and_sees_dst_notes() {
    let s = TestServer::spawn().await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let cookie = signed_in(&s, "tess@example.test", USER_PASSWORD).await;

    let form = get_page(&s, &cookie, "/maintenance/plans/new").await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    let csrf = hidden_field(&html, "csrf");
    // Without the form's token nothing is saved.
    let mut forged = plan_fields("");
    forged.retain(|(k, _)| *k != "csrf");
    let resp = post_form(&s, &cookie, "/maintenance/plans/new", &forged).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, plans) = s.get_json("/api/v1/maintenance/plans", &tess).await;
    assert_eq!(plans["items"], json!([]));

    // A refused form comes back with the reason and what was typed.
    let mut bad = plan_fields(&csrf);
    for f in bad.iter_mut() {
        if f.0 == "timezone" {
            f.1 = "Mars/Olympus";
        }
    }
    let resp = post_form(&s, &cookie, "/maintenance/plans/new", &bad).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("is not an IANA time zone"), "{html}");
    assert!(html.contains("value=\"UPS battery check\""), "{html}");
    assert!(html.contains("Runtime above 10 min"), "{html}");

    let resp = post_form(&s, &cookie, "/maintenance/plans/new", &plan_fields(&csrf)).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let (_, plans) = s.get_json("/api/v1/maintenance/plans", &tess).await;
    let plan = &plans["items"][0];
    let id = plan["id"].as_i64().unwrap();
    assert_eq!(location, format!("/maintenance/plans/{id}"));
    assert_eq!(plan["priority"], 3);
    assert_eq!(
        plan["checklist"],
        json!(["Self test passed", "Runtime above 10 min"])
    );
    assert_eq!(
        plan["parts"],
        json!([{"name": "Fuse 10A", "quantity": 2.0}, {"name": "Cleaning cloth", "quantity": 1.0}])
    );
    assert_eq!(
        plan["trigger"]["calendar"],
        json!({"kind": "interval", "every_days": 7, "from": "fixed", "at": "02:30", "starts_on": "2027-03-21"})
    );

    // The plan's page: the rule in words, and the next dates with the clock change noted
    // next to the day it happens (02:30 does not exist on 2027-03-28 in Berlin).
    let page = get_page(&s, &cookie, &location).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Every 7 days at 02:30, starting 2027-03-21"),
        "{html}"
    );
    assert!(html.contains("2027-03-21 02:30 CET"), "{html}");
    let changed = html
        .find("2027-03-28 03:30 CEST")
        .expect("the day clocks change");
    let note = html[changed..]
        .find("Clocks go forward on 2027-03-28")
        .expect("a note on that day");
    let following = html[changed..].find("2027-04-04 02:30 CEST").unwrap();
    assert!(note < following, "the note sits next to its date: {html}");
    assert_eq!(html.matches("Clocks go").count(), 1, "{html}");
    assert!(html.contains("Fuse 10A × 2"), "{html}");

    // The edit form shows the plan as saved; saving it again changes the title only.
    let edit = page_text(&s, &cookie, &format!("/maintenance/plans/{id}/edit")).await;
    assert!(edit.contains("value=\"2027-03-21\""), "{edit}");
    assert!(edit.contains("value=\"Europe/Berlin\""), "{edit}");
    let mut again = plan_fields(&csrf);
    again[1].1 = "UPS battery check (weekly)";
    let resp = post_form(
        &s,
        &cookie,
        &format!("/maintenance/plans/{id}/edit"),
        &again,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (_, p) = s
        .get_json(&format!("/api/v1/maintenance/plans/{id}"), &tess)
        .await;
    assert_eq!(p["title"], "UPS battery check (weekly)");
    assert_eq!(p["trigger"], plan["trigger"]);

    let overview = page_text(&s, &cookie, "/maintenance").await;
    assert!(
        overview.contains("UPS battery check (weekly)")
            && overview.contains("Every 7 days at 02:30"),
        "{overview}"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_work_order_is_completed_from_its_page_once_its_checklist_is_done() {
    let s = TestServer::spawn().await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let printer = asset(&s, &tess, "Floor 3 printer").await;
    let plan = api_plan(
        &s,
        &tess,
        json!({
            "title": "Printer service",
            "checklist": ["Clean rollers", "Replace toner"],
            "trigger": {"calendar": {"kind": "interval", "every_days": 90}},
        }),
    )
    .await;
    let w = work_order(&s, &tess, plan, printer).await;
    let (wo, ticket) = (w["id"].as_i64().unwrap(), w["ticket_id"].as_i64().unwrap());
    let cookie = signed_in(&s, "tess@example.test", USER_PASSWORD).await;
    let path = format!("/work-orders/{wo}");

    let page = get_page(&s, &cookie, &path).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Clean rollers") && html.contains("Replace toner"));
    assert!(
        html.contains(&format!("href=\"/assets/{printer}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/tickets/{ticket}\"")),
        "{html}"
    );
    assert!(html.contains("requested by hand"), "{html}");
    let csrf = hidden_field(&html, "csrf");

    // No token, no change.
    let resp = post_form(&s, &cookie, &path, &[("action", "complete"), ("done", "0")]).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);

    // One item left: the work is kept, the completion refused, naming the item.
    let work = [
        ("csrf", csrf.as_str()),
        ("done", "0"),
        ("notes", "Rollers cleaned."),
        ("minutes_spent", "25"),
        ("parts", "Toner cartridge x 1"),
        ("cost", "12.50"),
        ("action", "complete"),
    ];
    let resp = post_form(&s, &cookie, &path, &work).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let html = resp.text().await.unwrap();
    assert!(html.contains("not completed"), "{html}");
    assert!(
        html.contains("1 checklist item is left: Replace toner"),
        "{html}"
    );
    let saved = page_text(&s, &cookie, &path).await;
    assert!(saved.contains("Rollers cleaned.") && saved.contains("value=\"12.50\""));
    assert!(
        saved.contains("name=\"done\" value=\"0\" checked"),
        "{saved}"
    );
    assert!(saved.contains("Complete"), "still open: {saved}");

    // A bad amount is refused and nothing is lost from the form.
    let mut wrong = work.to_vec();
    wrong[5].1 = "twelve";
    let resp = post_form(&s, &cookie, &path, &wrong).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let html = resp.text().await.unwrap();
    assert!(html.contains("is not an amount"), "{html}");
    assert!(html.contains("value=\"twelve\""), "{html}");

    let mut all = work.to_vec();
    all.push(("done", "1"));
    let resp = post_form(&s, &cookie, &path, &all).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"].to_str().unwrap(), path);

    // Done: the evidence, read-only.
    let html = page_text(&s, &cookie, &path).await;
    assert!(html.contains("Evidence"), "{html}");
    assert!(html.contains("by tess@example.test"), "{html}");
    assert!(html.contains("25 min") && html.contains("12.50"), "{html}");
    assert!(html.contains("Toner cartridge") && html.contains("Rollers cleaned."));
    assert!(!html.contains("Save progress"), "{html}");
    let (_, t) = s
        .get_json(&format!("/api/v1/tickets/{ticket}"), &tess)
        .await;
    assert_eq!(t["status"], "resolved", "{t}");

    // Completing again is refused.
    let resp = post_form(&s, &cookie, &path, &all).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // The ticket links back to its work order.
    let ticket_page = page_text(&s, &cookie, &format!("/tickets/{ticket}")).await;
    assert!(
        ticket_page.contains(&format!("href=\"/work-orders/{wo}\"")),
        "{ticket_page}"
    );

    // Technicians cannot remove plans; an admin archives one with work orders and
    // deletes one without.
    let plan_page = page_text(&s, &cookie, &format!("/maintenance/plans/{plan}")).await;
    assert!(!plan_page.contains("/remove"), "{plan_page}");
    let resp = post_form(
        &s,
        &cookie,
        &format!("/maintenance/plans/{plan}/remove"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let admin = signed_in(&s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let plan_page = page_text(&s, &admin, &format!("/maintenance/plans/{plan}")).await;
    assert!(plan_page.contains(">Archive</button>"), "{plan_page}");
    let admin_csrf = hidden_field(&plan_page, "csrf");
    let resp = post_form(
        &s,
        &admin,
        &format!("/maintenance/plans/{plan}/remove"),
        &[("csrf", admin_csrf.as_str())],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (status, p) = s
        .get_json(&format!("/api/v1/maintenance/plans/{plan}"), &tess)
        .await;
    assert_eq!((status, &p["active"]), (StatusCode::OK, &json!(false)));
    let unused = api_plan(
        &s,
        &tess,
        json!({"title": "Unused", "trigger": {"max_interval_days": 30}}),
    )
    .await;
    let resp = post_form(
        &s,
        &admin,
        &format!("/maintenance/plans/{unused}/remove"),
        &[("csrf", admin_csrf.as_str())],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"].to_str().unwrap(), "/maintenance");
    let (status, _) = s
        .get_json(&format!("/api/v1/maintenance/plans/{unused}"), &tess)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    s.stop().await;
}

#[tokio::test]
async fn calendar_and_compliance_render_and_escape_plan_titles() {
    let s = TestServer::spawn().await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    let hostile = "<script>alert(1)</script>";
    let boiler = asset(&s, &tess, "Boiler room printer").await;
    let plan = api_plan(
        &s,
        &tess,
        json!({
            "title": hostile,
            "trigger": {"calendar": {"kind": "cron", "expr": "0 9 * * *"}},
            "targets": [{"kind": "asset", "id": boiler}],
        }),
    )
    .await;
    work_order(&s, &tess, plan, boiler).await;
    let cookie = signed_in(&s, "tess@example.test", USER_PASSWORD).await;

    for path in [
        "/maintenance".to_owned(),
        "/maintenance/calendar".to_owned(),
        "/maintenance/compliance".to_owned(),
        format!("/maintenance/plans/{plan}"),
    ] {
        let resp = get_page(&s, &cookie, &path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let html = resp.text().await.unwrap();
        assert!(escaped(&html), "{path}: {html}");
        assert!(!html.contains(hostile), "{path}: {html}");
    }

    for by in ["site", "type"] {
        let resp = get_page(&s, &cookie, &format!("/maintenance/compliance?by={by}")).await;
        assert_eq!(resp.status(), StatusCode::OK, "{by}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("<td class=\"num\">1</td>"), "{by}: {html}");
    }
    let calendar = page_text(&s, &cookie, "/maintenance/calendar").await;
    assert!(calendar.contains("Boiler room printer"), "{calendar}");
    assert!(calendar.contains("<table class=\"month\">"), "{calendar}");
    let march = get_page(&s, &cookie, "/maintenance/calendar?month=2027-03").await;
    assert_eq!(march.status(), StatusCode::OK);
    let march = march.text().await.unwrap();
    assert!(march.contains("March 2027"), "{march}");
    assert!(march.contains("month=2027-02") && march.contains("month=2027-04"));

    let report = page_text(
        &s,
        &cookie,
        "/maintenance/compliance?by=plan&from=2020-01-01&to=2099-12-31",
    )
    .await;
    assert!(
        report.contains(
            "/api/v1/maintenance/compliance/evidence.csv?from=2020-01-01&amp;to=2099-12-31"
        ) || report.contains("evidence.csv?from=2020-01-01&#38;to=2099-12-31"),
        "{report}"
    );
    assert!(report.contains("<svg class=\"chart hbars\""), "{report}");
    assert!(report.contains("aria-current=\"page\">By plan"), "{report}");
    let bad = page_text(&s, &cookie, "/maintenance/compliance?from=yesterday").await;
    assert!(bad.contains("is not a date"), "{bad}");
    s.stop().await;
}

#[tokio::test]
async fn employees_get_no_maintenance_pages() {
    let s = TestServer::spawn().await;
    let (_, tess) = person(&s, Role::Technician, "tess@example.test").await;
    person(&s, Role::Employee, "emma@example.test").await;
    let printer = asset(&s, &tess, "Lobby printer").await;
    let plan = api_plan(
        &s,
        &tess,
        json!({"title": "Lobby printer service", "trigger": {"max_interval_days": 30}}),
    )
    .await;
    let wo = work_order(&s, &tess, plan, printer).await["id"]
        .as_i64()
        .unwrap();
    let cookie = signed_in(&s, "emma@example.test", USER_PASSWORD).await;

    let home = page_text(&s, &cookie, "/tickets").await;
    assert!(!home.contains("href=\"/maintenance\""), "{home}");
    for path in [
        "/maintenance".to_owned(),
        "/maintenance/calendar".to_owned(),
        "/maintenance/compliance".to_owned(),
        "/maintenance/plans/new".to_owned(),
        format!("/maintenance/plans/{plan}"),
        format!("/maintenance/plans/{plan}/edit"),
        format!("/work-orders/{wo}"),
    ] {
        let resp = get_page(&s, &cookie, &path).await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("for IT staff"), "{path}: {html}");
        assert!(!html.contains("Lobby printer service"), "{path}: {html}");
    }
    let csrf = hidden_field(&home, "csrf");
    let resp = post_form(
        &s,
        &cookie,
        "/maintenance/plans/new",
        &[
            ("csrf", csrf.as_str()),
            ("title", "Sneaky"),
            ("kind", "none"),
            ("max_interval_days", "3"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = post_form(
        &s,
        &cookie,
        &format!("/work-orders/{wo}"),
        &[("csrf", csrf.as_str()), ("action", "complete")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let (_, plans) = s.get_json("/api/v1/maintenance/plans", &tess).await;
    assert_eq!(plans["items"].as_array().unwrap().len(), 1);
    s.stop().await;
}
