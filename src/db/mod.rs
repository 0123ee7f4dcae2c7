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

use std::str::FromStr;
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
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>, sqlx::Error>;
}

impl BeginWrite for sqlx::SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl BeginWrite for sqlx::PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.begin().await
    }
}

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
                let pool = SqlitePoolOptions::new()
                    .max_connections(8)
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
