//! Test support: fresh databases on either backend, the real app on a random port, the shared
//! Temporal dev server, and a private one for tests that stop it.

#![allow(dead_code)]

pub mod browser;
pub mod fake_apprise;
pub mod temporal_server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use herald::app::{Herald, Settings};
use herald::config::{DatabaseConfig, DatabaseUrl, TemporalArgs, TemporalConfig, WebConfig};
use herald::db::Db;
use herald::integrations::Targets;

/// Generates `NAME::sqlite` and `NAME::postgres` tests calling `NAME(Backend)`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty, migrated database that is removed when dropped.
pub struct TestDb {
    pub db: Db,
    pub url: DatabaseUrl,
    pub data_dir: tempfile::TempDir,
    pg_name: Option<String>,
}

fn postgres_admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "HERALD_TEST_POSTGRES_URL is not set: this is a Postgres test. Run `make test` with \
             HERALD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres, or filter it out."
        )
    })
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).expect("HERALD_TEST_POSTGRES_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

async fn pg_admin(sql: &str) {
    use sqlx::Connection;
    let mut conn =
        sqlx::PgConnection::connect(&postgres_admin_url()).await.expect("connect to the test Postgres");
    sqlx::query(sql).execute(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

impl TestDb {
    /// A new database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let (url, pg_name) = match backend {
            Backend::Sqlite => (DatabaseUrl::Sqlite(data_dir.path().join("herald.db")), None),
            Backend::Postgres => {
                let name = format!("herald_test_{}", uuid::Uuid::new_v4().simple());
                pg_admin(&format!("CREATE DATABASE {name}")).await;
                (DatabaseUrl::Postgres(with_database(&postgres_admin_url(), &name)), Some(name))
            }
        };
        let db = Db::connect(&url).await.expect("connect to the test database");
        db.migrate().await.expect("migrate the test database");
        Self { db, url, data_dir, pg_name }
    }

    /// Settings for a Herald on this database.
    pub fn database_config(&self) -> DatabaseConfig {
        DatabaseConfig { data_dir: self.data_dir.path().to_path_buf(), url: self.url.clone() }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let pool = self.db.clone();
        // Drop is synchronous: clean up on a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                pool.close().await;
                pg_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            });
        })
        .join();
    }
}

/// The shared Temporal dev server that `make test` started.
pub fn temporal_address() -> String {
    std::env::var("HERALD_TEST_TEMPORAL_ADDRESS").unwrap_or_else(|_| {
        panic!("HERALD_TEST_TEMPORAL_ADDRESS is not set: run the tests with `make test`, which starts a Temporal dev server")
    })
}

/// The Temporal Web UI URL the tests configure (nothing listens there; pages link to it).
pub const TEMPORAL_UI: &str = "http://temporal-ui.test:8233";

/// Temporal settings for the shared server with a task queue of the test's own.
pub fn temporal_config(address: &str) -> TemporalConfig {
    TemporalArgs {
        temporal_address: address.to_owned(),
        temporal_namespace: "default".into(),
        task_queue: format!("herald-test-{}", uuid::Uuid::new_v4().simple()),
        apprise_url: None,
        temporal_ui_url: Some(TEMPORAL_UI.into()),
        allow_private_targets: false,
        apprise_config_lock: false,
        worker_cache: herald::temporal::WORKFLOW_CACHE,
        worker_pollers: herald::temporal::WORKFLOW_POLLERS,
    }
    .resolve()
    .expect("valid temporal settings")
}

/// The real Herald on a random port, with a client for it and a fake Apprise API receiving
/// its mail (`HERALD_MAIL_URL` = [`MAIL_URL`]).
/// The operator of every test Herald (`HERALD_ADMIN_EMAILS`): sees the system status.
pub const OPERATOR: &str = "ops@example.org";

pub struct TestApp {
    pub herald: Option<Herald>,
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
    pub apprise: fake_apprise::FakeApprise,
}

/// The tests' channels and the fake Apprise API live on this machine, so the tests allow
/// private targets explicitly; Herald's default stays off (`targets.rs` tests it).
pub const LOCAL_TARGETS: Targets = Targets { allow_private: true };

/// The operator's mail URL in tests (its password must never show up anywhere).
pub const MAIL_URL: &str = "mailtos://herald:mail-secret-pw@mail.example.org?from=herald@example.org";

impl TestApp {
    /// Herald (web + worker) on `backend`, against the shared Temporal.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(TestDb::new(backend).await, &temporal_address(), true).await
    }

    /// Herald on `db`, against Temporal at `temporal`, letting channels reach this machine.
    pub async fn start_with(db: TestDb, temporal: &str, worker: bool) -> Self {
        Self::start_with_targets(db, temporal, worker, LOCAL_TARGETS).await
    }

    /// Herald with the operator's default: channels reach public addresses only.
    pub async fn start_strict(backend: Backend) -> Self {
        Self::start_with_targets(TestDb::new(backend).await, &temporal_address(), true, Targets::default())
            .await
    }

    /// Herald (web + worker) on `backend` allowing at most `max` participants per event.
    pub async fn start_with_max_participants(backend: Backend, max: usize) -> Self {
        let db = TestDb::new(backend).await;
        Self::start_configured(db, &temporal_address(), true, LOCAL_TARGETS, |web| web.max_participants = max)
            .await
    }

    /// Herald on `db`, against Temporal at `temporal`, with `targets` for channels.
    pub async fn start_with_targets(db: TestDb, temporal: &str, worker: bool, targets: Targets) -> Self {
        Self::start_configured(db, temporal, worker, targets, |_| {}).await
    }

    /// Herald (web + worker) on `backend` with `HERALD_APPRISE_CONFIG_LOCK` on, against a fake
    /// Apprise API locked from the start (`APPRISE_CONFIG_LOCK=yes`), as docker-compose runs them.
    pub async fn start_locked(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        Self::start_full(db, &temporal_address(), true, LOCAL_TARGETS, true, |_| {}).await
    }

    /// Herald on `db` with the tests' web settings, changed by `configure`.
    pub async fn start_configured(
        db: TestDb,
        temporal: &str,
        worker: bool,
        targets: Targets,
        configure: impl FnOnce(&mut WebConfig),
    ) -> Self {
        Self::start_full(db, temporal, worker, targets, false, configure).await
    }

    /// Herald on `db`; with `locked`, the fake Apprise API and Herald's setting both locked.
    async fn start_full(
        db: TestDb,
        temporal: &str,
        worker: bool,
        targets: Targets,
        locked: bool,
        configure: impl FnOnce(&mut WebConfig),
    ) -> Self {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let apprise = fake_apprise::FakeApprise::start().await;
        apprise.set_locked(locked);
        // Port 0 in both: Herald binds a free port and puts it into its public URL.
        let mut web = WebConfig::local(listen, url::Url::parse("http://127.0.0.1:0/").unwrap());
        web.mail_url = Some(MAIL_URL.to_owned());
        // Tests play clients at other addresses with X-Forwarded-For, as a proxy on this machine would.
        web.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        web.admin_emails = vec![OPERATOR.to_owned()];
        configure(&mut web);
        let settings = Settings {
            database: db.database_config(),
            temporal: temporal_config(temporal),
            apprise: Some(url::Url::parse(&apprise.base).unwrap()),
            apprise_config_lock: locked,
            secret_key: None,
            public_url: web.base_url.clone(),
            web: Some(web),
            worker,
            targets,
            retention: Default::default(),
        };
        let herald = Herald::start(settings).await.expect("Herald starts");
        let addr = herald.local_addr.expect("web server bound");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { herald: Some(herald), addr, base: format!("http://{addr}"), http, db, apprise }
    }

    /// A browser-like visitor with its own cookie jar.
    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.base)
    }

    /// A visitor at client address `ip` (behind the proxy the test app trusts).
    pub fn visitor_at(&self, ip: &str) -> Visitor {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", ip.parse().unwrap());
        Visitor::with_headers(&self.base, headers)
    }

    /// The path of the last link to `prefix` mailed to `address`, e.g. `/verify/…`.
    pub fn mailed_link(&self, address: &str, prefix: &str) -> Option<String> {
        let needle = format!("{}{prefix}", self.base);
        self.apprise.mail_to(address).iter().rev().find_map(|m| {
            let start = m.body.find(&needle)?;
            let link: String =
                m.body[start + self.base.len()..].chars().take_while(|c| !c.is_whitespace()).collect();
            Some(link)
        })
    }

    /// Signs up (and, if `verify`, follows the mailed link) as a new visitor.
    pub async fn signed_up(&self, email: &str, name: &str, verify: bool) -> Visitor {
        // Each person signs up from a network of their own, as people do (sign-ups are limited
        // per client address).
        static PEOPLE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = PEOPLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let v = self.visitor_at(&format!("198.18.{}.{}", (n / 250) % 250, n % 250 + 1));
        let r = v
            .post(
                "/signup",
                &[
                    ("email", email),
                    ("display_name", name),
                    ("password", PASSWORD),
                    ("timezone", "Europe/Paris"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303, "sign-up of {email} redirects");
        if verify {
            // The mailed link confirms the address and signs in.
            let link = self
                .mailed_link(email, "/verify/")
                .unwrap_or_else(|| panic!("a verification mail to {email}"));
            let r = v.get(&link).await;
            assert_eq!(r.status(), 303, "verification link of {email} works");
        } else {
            let r = v.post("/signin", &[("email", email), ("password", PASSWORD)]).await;
            assert_eq!(r.status(), 303, "{email} signs in with the password before confirming");
        }
        v
    }

    /// The Apprise config key of `integration`, as the Apprise API knows it (the database holds
    /// it encrypted).
    pub fn apprise_key(&self, integration: &herald::db::models::Integration) -> String {
        let keys =
            herald::secrets::SecretKey::load(None, self.db.data_dir.path()).expect("Herald's key file");
        herald::integrations::open_config_key(&keys, integration.id, &integration.config_key)
            .expect("the stored key opens")
            .as_str()
            .to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Stops Herald gracefully.
    pub async fn stop(mut self) {
        if let Some(h) = self.herald.take() {
            h.shutdown().await;
        }
    }
}

/// Polls `f` every 200 ms until it returns `Some`, or panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `herald` binary built for these tests.
pub fn herald_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_herald"))
}

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// A browser-like HTTP client: keeps cookies and the last CSRF token it saw, never follows redirects.
pub struct Visitor {
    pub http: reqwest::Client,
    pub base: String,
    csrf: std::sync::Mutex<Option<String>>,
}

impl Visitor {
    pub fn new(base: &str) -> Self {
        Self::with_headers(base, reqwest::header::HeaderMap::new())
    }

    /// A visitor whose every request carries `headers` (say, `X-Forwarded-For` as a proxy sets it).
    pub fn with_headers(base: &str, headers: reqwest::header::HeaderMap) -> Self {
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Self { http, base: base.to_owned(), csrf: std::sync::Mutex::new(None) }
    }

    /// Forgets the CSRF token when `r` changes the session: tokens are bound to the session, as
    /// a browser gets a new one with the next page.
    fn note_session(&self, r: &reqwest::Response) {
        let new_session = r.headers().get_all(reqwest::header::SET_COOKIE).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.starts_with("herald_session=") || s.starts_with("__Host-herald_session="))
        });
        if new_session {
            *self.csrf.lock().unwrap() = None;
        }
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        self.note_session(&r);
        r
    }

    /// GET `path` and return (status, body), remembering the CSRF token in it.
    pub async fn page(&self, path: &str) -> (u16, String) {
        let r = self.get(path).await;
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        if let Some(token) = csrf_in(&body) {
            *self.csrf.lock().unwrap() = Some(token);
        }
        (status, body)
    }

    /// The CSRF token, loading a page first if none was seen yet.
    pub async fn csrf(&self) -> String {
        if let Some(t) = self.csrf.lock().unwrap().clone() {
            return t;
        }
        let (_, body) = self.page("/").await;
        csrf_in(&body).expect("every page carries the CSRF token")
    }

    /// POST a form with the CSRF token added.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("_csrf", &token));
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        self.note_session(&r);
        r
    }

    /// POST a form exactly as given (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
}

/// The CSRF token in a page's forms.
pub fn csrf_in(html: &str) -> Option<String> {
    let marker = r#"name="_csrf" value=""#;
    if let Some(i) = html.find(marker) {
        return Some(html[i + marker.len()..].chars().take_while(|c| *c != '"').collect());
    }
    // The page's htmx header, on every page: hx-headers="{"X-CSRF-Token":"…"}" (HTML-escaped).
    let marker = "X-CSRF-Token&quot;:&quot;";
    let start = html.find(marker)? + marker.len();
    Some(html[start..].chars().take_while(|c| *c != '&').collect())
}

/// Buffer behind [`capture_logs`].
static CAPTURED_LOGS: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> =
    std::sync::OnceLock::new();

/// A writer appending to the captured log buffer.
struct LogSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Sends everything this test process logs (at `info` and above) to a buffer that
/// [`captured_logs`] returns, so a test can check what an operator would see. Call it before
/// starting the app. nextest runs each test in its own process; under `cargo test` the buffer
/// is shared by the tests of the process, which only adds lines.
pub fn capture_logs() {
    CAPTURED_LOGS.get_or_init(|| {
        let buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global log subscriber");
        buf
    });
}

/// What was logged since [`capture_logs`].
pub fn captured_logs() -> String {
    let buf = CAPTURED_LOGS.get().expect("capture_logs() was called first");
    String::from_utf8_lossy(&buf.lock().unwrap()).into_owned()
}

impl TestApp {
    /// Herald (web + worker) on `backend` in log-only mode: no `HERALD_APPRISE_URL`, so nothing
    /// is sent (the fake in `apprise` runs but Herald does not know it).
    pub async fn start_log_only(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let apprise = fake_apprise::FakeApprise::start().await;
        let mut web = WebConfig::local(listen, url::Url::parse("http://127.0.0.1:0/").unwrap());
        web.mail_url = Some(MAIL_URL.to_owned());
        // Tests play clients at other addresses with X-Forwarded-For, as a proxy on this machine would.
        web.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        web.admin_emails = vec![OPERATOR.to_owned()];
        let settings = Settings {
            database: db.database_config(),
            temporal: temporal_config(&temporal_address()),
            apprise: None,
            apprise_config_lock: false,
            secret_key: None,
            public_url: web.base_url.clone(),
            web: Some(web),
            worker: true,
            targets: LOCAL_TARGETS,
            retention: Default::default(),
        };
        let herald = Herald::start(settings).await.expect("Herald starts");
        let addr = herald.local_addr.expect("web server bound");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { herald: Some(herald), addr, base: format!("http://{addr}"), http, db, apprise }
    }
}

/// Parses an iCalendar document with Python's `icalendar` package (installed by `make tools`) and
/// returns the first VEVENT's summary, description, uid, dtstart and dtend as JSON.
pub fn parse_ics(ics: &str) -> serde_json::Value {
    run_icalendar(
        ics,
        r#"
ev = next(c for c in cal.walk("VEVENT"))
print(json.dumps({k: (ev.decoded(k).isoformat() if k.startswith("dt") else str(ev.get(k)))
                  for k in ("summary", "description", "uid", "dtstart", "dtend")}))
"#,
    )
}

/// Parses an iCalendar document with Python's `icalendar` package, like [`parse_ics`], and
/// returns every VEVENT's summary, uid, status, dtstart and dtend as JSON, plus the calendar's
/// name under `calendar`.
pub fn parse_ics_all(ics: &str) -> serde_json::Value {
    run_icalendar(
        ics,
        r#"
events = [{"summary": str(ev.get("summary")), "uid": str(ev.get("uid")), "status": str(ev.get("status")),
           "dtstart": ev.decoded("dtstart").isoformat(), "dtend": ev.decoded("dtend").isoformat()}
          for ev in cal.walk("VEVENT")]
print(json.dumps({"calendar": str(cal.get("x-wr-calname")), "events": events}))
"#,
    )
}

/// Parses a calendar invitation with Python's `icalendar`: the calendar's METHOD and its one
/// VEVENT's uid, sequence, status, dtstart, organizer and attendee (address and PARTSTAT).
pub fn parse_invitation(ics: &str) -> serde_json::Value {
    run_icalendar(
        ics,
        r#"
ev = next(c for c in cal.walk("VEVENT"))
att = ev.get("attendee")
print(json.dumps({"method": str(cal.get("method")), "uid": str(ev.get("uid")),
                  "sequence": int(ev.get("sequence")), "status": str(ev.get("status")),
                  "dtstart": ev.decoded("dtstart").isoformat(), "summary": str(ev.get("summary")),
                  "organizer": str(ev.get("organizer")), "organizer_cn": str(ev.get("organizer").params.get("cn")),
                  "attendee": str(att), "partstat": str(att.params.get("partstat"))}))
"#,
    )
}

/// Loads `ics` with `icalendar` as `cal`, runs `script` on it and parses what it prints as JSON;
/// fails the test when the parser rejects the file.
fn run_icalendar(ics: &str, script: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("calendar.ics");
    std::fs::write(&file, ics).unwrap();
    let pythonpath = std::env::var("HERALD_TEST_PYTHONPATH").unwrap_or_else(|_| {
        panic!("HERALD_TEST_PYTHONPATH is not set: run the tests with `make test`, which installs the icalendar parser")
    });
    let script = format!(
        "import json, sys, icalendar\ncal = icalendar.Calendar.from_ical(open(sys.argv[1], \"rb\").read())\n{script}"
    );
    let out = std::process::Command::new("python3")
        .args(["-c", &script])
        .arg(&file)
        .env("PYTHONPATH", pythonpath)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "icalendar rejected the file: {}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Waits until event `id`'s workflow knows every saved change: started, nothing unsignalled and
/// nothing left in the outbox for it. A save answers within a short budget, so its workflow
/// may be started or signalled just after the answer.
pub async fn told_workflow(db: &Db, id: uuid::Uuid) {
    eventually(Duration::from_secs(30), "the event's workflow to be told every change", || async {
        let event = db.event(id).await.ok()??;
        let unsignalled = db.event_unsynced(id).await.ok()?;
        (event.workflow_started_at.is_some() && !unsignalled).then_some(())
    })
    .await;
}
