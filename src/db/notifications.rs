//! `notifications`: the delivery ledger, keyed by idempotency key so nothing is sent twice.

use std::collections::HashMap;

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

/// Notices per insert statement of [`Db::plan_notifications`]: 11 values each, well under
/// SQLite's 32,766 and Postgres' 65,535 bound parameters.
pub const PLAN_CHUNK: usize = 500;

/// The outcome of one delivery attempt ([`Db::record_deliveries`]).
#[derive(Debug, Clone)]
pub struct DeliveryOutcome<'a> {
    pub id: Uuid,
    pub status: DeliveryStatus,
    pub apprise_status: Option<i64>,
    pub apprise_answer: Option<&'a str>,
}

/// What [`Db::claim_and_record`] did.
#[derive(Debug, Clone, Default)]
pub struct Claimed {
    /// The claimed rows this attempt may send.
    pub granted: Vec<Uuid>,
    /// Outcomes' ids that name no ledger row (a digest's).
    pub missing: Vec<Uuid>,
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
    /// activity plans up to 250 at once): the ledger rows in the order of `notices`. Two
    /// statements per chunk of [`PLAN_CHUNK`] notices (one multi-row insert, one select),
    /// not two per notice.
    #[instrument(skip_all)]
    pub async fn plan_notifications(
        &self,
        notices: &[PlannedNotice<'_>],
    ) -> Result<Vec<Notification>, DbError> {
        if notices.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let mut found: HashMap<String, Notification> = HashMap::with_capacity(notices.len());
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            for chunk in notices.chunks(PLAN_CHUNK) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO notifications (id, event_id, participant_id, integration_id, kind, idempotency_key,
                        status, due_at, attempts, created_at, updated_at) ",
                );
                insert.push_values(chunk, |mut row, notice| {
                    row.push_bind(Uuid::new_v4())
                        .push_bind(notice.event_id)
                        .push_bind(notice.participant_id)
                        .push_bind(notice.integration_id)
                        .push_bind(notice.kind.as_str())
                        .push_bind(notice.idempotency_key)
                        .push("'pending'")
                        .push_bind(notice.due_at)
                        .push("0")
                        .push_bind(now)
                        .push_bind(now);
                });
                insert.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                insert.build().execute(&mut *tx).await?;
                let mut select = sqlx::QueryBuilder::new("SELECT * FROM notifications WHERE idempotency_key IN (");
                let mut keys = select.separated(", ");
                for notice in chunk {
                    keys.push_bind(notice.idempotency_key);
                }
                select.push(")");
                let rows: Vec<Notification> = select.build_query_as().fetch_all(&mut *tx).await?;
                found.extend(rows.into_iter().map(|row| (row.idempotency_key.clone(), row)));
            }
            tx.commit().await?;
        });
        notices.iter().map(|n| found.get(n.idempotency_key).cloned().ok_or(DbError::NotFound)).collect()
    }

    /// Records the outcomes of several delivery attempts in one write transaction (what
    /// [`Db::record_delivery`] does for one, without reading the rows back). Returns the ids that
    /// name no ledger row (a digest's, which the caller records as such).
    #[instrument(skip_all, fields(n = outcomes.len()))]
    pub async fn record_deliveries(&self, outcomes: &[DeliveryOutcome<'_>]) -> Result<Vec<Uuid>, DbError> {
        Ok(self.claim_and_record(Uuid::nil(), &[], outcomes).await?.missing)
    }

    /// Records `outcomes` (each releases its row's claim) and claims the rows `claims` for the
    /// sending attempt `token`, in one write transaction. A row is claimed only while it is
    /// pending and unclaimed (or already this attempt's): so two attempts never both send it.
    /// Ids of `claims` naming no ledger row (a digest's, which has its own claim) are granted.
    #[instrument(skip_all, fields(claims = claims.len(), outcomes = outcomes.len()))]
    pub async fn claim_and_record(
        &self,
        token: Uuid,
        claims: &[Uuid],
        outcomes: &[DeliveryOutcome<'_>],
    ) -> Result<Claimed, DbError> {
        let mut missing = Vec::new();
        let mut granted = Vec::new();
        if outcomes.is_empty() && claims.is_empty() {
            return Ok(Claimed { granted, missing });
        }
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            if !claims.is_empty() {
                let mut claim = sqlx::QueryBuilder::new("UPDATE notifications SET sending_token = ");
                claim.push_bind(token).push(", sending_at = ").push_bind(now).push(" WHERE id IN (");
                let mut ids = claim.separated(", ");
                for id in claims {
                    ids.push_bind(*id);
                }
                claim
                    .push(") AND status = 'pending' AND (sending_token IS NULL OR sending_token = ")
                    .push_bind(token)
                    .push(") RETURNING id");
                granted = claim.build_query_scalar::<Uuid>().fetch_all(&mut *tx).await?;
                let refused: Vec<Uuid> = claims.iter().copied().filter(|id| !granted.contains(id)).collect();
                if !refused.is_empty() {
                    let mut known = sqlx::QueryBuilder::new("SELECT id FROM notifications WHERE id IN (");
                    let mut ids = known.separated(", ");
                    for id in &refused {
                        ids.push_bind(*id);
                    }
                    known.push(")");
                    let known: Vec<Uuid> = known.build_query_scalar().fetch_all(&mut *tx).await?;
                    granted.extend(refused.into_iter().filter(|id| !known.contains(id)));
                }
            }
            for o in outcomes {
                let sent_at = matches!(o.status, DeliveryStatus::Sent | DeliveryStatus::Partial).then_some(now);
                let done = sqlx::query(
                    "UPDATE notifications SET status = $2, attempts = attempts + 1, apprise_status = $3, apprise_answer = $4,
                        sent_at = COALESCE(sent_at, $5), updated_at = $6, sending_token = NULL, sending_at = NULL
                     WHERE id = $1",
                )
                .bind(o.id)
                .bind(o.status.as_str())
                .bind(o.apprise_status)
                .bind(o.apprise_answer)
                .bind(sent_at)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    missing.push(o.id);
                }
            }
            tx.commit().await?;
        });
        Ok(Claimed { granted, missing })
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
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE notifications SET status = $2, attempts = attempts + 1, apprise_status = $3, apprise_answer = $4,
                sent_at = COALESCE(sent_at, $5), updated_at = $6, sending_token = NULL, sending_at = NULL
             WHERE id = $1 RETURNING *",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(apprise_status)
        .bind(apprise_answer)
        .bind(sent_at)
        .bind(now), fetch_optional)
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
