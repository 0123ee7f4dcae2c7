//! `notifications`: the delivery ledger, keyed by idempotency key so nothing is sent twice.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::models::{DeliveryStatus, NoticeKind, Notification};
use super::{Db, DbError, on_pool};

/// A notice about to be delivered to one participant through one integration.
#[derive(Debug, Clone)]
pub struct PlannedNotice<'a> {
    pub event_id: Uuid,
    pub participant_id: Uuid,
    /// `None` when the participant has no channel (the row records that nothing could go).
    pub integration_id: Option<Uuid>,
    pub kind: NoticeKind,
    pub idempotency_key: &'a str,
    pub due_at: DateTime<Utc>,
}

impl Db {
    /// Records a pending notice unless its key is already in the ledger; returns the ledger row
    /// either way, so a retried activity sees what an earlier attempt did.
    #[instrument(skip_all)]
    pub async fn plan_notification(&self, notice: &PlannedNotice<'_>) -> Result<Notification, DbError> {
        let mut rows = self.plan_notifications(std::slice::from_ref(notice)).await?;
        rows.pop().ok_or(DbError::NotFound)
    }

    /// [`Db::plan_notification`] for a whole batch in one write transaction (a `deliver`
    /// activity plans up to 250 at once): the ledger rows in the order of `notices`.
    #[instrument(skip_all)]
    pub async fn plan_notifications(
        &self,
        notices: &[PlannedNotice<'_>],
    ) -> Result<Vec<Notification>, DbError> {
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut rows = Vec::with_capacity(notices.len());
            for notice in notices {
                sqlx::query(
                    "INSERT INTO notifications (id, event_id, participant_id, integration_id, kind, idempotency_key,
                        status, due_at, attempts, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0, $8, $8)
                     ON CONFLICT (idempotency_key) DO NOTHING",
                )
                .bind(Uuid::new_v4())
                .bind(notice.event_id)
                .bind(notice.participant_id)
                .bind(notice.integration_id)
                .bind(notice.kind.as_str())
                .bind(notice.idempotency_key)
                .bind(notice.due_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let row: Notification = sqlx::query_as("SELECT * FROM notifications WHERE idempotency_key = $1")
                    .bind(notice.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await?;
                rows.push(row);
            }
            tx.commit().await?;
            Ok(rows)
        })
    }

    /// Records the outcome of a delivery attempt.
    #[instrument(skip_all)]
    pub async fn record_delivery(
        &self,
        id: Uuid,
        status: DeliveryStatus,
        apprise_status: Option<i64>,
        apprise_answer: Option<&str>,
    ) -> Result<Notification, DbError> {
        let now = Utc::now();
        let sent_at = matches!(status, DeliveryStatus::Sent | DeliveryStatus::Partial).then_some(now);
        on_pool!(self, pool => sqlx::query_as(
            "UPDATE notifications SET status = $2, attempts = attempts + 1, apprise_status = $3, apprise_answer = $4,
                sent_at = COALESCE(sent_at, $5), updated_at = $6
             WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(apprise_status)
        .bind(apprise_answer)
        .bind(sent_at)
        .bind(now)
        .fetch_optional(pool)
        .await?
        .ok_or(DbError::NotFound))
    }

    /// The event's ledger, by due time.
    #[instrument(skip_all)]
    pub async fn notifications_for_event(&self, event_id: Uuid) -> Result<Vec<Notification>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM notifications WHERE event_id = $1 ORDER BY due_at, created_at",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}
