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
use crate::quiet::{self, QuietUpdate, QuietView};
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
    /// Quiet hours in the user's time zone (`null`: none): non-urgent notices wait until they
    /// end; reminders that would fall inside them come just before they begin.
    pub quiet_hours: Option<QuietHours>,
    /// When the daily digest goes, `HH:MM` in the user's time zone (`null`: no digest, each
    /// notice comes as it is due).
    #[schema(example = "08:00")]
    pub digest_at: Option<String>,
}

/// Quiet hours: local clock times in the user's time zone, 24-hour `HH:MM` (`HH:MM:SS`
/// accepted); they may cross midnight.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// When they begin.
    #[schema(example = "22:00")]
    pub start: String,
    /// When they end (different from the start).
    #[schema(example = "07:00")]
    pub end: String,
}

impl Me {
    /// `u`'s account with its quiet hours and digest.
    fn of(u: &User, quiet: QuietView) -> Self {
        let mut me = Self::from(u);
        me.quiet_hours = quiet.quiet.map(|(start, end)| QuietHours { start, end });
        me.digest_at = quiet.digest_at;
        me
    }
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
            quiet_hours: None,
            digest_at: None,
        }
    }
}

/// The caller's account.
#[utoipa::path(get, path = "/me", tag = "account",
    responses((status = 200, body = Me), (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me(State(state): State<AppState>, ApiUser(caller): ApiUser) -> Result<Json<Me>, ApiError> {
    let quiet = quiet::view(&state.db, caller.user.id).await?;
    Ok(Json(Me::of(&caller.user, quiet)))
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
    /// Quiet hours; `null` removes them.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<QuietHours>, nullable)]
    pub quiet_hours: Option<Option<QuietHours>>,
    /// The daily digest's time, `HH:MM` (outside the quiet hours); `null`: no digest.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, example = "08:00")]
    pub digest_at: Option<Option<String>>,
}

/// A field that is present, `null` or not: `Some(None)` for `null`, `None` when left out.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Updates the caller's display name, time zone, date format, quiet hours or daily digest.
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
    let quiet_update = QuietUpdate {
        quiet: input.quiet_hours.map(|q| q.map(|q| (q.start, q.end))),
        digest_at: input.digest_at,
    };
    // Checked before anything is saved, so a refused request changes nothing.
    quiet::validate(&quiet::view(&state.db, caller.user.id).await?, &quiet_update)
        .map_err(crate::domain::ServiceError::Invalid)?;
    let update = PreferencesUpdate {
        display_name: input.display_name,
        timezone: input.timezone,
        date_format: input.date_format,
    };
    let updated = accounts::update_preferences(&state.db, &caller.user, &update).await?;
    let zone_changed = updated.timezone != caller.user.timezone;
    let quiet = quiet::save(&state.db, caller.user.id, &quiet_update, zone_changed).await?;
    Ok(Json(Me::of(&updated, quiet)))
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
