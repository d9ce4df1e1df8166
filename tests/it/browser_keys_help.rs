//! The keyboard shortcuts' help on the queue and the asset list, in a real browser: `?`
//! opens it as a modal dialog with the focus inside, the list's keys rest while it is
//! open, it passes axe, and Esc (or Close) shuts it with the focus back where it was.
//! Saves `target/screenshots/keys_help.png`.

use crate::browser_a11y::{axe_source, axe_violations};
use crate::browser_journeys::sign_in;
use crate::helpers::*;
use crate::webdriver::Browser;
use serde_json::{Value, json};

const ESCAPE: &str = "\u{E00C}";

/// Whether the help is open, the focused element's text, and the current row's index.
async fn state(b: &Browser) -> Value {
    b.execute(
        "const d = document.getElementById('keys-help'); \
         const rows = Array.from(document.querySelectorAll('table[data-queue] tbody tr')); \
         return [d.open, document.activeElement.textContent.trim(), \
                 rows.findIndex(r => r.classList.contains('kb-current'))];",
        vec![],
    )
    .await
}

/// On the current list: j twice, then `?`; checks the dialog, then closes it with
/// `close` (a key or a click) and checks that the focus came back.
async fn help_round_trip(b: &Browser, second_row: &str, close: impl AsyncFn(&Browser)) {
    b.find("main h1").await.click().await;
    b.press("jj").await;
    assert_eq!(state(b).await, json!([false, second_row, 1]));
    b.press("?").await;
    b.wait_until("the help to open", async |b: &Browser| {
        state(b).await[0] == json!(true)
    })
    .await;
    let dialog = b
        .execute(
            "const d = document.getElementById('keys-help'); \
             return [document.activeElement.closest('dialog') === d, \
                     document.getElementById(d.getAttribute('aria-labelledby')).textContent, \
                     d.getBoundingClientRect().width > 0];",
            vec![],
        )
        .await;
    assert_eq!(dialog, json!([true, "Keyboard shortcuts", true]));
    assert!(b.text("#keys-help").await.contains("Next / previous row"));
    // The list's keys rest while the help is open (k would go back to the first row).
    b.press("k").await;
    assert_eq!(state(b).await, json!([true, "Close", 1]));
    let found = axe_violations(b, &axe_source()).await;
    assert!(found.is_empty(), "{found:#?}");
    close(b).await;
    b.wait_until("the help to close", async |b: &Browser| {
        state(b).await[0] == json!(false)
    })
    .await;
    assert_eq!(
        state(b).await,
        json!([false, second_row, 1]),
        "the focus is back on the row it was on"
    );
}

#[tokio::test]
async fn question_mark_shows_the_keyboard_shortcuts() {
    let s = TestServer::spawn().await;
    let admin = s.admin_token().await;
    for title in ["Printer offline", "Laptop slow"] {
        file_ticket(&s, &admin, title).await;
    }
    for name in ["Screen A", "Screen B"] {
        let (status, a) = post(
            &s,
            "/api/v1/assets",
            &admin,
            json!({"type": "monitor", "name": name}),
        )
        .await;
        assert!(status.is_success(), "{a}");
    }
    let b = Browser::start().await;
    sign_in(&b, &s, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    b.goto(&s.url("/tickets")).await;
    let second = b.text("table[data-queue] tbody tr:nth-child(2) a").await;
    help_round_trip(&b, &second, async |b: &Browser| b.press(ESCAPE).await).await;

    // The asset list, after a search swapped its table; closed with the button.
    b.goto(&s.url("/assets")).await;
    b.find("#q").await.send_keys("Screen").await;
    b.wait_for_url("q=Screen").await;
    let second = b.text("table[data-queue] tbody tr:nth-child(2) a").await;
    help_round_trip(&b, &second, async |b: &Browser| {
        b.find("#keys-help [data-close]").await.click().await;
    })
    .await;
    // The button in the list's key hint opens it too.
    b.find("button[data-keys-help]").await.click().await;
    b.wait_until("the help to open", async |b: &Browser| {
        state(b).await[0] == json!(true)
    })
    .await;
    b.screenshot("keys_help").await;
    b.assert_clean_console(&[]).await;
    b.quit().await;
    s.stop().await;
}
