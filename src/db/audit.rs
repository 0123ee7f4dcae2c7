//! `audit_log`, and the retention pruning of old rows across tables.

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::{Db, DbError, on_pool};

/// One entry of an organization's activity, with the actor's name and address when known.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEntry {
    /// Increasing with each entry.
    pub id: i64,
    /// Who did it (`None` when the account is gone).
    pub actor_user_id: Option<Uuid>,
    /// The actor's display name.
    pub actor_name: Option<String>,
    /// The actor's address.
    pub actor_email: Option<String>,
    /// What was done (`event.created`, `member.removed`, …).
    pub action: String,
    /// A short label of what it was done to.
    pub subject: String,
    /// A short detail (a role, a count), never a secret.
    pub detail: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Rows to prune in one statement: small, so the database is never locked for long.
pub const PRUNE_BATCH: i64 = 500;

impl Db {
    /// Records an entry of the organization's activity.
    #[instrument(skip_all)]
    pub async fn record_audit(
        &self,
        org_id: Uuid,
        actor: Option<Uuid>,
        action: &str,
        subject: &str,
        detail: Option<&str>,
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "INSERT INTO audit_log (org_id, actor_user_id, action, subject, detail, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(org_id)
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(detail)
        .bind(Utc::now())
        )
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// The organization's entries, newest first, older than `before` (`(created_at, id)` of the
    /// last entry of the previous page).
    #[instrument(skip_all)]
    pub async fn audit_page(
        &self,
        org_id: Uuid,
        before: Option<(DateTime<Utc>, i64)>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, DbError> {
        const SELECT: &str =
            "SELECT a.id, a.actor_user_id, u.display_name AS actor_name, u.email AS actor_email,
                a.action, a.subject, a.detail, a.created_at
             FROM audit_log a LEFT JOIN users u ON u.id = a.actor_user_id
             WHERE a.org_id = $1";
        on_pool!(self, pool => match before {
            Some((at, id)) => sqlx::query_as(&format!(
                "{SELECT} AND (a.created_at < $2 OR (a.created_at = $2 AND a.id < $3))
                 ORDER BY a.created_at DESC, a.id DESC LIMIT $4"
            ))
            .bind(org_id)
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(pool)
            .await,
            None => sqlx::query_as(&format!("{SELECT} ORDER BY a.created_at DESC, a.id DESC LIMIT $2"))
                .bind(org_id)
                .bind(limit)
                .fetch_all(pool)
                .await,
        }
        .map_err(DbError::from))
    }

    /// Deletes, [`PRUNE_BATCH`] rows at a time, what `select` (a `SELECT <key> FROM … WHERE …
    /// LIMIT $2` with `$1` the cutoff) finds; `key` names the columns `select` returns. Returns
    /// how many rows went.
    async fn prune_batches(
        &self,
        table: &str,
        key: &str,
        select: &str,
        cutoff: DateTime<Utc>,
    ) -> Result<u64, DbError> {
        let sql = format!("DELETE FROM {table} WHERE {key} IN ({select})");
        let mut total = 0;
        loop {
            let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(&sql)
                .bind(cutoff)
                .bind(PRUNE_BATCH))
                .await
                .map(|r| r.rows_affected()))?;
            total += done;
            if done < PRUNE_BATCH as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }

    /// Sessions that expired before `now`.
    #[instrument(skip_all)]
    pub async fn prune_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbError> {
        self.prune_batches("sessions", "id", "SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2", now)
            .await
    }

    /// API tokens revoked or expired before `cutoff`.
    #[instrument(skip_all)]
    pub async fn prune_api_tokens(&self, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        self.prune_batches(
            "api_tokens",
            "id",
            "SELECT id FROM api_tokens WHERE revoked_at < $1 OR expires_at < $1 LIMIT $2",
            cutoff,
        )
        .await
    }

    /// Idempotency keys stored before `cutoff`.
    #[instrument(skip_all)]
    pub async fn prune_idempotency_keys(&self, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        self.prune_batches(
            "idempotency_keys",
            "(user_id, key)",
            "SELECT user_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2",
            cutoff,
        )
        .await
    }

    /// Verification and password-reset links, and guest-answer links, that expired before
    /// `cutoff` (used ones expire too: a used link stays until its time is up).
    #[instrument(skip_all)]
    pub async fn prune_mailed_links(&self, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        let auth = self
            .prune_batches(
                "auth_tokens",
                "token_hash",
                "SELECT token_hash FROM auth_tokens WHERE expires_at < $1 LIMIT $2",
                cutoff,
            )
            .await?;
        let guests = self
            .prune_batches(
                "guest_answers",
                "id",
                "SELECT id FROM guest_answers WHERE expires_at < $1 LIMIT $2",
                cutoff,
            )
            .await?;
        Ok(auth + guests)
    }

    /// Delivery-ledger rows of events that ended before `cutoff`.
    #[instrument(skip_all)]
    pub async fn prune_ledger(&self, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        self.prune_batches(
            "notifications",
            "id",
            "SELECT n.id FROM notifications n JOIN events e ON e.id = n.event_id WHERE e.ends_at < $1 LIMIT $2",
            cutoff,
        )
        .await
    }

    /// Audit entries recorded before `cutoff`.
    #[instrument(skip_all)]
    pub async fn prune_audit(&self, cutoff: DateTime<Utc>) -> Result<u64, DbError> {
        self.prune_batches(
            "audit_log",
            "id",
            "SELECT id FROM audit_log WHERE created_at < $1 LIMIT $2",
            cutoff,
        )
        .await
    }
}
