//! A small W3C WebDriver client of our own over reqwest: starts chromedriver, opens a
//! headless Chromium session, and drives it (go to a page, find by CSS, click, type, read,
//! wait for a condition with a deadline, take a screenshot, read the console). The
//! browser journeys in `browser_journeys` use it; chromium and chromium-driver come from
//! Debian (`tests/setup.sh`).

use base64::Engine;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The key W3C WebDriver gives element references under.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long finding an element and the `wait_*` helpers wait before failing. Generous:
/// only a failing journey waits this long, and the whole test binary shares 2 cores.
pub const WAIT: Duration = Duration::from_secs(20);
/// The window the journeys run in, and so the screenshots' size.
const WINDOW: &str = "--window-size=1200,800";

/// A headless Chromium session driven through its own chromedriver process.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    driver: SocketAddr,
    session_id: String,
    closed: bool,
    /// Killed when the browser is dropped.
    _chromedriver: Child,
}

/// An element on the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

/// A failed WebDriver command: its error code (`no such element`, ...) and message.
#[derive(Debug)]
pub struct WdError {
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Where a program is on `PATH`, if it is.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}

fn missing(what: &str) -> ! {
    panic!(
        "{what} is not installed: run `bash tests/setup.sh` (it installs Debian's chromium \
         and chromium-driver) before the browser journeys"
    )
}

/// The workspace's `target/screenshots`, created if needed.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    /// Starts chromedriver on a port of its choosing and opens a headless Chromium
    /// session in it. Fails, saying to run `tests/setup.sh`, when either is missing.
    pub async fn start() -> Browser {
        let chromedriver = on_path("chromedriver").unwrap_or_else(|| missing("chromedriver"));
        let chromium = on_path("chromium").unwrap_or_else(|| missing("chromium"));
        // `--port=0` lets chromedriver pick a free port; it says which on stdout.
        let mut child = Command::new(chromedriver)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let port = chromedriver_port(&mut child).await;
        let driver = SocketAddr::from(([127, 0, 0, 1], port));
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://{driver}");
        let deadline = Instant::now() + WAIT;
        loop {
            let ready = match http.get(format!("{base}/status")).send().await {
                Ok(r) => r
                    .json::<Value>()
                    .await
                    .ok()
                    .map(|v| v["value"]["ready"] == true),
                Err(_) => None,
            };
            if ready == Some(true) {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            tokio::task::yield_now().await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "timeouts": {"implicit": WAIT.as_millis() as u64, "pageLoad": 60_000, "script": 30_000},
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--hide-scrollbars", WINDOW,
                         "--lang=en-US", "--no-first-run", "--no-default-browser-check"],
            },
        }}});
        let resp: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session_id = resp["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver opened no session: {resp}"))
            .to_owned();
        Browser {
            http,
            session: format!("{base}/session/{session_id}"),
            driver,
            session_id,
            closed: false,
            _chromedriver: child,
        }
    }

    /// Sends one WebDriver command; `body` `None` is a GET.
    pub async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| WdError {
            code: "transport".into(),
            message: e.to_string(),
        })?;
        let ok = resp.status().is_success();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(WdError {
                code: v["value"]["error"].as_str().unwrap_or("unknown").into(),
                message: v["value"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .into(),
            })
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, WdError> {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// Reloads the current page.
    pub async fn refresh(&self) {
        self.post("/refresh", json!({})).await.unwrap();
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.unwrap().as_str().unwrap().to_owned()
    }

    pub async fn title(&self) -> String {
        self.get("/title")
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching `css`, waiting for one to appear (the session's
    /// implicit wait); `Err` when none does.
    pub async fn try_find(&self, css: &str) -> Result<Element<'_>, WdError> {
        let v = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(self.element(&v))
    }

    /// The first element matching `css`; fails the test when none appears in time.
    pub async fn find(&self, css: &str) -> Element<'_> {
        match self.try_find(css).await {
            Ok(e) => e,
            Err(e) => panic!(
                "no element `{css}` on {}: {e}\n{}",
                self.url().await,
                self.body_text().await
            ),
        }
    }

    /// Picks the option labelled `label` in the `<select>` matching `css`.
    pub async fn choose(&self, css: &str, label: &str) {
        self.find(css).await;
        for option in self.find_all(&format!("{css} option")).await {
            if option.text().await.trim() == label {
                return option.click().await;
            }
        }
        panic!("`{css}` has no option {label:?}");
    }

    /// Every element matching `css` now (no waiting: an empty list is an answer).
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .execute(
                "return Array.from(document.querySelectorAll(arguments[0]));",
                vec![json!(css)],
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|v| self.element(v))
            .collect()
    }

    fn element(&self, v: &Value) -> Element<'_> {
        Element {
            browser: self,
            id: v[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("not an element: {v}"))
                .to_owned(),
        }
    }

    /// The text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await
    }

    /// The visible text of the whole page.
    pub async fn body_text(&self) -> String {
        match self.try_find("body").await {
            Ok(b) => b.try_text().await.unwrap_or_default(),
            Err(e) => format!("(no page body: {e})"),
        }
    }

    /// Runs `script` in the page with `args`; returns what it returns.
    /// Presses `keys` one after the other on whatever has the focus, as a person would
    /// (W3C key actions, so the page sees real keydown and keyup events).
    pub async fn press(&self, keys: &str) {
        let actions: Vec<Value> = keys
            .chars()
            .flat_map(|c| {
                let c = c.to_string();
                [
                    json!({"type": "keyDown", "value": c}),
                    json!({"type": "keyUp", "value": c}),
                ]
            })
            .collect();
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.post("/actions", body)
            .await
            .unwrap_or_else(|e| panic!("pressing {keys:?}: {e}"));
    }

    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Waits until `check` says yes, asking again after each answer; fails after
    /// [`WAIT`] saying `what` did not happen. Each check is a round trip to the browser,
    /// so this polls at the pace of the browser, with no sleeps.
    pub async fn wait_until(&self, what: &str, check: impl AsyncFn(&Browser) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !check(self).await {
            if Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what} on {}; the page says:\n{}",
                    self.url().await,
                    self.body_text().await
                );
            }
            tokio::task::yield_now().await;
        }
    }

    /// Waits until an element matching `css` shows text containing `needle`.
    pub async fn wait_for_text(&self, css: &str, needle: &str) {
        let what = format!("`{css}` to show {needle:?}");
        self.wait_until(&what, async |b| {
            for e in b.find_all(css).await {
                if e.try_text().await.is_ok_and(|t| t.contains(needle)) {
                    return true;
                }
            }
            false
        })
        .await;
    }

    /// Waits until the address contains `part`.
    pub async fn wait_for_url(&self, part: &str) {
        let what = format!("the address to contain {part:?}");
        self.wait_until(&what, async |b| b.url().await.contains(part))
            .await;
    }

    /// Resizes the window so that its viewport is `width` x `height` CSS pixels (a phone:
    /// 375 x 800); waits until the page reports that width.
    pub async fn set_viewport(&self, width: i64, height: i64) {
        let inner = self
            .execute("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", vec![])
            .await;
        let (dw, dh) = (inner[0].as_i64().unwrap(), inner[1].as_i64().unwrap());
        self.post(
            "/window/rect",
            json!({"width": width + dw, "height": height + dh}),
        )
        .await
        .unwrap_or_else(|e| panic!("resizing to {width}x{height}: {e}"));
        let what = format!("a viewport {width} pixels wide");
        self.wait_until(&what, async |b| {
            b.execute("return window.innerWidth;", vec![]).await == json!(width)
        })
        .await;
    }

    /// Makes the page report `prefers-color-scheme: scheme` (`light` or `dark`), as the
    /// system setting would, through chromedriver's DevTools passthrough (not W3C). Holds
    /// across navigations until changed.
    pub async fn emulate_color_scheme(&self, scheme: &str) {
        let features = json!([{"name": "prefers-color-scheme", "value": scheme}]);
        self.post(
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setEmulatedMedia", "params": {"features": features}}),
        )
        .await
        .unwrap_or_else(|e| panic!("emulating {scheme}: {e}"));
    }

    /// Saves a PNG of the viewport as `target/screenshots/<name>.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let b64 = self.get("/screenshot").await.unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Like [`Browser::screenshot`], with the window grown to show the whole page (up to
    /// `MAX_PAGE` pixels tall), then put back.
    pub async fn screenshot_page(&self, name: &str) -> PathBuf {
        const MAX_PAGE: i64 = 2400;
        let rect = self.get("/window/rect").await.unwrap();
        let size = self
            .execute(
                "return [document.documentElement.scrollHeight, window.innerHeight];",
                vec![],
            )
            .await;
        let (page, inner) = (size[0].as_i64().unwrap(), size[1].as_i64().unwrap());
        let (width, outer) = (rect["width"].clone(), rect["height"].as_i64().unwrap());
        let grow = page.min(MAX_PAGE) - inner;
        if grow > 0 {
            self.post(
                "/window/rect",
                json!({"width": width, "height": outer + grow}),
            )
            .await
            .unwrap();
            self.wait_until("the window to grow", async |b| {
                let now = b.execute("return window.innerHeight;", vec![]).await;
                now.as_i64() == Some(inner + grow)
            })
            .await;
        }
        let path = self.screenshot(name).await;
        if grow > 0 {
            self.post("/window/rect", json!({"width": width, "height": outer}))
                .await
                .unwrap();
        }
        path
    }

    /// The browser console's errors (script errors, refused loads, CSP violations) since
    /// the last call, from chromedriver's log endpoint (`/se/log`, which W3C WebDriver
    /// does not define; the session asks for it with `goog:loggingPrefs`).
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .post("/se/log", json!({"type": "browser"}))
            .await
            .unwrap();
        log.as_array()
            .unwrap()
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Fails the test if the console shows any error other than those containing one of
    /// `expected` (a refused sign-in's 401, say).
    pub async fn assert_clean_console(&self, expected: &[&str]) {
        let errors: Vec<String> = self
            .console_errors()
            .await
            .into_iter()
            .filter(|m| !expected.iter().any(|x| m.contains(x)))
            .collect();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }

    /// Ends the session (closing Chromium) and stops chromedriver.
    pub async fn quit(mut self) {
        self.command(reqwest::Method::DELETE, "", None)
            .await
            .unwrap();
        self.closed = true;
    }
}

impl Drop for Browser {
    /// A journey that failed did not call `quit`: end the session over a plain socket
    /// (no runtime to `.await` on here) so that Chromium does not outlive the test; the
    /// chromedriver process is killed after this.
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let Ok(mut s) = std::net::TcpStream::connect_timeout(&self.driver, Duration::from_secs(5))
        else {
            return;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
        let req = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session_id, self.driver
        );
        if s.write_all(req.as_bytes()).is_ok() {
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
}

/// Reads chromedriver's stdout until it says which port it listens on.
async fn chromedriver_port(child: &mut Child) -> u16 {
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut said = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                return rest.trim_end_matches('.').parse::<u16>().ok();
            }
            said.push(line);
        }
        None
    })
    .await;
    let port = match found {
        Ok(Some(p)) => p,
        _ => panic!("chromedriver did not start: {said:?}"),
    };
    // Keep draining its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    port
}

impl Element<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    pub async fn click(&self) {
        self.browser
            .post(&self.path("/click"), json!({}))
            .await
            .unwrap_or_else(|e| panic!("click: {e}"));
    }

    /// Types `text` into the element (after what is there).
    pub async fn send_keys(&self, text: &str) {
        self.browser
            .post(&self.path("/value"), json!({ "text": text }))
            .await
            .unwrap_or_else(|e| panic!("typing {text:?}: {e}"));
    }

    /// Empties an input, then types `text`.
    pub async fn fill(&self, text: &str) {
        self.browser
            .post(&self.path("/clear"), json!({}))
            .await
            .unwrap_or_else(|e| panic!("clearing: {e}"));
        self.send_keys(text).await;
    }

    pub async fn try_text(&self) -> Result<String, WdError> {
        let v = self.browser.get(&self.path("/text")).await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// The element's rendered text.
    pub async fn text(&self) -> String {
        self.try_text()
            .await
            .unwrap_or_else(|e| panic!("reading text: {e}"))
    }

    /// A DOM property (`value`, `checked`, `href`).
    pub async fn property(&self, name: &str) -> Value {
        self.browser
            .get(&self.path(&format!("/property/{name}")))
            .await
            .unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }
}
