//! Real-browser support: headless Chromium driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`), and the real `herald serve` binary whose log carries the mail it would send.
//!
//! WebDriver is plain JSON over HTTP, spoken here with `reqwest` ([`Session`], [`Element`]): the
//! few commands a user's actions need. `HERALD_TEST_CHROMEDRIVER` and `HERALD_TEST_CHROMIUM`
//! override where the programs are looked for (default: `PATH`, `/usr/bin`).
//!
//! Nothing here sleeps for a fixed time: every wait polls a condition with a generous deadline, so
//! a slow CI machine makes the test slower, not flaky.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{free_port, herald_bin, temporal_address};

/// How long any one thing a user waits for may take before the test gives up.
pub const WAIT: Duration = Duration::from_secs(30);
/// WebDriver key code of Tab.
pub const TAB: char = '\u{E004}';
/// WebDriver key code of Enter.
pub const ENTER: char = '\u{E007}';

/// How often a wait looks again.
const POLL: Duration = Duration::from_millis(50);

/// Desktop window size for screenshots.
pub const DESKTOP: (u32, u32) = (1280, 900);
/// Phone width (an iPhone 12–15) for screenshots.
pub const PHONE: (u32, u32) = (390, 844);

const INSTALL_HINT: &str = "the browser test needs Debian's Chromium and its WebDriver: \
     `apt-get install -y --no-install-recommends chromium chromium-driver` \
     (`make test` installs them itself when run as root, and `.ci/run` always does)";

/// `env_var` if set, else the first of `candidates` that exists (absolute paths as they are,
/// bare names looked up on `PATH`).
fn find_program(env_var: &str, candidates: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env_var) {
        return Some(PathBuf::from(p));
    }
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() {
            if p.is_file() {
                return Some(p.to_path_buf());
            }
            continue;
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        if let Some(found) = std::env::split_paths(&path).map(|d| d.join(c)).find(|p| p.is_file()) {
            return Some(found);
        }
    }
    None
}

/// Polls `f` every [`POLL`] until it returns `Some`, or fails after [`WAIT`] with `what`.
pub async fn wait_until<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {WAIT:?} waiting for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// The W3C WebDriver element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver command that failed: the spec's error code (`no such element`, …) and message.
#[derive(Debug)]
pub struct WdError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message.lines().next().unwrap_or_default())
    }
}

/// One WebDriver session, spoken to over the protocol's plain JSON-over-HTTP.
#[derive(Clone)]
pub struct Session {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    url: String,
}

impl Session {
    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.url);
        let mut req = self.http.request(method, &url);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response =
            req.send().await.map_err(|e| WdError { error: "transport".into(), message: e.to_string() })?;
        let ok = response.status().is_success();
        let v: Value = response
            .json()
            .await
            .map_err(|e| WdError { error: "transport".into(), message: e.to_string() })?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if ok {
            Ok(value)
        } else {
            Err(WdError {
                error: value["error"].as_str().unwrap_or("unknown error").to_owned(),
                message: value["message"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    async fn get(&self, path: &str) -> Result<Value, WdError> {
        self.cmd(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, WdError> {
        self.cmd(reqwest::Method::POST, path, Some(body)).await
    }

    fn element(&self, v: &Value) -> Result<Element, WdError> {
        match v[ELEMENT_KEY].as_str() {
            Some(id) => Ok(Element { session: self.clone(), id: id.to_owned() }),
            None => Err(WdError { error: "not an element".into(), message: v.to_string() }),
        }
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<(), WdError> {
        self.post("/url", json!({ "url": url })).await.map(|_| ())
    }

    /// The address of the page shown.
    pub async fn current_url(&self) -> Result<url::Url, WdError> {
        let v = self.get("/url").await?;
        url::Url::parse(v.as_str().unwrap_or_default())
            .map_err(|e| WdError { error: "bad url".into(), message: e.to_string() })
    }

    /// The document's title.
    pub async fn title(&self) -> Result<String, WdError> {
        Ok(self.get("/title").await?.as_str().unwrap_or_default().to_owned())
    }

    /// The first element found `using` (`css selector`, `xpath`) `value`.
    pub async fn find(&self, using: &str, value: &str) -> Result<Element, WdError> {
        let v = self.post("/element", json!({ "using": using, "value": value })).await?;
        self.element(&v)
    }

    /// Every element found `using` `value`.
    pub async fn find_all(&self, using: &str, value: &str) -> Result<Vec<Element>, WdError> {
        let v = self.post("/elements", json!({ "using": using, "value": value })).await?;
        v.as_array().map_or(Ok(Vec::new()), |a| a.iter().map(|e| self.element(e)).collect())
    }

    /// Runs `script` as a function body in the page.
    pub async fn execute(&self, script: &str) -> Result<Value, WdError> {
        self.execute_with(script, Vec::new()).await
    }

    /// Runs `script` with `arguments` set to `args`.
    pub async fn execute_with(&self, script: &str, args: Vec<Value>) -> Result<Value, WdError> {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// Presses and releases `key` (a WebDriver key code such as `\u{E004}` for Tab).
    pub async fn press(&self, key: char) -> Result<(), WdError> {
        let key = key.to_string();
        let actions = json!({ "actions": [{
            "type": "key", "id": "keyboard",
            "actions": [{ "type": "keyDown", "value": key }, { "type": "keyUp", "value": key }],
        }]});
        self.post("/actions", actions).await?;
        self.cmd(reqwest::Method::DELETE, "/actions", None).await.map(|_| ())
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Result<Vec<u8>, WdError> {
        use base64::Engine as _;
        let v = self.get("/screenshot").await?;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .map_err(|e| WdError { error: "bad screenshot".into(), message: e.to_string() })
    }

    /// Sets the window's outer size.
    pub async fn set_window_size(&self, width: u32, height: u32) -> Result<(), WdError> {
        self.post("/window/rect", json!({ "width": width, "height": height })).await.map(|_| ())
    }
}

/// An element of the page.
#[derive(Clone)]
pub struct Element {
    session: Session,
    id: String,
}

impl Element {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// The first element inside this one found `using` `value`.
    pub async fn find(&self, using: &str, value: &str) -> Result<Element, WdError> {
        let v = self.session.post(&self.path("/element"), json!({ "using": using, "value": value })).await?;
        self.session.element(&v)
    }

    /// Every element inside this one found `using` `value`.
    pub async fn find_all(&self, using: &str, value: &str) -> Result<Vec<Element>, WdError> {
        let v = self.session.post(&self.path("/elements"), json!({ "using": using, "value": value })).await?;
        v.as_array().map_or(Ok(Vec::new()), |a| a.iter().map(|e| self.session.element(e)).collect())
    }

    /// The rendered text, as a user sees it.
    pub async fn text(&self) -> Result<String, WdError> {
        Ok(self.session.get(&self.path("/text")).await?.as_str().unwrap_or_default().to_owned())
    }

    /// An HTML attribute.
    pub async fn attr(&self, name: &str) -> Result<Option<String>, WdError> {
        Ok(self.session.get(&self.path(&format!("/attribute/{name}"))).await?.as_str().map(str::to_owned))
    }

    /// A DOM property, e.g. `value`.
    pub async fn prop(&self, name: &str) -> Result<Option<String>, WdError> {
        Ok(self.session.get(&self.path(&format!("/property/{name}"))).await?.as_str().map(str::to_owned))
    }

    /// Clicks it, scrolled to the middle of the window first: at once, since smooth scrolling
    /// (herald.css) would still be moving it when WebDriver clicks.
    pub async fn click(&self) -> Result<(), WdError> {
        let me = json!({ ELEMENT_KEY: self.id });
        let script = "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})";
        self.session.post("/execute/sync", json!({ "script": script, "args": [me] })).await?;
        self.session.post(&self.path("/click"), json!({})).await.map(|_| ())
    }

    /// Empties a text field.
    pub async fn clear(&self) -> Result<(), WdError> {
        self.session.post(&self.path("/clear"), json!({})).await.map(|_| ())
    }

    /// Types `text` into it.
    pub async fn send_keys(&self, text: &str) -> Result<(), WdError> {
        self.session.post(&self.path("/value"), json!({ "text": text })).await.map(|_| ())
    }
}

/// A `chromedriver` on a free port, stopped when dropped (with every browser it started). Each
/// [`ChromeDriver::session`] is a fresh headless Chromium with an empty profile of its own.
pub struct ChromeDriver {
    child: Child,
    url: String,
    chromium: PathBuf,
    log: PathBuf,
    sessions: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

impl ChromeDriver {
    /// Starts `chromedriver`; fails with install instructions when Chromium is missing.
    pub async fn start() -> Self {
        let driver = find_program("HERALD_TEST_CHROMEDRIVER", &["chromedriver", "/usr/bin/chromedriver"])
            .unwrap_or_else(|| panic!("chromedriver not found: {INSTALL_HINT}"));
        let chromium = find_program("HERALD_TEST_CHROMIUM", &["/usr/bin/chromium", "chromium"])
            .unwrap_or_else(|| panic!("chromium not found: {INSTALL_HINT}"));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("chromedriver.log");
        let port = free_port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            // The time zone the browser proposes at sign-up.
            .env("TZ", "Europe/Paris")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}; {INSTALL_HINT}", driver.display()));
        let me = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            chromium,
            log,
            sessions: Arc::default(),
            dir,
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let status = format!("{}/status", me.url);
        wait_until("chromedriver to answer /status", || {
            let http = http.clone();
            let status = status.clone();
            async move {
                let v: Value = http.get(&status).send().await.ok()?.json().await.ok()?;
                (v["value"]["ready"] == true).then_some(())
            }
        })
        .await;
        me
    }

    /// A new browser: headless Chromium with a fresh profile and a desktop-sized window.
    pub async fn session(&self) -> Browser {
        let profile = tempfile::tempdir_in(self.dir.path()).unwrap();
        let (w, h) = DESKTOP;
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            // Without these Chromium keeps dialling out (updates, sync, field trials, QUIC probes),
            // which on a closed network means a flood of refused connections.
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-quic".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            format!("--window-size={w},{h}"),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:chromeOptions": { "binary": self.chromium, "args": args },
        }}});
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let created: Result<Value, String> = async {
            let r = http
                .post(format!("{}/session", self.url))
                .json(&caps)
                .send()
                .await
                .map_err(|e| e.to_string())?;
            let v: Value = r.json().await.map_err(|e| e.to_string())?;
            Ok(v)
        }
        .await;
        let id = match &created {
            Ok(v) => v["value"]["sessionId"].as_str().map(str::to_owned),
            Err(_) => None,
        };
        let Some(id) = id else {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            panic!("cannot start headless Chromium through chromedriver: {created:?}\n{}", tail.join("\n"))
        };
        self.sessions.lock().unwrap().push(id.clone());
        let client = Session { http, url: format!("{}/session/{id}", self.url) };
        let driver = self.url.trim_start_matches("http://").to_owned();
        Browser { client, base: String::new(), driver, id, open: self.sessions.clone(), _profile: profile }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Close each browser through chromedriver first: killed, it would leave them running.
        let addr = self.url.trim_start_matches("http://").to_owned();
        for id in self.sessions.lock().map(|s| s.clone()).unwrap_or_default() {
            let _ = raw_http(&addr, "DELETE", &format!("/session/{id}"));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking HTTP/1.1 request without a body (for use in `Drop`), returning the answer once
/// it is complete (chromedriver keeps the connection open, so reading to the end would hang).
fn raw_http(addr: &str, method: &str, path: &str) -> std::io::Result<String> {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n")?;
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if answer.len() >= end + 4 + length {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// One browser window, driven like a user would: by labels, button texts and link texts.
pub struct Browser {
    pub client: Session,
    /// Herald's base URL, e.g. `http://127.0.0.1:1234`; paths are relative to it.
    pub base: String,
    /// chromedriver's `HOST:PORT`, this session's id, and the driver's list of open sessions.
    driver: String,
    id: String,
    open: Arc<Mutex<Vec<String>>>,
    // Removed after the browser has closed (fields drop after `Drop::drop`).
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = raw_http(&self.driver, "DELETE", &format!("/session/{}", self.id));
        if let Ok(mut open) = self.open.lock() {
            open.retain(|id| id != &self.id);
        }
    }
}

/// `s` with each run of white space replaced by one space.
fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `s` as an XPath string literal, whatever quotes it holds.
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

impl Browser {
    /// Sets the base URL paths are resolved against.
    pub fn at(mut self, base: &str) -> Self {
        self.base = base.trim_end_matches('/').to_owned();
        self
    }

    /// Opens `path` (relative to the base URL, or absolute) and waits for its `<h1>`.
    pub async fn open(&self, path: &str) {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        self.client.goto(&url).await.unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.element("h1").await;
    }

    /// The path (and query) of the page shown now.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits until the page shown is `path` (without query).
    pub async fn wait_for_path(&self, path: &str) {
        let mut seen = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(url) = self.client.current_url().await {
                seen = url.path().to_owned();
                if seen == path && self.client.find("css selector", "h1").await.is_ok() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "expected to arrive at {path}, still at {seen}");
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits for an element matching the CSS selector.
    pub async fn element(&self, css: &str) -> Element {
        let found = self.wait_for_element("css selector", css).await;
        match found {
            Ok(e) => e,
            Err(e) => panic!("no element `{css}` on {}: {e}", self.describe().await),
        }
    }

    /// Polls for an element found `using` `value` until [`WAIT`] has passed; other errors end
    /// the wait at once.
    async fn wait_for_element(&self, using: &str, value: &str) -> Result<Element, WdError> {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(using, value).await {
                Ok(e) => return Ok(e),
                Err(e) if e.error == "no such element" && Instant::now() < deadline => {}
                Err(e) => return Err(e),
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Every element matching the CSS selector right now.
    pub async fn elements(&self, css: &str) -> Vec<Element> {
        self.client.find_all("css selector", css).await.unwrap_or_default()
    }

    /// The visible text of the first element matching `css`, waiting for it to exist. An
    /// element that htmx swapped out between finding it and reading it is found again.
    pub async fn text(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.element(css).await.text().await {
                Ok(text) => return text,
                Err(e) if e.error == "stale element reference" && Instant::now() < deadline => {}
                Err(e) => panic!("cannot read the text of {css}: {e:?}"),
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The page's main heading.
    pub async fn heading(&self) -> String {
        self.text("h1").await
    }

    /// Waits until the main heading reads `expected`.
    pub async fn wait_for_heading(&self, expected: &str) {
        let mut last = String::new();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(h) = self.client.find("css selector", "h1").await
                && let Ok(t) = h.text().await
            {
                if t.trim() == expected {
                    return;
                }
                last = t;
            }
            assert!(
                Instant::now() < deadline,
                "expected the heading {expected:?}, the page shows {last:?} ({})",
                self.describe().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The text of `<main>` as rendered (`innerText`), with each run of white space as one
    /// space; empty while there is no `<main>`.
    pub async fn main_text(&self) -> String {
        let text = self
            .client
            .execute("const m = document.querySelector('main'); return m ? m.innerText : ''")
            .await;
        squash(text.ok().as_ref().and_then(Value::as_str).unwrap_or_default())
    }

    /// Waits until `<main>` reads `needle` (white space runs compare as one space).
    pub async fn wait_for_text(&self, needle: &str) {
        let needle = squash(needle);
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.main_text().await;
            if text.contains(&needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected {needle:?} on the page {}; it reads:\n{text}",
                self.describe().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The texts of the flash messages and banners shown at the top of the page.
    pub async fn flashes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in self.elements(".flash").await {
            out.push(f.text().await.unwrap_or_default());
        }
        out
    }

    /// Waits for a flash message containing `needle`.
    pub async fn wait_for_flash(&self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let flashes = self.flashes().await;
            if let Some(f) = flashes.iter().find(|f| f.contains(needle)) {
                return f.clone();
            }
            assert!(
                Instant::now() < deadline,
                "expected a message {needle:?} on {}; messages shown: {flashes:?}",
                self.describe().await
            );
            tokio::time::sleep(POLL).await;
        }
    }

    /// The form control labelled `label` (exact label text, else the label that starts with it).
    pub async fn field(&self, label: &str) -> Element {
        let lit = xpath_literal(label);
        let exact = format!("//label[normalize-space()={lit}]");
        let starts = format!("//label[starts-with(normalize-space(), {lit})]");
        let deadline = Instant::now() + WAIT;
        let label_el = loop {
            if let Ok(l) = self.client.find("xpath", &exact).await {
                break l;
            }
            if let Ok(l) = self.client.find("xpath", &starts).await {
                break l;
            }
            assert!(Instant::now() < deadline, "no field labelled {label:?} on {}", self.describe().await);
            tokio::time::sleep(POLL).await;
        };
        match label_el.attr("for").await.unwrap() {
            Some(id) => self
                .client
                .find("css selector", &format!("[id='{id}']"))
                .await
                .unwrap_or_else(|_| panic!("the label {label:?} points at #{id}, which does not exist")),
            None => label_el
                .find("css selector", "input, select, textarea")
                .await
                .unwrap_or_else(|_| panic!("the label {label:?} neither names nor wraps a control")),
        }
    }

    /// Types `value` into the field labelled `label`, replacing what was there.
    pub async fn fill(&self, label: &str, value: &str) {
        let f = self.field(label).await;
        f.clear().await.unwrap();
        f.send_keys(value).await.unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
    }

    /// Picks the option shown as `option` in the select labelled `label`.
    pub async fn select(&self, label: &str, option: &str) {
        let f = self.field(label).await;
        let xpath = format!(".//option[normalize-space()={}]", xpath_literal(option));
        let o = f
            .find("xpath", &xpath)
            .await
            .unwrap_or_else(|e| panic!("no option {option:?} in {label:?}: {e}"));
        o.click().await.unwrap_or_else(|e| panic!("choose {option:?} in {label:?}: {e}"));
    }

    /// The current value of the field labelled `label`.
    pub async fn value(&self, label: &str) -> String {
        self.field(label).await.prop("value").await.unwrap().unwrap_or_default()
    }

    /// Clicks the button whose text is `text` (inside `<main>` when there is one there).
    pub async fn click_button(&self, text: &str) {
        let lit = xpath_literal(text);
        let xpath = format!(
            "(//main//button[normalize-space()={lit}] | //main//input[@type='submit' and @value={lit}] \
             | //button[normalize-space()={lit}])[1]"
        );
        let b = self.wait_for_element("xpath", &xpath).await;
        let Ok(b) = b else { panic!("no button {text:?} on {}", self.describe().await) };
        b.click().await.unwrap_or_else(|e| panic!("click {text:?}: {e}"));
    }

    /// Follows the link whose text is `text`, preferring one inside `<main>`.
    pub async fn click_link(&self, text: &str) {
        let lit = xpath_literal(text);
        let xpath = format!("(//main//a[normalize-space()={lit}] | //a[normalize-space()={lit}])[1]");
        let a = self.wait_for_element("xpath", &xpath).await;
        let Ok(a) = a else { panic!("no link {text:?} on {}", self.describe().await) };
        a.click().await.unwrap_or_else(|e| panic!("follow {text:?}: {e}"));
    }

    /// The body rows of the table matching `css`, each as the texts a user reads in its cells
    /// (for a cell holding a select: the option chosen).
    pub async fn table_rows(&self, css: &str) -> Vec<Vec<String>> {
        let script = "const t = document.querySelector(arguments[0]); if (!t) return null; \
            return [...t.tBodies[0].rows].map(r => [...r.cells].map(c => { \
              const s = c.querySelector('select'); \
              return (s ? s.options[s.selectedIndex].text : c.innerText).trim(); }));";
        let rows = self.client.execute_with(script, vec![json!(css)]).await.unwrap();
        let Some(rows) = rows.as_array() else {
            panic!("no table `{css}` on {}", self.describe().await);
        };
        rows.iter()
            .map(|r| {
                r.as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| c.as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .collect()
    }

    /// Presses and releases `key` (a WebDriver key code, see [`TAB`]) wherever the focus is.
    pub async fn press(&self, key: char) {
        self.client.press(key).await.unwrap_or_else(|e| panic!("press {key:?}: {e}"));
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.client.execute(script).await.unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// Saves `target/screenshots/{name}.png` at desktop width and `{name}-phone.png` at phone
    /// width, each as tall as the whole page, then restores the desktop window.
    pub async fn screenshots(&self, name: &str) {
        let dir = screenshot_dir();
        for (suffix, (w, h)) in [("", DESKTOP), ("-phone", PHONE)] {
            self.resize(w, h).await;
            let height = self.js("return Math.ceil(document.documentElement.scrollHeight)").await;
            let full = height.as_u64().map_or(h, |v| (v as u32).clamp(h, 6000));
            if full > h {
                self.resize(w, full).await;
            }
            let png = self.client.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot of {name}");
            let file = dir.join(format!("{name}{suffix}.png"));
            std::fs::write(&file, png).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
        }
        self.resize(DESKTOP.0, DESKTOP.1).await;
    }

    /// The page's viewport in CSS pixels.
    async fn viewport(&self) -> (i64, i64) {
        let v = self.js("return [window.innerWidth, window.innerHeight]").await;
        (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0))
    }

    /// Resizes the window so the page's viewport is `w` × `h` CSS pixels, and waits until the
    /// page has taken the new size (a resize is applied asynchronously).
    pub async fn resize(&self, w: u32, h: u32) {
        let want = (i64::from(w), i64::from(h));
        let mut outer = want;
        for _ in 0..3 {
            self.client.set_window_size(outer.0 as u32, outer.1 as u32).await.unwrap();
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut last = (0, 0);
            let mut stable = 0;
            while Instant::now() < deadline && stable < 5 {
                let now = self.viewport().await;
                if now == want {
                    return;
                }
                stable = if now == last { stable + 1 } else { 0 };
                last = now;
                tokio::time::sleep(POLL).await;
            }
            // The viewport settled at another size: the window frame takes the difference.
            outer = (outer.0 + want.0 - last.0, outer.1 + want.1 - last.1);
        }
        panic!("cannot make the viewport {w}×{h}: it stays {:?}", self.viewport().await);
    }

    /// The page as the test saw it, for failure messages.
    pub async fn describe(&self) -> String {
        let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        let title = self.client.title().await.unwrap_or_default();
        format!("{url} ({title:?})")
    }
}

/// `target/screenshots/` in the workspace, created if missing.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("screenshots");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    dir
}

/// The real `herald serve` binary on a free port with log-only mail, SQLite in a temp folder and
/// the shared Temporal dev server; its JSON log lines are collected as they come. Stopped when
/// dropped.
pub struct HeraldServer {
    child: Child,
    /// The public URL, e.g. `http://127.0.0.1:1234`.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
    _data: tempfile::TempDir,
}

impl HeraldServer {
    /// Starts Herald and waits until it answers `/healthz`.
    pub async fn start() -> Self {
        let data = tempfile::tempdir().unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let base = format!("http://{listen}");
        let mut cmd = Command::new(herald_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("HERALD_") {
                cmd.env_remove(k);
            }
        }
        let mut child = cmd
            .arg("serve")
            .env("HERALD_DATA_DIR", data.path())
            .env("HERALD_LISTEN", &listen)
            .env("HERALD_BASE_URL", &base)
            .env("HERALD_TEMPORAL_ADDRESS", temporal_address())
            .env("HERALD_TASK_QUEUE", format!("herald-browser-{}", uuid::Uuid::new_v4().simple()))
            .env("HERALD_LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn herald serve");
        let logs = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stdout.take().unwrap(), logs.clone());
        collect_lines(child.stderr.take().unwrap(), logs.clone());
        let me = Self { child, base, logs, _data: data };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
        let health = format!("{}/healthz", me.base);
        let deadline = Instant::now() + WAIT;
        loop {
            if http.get(&health).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            assert!(Instant::now() < deadline, "herald serve did not answer /healthz: {:#?}", me.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        me
    }

    /// Every log line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    /// The link under this server to `path_prefix` (e.g. `/verify/`) in the last mail to `to`
    /// that Herald wrote to its log, waiting for it to appear.
    pub async fn logged_link(&self, to: &str, path_prefix: &str) -> String {
        let needle = format!("{}{path_prefix}", self.base);
        wait_until(&format!("a logged mail to {to} with a link to {path_prefix}"), || {
            let found = self.logs().iter().rev().find_map(|line| {
                let v: Value = serde_json::from_str(line).ok()?;
                if v["to"].as_str() != Some(to) {
                    return None;
                }
                let message = v["message"].as_str()?;
                let start = message.find(&needle)?;
                Some(message[start..].chars().take_while(|c| !c.is_whitespace()).collect::<String>())
            });
            async move { found }
        })
        .await
    }
}

fn collect_lines(from: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(Result::ok) {
            into.lock().unwrap().push(line);
        }
    });
}

impl Drop for HeraldServer {
    fn drop(&mut self) {
        // Nothing to keep: stop at once rather than wait for a graceful shutdown.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
