//! `/api/v1/me/tokens…`: personal API tokens (made by [`crate::accounts::tokens`]).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Json, extract::State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::accounts::tokens;
use crate::db::models::ApiToken;
use crate::domain::FieldErrors;
use crate::domain::Name;
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, create)).routes(routes!(revoke))
}

/// A personal API token as listed (its value is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfo {
    /// Token id (for revoking it).
    pub id: Uuid,
    /// The name given at creation.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used, if ever.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When it stops (or stopped) working by itself; absent: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it still works: not revoked and not expired.
    pub active: bool,
}

impl From<&ApiToken> for TokenInfo {
    fn from(t: &ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
            expires_at: t.expires_at,
            active: t.active(Utc::now()),
        }
    }
}

/// A new token's name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, 1–100 characters (e.g. "CI deploys").
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// Days until it stops working by itself (1–3650); absent or null: it works until revoked.
    #[schema(minimum = 1, maximum = 3650, example = 90)]
    #[serde(default)]
    pub expires_in_days: Option<i64>,
}

/// A token just created: the only time its value is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Token id (for revoking it).
    pub id: Uuid,
    /// The name given.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working by itself; absent: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// The token. Store it now: Herald keeps only a hash and cannot show it again.
    pub token: String,
}

/// The caller's tokens, newest first, revoked ones included.
#[utoipa::path(get, path = "/me/tokens", tag = "account",
    responses((status = 200, body = Vec<TokenInfo>),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
) -> Result<Json<Vec<TokenInfo>>, ApiError> {
    let tokens = tokens::list(&state.db, caller.user.id).await?;
    Ok(Json(tokens.iter().map(TokenInfo::from).collect()))
}

/// Creates a token, optionally expiring; the answer is the only time its value is shown. An
/// account has at most 25 working tokens (409 past that).
#[utoipa::path(post, path = "/me/tokens", tag = "account", request_body = NewToken,
    responses((status = 201, body = CreatedToken),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "The account has 25 working tokens already"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(input): ApiJson<NewToken>,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = FieldErrors::default();
    let Some(name) = errors.check("name", Name::parse(&input.name)) else {
        return Err(ApiError::Invalid(errors));
    };
    let (row, token) = tokens::issue(&state.db, caller.user.id, &name, input.expires_in_days).await?;
    let body = CreatedToken {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        expires_at: row.expires_at,
        token,
    };
    Ok((StatusCode::CREATED, [(axum::http::header::CACHE_CONTROL, "no-store")], Json(body)))
}

/// Revokes one of the caller's tokens; it stops working at once. Another user's token is 404.
#[utoipa::path(delete, path = "/me/tokens/{id}", tag = "account",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked (or already revoked)"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn revoke(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    tokens::revoke(&state.db, caller.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
