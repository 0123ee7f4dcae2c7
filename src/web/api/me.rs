//! `/api/v1/me`: the caller's own account.

use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiUser, Problem};
use crate::db::models::User;
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me))
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
            timezone: u.timezone.clone(),
            date_format: u.date_format.clone(),
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
