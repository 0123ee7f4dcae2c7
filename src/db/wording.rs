//! Organizations' own wording of notices (`notice_templates`).

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::models::NoticeKind;
use super::{Db, DbError, on_pool};

/// An organization's subject and body templates for one kind of notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoticeTemplate {
    pub org_id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub updated_at: DateTime<Utc>,
}

impl Db {
    /// The organization's own templates (none: the default wording everywhere).
    #[instrument(skip_all)]
    pub async fn notice_templates(&self, org_id: Uuid) -> Result<Vec<NoticeTemplate>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM notice_templates WHERE org_id = $1 ORDER BY kind")
            .bind(org_id)
            .fetch_all(pool)
            .await
            .map_err(DbError::from))
    }

    /// The organization's template for `kind`, if it wrote one.
    #[instrument(skip_all)]
    pub async fn notice_template(
        &self,
        org_id: Uuid,
        kind: NoticeKind,
    ) -> Result<Option<NoticeTemplate>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM notice_templates WHERE org_id = $1 AND kind = $2")
            .bind(org_id)
            .bind(kind.as_str())
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Stores (or replaces) the organization's template for `kind`.
    #[instrument(skip_all)]
    pub async fn save_notice_template(
        &self,
        org_id: Uuid,
        kind: NoticeKind,
        subject: &str,
        body: &str,
    ) -> Result<NoticeTemplate, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            super::write_one!(pool, sqlx::query(
                "INSERT INTO notice_templates (org_id, kind, subject, body, updated_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (org_id, kind) DO UPDATE SET subject = $3, body = $4, updated_at = $5",
            )
            .bind(org_id)
            .bind(kind.as_str())
            .bind(subject)
            .bind(body)
            .bind(now))
            .await?;
            sqlx::query_as("SELECT * FROM notice_templates WHERE org_id = $1 AND kind = $2")
                .bind(org_id)
                .bind(kind.as_str())
                .fetch_one(pool)
                .await
                .map_err(DbError::from)
        })
    }

    /// Goes back to the default wording for `kind`; whether there was a template of its own.
    #[instrument(skip_all)]
    pub async fn delete_notice_template(&self, org_id: Uuid, kind: NoticeKind) -> Result<bool, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM notice_templates WHERE org_id = $1 AND kind = $2")
            .bind(org_id)
            .bind(kind.as_str()))
            .await
            .map(|r| r.rows_affected() > 0)
            .map_err(DbError::from))
    }
}
