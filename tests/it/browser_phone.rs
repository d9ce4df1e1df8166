//! Every main page at a phone's width (375 x 800 CSS pixels), in a real browser: nothing
//! makes the page scroll sideways (wide tables scroll in their own box, the header folds
//! behind a Menu button) and axe still passes, as a technician, an admin, an employee and
//! on the public QR pages. Saves `target/screenshots/phone_*.png`.

use crate::browser_a11y::{axe_source, axe_violations, seed, staff_pages};
use crate::browser_journeys::sign_in;
use crate::helpers::*;
use crate::webdriver::Browser;
use serde_json::json;

/// Opens each path and returns those wider than the viewport, with the widths and the
/// elements that stick out past its right edge, and any accessibility violation there.
async fn too_wide(b: &Browser, s: &TestServer, paths: &[String]) -> Vec<String> {
    let axe = axe_source();
    let mut found = Vec::new();
    for path in paths {
        b.goto(&s.url(path)).await;
        let title = b.title().await;
        assert!(!title.starts_with("Not found"), "{path} is not a page");
        if let Some(w) = too_wide_now(b).await {
            found.push(format!("{path}: {w}"));
        }
        // What only a narrow page has (the Menu button, tables scrolling in their box)
        // stays accessible.
        for v in axe_violations(b, &axe).await {
            found.push(format!("{path}: {v}"));
        }
    }
    found
}

/// Whether the page as it is now is wider than the viewport: the widths and the
/// elements that stick out past its right edge.
async fn too_wide_now(b: &Browser) -> Option<String> {
    let w = b
        .execute(
            "const d = document.documentElement; \
             if (d.scrollWidth <= d.clientWidth) return null; \
             const out = Array.from(document.querySelectorAll('body *')) \
               .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1 && \
                            !e.closest('.table-wrap')) \
               .slice(0, 5) \
               .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + \
                    (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + \
                    ' ' + Math.round(e.getBoundingClientRect().right)); \
             return d.scrollWidth + ' > ' + d.clientWidth + ': ' + out.join(', ');",
            vec![],
        )
        .await;
    w.as_str().map(str::to_owned)
}

fn assert_fits(found: &[String]) {
    assert!(
        found.is_empty(),
        "pages wider than a 375-pixel phone, or failing axe at that width:\n{}",
        found.join("\n")
    );
}

#[tokio::test]
async fn every_page_fits_a_phone_for_staff() {
    let s = TestServer::spawn().await;
    let x = seed(&s).await;
    let b = Browser::start().await;
    sign_in(&b, &s, "tess@example.test", USER_PASSWORD).await;
    b.set_viewport(375, 800).await;
    let paths = staff_pages(&x);
    let mut found = too_wide(&b, &s, &paths).await;
    b.goto(&s.url("/tickets")).await;
    b.screenshot("phone_queue").await;

    // The header folds the navigation behind a Menu button.
    let shown = "return [document.querySelector('header.top nav').checkVisibility(), \
                 document.querySelector('.menu-toggle').getAttribute('aria-expanded')];";
    assert_eq!(b.execute(shown, vec![]).await, json!([false, "false"]));
    b.find(".menu-toggle").await.click().await;
    assert_eq!(b.execute(shown, vec![]).await, json!([true, "true"]));
    assert_eq!(too_wide_now(&b).await, None, "the open menu fits");
    b.screenshot("phone_menu").await;
    b.find("header.top .who button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_url("/login").await;
    sign_in(&b, &s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let admin = [
        "/admin/enrollment".to_owned(),
        "/admin/updates".into(),
        "/admin/groups".into(),
        "/admin/audit".into(),
    ];
    found.extend(too_wide(&b, &s, &admin).await);
    b.goto(&s.url(&format!("/assets/{}", x.asset))).await;
    b.screenshot_page("phone_asset").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
    assert_fits(&found);
}

#[tokio::test]
async fn every_page_fits_a_phone_for_employees_and_passers_by() {
    let s = TestServer::spawn().await;
    let x = seed(&s).await;
    let b = Browser::start().await;
    b.goto(&s.url("/login")).await;
    b.set_viewport(375, 800).await;
    let mut found = too_wide(
        &b,
        &s,
        &["/login".to_owned(), x.public.clone(), x.follow.clone()],
    )
    .await;
    b.goto(&s.url(&x.public)).await;
    b.screenshot("phone_qr_page").await;
    sign_in(&b, &s, "emma@example.test", USER_PASSWORD).await;
    let paths = [
        "/".to_owned(),
        "/tickets".into(),
        format!("/tickets/{}", x.ticket),
        "/tickets/new".into(),
        "/me/devices".into(),
    ];
    found.extend(too_wide(&b, &s, &paths).await);
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
    assert_fits(&found);
}
