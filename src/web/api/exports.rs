//! Exports over the API: `GET /api/v1/events/{id}/participants/export` and
//! `GET /api/v1/events/{id}/notifications/export` (organizers of the event's organization; a
//! member who does not manage events gets 403, anyone else 404), `GET /api/v1/me/export` (everything Herald holds about the caller).

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiError, ApiUser, Problem};
use crate::exports::{self, DeliveriesExport, File, Format, ParticipantsExport, PersonalData};
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(participants_export))
        .routes(routes!(notifications_export))
        .routes(routes!(me_export))
}

/// The file format of an export.
#[derive(Debug, Deserialize, IntoParams)]
pub struct FormatQuery {
    /// `csv` or `json` (default).
    format: Option<String>,
}

impl FormatQuery {
    fn parse(&self) -> Result<Format, ApiError> {
        match self.format.as_deref() {
            None => Ok(Format::Json),
            Some(raw) => {
                Format::parse(raw).ok_or_else(|| ApiError::BadRequest("format must be csv or json.".into()))
            }
        }
    }
}

/// A file to download.
pub(crate) fn attachment(file: File) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, file.content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", file.name)),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        file.body,
    )
        .into_response()
}

/// The event's participants with role, answer and reachability, as CSV or JSON (organizers of
/// the event's organization only; channel names, never URLs).
#[utoipa::path(get, path = "/events/{id}/participants/export", tag = "participants",
    params(("id" = Uuid, Path, description = "The event's id"), FormatQuery),
    responses((status = 200, description = "A file to download", content(
            (ParticipantsExport = "application/json"),
            (String = "text/csv"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller does not manage the organization's events", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or not in one of the caller's organizations", body = Problem, content_type = "application/problem+json")))]
async fn participants_export(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    Path(id): Path<Uuid>,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = q.parse()?;
    let event = exports::event_for_user(&state.db, id, caller.user.id).await?;
    Ok(attachment(exports::participants_file(&state.db, &event, format).await?))
}

/// The event's delivery ledger (notice, due time, participant, channel name, status, attempts,
/// last answer), as CSV or JSON (organizers of the event's organization only).
#[utoipa::path(get, path = "/events/{id}/notifications/export", tag = "delivery",
    params(("id" = Uuid, Path, description = "The event's id"), FormatQuery),
    responses((status = 200, description = "A file to download", content(
            (DeliveriesExport = "application/json"),
            (String = "text/csv"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The caller does not manage the organization's events", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event, or not in one of the caller's organizations", body = Problem, content_type = "application/problem+json")))]
async fn notifications_export(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    Path(id): Path<Uuid>,
    Query(q): Query<FormatQuery>,
) -> Result<Response, ApiError> {
    let format = q.parse()?;
    let event = exports::event_for_user(&state.db, id, caller.user.id).await?;
    Ok(attachment(exports::deliveries_file(&state.db, &event, format).await?))
}

/// Everything Herald holds about the caller, as JSON: profile, memberships, participations with
/// answers and the messages sent about them, channels (URLs redacted), API tokens (names and
/// dates), the calendar feed's existence and the number of open sessions.
#[utoipa::path(get, path = "/me/export", tag = "account",
    responses((status = 200, description = "A file to download", body = PersonalData),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn me_export(State(state): State<AppState>, ApiUser(caller): ApiUser) -> Result<Response, ApiError> {
    Ok(attachment(exports::personal_data_file(&state, &caller.user).await?))
}
