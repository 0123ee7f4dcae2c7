//! `integrations`: a user's Apprise configs, stored encrypted under a random key, with their
//! confirmation codes; and each user's default tags (`users.reminder_tags`, `users.urgent_tags`).
//!
//! Every function but [`Db::all_integrations`] (for operator commands) and the confirmation
//! helpers (called after an owner-scoped lookup) takes the owner and never touches another
//! user's row.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::models::Integration;
use super::{Db, DbError, on_pool};

/// Where an integration's confirmation stands (only a hash of the code is stored).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Confirmation {
    /// HMAC of the code waiting to be entered, if any.
    #[sqlx(rename = "confirm_code_hash")]
    pub code_hash: Option<String>,
    /// When that code stops working.
    #[sqlx(rename = "confirm_expires_at")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Wrong codes entered since it was sent.
    #[sqlx(rename = "confirm_attempts")]
    pub attempts: i64,
    /// When the last code was sent.
    #[sqlx(rename = "confirm_sent_at")]
    pub sent_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct Defaults {
    reminder_tags: Json<Vec<String>>,
    urgent_tags: Json<Vec<String>>,
}

impl Db {
    /// Stores a new integration (unconfirmed, enabled) under a fresh id.
    #[instrument(skip_all)]
    pub async fn create_integration(
        &self,
        user_id: Uuid,
        name: &str,
        config_key: &str,
        config_ciphertext: &[u8],
        tags: &[String],
    ) -> Result<Integration, DbError> {
        self.insert_integration(Uuid::new_v4(), user_id, name, config_key, config_ciphertext, tags).await
    }

    /// Stores a new integration (unconfirmed, enabled) under `id` (the ciphertext is bound to it).
    #[instrument(skip_all, fields(%id))]
    pub async fn insert_integration(
        &self,
        id: Uuid,
        user_id: Uuid,
        name: &str,
        config_key: &str,
        config_ciphertext: &[u8],
        tags: &[String],
    ) -> Result<Integration, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO integrations (id, user_id, name, config_key, config_ciphertext, tags, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7) RETURNING *",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(config_key)
        .bind(config_ciphertext)
        .bind(Json(tags))
        .bind(Utc::now()), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// Stores the built-in email channel of `user_id`, confirmed (the address is verified).
    /// [`DbError::Conflict`] when the user has one already.
    #[instrument(skip_all)]
    pub async fn insert_email_integration(
        &self,
        id: Uuid,
        user_id: Uuid,
        name: &str,
        config_key: &str,
        config_ciphertext: &[u8],
        tags: &[String],
    ) -> Result<Integration, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO integrations (id, user_id, name, config_key, config_ciphertext, tags, enabled, verified_at, created_at, updated_at, kind)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7, $7, 'email') RETURNING *",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(config_key)
        .bind(config_ciphertext)
        .bind(Json(tags))
        .bind(now), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// The built-in email channel of `user_id`, if it has one.
    #[instrument(skip_all)]
    pub async fn email_integration_of(&self, user_id: Uuid) -> Result<Option<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE user_id = $1 AND kind = 'email'")
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Replaces the stored config of the built-in email channel `id` (the operator changed the
    /// mail URL); it stays confirmed.
    #[instrument(skip_all, fields(%id))]
    pub async fn replace_email_config(&self, id: Uuid, config_ciphertext: &[u8]) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET config_ciphertext = $2, updated_at = $3 WHERE id = $1 AND kind = 'email'",
        )
        .bind(id)
        .bind(config_ciphertext)
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Verified users without a built-in email channel, up to `limit`.
    #[instrument(skip_all)]
    pub async fn verified_users_without_email_channel(
        &self,
        limit: i64,
    ) -> Result<Vec<super::models::User>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT u.* FROM users u WHERE u.verified_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM integrations i WHERE i.user_id = u.id AND i.kind = 'email')
             ORDER BY u.created_at, u.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The user's integrations, by name. Scoped: never returns another user's.
    #[instrument(skip_all)]
    pub async fn integrations_of(&self, user_id: Uuid) -> Result<Vec<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE user_id = $1 ORDER BY name, id")
            .bind(user_id)
            .fetch_all(pool)
            .await
            .map_err(DbError::from))
    }

    /// One of the user's integrations; another user's is `None`.
    #[instrument(skip_all)]
    pub async fn integration_of(&self, user_id: Uuid, id: Uuid) -> Result<Option<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The user's integration called `name`, if any.
    #[instrument(skip_all)]
    pub async fn integration_named(&self, user_id: Uuid, name: &str) -> Result<Option<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE user_id = $1 AND name = $2")
            .bind(user_id)
            .bind(name)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// An integration by id, whoever owns it: for the workflow's deliveries only, which have
    /// already resolved the owner.
    #[instrument(skip_all)]
    pub async fn integration_by_id(&self, id: Uuid) -> Result<Option<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Every integration of every user, oldest first: for operator commands only.
    #[instrument(skip_all)]
    pub async fn all_integrations(&self) -> Result<Vec<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations ORDER BY created_at, id")
            .fetch_all(pool)
            .await
            .map_err(DbError::from))
    }

    /// Replaces an integration's stored config key `old` by `new` (the same key, sealed); false
    /// when it changed meanwhile.
    #[instrument(skip_all, fields(%id))]
    pub async fn replace_config_key(&self, id: Uuid, old: &str, new: &str) -> Result<bool, DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET config_key = $3 WHERE id = $1 AND config_key = $2",
        )
        .bind(id)
        .bind(old)
        .bind(new))
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// Replaces the config of one of the user's integrations; it becomes unconfirmed again.
    #[instrument(skip_all, fields(%id))]
    pub async fn replace_integration_config(
        &self,
        user_id: Uuid,
        id: Uuid,
        config_ciphertext: &[u8],
        tags: &[String],
    ) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET config_ciphertext = $3, tags = $4, verified_at = NULL,
                    confirm_code_hash = NULL, confirm_expires_at = NULL, confirm_attempts = 0, updated_at = $5
             WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .bind(config_ciphertext)
        .bind(Json(tags))
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Renames one of the user's integrations; a name the user already uses is a conflict.
    #[instrument(skip_all, fields(%id))]
    pub async fn rename_integration(&self, user_id: Uuid, id: Uuid, name: &str) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET name = $3, updated_at = $4 WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .bind(name)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Turns one of the user's integrations on or off.
    #[instrument(skip_all, fields(%id, enabled))]
    pub async fn set_integration_enabled(
        &self,
        user_id: Uuid,
        id: Uuid,
        enabled: bool,
    ) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET enabled = $3, updated_at = $4 WHERE id = $1 AND user_id = $2",
        )
        .bind(id)
        .bind(user_id)
        .bind(enabled)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Deletes one of the user's integrations.
    #[instrument(skip_all, fields(%id))]
    pub async fn delete_integration(&self, user_id: Uuid, id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM integrations WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Where the confirmation of integration `id` stands (call after an owner-scoped lookup).
    #[instrument(skip_all, fields(%id))]
    pub async fn integration_confirmation(&self, id: Uuid) -> Result<Confirmation, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT confirm_code_hash, confirm_expires_at, confirm_attempts, confirm_sent_at FROM integrations WHERE id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// Stores the hash of a new code for integration `id`, replacing any earlier one.
    #[instrument(skip_all, fields(%id))]
    pub async fn set_integration_code(
        &self,
        id: Uuid,
        code_hash: &str,
        expires_at: DateTime<Utc>,
        sent_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET confirm_code_hash = $2, confirm_expires_at = $3, confirm_attempts = 0,
                    confirm_sent_at = $4
             WHERE id = $1",
        )
        .bind(id)
        .bind(code_hash)
        .bind(expires_at)
        .bind(sent_at))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Counts one attempt at the code `code_hash` of integration `id`, atomically: the new count,
    /// or `None` when `max` attempts were already made (or the code was replaced meanwhile).
    #[instrument(skip_all, fields(%id))]
    pub async fn count_confirmation_attempt(
        &self,
        id: Uuid,
        code_hash: &str,
        max: i64,
    ) -> Result<Option<i64>, DbError> {
        let row: Option<(i64,)> = on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE integrations SET confirm_attempts = confirm_attempts + 1
             WHERE id = $1 AND confirm_code_hash = $2 AND confirm_attempts < $3
             RETURNING confirm_attempts",
        )
        .bind(id)
        .bind(code_hash)
        .bind(max), fetch_optional)
        .await
        .map_err(DbError::from))?;
        Ok(row.map(|(n,)| n))
    }

    /// Marks integration `id` confirmed if `code_hash` is still its code; `false` if it was
    /// replaced meanwhile.
    #[instrument(skip_all, fields(%id))]
    pub async fn mark_integration_confirmed(&self, id: Uuid, code_hash: &str) -> Result<bool, DbError> {
        let now = Utc::now();
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE integrations SET verified_at = $3, confirm_code_hash = NULL, confirm_expires_at = NULL,
                    confirm_attempts = 0, updated_at = $3
             WHERE id = $1 AND confirm_code_hash = $2",
        )
        .bind(id)
        .bind(code_hash)
        .bind(now))
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The user's default tags: (for reminders, for urgent changes). Empty means every URL.
    #[instrument(skip_all)]
    pub async fn notification_defaults(&self, user_id: Uuid) -> Result<(Vec<String>, Vec<String>), DbError> {
        let row: Defaults = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_tags, urgent_tags FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_one(pool)
        .await
        .map_err(DbError::from))?;
        Ok((row.reminder_tags.0, row.urgent_tags.0))
    }

    /// Sets the user's default tags.
    #[instrument(skip_all)]
    pub async fn set_notification_defaults(
        &self,
        user_id: Uuid,
        reminder_tags: &[String],
        urgent_tags: &[String],
    ) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE users SET reminder_tags = $2, urgent_tags = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(user_id)
        .bind(Json(reminder_tags))
        .bind(Json(urgent_tags))
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }
}
