//! What an organization's report counts: answers, deliveries and reminder lateness of its
//! events over a recent window. Rows are bounded ([`REPORT_ROW_LIMIT`]); the service buckets them.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::{Db, DbError, on_pool};

/// At most this many rows are read for one chart.
pub const REPORT_ROW_LIMIT: i64 = 100_000;

/// A participant's answer (going, maybe or declined) and when it was last changed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerRow {
    pub rsvp: String,
    pub updated_at: DateTime<Utc>,
}

/// How many ledger rows have this status and channel kind (`none`: no channel).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryCount {
    pub status: String,
    pub channel_kind: String,
    pub count: i64,
}

/// When a sent reminder was due and when it went.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatenessRow {
    pub due_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
}

impl Db {
    /// Answers (not pending) to the organization's events changed since `since`.
    #[instrument(skip_all)]
    pub async fn report_answers(
        &self,
        org_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<AnswerRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT p.rsvp, p.updated_at
             FROM event_participants p JOIN events e ON e.id = p.event_id
             WHERE e.org_id = $1 AND p.rsvp IN ('going', 'maybe', 'declined') AND p.updated_at >= $2
             ORDER BY p.updated_at LIMIT $3",
        )
        .bind(org_id)
        .bind(since)
        .bind(REPORT_ROW_LIMIT)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The organization's ledger rows due since `since`, counted by status and channel kind.
    #[instrument(skip_all)]
    pub async fn report_deliveries(
        &self,
        org_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<DeliveryCount>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT n.status, COALESCE(i.kind, 'none') AS channel_kind, COUNT(*) AS count
             FROM notifications n JOIN events e ON e.id = n.event_id
             LEFT JOIN integrations i ON i.id = n.integration_id
             WHERE e.org_id = $1 AND n.due_at >= $2
             GROUP BY n.status, COALESCE(i.kind, 'none')",
        )
        .bind(org_id)
        .bind(since)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Due and sent times of the organization's reminders sent (fully or partly) since `since`.
    #[instrument(skip_all)]
    pub async fn report_lateness(
        &self,
        org_id: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<LatenessRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT n.due_at, n.sent_at
             FROM notifications n JOIN events e ON e.id = n.event_id
             WHERE e.org_id = $1 AND n.kind = 'reminder' AND n.status IN ('sent', 'partial')
               AND n.sent_at IS NOT NULL AND n.sent_at >= $2
             ORDER BY n.sent_at LIMIT $3",
        )
        .bind(org_id)
        .bind(since)
        .bind(REPORT_ROW_LIMIT)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}
