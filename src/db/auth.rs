//! `auth_tokens` (single-use mailed links) and `sign_in_failures` (throttling).

use chrono::{DateTime, Utc};
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::{Db, DbError, on_pool};

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Proves the user owns the address.
    VerifyEmail,
    /// Lets the user choose a new password.
    ResetPassword,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

impl Db {
    /// Stores a link's hash; earlier unused links of the same purpose stop working.
    #[instrument(skip_all)]
    pub async fn create_auth_token(
        &self,
        user_id: Uuid,
        purpose: TokenPurpose,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("UPDATE auth_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
                .bind(user_id)
                .bind(purpose.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO auth_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(purpose.as_str())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Uses a link once: the user it belongs to, or `None` when unknown, used or expired.
    #[instrument(skip_all)]
    pub async fn consume_auth_token(
        &self,
        purpose: TokenPurpose,
        token_hash: &str,
    ) -> Result<Option<Uuid>, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_scalar(
            "UPDATE auth_tokens SET used_at = $3
             WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(Utc::now()), fetch_optional)
        .await
        .map_err(DbError::from))
    }

    /// Whether a link is currently usable, without using it (to show the reset form).
    #[instrument(skip_all)]
    pub async fn auth_token_valid(&self, purpose: TokenPurpose, token_hash: &str) -> Result<bool, DbError> {
        let n: i64 = on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM auth_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(Utc::now())
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// Records a failed sign-in for each subject (`email:…`, `ip:…`).
    #[instrument(skip_all)]
    pub async fn record_sign_in_failure(&self, subjects: &[String]) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            for subject in subjects {
                super::write_one!(pool, sqlx::query("INSERT INTO sign_in_failures (subject, failed_at) VALUES ($1, $2)")
                    .bind(subject)
                    .bind(now))
                .await?;
            }
            Ok(())
        })
    }

    /// Claims a sign-in attempt for `subject`: inserts (and commits) a row, then counts the
    /// subject's rows since `since`, its own included. Returns the row's id and the count.
    #[instrument(skip_all)]
    pub async fn claim_sign_in_attempt(
        &self,
        subject: &str,
        since: DateTime<Utc>,
    ) -> Result<(i64, i64), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let id: i64 = super::write_one!(pool, sqlx::query_scalar(
                "INSERT INTO sign_in_failures (subject, failed_at) VALUES ($1, $2) RETURNING id",
            )
            .bind(subject)
            .bind(now), fetch_one)
            .await?;
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE subject = $1 AND failed_at > $2")
                    .bind(subject)
                    .bind(since)
                    .fetch_one(pool)
                    .await?;
            Ok((id, count))
        })
    }

    /// Removes claimed attempt rows (a success, or an attempt refused before any check).
    #[instrument(skip_all)]
    pub async fn release_sign_in_claims(&self, ids: &[i64]) -> Result<(), DbError> {
        on_pool!(self, pool => {
            for id in ids {
                super::write_one!(pool, sqlx::query("DELETE FROM sign_in_failures WHERE id = $1").bind(id)).await?;
            }
            Ok(())
        })
    }

    /// Forgets the failures of `subject` (after a successful sign-in) and any older than `before`.
    #[instrument(skip_all)]
    pub async fn clear_sign_in_failures(&self, subject: &str, before: DateTime<Utc>) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1 OR failed_at < $2")
            .bind(subject)
            .bind(before))
            .await
            .map(|_| ())
            .map_err(DbError::from))
    }

    /// Sets a new password hash and ends every session of the user.
    #[instrument(skip_all)]
    pub async fn set_password(&self, user_id: Uuid, password_hash: &str) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let n = sqlx::query("UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1")
                .bind(user_id)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(DbError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Updates the user's preferences.
    #[instrument(skip_all)]
    pub async fn update_preferences(
        &self,
        user_id: Uuid,
        display_name: &str,
        timezone: &str,
        date_format: &str,
    ) -> Result<(), DbError> {
        let n = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE users SET display_name = $2, timezone = $3, date_format = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(user_id)
        .bind(display_name)
        .bind(timezone)
        .bind(date_format)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if n == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }
}
