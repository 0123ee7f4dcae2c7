//! Quiet hours and digests in the repository: the users' settings, the ledger rows held for
//! them, and the digests that gather them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::models::DeliveryStatus;
use super::{Db, DbError, on_pool};

/// A user's quiet hours and digest time as stored (`HH:MM[:SS]` local clock times), with the
/// zone they are in.
#[derive(Debug, Clone, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct QuietRow {
    pub user_id: Uuid,
    pub timezone: String,
    pub quiet_start: Option<String>,
    pub quiet_end: Option<String>,
    pub digest_at: Option<String>,
}

/// The message of a held notice, as rendered when it was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldMessage {
    pub title: String,
    pub body: String,
    /// The tags that pick the channel's URLs.
    pub tag: String,
    /// `info` or `warning`.
    pub warning: bool,
    /// The event's name, for a digest's list.
    pub event: String,
    /// Whether it was a change mailed with the event for the recipient's calendar
    /// (`invite.ics`): the release attaches the event as it is then (held before: `false`).
    #[serde(default)]
    pub calendar: bool,
}

/// A held ledger row, ready to be sent.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HeldRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub participant_id: Option<Uuid>,
    pub integration_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub hold_until: Option<DateTime<Utc>>,
    pub held: Option<Json<HeldMessage>>,
    pub created_at: DateTime<Utc>,
}

/// A digest and where it goes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DigestRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub integration_id: Option<Uuid>,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub due_at: DateTime<Utc>,
}

impl Db {
    /// A user's quiet hours and digest settings.
    #[instrument(skip_all)]
    pub async fn quiet_settings(&self, user_id: Uuid) -> Result<QuietRow, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT id AS user_id, timezone, quiet_start, quiet_end, digest_at FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(DbError::NotFound))
    }

    /// The settings of the participants of `event_id` who have quiet hours or a digest.
    #[instrument(skip_all)]
    pub async fn quiet_settings_in_event(&self, event_id: Uuid) -> Result<Vec<QuietRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT DISTINCT u.id AS user_id, u.timezone, u.quiet_start, u.quiet_end, u.digest_at
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND (u.quiet_start IS NOT NULL OR u.digest_at IS NOT NULL)",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The users going to (or maybe going to) `event_id` who have quiet hours.
    #[instrument(skip_all)]
    pub async fn quiet_attendees(&self, event_id: Uuid) -> Result<Vec<QuietRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT DISTINCT u.id AS user_id, u.timezone, u.quiet_start, u.quiet_end, u.digest_at
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND p.rsvp IN ('going', 'maybe') AND u.quiet_start IS NOT NULL",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Saves a user's quiet hours and digest time and, in the same transaction, asks the
    /// workflows of their events still to come to read their plans again (an outbox row each,
    /// with `refresh`): a reminder may now have to go earlier, or at its time again.
    #[instrument(skip_all)]
    pub async fn save_quiet_settings(
        &self,
        user_id: Uuid,
        quiet: Option<(&str, &str)>,
        digest_at: Option<&str>,
    ) -> Result<u64, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE users SET quiet_start = $2, quiet_end = $3, digest_at = $4, updated_at = $5 WHERE id = $1",
            )
            .bind(user_id)
            .bind(quiet.map(|q| q.0))
            .bind(quiet.map(|q| q.1))
            .bind(digest_at)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DbError::NotFound);
            }
            let refreshed = sqlx::query(
                super::outbox::refresh_plans_where!("p.user_id = $1"),
            )
            .bind(user_id)
            .bind(now)
            .bind(true)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(refreshed)
        })
    }

    /// Holds a pending ledger row until `until` with its message (`digest`: for the recipient's
    /// digest). A row already held or final is left as it is.
    #[instrument(skip_all)]
    pub async fn hold_notification(
        &self,
        id: Uuid,
        until: DateTime<Utc>,
        digest: bool,
        message: &HeldMessage,
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE notifications SET hold_until = $2, held_digest = $3, held = $4, updated_at = $5
             WHERE id = $1 AND status = 'pending' AND hold_until IS NULL",
        )
        .bind(id)
        .bind(until)
        .bind(digest)
        .bind(Json(message))
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// When the event's held rows are due, each time once (rows a digest has claimed excluded).
    #[instrument(skip_all)]
    pub async fn hold_times(&self, event_id: Uuid) -> Result<Vec<DateTime<Utc>>, DbError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT DISTINCT hold_until FROM notifications
             WHERE event_id = $1 AND status = 'pending' AND hold_until IS NOT NULL AND digest_id IS NULL
             ORDER BY hold_until",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The event's rows held alone (not for a digest) until `at`, final ones too (a retried
    /// release counts them), and pending ones held until earlier.
    #[instrument(skip_all)]
    pub async fn held_alone(&self, event_id: Uuid, at: DateTime<Utc>) -> Result<Vec<HeldRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT id, event_id, participant_id, integration_id, status, hold_until, held, created_at
             FROM notifications
             WHERE event_id = $1 AND hold_until IS NOT NULL AND hold_until <= $2 AND held_digest = $3
               AND (status = 'pending' OR hold_until = $2)
             ORDER BY created_at, id",
        )
        .bind(event_id)
        .bind(at)
        .bind(false)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Claims for `claimer` (one release of one event) the digests due at `at` of every
    /// recipient with rows of `event_id` held for their digest until then: in one transaction,
    /// one digest per person and channel (its key makes it once), gathering that person's held
    /// rows of every event. Rows another release already claimed are left to it.
    #[instrument(skip_all)]
    pub async fn claim_digests(
        &self,
        event_id: Uuid,
        at: DateTime<Utc>,
        claimer: &str,
    ) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let groups: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
                "SELECT DISTINCT p2.user_id, n2.integration_id
                 FROM notifications n JOIN event_participants p ON p.id = n.participant_id
                 JOIN event_participants p2 ON p2.user_id = p.user_id
                 JOIN notifications n2 ON n2.participant_id = p2.id
                 WHERE n.event_id = $1 AND n.held_digest = $3 AND n.digest_id IS NULL AND n.status = 'pending'
                   AND n.hold_until <= $2
                   AND n2.held_digest = $3 AND n2.digest_id IS NULL AND n2.status = 'pending'
                   AND n2.hold_until <= $2",
            )
            .bind(event_id)
            .bind(at)
            .bind(true)
            .fetch_all(&mut *tx)
            .await?;
            for (user_id, integration_id) in groups {
                let key = format!(
                    "digest:{user_id}:{}:{}",
                    at.timestamp(),
                    integration_id.map_or_else(|| "none".to_owned(), |i| i.to_string())
                );
                sqlx::query(
                    "INSERT INTO digests (id, user_id, integration_id, idempotency_key, claimed_by, status, due_at,
                        attempts, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 'pending', $6, 0, $7, $7)
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(user_id)
                .bind(integration_id)
                .bind(&key)
                .bind(claimer)
                .bind(at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE notifications SET digest_id = (SELECT id FROM digests WHERE idempotency_key = $1 AND claimed_by = $2),
                        updated_at = $6
                     WHERE held_digest = $5 AND digest_id IS NULL AND status = 'pending' AND hold_until <= $3
                       AND participant_id IN (SELECT id FROM event_participants WHERE user_id = $4)
                       AND (integration_id = $7 OR (integration_id IS NULL AND $7 IS NULL))
                       AND EXISTS (SELECT 1 FROM digests WHERE idempotency_key = $1 AND claimed_by = $2)",
                )
                .bind(&key)
                .bind(claimer)
                .bind(at)
                .bind(user_id)
                .bind(true)
                .bind(now)
                .bind(integration_id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// The digests `claimer` claimed, with the rows each gathers (oldest first).
    #[instrument(skip_all)]
    pub async fn claimed_digests(&self, claimer: &str) -> Result<Vec<(DigestRow, Vec<HeldRow>)>, DbError> {
        on_pool!(self, pool => {
            let digests: Vec<DigestRow> = sqlx::query_as(
                "SELECT id, user_id, integration_id, status, due_at FROM digests WHERE claimed_by = $1 ORDER BY id",
            )
            .bind(claimer)
            .fetch_all(pool)
            .await?;
            let mut out = Vec::with_capacity(digests.len());
            for d in digests {
                let rows: Vec<HeldRow> = sqlx::query_as(
                    "SELECT id, event_id, participant_id, integration_id, status, hold_until, held, created_at
                     FROM notifications WHERE digest_id = $1 ORDER BY created_at, id",
                )
                .bind(d.id)
                .fetch_all(pool)
                .await?;
                out.push((d, rows));
            }
            Ok(out)
        })
    }

    /// Records a digest's delivery attempt; a final outcome is also that of every notice it
    /// gathers, in the same transaction. `false` when there is no such digest.
    #[instrument(skip_all)]
    pub async fn record_digest(
        &self,
        id: Uuid,
        status: DeliveryStatus,
        apprise_status: Option<i64>,
        apprise_answer: Option<&str>,
    ) -> Result<bool, DbError> {
        let now = Utc::now();
        let sent_at = matches!(status, DeliveryStatus::Sent | DeliveryStatus::Partial).then_some(now);
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE digests SET status = $2, attempts = attempts + 1, apprise_status = $3, apprise_answer = $4,
                    sent_at = COALESCE(sent_at, $5), updated_at = $6 WHERE id = $1",
            )
            .bind(id)
            .bind(status.as_str())
            .bind(apprise_status)
            .bind(apprise_answer)
            .bind(sent_at)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done > 0 && status != DeliveryStatus::Pending {
                sqlx::query(
                    "UPDATE notifications SET status = $2, attempts = attempts + 1, apprise_status = $3,
                        apprise_answer = $4, sent_at = COALESCE(sent_at, $5), updated_at = $6
                     WHERE digest_id = $1 AND status = 'pending'",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(apprise_status)
                .bind(apprise_answer)
                .bind(sent_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(done > 0)
        })
    }

    /// Marks the event's held rows skipped with `why` (the event was cancelled: a cancellation
    /// went at once, and what was held no longer matters).
    #[instrument(skip_all)]
    pub async fn drop_held(&self, event_id: Uuid, why: &str) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE notifications SET status = 'skipped', apprise_answer = $2, updated_at = $3
             WHERE event_id = $1 AND status = 'pending' AND hold_until IS NOT NULL AND digest_id IS NULL",
        )
        .bind(event_id)
        .bind(why)
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }
}
