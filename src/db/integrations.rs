//! `integrations`: a user's Apprise configs, stored encrypted under a random key.

use chrono::Utc;
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::models::Integration;
use super::{Db, DbError, on_pool};

impl Db {
    /// Stores a new integration (unconfirmed, enabled).
    #[instrument(skip_all)]
    pub async fn create_integration(
        &self,
        user_id: Uuid,
        name: &str,
        config_key: &str,
        config_ciphertext: &[u8],
        tags: &[String],
    ) -> Result<Integration, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "INSERT INTO integrations (id, user_id, name, config_key, config_ciphertext, tags, enabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(user_id)
        .bind(name)
        .bind(config_key)
        .bind(config_ciphertext)
        .bind(Json(tags))
        .bind(Utc::now())
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// The user's integrations, by name. Scoped: never returns another user's.
    #[instrument(skip_all)]
    pub async fn integrations_of(&self, user_id: Uuid) -> Result<Vec<Integration>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM integrations WHERE user_id = $1 ORDER BY name")
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
}
