//! Personal API tokens: made on the account page, by `POST /api/v1/me/tokens` and by
//! `herald token create`, all through [`issue`].
//!
//! A token is `herald_` followed by 256 random bits. Only its SHA-256 (of the whole string,
//! prefix included) is stored; the token itself is shown once, to whoever created it, and never
//! logged.

use chrono::{Duration, Utc};
use tracing::instrument;
use uuid::Uuid;

use crate::db::Db;
use crate::db::models::{ApiToken, User};
use crate::domain::{Name, ServiceError};
use crate::secrets::{hash_token, random_token};

/// Every personal API token starts with this, so it is recognisable in configs and secret scanners.
pub const TOKEN_PREFIX: &str = "herald_";

/// Tokens that work at the same time, per user: enough for every script and machine, and a
/// bound on what a stolen session can mint.
pub const MAX_ACTIVE_TOKENS: i64 = 25;
/// The longest lifetime a token can be given, in days (about ten years).
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// Checks a lifetime in days (`None`: the token does not expire).
pub fn parse_expiry_days(days: Option<i64>) -> Result<Option<i64>, String> {
    match days {
        None => Ok(None),
        Some(d) if (1..=MAX_EXPIRY_DAYS).contains(&d) => Ok(Some(d)),
        Some(_) => Err(format!("Choose between 1 and {MAX_EXPIRY_DAYS} days, or no expiry.")),
    }
}

/// Creates a token named `name` for `user_id`, working for `expires_in_days` (`None`: until
/// revoked): the stored row and the token, which exists nowhere else and must be shown to its
/// owner once. [`ServiceError::Conflict`] when the user has [`MAX_ACTIVE_TOKENS`] already.
#[instrument(skip_all, fields(%user_id))]
pub async fn issue(
    db: &Db,
    user_id: Uuid,
    name: &Name,
    expires_in_days: Option<i64>,
) -> Result<(ApiToken, String), ServiceError> {
    let days = parse_expiry_days(expires_in_days).map_err(|m| ServiceError::field("expires_in_days", m))?;
    if db.active_api_token_count(user_id).await? >= MAX_ACTIVE_TOKENS {
        return Err(ServiceError::Conflict(format!(
            "You have {MAX_ACTIVE_TOKENS} working tokens, the most an account can have. Revoke one you no longer use first."
        )));
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token());
    let expires_at = days.map(|d| Utc::now() + Duration::days(d));
    let row = db.create_api_token_until(user_id, name.as_str(), &hash_token(&token), expires_at).await?;
    tracing::info!(token_id = %row.id, expires = ?row.expires_at, "API token created");
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

/// How precisely a token's last use is recorded: a request writes it only when the recorded
/// use is older than this, so checking a bearer token is a read almost every time.
pub const LAST_USED_PRECISION: chrono::Duration = chrono::Duration::seconds(60);

/// The user a bearer token belongs to (and notes its use, to the minute); `None` for an
/// unknown, revoked or expired token. One read per request (token and user together); the
/// last use is written at most once per [`LAST_USED_PRECISION`].
pub async fn authenticate(db: &Db, token: &str) -> Result<Option<User>, ServiceError> {
    let Some(found) = db.live_api_token_user(&hash_token(token)).await? else { return Ok(None) };
    let now = chrono::Utc::now();
    let since = now - LAST_USED_PRECISION;
    if found.token_last_used_at.is_none_or(|t| t < since) {
        // Not worth failing the request over: the next one records it.
        if let Err(e) = db.note_api_token_use(found.token_id, now, since).await {
            tracing::warn!(token_id = %found.token_id, error = %e, "cannot record the token's use now");
        }
    }
    Ok(Some(found.user))
}
