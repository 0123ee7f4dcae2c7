//! `users`, `sessions` and `api_tokens`.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::models::{ApiToken, Session, User};
use super::{Db, DbError, on_pool};

/// A working token's owner ([`Db::live_api_token_user`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenUser {
    #[sqlx(flatten)]
    pub user: User,
    pub token_id: Uuid,
    pub token_last_used_at: Option<DateTime<Utc>>,
}

/// What it takes to create a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Lower-cased address.
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub timezone: &'a str,
    pub verified: bool,
}

impl Db {
    /// Creates a user. A taken address is [`DbError::Conflict`].
    #[instrument(skip_all)]
    pub async fn create_user(&self, new: &NewUser<'_>) -> Result<User, DbError> {
        let now = Utc::now();
        let verified_at = new.verified.then_some(now);
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO users (id, email, display_name, password_hash, verified_at, timezone, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(new.email)
        .bind(new.display_name)
        .bind(new.password_hash)
        .bind(verified_at)
        .bind(new.timezone)
        .bind(now), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// The user with this (lower-cased) address.
    #[instrument(skip_all)]
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The user with this id.
    #[instrument(skip_all)]
    pub async fn user_by_id(&self, id: Uuid) -> Result<Option<User>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Marks the address as verified (keeps the first verification time), and in the same
    /// transaction links the event invitations sent to this address to the user: they become
    /// the user's participations. This is the one place every verification path (mailed link,
    /// password reset, accepted invitation) goes through, and only a proven address is matched,
    /// so nobody gets someone else's invitations by signing up with their address.
    #[instrument(skip_all)]
    pub async fn mark_user_verified(&self, id: Uuid) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE users SET verified_at = COALESCE(verified_at, $2), updated_at = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DbError::NotFound);
            }
            // An invitation to an event the user already takes part in is redundant.
            sqlx::query(
                "DELETE FROM event_participants WHERE user_id IS NULL
                   AND invited_email = (SELECT email FROM users WHERE id = $1)
                   AND event_id IN (SELECT event_id FROM event_participants WHERE user_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            let linked = sqlx::query(
                "UPDATE event_participants SET user_id = $1, invited_email = NULL, updated_at = $2
                 WHERE user_id IS NULL AND invited_email = (SELECT email FROM users WHERE id = $1)",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            if linked > 0 {
                tracing::info!(user_id = %id, linked, "event invitations linked to the verified user");
            }
            Ok(())
        })
    }

    /// Stores a session under the hash of its cookie value.
    #[instrument(skip_all)]
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: Uuid,
        expires_at: DateTime<Utc>,
    ) -> Result<Session, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO sessions (id, user_id, data, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5) RETURNING *",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(Json(serde_json::json!({})))
        .bind(now)
        .bind(expires_at), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// The unexpired session with this hash.
    #[instrument(skip_all)]
    pub async fn session(&self, id_hash: &str) -> Result<Option<Session>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id_hash)
            .bind(Utc::now())
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Ends a session.
    #[instrument(skip_all)]
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id_hash))
            .await
            .map(|_| ())
            .map_err(DbError::from))
    }

    /// Stores a new API token's hash (a token that never expires).
    #[instrument(skip_all)]
    pub async fn create_api_token(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken, DbError> {
        self.create_api_token_until(user_id, name, token_hash, None).await
    }

    /// Stores a new API token's hash; it stops working at `expires_at` (`None`: never).
    #[instrument(skip_all)]
    pub async fn create_api_token_until(
        &self,
        user_id: Uuid,
        name: &str,
        token_hash: &str,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiToken, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(user_id)
        .bind(name)
        .bind(token_hash)
        .bind(Utc::now())
        .bind(expires_at), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// How many of the user's tokens still work.
    #[instrument(skip_all)]
    pub async fn active_api_token_count(&self, user_id: Uuid) -> Result<i64, DbError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(user_id)
        .bind(Utc::now())
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// Revokes every token of the user that still works; returns how many.
    #[instrument(skip_all)]
    pub async fn revoke_all_api_tokens(&self, user_id: Uuid) -> Result<u64, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(user_id)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected())
        .map_err(DbError::from))
    }

    /// The unrevoked, unexpired token with this hash (a read: see [`Db::note_api_token_use`]).
    #[instrument(skip_all)]
    pub async fn live_api_token(&self, token_hash: &str) -> Result<Option<ApiToken>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(Utc::now())
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// The owner of a working token (not revoked, not expired) with the token's id and last
    /// use, in one query: a bearer request checks its token with this single read.
    #[instrument(skip_all)]
    pub async fn live_api_token_user(&self, token_hash: &str) -> Result<Option<TokenUser>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT u.*, t.id AS token_id, t.last_used_at AS token_last_used_at
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
        )
        .bind(token_hash)
        .bind(Utc::now())
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Records that token `id` was used at `at`, unless a use at or after `unless_since` is
    /// already recorded (so concurrent requests, in any process, write at most once).
    #[instrument(skip_all)]
    pub async fn note_api_token_use(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        unless_since: DateTime<Utc>,
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(id)
        .bind(at)
        .bind(unless_since))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// The user's API tokens, newest first (revoked ones included, so the list shows them).
    #[instrument(skip_all)]
    pub async fn api_tokens_of(&self, user_id: Uuid) -> Result<Vec<ApiToken>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, name",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// One of the user's API tokens; another user's token is [`DbError::NotFound`].
    #[instrument(skip_all)]
    pub async fn api_token_of(&self, user_id: Uuid, token_id: Uuid) -> Result<ApiToken, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))?
        .ok_or(DbError::NotFound)
    }

    /// Revokes one of the user's tokens (revoking a revoked token again changes nothing);
    /// another user's token is [`DbError::NotFound`].
    #[instrument(skip_all)]
    pub async fn revoke_api_token(&self, user_id: Uuid, token_id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2",
        )
        .bind(token_id)
        .bind(user_id)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// How many sessions `user_id` has open (not yet expired).
    #[instrument(skip_all)]
    pub async fn session_count(&self, user_id: Uuid) -> Result<i64, DbError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
            .bind(user_id)
            .bind(Utc::now())
            .fetch_one(pool)
            .await
            .map_err(DbError::from))
    }

    /// Deletes the user; their sessions, API tokens, memberships, participations, calendar feed
    /// and integrations go with them (foreign keys). A user already gone is [`DbError::NotFound`].
    #[instrument(skip_all, fields(%user_id))]
    pub async fn delete_user(&self, user_id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }
    /// Forgets the address `email` of a deleted account: writes `replacement` for it in the
    /// activity entries, and deletes the invitations, guest answers, pending event invitations
    /// and failed sign-ins that hold it.
    #[instrument(skip_all)]
    pub async fn forget_address(&self, email: &str, replacement: &str) -> Result<(), DbError> {
        let subject = format!("email:{email}");
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE audit_log SET subject = REPLACE(subject, $1, $2), detail = REPLACE(detail, $1, $2)
                 WHERE subject <> REPLACE(subject, $1, $2) OR detail <> REPLACE(detail, $1, $2)",
            )
            .bind(email)
            .bind(replacement)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM invitations WHERE email = $1").bind(email).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM guest_answers WHERE email = $1").bind(email).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM event_participants WHERE invited_email = $1 AND user_id IS NULL")
                .bind(email)
                .execute(&mut *tx)
                .await?;
            // Subjects are `email:<address>` or `email:<address>|ip:<client>`.
            let prefix = format!("{subject}|");
            sqlx::query("DELETE FROM sign_in_failures WHERE subject = $1 OR substr(subject, 1, $3) = $2")
                .bind(&subject)
                .bind(&prefix)
                .bind(i32::try_from(prefix.chars().count()).unwrap_or(i32::MAX))
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map_err(DbError::from)
        })
    }
}
