//! `/api/v1/me`: the caller's own account.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::accounts::{self, PreferencesUpdate};
use crate::db::models::User;
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me, update_me, delete_me))
}

/// A user's own account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// User id.
    pub id: uuid::Uuid,
    /// Email address (lower-case).
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// Whether the address is verified; unverified users cannot add channels or be notified.
    pub verified: bool,
    /// IANA time zone.
    pub timezone: String,
    /// Date format: `iso`, `dmy` or `mdy`.
    pub date_format: String,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<&User> for Me {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            display_name: u.display_name.clone(),
            verified: u.verified_at.is_some(),
            timezone: u.timezone.name().to_owned(),
            date_format: u.date_format.as_str().to_owned(),
            created_at: u.created_at,
        }
    }
}

/// The caller's account.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(ApiUser(caller): ApiUser) -> Result<Json<Me>, ApiError> {
    Ok(Json(Me::from(&caller.user)))
}

/// Changes to the caller's preferences; fields left out stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// Display name, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub display_name: Option<String>,
    /// IANA time zone, such as `Europe/Paris`.
    #[schema(max_length = 64, example = "Europe/Paris")]
    pub timezone: Option<String>,
    /// Date format: `iso` (2026-11-22), `dmy` (22/11/2026) or `mdy` (11/22/2026).
    #[schema(pattern = "^(iso|dmy|mdy)$")]
    pub date_format: Option<String>,
}

/// Updates the caller's display name, time zone or date format.
#[utoipa::path(patch, path = "/me", tag = "account", request_body = MeUpdate,
    responses((status = 200, body = Me),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_me(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(input): ApiJson<MeUpdate>,
) -> Result<Json<Me>, ApiError> {
    let update = PreferencesUpdate {
        display_name: input.display_name,
        timezone: input.timezone,
        date_format: input.date_format,
    };
    let updated = accounts::update_preferences(&state.db, &caller.user, &update).await?;
    Ok(Json(Me::from(&updated)))
}

/// Deletes the caller's account: their channels (from the Apprise API too), sessions, tokens,
/// memberships and participations. 409 while they are the last owner of an organization.
#[utoipa::path(delete, path = "/me", tag = "account",
    responses((status = 204, description = "The account is deleted"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller is the last owner of an organization", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
async fn delete_me(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
) -> Result<axum::http::StatusCode, ApiError> {
    crate::exports::delete_account(&state, &caller.user).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
