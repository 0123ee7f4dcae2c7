//! The repository: typed functions per table over SQLite or Postgres, chosen by URL at start-up.
//!
//! Both backends run the same SQL (`$1`-style placeholders work in both); each function is
//! written once and compiled for each pool type by [`on_pool!`]. Migrations live in
//! `migrations/sqlite` and `migrations/postgres` and are embedded in the binary.

pub mod announcements;
pub mod audit;
pub mod auth;
pub mod delivery;
mod error;
pub mod events;
pub mod integrations;
pub mod models;
pub mod notifications;
pub mod orgs;
pub mod outbox;
pub mod participants;
pub mod quiet;
pub mod reports;
pub mod rules;
pub mod users;
pub mod wording;

use std::collections::HashMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tracing::instrument;

use crate::config::{ConfigError, DatabaseUrl};
pub use error::DbError;

/// Runs `$body` with `$pool` bound to the concrete pool of either backend.
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Starting a transaction that will write. On SQLite it takes the write lock up front
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and then writes while another
/// connection writes fails at once with "database is locked" instead of waiting its turn.
///
/// SQLite lets one connection write at a time, and a connection that finds the lock taken sleeps
/// in SQLite's busy handler in growing steps (up to 100 ms) before it looks again, even when the
/// lock was freed a millisecond later: under eight concurrent saves the slowest in a hundred
/// took 288–350 ms while the median took 7 ms. So the writers of one process first queue for
/// their turn here, in arrival order, and find the lock free when their turn comes; the busy
/// handler is left for writers in other processes (the CLI, a second `herald serve`). The
/// slowest save in a hundred now takes about 20 ms (docs/BENCHMARKS.md). Postgres writers do
/// not queue.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<WriteTx<Self::Db>, sqlx::Error>;
    /// This process's turn to write, without a transaction: for one statement, which SQLite
    /// runs as a write transaction of its own ([`write_one!`]). `None` on Postgres.
    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>>;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<WriteTx<sqlx::Sqlite>, sqlx::Error> {
        let turn = self.write_turn().await;
        let tx = self.begin_with("BEGIN IMMEDIATE").await?;
        Ok(WriteTx { tx, _turn: turn })
    }

    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        Some(sqlite_writers(self.connect_options().get_filename()).lock_owned().await)
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<WriteTx<sqlx::Postgres>, sqlx::Error> {
        Ok(WriteTx { tx: self.begin().await?, _turn: None })
    }

    async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        None
    }
}

/// The queue of this process's writers to the SQLite file `path` (one per file: a process
/// normally opens one).
fn sqlite_writers(path: &std::path::Path) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: LazyLock<Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>> =
        LazyLock::new(Default::default);
    // A panic while holding this lock cannot leave the map half-changed: keep using it.
    let mut queues = QUEUES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    queues.entry(path.to_path_buf()).or_default().clone()
}

/// A write transaction ([`BeginWrite`]): the transaction itself (statements run on `&mut *tx`)
/// and, on SQLite, this process's turn to write, given back once it is committed or dropped.
pub(crate) struct WriteTx<DB: sqlx::Database> {
    tx: sqlx::Transaction<'static, DB>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: sqlx::Database> WriteTx<DB> {
    /// Commits, then lets the next writer go.
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl<DB: sqlx::Database> std::ops::Deref for WriteTx<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.tx
    }
}

impl<DB: sqlx::Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.tx
    }
}

/// Runs one writing statement `$query` (a `sqlx::query(…)` with its binds) on `$pool` once it
/// is this process's turn to write (see [`BeginWrite`]); a future of the statement's result.
/// SQLite runs a lone writing statement as a write transaction of its own, taking the lock
/// when the statement starts, so no `BEGIN`/`COMMIT` is needed (each would cost another hop to
/// the connection's thread). Every single-statement write in `src/db` goes through it.
///
/// `write_one!(pool, query, fetch_one)` runs a statement that returns rows (`RETURNING`) with
/// that method instead of `execute`.
macro_rules! write_one {
    ($pool:ident, $query:expr) => {
        $crate::db::write_one!($pool, $query, execute)
    };
    ($pool:ident, $query:expr, $run:ident) => {
        async {
            let _turn = $crate::db::BeginWrite::write_turn($pool).await;
            $query.$run($pool).await
        }
    };
}
pub(crate) use write_one;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A connection pool to Herald's database.
#[derive(Clone, Debug)]
pub enum Db {
    /// SQLite file (default).
    Sqlite(SqlitePool),
    /// PostgreSQL server (production).
    Postgres(PgPool),
}

impl Db {
    /// Connects (creating the SQLite file when needed). Does not migrate.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, ConfigError> {
        const SETTING: &str = "HERALD_DATABASE_URL";
        match url {
            DatabaseUrl::Sqlite(path) => {
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10));
                // No ping before handing out a connection: the database is a local file, so a
                // pooled connection cannot have gone stale, and the ping (sqlx's default) would
                // cost each query a second hop to the connection's thread.
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(|e| {
                        ConfigError::new(
                            SETTING,
                            format!("cannot open SQLite database {}: {}", path.display(), short(&e)),
                        )
                    })?;
                Ok(Self::Sqlite(pool))
            }
            DatabaseUrl::Postgres(raw) => {
                let opts = PgConnectOptions::from_str(raw).map_err(|e| {
                    ConfigError::new(SETTING, format!("not a valid postgres URL: {}", short(&e)))
                })?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await
                    .map_err(|e| {
                        ConfigError::new(
                            SETTING,
                            format!("cannot connect to {}: {}", url.redacted(), short(&e)),
                        )
                    })?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// Applies the pending migrations of this backend.
    #[instrument(skip_all, fields(backend = self.backend()))]
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Self::Sqlite(pool) => SQLITE_MIGRATOR.run(pool).await,
            Self::Postgres(pool) => POSTGRES_MIGRATOR.run(pool).await,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// A trivial round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), DbError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()).map_err(DbError::from))
    }

    /// Closes every connection, waiting for the ones in use.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }
}

/// A sqlx error in one line, without the URL (which may carry a password).
fn short(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => crate::config::io_reason(io),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Configuration(c) => c.to_string(),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        other => other.to_string(),
    }
}
