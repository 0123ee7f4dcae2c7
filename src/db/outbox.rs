//! `sync_outbox`: the durable list of events whose workflow has something to be told (a start or
//! a signal). A row is written in the same transaction as the event change it stands for (see
//! [`enqueue`]), claimed by one process at a time with a lease, and deleted once the workflow
//! was told. Several processes drain it at once: Postgres claims with `FOR UPDATE SKIP LOCKED`,
//! SQLite's single writer makes its one-statement claim atomic.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::{Db, DbError};

/// How long the process that saved a change has to tell the workflow itself before any process
/// may claim the row: it tries at once, so others only step in when it died or failed.
pub const HANDOFF: chrono::Duration = chrono::Duration::seconds(30);

/// A claimed outbox row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxRow {
    /// Increasing: newer changes have larger ids.
    pub id: i64,
    /// The event to catch up.
    pub event_id: Uuid,
    /// The event's revision the row was written for.
    pub revision: i64,
    /// Claims so far, this one included.
    pub attempts: i32,
    /// Only asks the workflow to read its plan again (no new revision; see `crate::quiet`).
    pub refresh: bool,
    /// The trace of the request that saved the change (optional traces), so that telling it
    /// later still joins that trace.
    pub traceparent: Option<String>,
}

/// Writes the outbox row for revision `$2` of event `$1` at `$3`, held by the saving process
/// until `$4` (now + [`HANDOFF`]), in the trace `$5` (see [`OutboxRow::traceparent`]); run
/// inside the change's transaction.
pub(crate) const ENQUEUE: &str =
    "INSERT INTO sync_outbox (event_id, revision, created_at, due_at, traceparent)
     VALUES ($1, $2, $3, $4, $5)";

/// The statement that asks the workflows of some events to read their plans again: a
/// `refresh` outbox row (`$3`, bound `true`) at `$2` (now) for every event still to come whose
/// workflow runs, among those of the participants `p` (with their account `u`) matching
/// `$cond`. Run inside the transaction of the change that shapes the plans.
macro_rules! refresh_plans_where {
    ($cond:literal) => {
        concat!(
            "INSERT INTO sync_outbox (event_id, revision, created_at, due_at, refresh)
             SELECT DISTINCT e.id, e.revision, $2, $2, $3
             FROM events e JOIN event_participants p ON p.event_id = e.id
                  LEFT JOIN users u ON u.id = p.user_id
             WHERE e.status = 'published' AND e.workflow_started_at IS NOT NULL AND e.ends_at > $2
               AND ",
            $cond
        )
    };
}
pub(crate) use refresh_plans_where;

impl Db {
    /// Claims up to `limit` rows that are due, oldest first, until `lease_until`: no other
    /// process claims them before then.
    #[instrument(skip_all)]
    pub async fn claim_outbox(
        &self,
        limit: i64,
        lease_until: DateTime<Utc>,
    ) -> Result<Vec<OutboxRow>, DbError> {
        // Postgres skips rows another process has locked; on SQLite one statement is atomic and
        // there is one writer at a time.
        let sql = match self {
            Db::Postgres(_) => {
                "UPDATE sync_outbox SET due_at = $2, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM sync_outbox WHERE due_at <= $1 ORDER BY id LIMIT $3
                              FOR UPDATE SKIP LOCKED)
                 RETURNING id, event_id, revision, attempts, refresh, traceparent"
            }
            Db::Sqlite(_) => {
                "UPDATE sync_outbox SET due_at = $2, attempts = attempts + 1
                 WHERE id IN (SELECT id FROM sync_outbox WHERE due_at <= $1 ORDER BY id LIMIT $3)
                 RETURNING id, event_id, revision, attempts, refresh, traceparent"
            }
        };
        let now = Utc::now();
        super::on_pool!(self, pool => super::write_one!(
            pool,
            sqlx::query_as(sql).bind(now).bind(lease_until).bind(limit),
            fetch_all
        )
        .await
        .map_err(DbError::from))
    }

    /// Makes the event's rows up to row `up_to` (all with `None`) claimable again at `due_at`.
    #[instrument(skip_all)]
    pub async fn release_outbox(
        &self,
        event_id: Uuid,
        up_to: Option<i64>,
        due_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        super::on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE sync_outbox SET due_at = $3 WHERE event_id = $1 AND id <= $2",
        )
        .bind(event_id)
        .bind(up_to.unwrap_or(i64::MAX))
        .bind(due_at))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Deletes the event's rows up to revision `revision`: its workflow knows about them.
    #[instrument(skip_all)]
    pub async fn outbox_done(&self, event_id: Uuid, revision: i64) -> Result<(), DbError> {
        super::on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM sync_outbox WHERE event_id = $1 AND revision <= $2")
            .bind(event_id)
            .bind(revision))
            .await
            .map(|_| ())
            .map_err(DbError::from))
    }

    /// How many rows wait in the outbox, and when the oldest was written.
    #[instrument(skip_all)]
    pub async fn outbox_summary(&self) -> Result<(i64, Option<DateTime<Utc>>), DbError> {
        super::on_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sync_outbox").fetch_one(pool).await?;
            let oldest: Option<DateTime<Utc>> =
                sqlx::query_scalar("SELECT created_at FROM sync_outbox ORDER BY id LIMIT 1")
                    .fetch_optional(pool)
                    .await?;
            Ok((n, oldest))
        })
    }
}
