//! An accessibility audit of every main page in a real browser: axe-core (installed by
//! `tests/setup.sh` into `tests/.node`) is injected into each page through WebDriver's
//! execute-script, which the pages' Content-Security-Policy does not govern, and run with
//! the WCAG 2.0/2.1/2.2 A and AA rules. A page fails on any serious or critical
//! violation; the test lists them all, page by page, as a technician, an admin, an
//! employee and a passer-by on the public QR pages, in the light and the dark colour scheme.

use crate::browser_journeys::{sign_in, user};
use crate::helpers::*;
use crate::webdriver::Browser;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use steward_server::domain::roles::Role;

/// axe-core's single-file build, where `tests/setup.sh` puts it.
pub(crate) fn axe_source() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".node/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `bash tests/setup.sh` (it installs axe-core with npm) before the \
             accessibility audit",
            path.display()
        )
    })
}

/// Runs axe on the page the browser shows; returns its serious and critical violations,
/// one line each with up to three of the elements at fault.
pub async fn axe_violations(b: &Browser, axe: &str) -> Vec<String> {
    let loaded = b
        .execute(&format!("{axe}\n;return typeof window.axe;"), vec![])
        .await;
    assert_eq!(loaded, json!("object"), "axe-core did not load");
    // The W3C execute command waits for a returned promise.
    let found = b
        .execute(
            "return axe.run(document, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']},
               resultTypes: ['violations'],
             }).then(r => r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ' (' + v.impact + '): ' + v.help + '\\n      ' +
                 v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' -- ' +
                   (n.failureSummary || '').replace(/\\s+/g, ' ')).join('\\n      ')));",
            vec![],
        )
        .await;
    found
        .as_array()
        .unwrap_or_else(|| panic!("axe answered {found}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The themes a page is audited in: the system's colour scheme, as the browser reports it.
const THEMES: [&str; 2] = ["light", "dark"];

/// Opens each path in each theme and runs axe on it; returns every violation found, each
/// line starting with the page and theme.
async fn audit(b: &Browser, s: &TestServer, paths: &[String]) -> Vec<String> {
    let axe = axe_source();
    let mut found = Vec::new();
    for theme in THEMES {
        b.emulate_color_scheme(theme).await;
        for path in paths {
            b.goto(&s.url(path)).await;
            let title = b.title().await;
            assert!(!title.starts_with("Not found"), "{path} is not a page");
            assert!(!b.url().await.contains("/login?"), "{path} sent to sign in");
            for v in axe_violations(b, &axe).await {
                found.push(format!("{path} [{theme}]: {v}"));
            }
        }
    }
    b.assert_clean_console(&[]).await;
    found
}

/// What the pages show: a ticket with a reply, an agent-reported asset with software,
/// a location, a maintenance plan with a work order, a device checked out to the
/// employee, and an asset's public QR page with a problem report to follow.
/// The pages a technician works in, for the audits (this one and the phone-width one).
pub(crate) fn staff_pages(x: &Seeded) -> Vec<String> {
    vec![
        "/".to_owned(),
        "/tickets".into(),
        "/tickets?view=unassigned".into(),
        format!("/tickets/{}", x.ticket),
        "/tickets/new".into(),
        "/assets".into(),
        format!("/assets/{}", x.asset),
        "/assets/new".into(),
        "/assets/new?type=monitor".into(),
        "/assets/import".into(),
        "/software".into(),
        "/software/postgresql".into(),
        "/licenses".into(),
        "/locations".into(),
        format!("/locations/{}", x.location),
        "/maintenance".into(),
        format!("/maintenance/plans/{}", x.plan),
        "/maintenance/plans/new".into(),
        format!("/maintenance/plans/{}/edit", x.plan),
        "/maintenance/calendar".into(),
        "/maintenance/compliance".into(),
        format!("/work-orders/{}", x.work_order),
        "/alerts".into(),
        "/me/devices".into(),
    ]
}

pub(crate) struct Seeded {
    pub(crate) ticket: i64,
    pub(crate) asset: i64,
    pub(crate) location: i64,
    pub(crate) plan: i64,
    pub(crate) work_order: i64,
    pub(crate) public: String,
    pub(crate) follow: String,
}

async fn made(s: &TestServer, path: &str, token: &str, body: Value) -> Value {
    let (status, v) = post(s, path, token, body).await;
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

pub(crate) async fn seed(s: &TestServer) -> Seeded {
    let admin = s.admin_token().await;
    let (emma_id, emma) = person(s, Role::Employee, "emma@example.test").await;
    let tech = user(s, Role::Technician, "tess@example.test", "Tess Tech").await;
    let (client, creds) = s.enrolled_agent().await;
    let sw = [("postgresql", "15.4"), ("openssh-server", "9.2")];
    client
        .checkin(
            &creds,
            &report("reception-pc", "22222222-0000-0000-0000-000000000001", &sw),
        )
        .await
        .unwrap();
    let (_, assets) = s.get_json("/api/v1/assets", &admin).await;
    let asset = assets["items"][0]["id"].as_i64().unwrap();
    let ticket = file_ticket(s, &emma, "The printer on floor 2 jams").await;
    made(
        s,
        &format!("/api/v1/tickets/{ticket}/comments"),
        &tech,
        json!({"body": "On my way."}),
    )
    .await;
    let location = made(s, "/api/v1/locations", &admin, json!({"name": "HQ"})).await["id"]
        .as_i64()
        .unwrap();
    let laptop = made(
        s,
        "/api/v1/assets",
        &admin,
        json!({"type": "monitor", "name": "Emma's screen", "asset_tag": "IT-0100"}),
    )
    .await;
    made(
        s,
        &format!("/api/v1/assets/{}/checkout", laptop["id"]),
        &admin,
        json!({"user_id": emma_id}),
    )
    .await;
    let public = laptop["public_path"].as_str().unwrap().to_owned();
    let resp = s
        .http
        .post(s.url(&format!("{public}/report")))
        .form(&[("summary", "The screen is dark")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let follow = resp.headers()["location"].to_str().unwrap().to_owned();
    let plan = made(
        s,
        "/api/v1/maintenance/plans",
        &admin,
        json!({
            "title": "Dust the monitor",
            "trigger": {"calendar": {"kind": "interval", "every_days": 90,
                "from": "floating", "at": "10:00", "starts_on": "2031-01-06"}},
            "timezone": "UTC",
            "targets": [{"kind": "asset", "id": asset}],
        }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let wo = made(
        s,
        &format!("/api/v1/maintenance/plans/{plan}/work-orders"),
        &admin,
        json!({"asset_id": asset}),
    )
    .await;
    let work_order = wo["id"]
        .as_i64()
        .or_else(|| wo["work_order"]["id"].as_i64())
        .unwrap();
    Seeded {
        ticket,
        asset,
        location,
        plan,
        work_order,
        public,
        follow,
    }
}

/// Fails listing every violation, or passes when there are none.
fn assert_none(found: &[String]) {
    assert!(
        found.is_empty(),
        "{} accessibility violations (serious or critical):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[tokio::test]
async fn a_technicians_pages_pass_axe() {
    let s = TestServer::spawn().await;
    let x = seed(&s).await;
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;
    let paths = staff_pages(&x);
    let found = audit(&b, &s, &paths).await;
    b.quit().await;
    s.stop().await;
    assert_none(&found);
}

#[tokio::test]
async fn an_admins_pages_pass_axe() {
    let s = TestServer::spawn().await;
    seed(&s).await;
    let b = Browser::start().await;
    // The sign-in page itself, before anyone is signed in.
    let mut found = audit(&b, &s, &["/login".to_owned()]).await;
    sign_in(&b, &s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let paths = [
        "/admin/enrollment".to_owned(),
        "/admin/updates".into(),
        "/admin/groups".into(),
        "/admin/audit".into(),
        "/".into(),
    ];
    found.extend(audit(&b, &s, &paths).await);
    b.quit().await;
    s.stop().await;
    assert_none(&found);
}

#[tokio::test]
async fn an_employees_and_the_public_pages_pass_axe() {
    let s = TestServer::spawn().await;
    let x = seed(&s).await;
    let b = Browser::start().await;
    // The QR pages: no sign-in needed.
    let public = [x.public.clone(), x.follow.clone()];
    let mut found = audit(&b, &s, &public).await;
    sign_in(&b, &s, "emma@example.test", USER_PASSWORD).await;
    let paths = [
        "/".to_owned(),
        "/tickets".into(),
        format!("/tickets/{}", x.ticket),
        "/tickets/new".into(),
        "/me/devices".into(),
    ];
    found.extend(audit(&b, &s, &paths).await);
    b.quit().await;
    s.stop().await;
    assert_none(&found);
}

#[tokio::test]
async fn the_first_tab_offers_a_skip_link_to_the_content() {
    let s = TestServer::spawn().await;
    let b = Browser::start().await;
    sign_in(&b, &s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.goto(&s.url("/assets")).await;
    let hidden = b
        .execute(
            "return document.querySelector('a.skip').getBoundingClientRect().bottom;",
            vec![],
        )
        .await;
    assert!(hidden.as_f64().unwrap() <= 0.0, "off screen until focused");

    // Tab: the skip link comes first, on screen, with a visible outline.
    b.press("\u{E004}").await;
    let focused = b
        .execute(
            "const e = document.activeElement; const r = e.getBoundingClientRect(); \
             return [e.className, r.top >= 0, getComputedStyle(e).outlineStyle];",
            vec![],
        )
        .await;
    assert_eq!(focused, json!(["skip", true, "solid"]));

    // Enter moves the focus to the page's content, past the navigation.
    b.press("\u{E007}").await;
    b.wait_until("the content to have the focus", async |b: &Browser| {
        b.execute("return document.activeElement.id;", vec![]).await == json!("main")
    })
    .await;
    b.press("\u{E004}").await;
    let next = b
        .execute(
            "return document.activeElement.closest('main') !== null;",
            vec![],
        )
        .await;
    assert_eq!(next, json!(true), "the next Tab stays in the content");
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
