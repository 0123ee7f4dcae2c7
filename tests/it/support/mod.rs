//! Test support: fresh databases on either backend, the real app on a random port, the shared
//! Temporal dev server, and a private one for tests that stop it.

#![allow(dead_code)]

pub mod temporal_server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use herald::app::{Herald, Settings};
use herald::config::{DatabaseConfig, DatabaseUrl, TemporalArgs, TemporalConfig, WebConfig};
use herald::db::Db;

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

/// Temporal settings for the shared server with a task queue of the test's own.
pub fn temporal_config(address: &str) -> TemporalConfig {
    TemporalArgs {
        temporal_address: address.to_owned(),
        temporal_namespace: "default".into(),
        task_queue: format!("herald-test-{}", uuid::Uuid::new_v4().simple()),
        apprise_url: None,
    }
    .resolve()
    .expect("valid temporal settings")
}

/// The real Herald on a random port, with a client for it.
pub struct TestApp {
    pub herald: Option<Herald>,
    pub addr: SocketAddr,
    pub base: String,
    pub http: reqwest::Client,
    pub db: TestDb,
}

impl TestApp {
    /// Herald (web + worker) on `backend`, against the shared Temporal.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(TestDb::new(backend).await, &temporal_address(), true).await
    }

    /// Herald on `db`, against Temporal at `temporal`.
    pub async fn start_with(db: TestDb, temporal: &str, worker: bool) -> Self {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let settings = Settings {
            database: db.database_config(),
            temporal: temporal_config(temporal),
            web: Some(WebConfig { listen, base_url: url::Url::parse("http://127.0.0.1/").unwrap() }),
            worker,
        };
        let herald = Herald::start(settings).await.expect("Herald starts");
        let addr = herald.local_addr.expect("web server bound");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self { herald: Some(herald), addr, base: format!("http://{addr}"), http, db }
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
