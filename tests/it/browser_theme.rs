//! The header's theme switch in a real browser: System follows the system's colour
//! scheme, Light and Dark override it, the choice is remembered across pages (local
//! storage, applied by `app.js` before the page paints) and the dark pages pass axe.
//! Saves `target/screenshots/dark_queue.png`.

use crate::browser_a11y::{axe_source, axe_violations};
use crate::browser_journeys::sign_in;
use crate::helpers::*;
use crate::webdriver::Browser;
use serde_json::json;

const LIGHT_BG: &str = "rgb(246, 247, 249)";
const DARK_BG: &str = "rgb(15, 20, 25)";

async fn background(b: &Browser) -> String {
    b.execute(
        "return getComputedStyle(document.body).backgroundColor;",
        vec![],
    )
    .await
    .as_str()
    .unwrap()
    .to_owned()
}

async fn wait_for_background(b: &Browser, want: &str) {
    let what = format!("the page background to become {want}");
    b.wait_until(&what, async |b: &Browser| background(b).await == want)
        .await;
}

#[tokio::test]
async fn the_theme_switch_overrides_the_system_and_is_remembered() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    file_ticket(&s, &admin, "Projector flickers").await;
    let b = Browser::start().await;
    b.emulate_color_scheme("light").await;
    sign_in(&b, &s, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(background(&b).await, LIGHT_BG);
    assert_eq!(b.find("#theme").await.property("value").await, "system");
    // The script that applies the theme runs in <head> as it is parsed, before the body
    // exists and so before anything is painted.
    let script = b
        .execute(
            "const s = document.querySelector('script[src=\"/static/app.js\"]'); \
             return [s.parentNode.tagName, s.defer, s.async];",
            vec![],
        )
        .await;
    assert_eq!(script, json!(["HEAD", false, false]));

    // Dark, although the system is light; kept on the next page and after signing out.
    b.choose("#theme", "Dark").await;
    wait_for_background(&b, DARK_BG).await;
    b.goto(&s.url("/tickets")).await;
    assert_eq!(background(&b).await, DARK_BG);
    assert_eq!(b.find("#theme").await.property("value").await, "dark");
    let axe = axe_source();
    let mut found = axe_violations(&b, &axe).await;
    b.screenshot("dark_queue").await;
    b.goto(&s.url("/")).await;
    found.extend(axe_violations(&b, &axe).await);
    assert!(found.is_empty(), "{found:#?}");

    // System again: the page follows the system's setting as it changes.
    b.choose("#theme", "System").await;
    wait_for_background(&b, LIGHT_BG).await;
    b.emulate_color_scheme("dark").await;
    wait_for_background(&b, DARK_BG).await;

    // Light wins over a dark system, and is remembered too.
    b.choose("#theme", "Light").await;
    wait_for_background(&b, LIGHT_BG).await;
    b.refresh().await;
    assert_eq!(background(&b).await, LIGHT_BG);
    assert_eq!(b.find("#theme").await.property("value").await, "light");
    b.find("header.top .who button[type=submit]")
        .await
        .click()
        .await;
    b.wait_for_url("/login").await;
    assert_eq!(background(&b).await, LIGHT_BG, "the sign-in page too");
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
