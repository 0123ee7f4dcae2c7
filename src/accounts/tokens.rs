//! Personal API tokens: made on the account page, by `POST /api/v1/me/tokens` and by
//! `herald token create`, all through [`issue`].
//!
//! A token is `herald_` followed by 256 random bits. Only its SHA-256 (of the whole string,
//! prefix included) is stored; the token itself is shown once, to whoever created it, and never
//! logged.

use tracing::instrument;
use uuid::Uuid;

use crate::db::Db;
use crate::db::models::{ApiToken, User};
use crate::domain::{Name, ServiceError};
use crate::secrets::{hash_token, random_token};

/// Every personal API token starts with this, so it is recognisable in configs and secret scanners.
pub const TOKEN_PREFIX: &str = "herald_";

/// Creates a token named `name` for `user_id`: the stored row and the token, which exists
/// nowhere else and must be shown to its owner once.
#[instrument(skip_all, fields(%user_id))]
pub async fn issue(db: &Db, user_id: Uuid, name: &Name) -> Result<(ApiToken, String), ServiceError> {
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let row = db.create_api_token(user_id, name.as_str(), &hash_token(&token)).await?;
    tracing::info!(token_id = %row.id, "API token created");
    Ok((row, token))
}

/// A user's tokens, newest first, revoked ones included.
pub async fn list(db: &Db, user_id: Uuid) -> Result<Vec<ApiToken>, ServiceError> {
    Ok(db.api_tokens_of(user_id).await?)
}

/// One of a user's tokens; another user's is [`ServiceError::NotFound`].
pub async fn get(db: &Db, user_id: Uuid, id: Uuid) -> Result<ApiToken, ServiceError> {
    Ok(db.api_token_of(user_id, id).await?)
}

/// Revokes one of a user's tokens; it stops working at once. Revoking twice is fine.
pub async fn revoke(db: &Db, user_id: Uuid, id: Uuid) -> Result<(), ServiceError> {
    db.revoke_api_token(user_id, id).await?;
    tracing::info!(%user_id, token_id = %id, "API token revoked");
    Ok(())
}

/// The user a bearer token belongs to (and notes its use); `None` for an unknown or revoked
/// token.
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<User>, ServiceError> {
    let Some(found) = db.use_api_token(&hash_token(token)).await? else { return Ok(None) };
    Ok(db.user_by_id(found.user_id).await?)
}
