//! `/api/v1/events/{id}/participants…` and `/api/v1/events/{id}/rsvp`: who takes part in an
//! event, with which role, answer and channels.
//!
//! The same rules as the pages ([`crate::participants`]): an event the caller may not see is a
//! 404 (a private event is for the organization's members and its participants); organizers
//! (owners, admins, organizers of the organization) add, change and remove participants, others
//! get 403; anyone who may see a published event joins it with `PUT …/rsvp`. Channels show the
//! integration's name and tags, never its URLs or key. `POST …/participants` honours
//! `Idempotency-Key`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{path_params, uuid_param};
use super::idempotency::{IdempotencyKey, fingerprint};
use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::db::events::IdempotencyKey as StoredKey;
use crate::db::participants::{ChannelRow, ParticipantRow};
use crate::domain::FieldErrors;
use crate::domain::ServiceError;
use crate::participants::{self, EventView};
use crate::web::AppState;
use crate::web::session::CurrentUser;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_participants, add_participant))
        .routes(routes!(update_participant, remove_participant))
        .routes(routes!(put_rsvp))
}

/// The event `{id}` as the caller sees it; 404 if they may not.
pub(super) struct ApiEventView {
    pub(super) caller: CurrentUser,
    pub(super) view: EventView,
}

impl FromRequestParts<AppState> for ApiEventView {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(caller) = ApiUser::from_request_parts(parts, state).await?;
        let id = uuid_param(&path_params(parts, state).await?, "id")?;
        let view = participants::view_by_id(&state.db, id, Some(caller.user.id)).await?;
        Ok(Self { caller, view })
    }
}

/// One of a participant's channels for the event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiChannel {
    /// The integration (one of the participant's notification channels).
    pub integration_id: Uuid,
    /// Its name.
    pub name: String,
    /// The tags used for this event; empty means every URL of the integration.
    pub tags: Vec<String>,
}

/// Someone taking part in an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiParticipant {
    /// Participant id.
    pub id: Uuid,
    /// The user, once they have an account (none while only invited).
    pub user_id: Option<Uuid>,
    /// Display name (for an invitation: the name given, or the address).
    pub name: String,
    /// Email address.
    pub email: String,
    /// Invited by email, no account yet.
    pub invited: bool,
    /// organizer, speaker, volunteer or attendee.
    pub role: String,
    /// pending (no answer yet), going, maybe or declined.
    pub rsvp: String,
    /// The channels the participant chose for this event.
    pub channels: Vec<ApiChannel>,
    /// Whether notices reach them now.
    pub reachable: bool,
    /// The names of the channels notices reach them through (the ones chosen for the event that
    /// still work, or all their working channels).
    pub reached_through: Vec<String>,
    /// Why notices do not reach them, when they do not (an unanswered invitation, no confirmed
    /// channel, declined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreachable_reason: Option<String>,
    /// When they were added.
    pub created_at: DateTime<Utc>,
    /// When this last changed.
    pub updated_at: DateTime<Utc>,
}

fn api_participant(
    r: &ParticipantRow,
    channels: &[ChannelRow],
    reach: &std::collections::HashMap<Uuid, participants::Reach>,
) -> ApiParticipant {
    let (reachable, reached_through, unreachable_reason) = match reach.get(&r.id) {
        Some(participants::Reach::Through(names)) => (true, names.clone(), None),
        Some(participants::Reach::Not(why)) => (false, Vec::new(), Some((*why).to_owned())),
        None => (false, Vec::new(), None),
    };
    ApiParticipant {
        reachable,
        reached_through,
        unreachable_reason,
        id: r.id,
        user_id: r.user_id,
        name: r.name().to_owned(),
        email: r.address().to_owned(),
        invited: r.user_id.is_none(),
        role: r.role.to_string(),
        rsvp: r.rsvp.to_string(),
        channels: channels
            .iter()
            .filter(|c| c.participant_id == r.id)
            .map(|c| ApiChannel {
                integration_id: c.integration_id,
                name: c.name.clone(),
                tags: c.tags.0.clone(),
            })
            .collect(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

async fn load_participant(state: &AppState, id: Uuid) -> Result<ApiParticipant, ApiError> {
    let row = state.db.participant_row(id).await?.ok_or(ApiError::NotFound)?;
    let channels = state.db.channel_rows_of(id).await?;
    let reach =
        participants::reachability(&state.db, row.event_id, std::slice::from_ref(&row), &channels).await?;
    Ok(api_participant(&row, &channels, &reach))
}

/// The event's participants, oldest first: organizers see everyone, anyone else only themself.
#[utoipa::path(get, path = "/events/{id}/participants", tag = "participants",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = [ApiParticipant]),
        (status = 404, description = "No such event, or not visible to the caller", body = Problem, content_type = "application/problem+json")))]
async fn list_participants(
    State(state): State<AppState>,
    r: ApiEventView,
) -> Result<ApiJson<Vec<ApiParticipant>>, ApiError> {
    let rows = state.db.participant_rows(r.view.event.id).await?;
    let channels = state.db.event_channel_rows(r.view.event.id).await?;
    let reach = participants::reachability(&state.db, r.view.event.id, &rows, &channels).await?;
    let manages = r.view.manages();
    Ok(ApiJson(
        rows.iter()
            .filter(|p| manages || p.user_id == Some(r.caller.user.id))
            .map(|p| api_participant(p, &channels, &reach))
            .collect(),
    ))
}

/// Someone to add.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct NewParticipant {
    /// Email address. A member of the event's organization is added at once; anyone else is
    /// invited by email and takes part once they answer (the answer is the same whether or not
    /// the address has an account).
    #[schema(format = "email", max_length = 254, example = "grace@example.org")]
    pub email: Option<String>,
    /// organizer, speaker, volunteer or attendee (default).
    pub role: Option<String>,
}

/// A retry of an earlier request with the same key: the participant it added (200), or 409 when
/// the key was used for something else.
async fn replay(state: &AppState, user: Uuid, key: &str, hash: &str) -> Result<Option<Response>, ApiError> {
    let Some((stored, participant)) = state.db.idempotent_participant(user, key).await? else {
        return Ok(None);
    };
    match participant {
        Some(id) if stored == hash => {
            Ok(Some((StatusCode::OK, ApiJson(load_participant(state, id).await?)).into_response()))
        }
        _ => Err(ApiError::Conflict(
            "This Idempotency-Key was already used with a different request; use a new key for a new participant."
                .into(),
        )),
    }
}

/// Adds someone to the event (organizers). With an `Idempotency-Key` header, a retry with the
/// same key and body returns the same participant (200) instead of adding again.
#[utoipa::path(post, path = "/events/{id}/participants", tag = "participants", request_body = NewParticipant,
    params(("id" = Uuid, Path, description = "The event's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: one participant per key")),
    responses((status = 201, body = ApiParticipant),
        (status = 200, description = "A retry of an earlier request with the same Idempotency-Key", body = ApiParticipant),
        (status = 403, description = "The caller does not manage the organization's events", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already a participant, the event is cancelled, or the Idempotency-Key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn add_participant(
    State(state): State<AppState>,
    r: ApiEventView,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<NewParticipant>,
) -> Result<Response, ApiError> {
    if !r.view.manages() {
        return Err(ApiError::Forbidden("Only owners, admins and organizers manage participants.".into()));
    }
    let hash = fingerprint(&format!("participant\n{}", r.view.event.id), &input)?;
    let user_id = r.caller.user.id;
    if let Some(k) = &key
        && let Some(done) = replay(&state, user_id, k, &hash).await?
    {
        return Ok(done);
    }
    let idem = key.as_deref().map(|key| StoredKey { user_id, key, request_hash: &hash });
    let result = participants::add(
        &state,
        r.view.member,
        &r.view.org,
        &r.view.event,
        &r.caller.user,
        input.email.as_deref().unwrap_or(""),
        input.role.as_deref().unwrap_or(""),
        idem.as_ref(),
    )
    .await;
    match result {
        Ok(added) => {
            let p = load_participant(&state, added.participant().id).await?;
            Ok((StatusCode::CREATED, ApiJson(p)).into_response())
        }
        // A concurrent retry with the same key won the race.
        Err(ServiceError::Conflict(why)) => match &key {
            Some(k) => match replay(&state, user_id, k, &hash).await? {
                Some(done) => Ok(done),
                None => Err(ApiError::Conflict(why)),
            },
            None => Err(ApiError::Conflict(why)),
        },
        Err(e) => Err(e.into()),
    }
}

/// The changes to a participant.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ParticipantPatch {
    /// organizer, speaker, volunteer or attendee.
    pub role: Option<String>,
}

/// Changes a participant's role (organizers).
#[utoipa::path(patch, path = "/events/{id}/participants/{participant}", tag = "participants", request_body = ParticipantPatch,
    params(("id" = Uuid, Path, description = "The event's id"), ("participant" = Uuid, Path, description = "The participant's id")),
    responses((status = 200, body = ApiParticipant),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_participant(
    State(state): State<AppState>,
    r: ApiEventView,
    Path((_event, participant)): Path<(String, String)>,
    ApiJson(input): ApiJson<ParticipantPatch>,
) -> Result<ApiJson<ApiParticipant>, ApiError> {
    let id = Uuid::parse_str(&participant).map_err(|_| ApiError::NotFound)?;
    if !r.view.manages() {
        participants::participant_in(&state.db, &r.view.event, id).await?;
        return Err(ApiError::Forbidden("Only owners, admins and organizers manage participants.".into()));
    }
    let Some(role) = input.role.as_deref().filter(|r| !r.trim().is_empty()) else {
        participants::participant_in(&state.db, &r.view.event, id).await?;
        let mut e = FieldErrors::default();
        e.add("role", "Give the new role: organizer, speaker, volunteer or attendee.");
        return Err(ApiError::Invalid(e));
    };
    let p = participants::set_role(&state.db, &r.view, Some(r.caller.user.id), id, role).await?;
    Ok(ApiJson(load_participant(&state, p.id).await?))
}

/// Removes a participant: organizers remove anyone; a participant removes themself (leaves).
#[utoipa::path(delete, path = "/events/{id}/participants/{participant}", tag = "participants",
    params(("id" = Uuid, Path, description = "The event's id"), ("participant" = Uuid, Path, description = "The participant's id")),
    responses((status = 204, description = "Removed"),
        (status = 403, description = "Someone else's participation, and the caller does not manage events", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn remove_participant(
    State(state): State<AppState>,
    r: ApiEventView,
    Path((_event, participant)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id = Uuid::parse_str(&participant).map_err(|_| ApiError::NotFound)?;
    participants::remove(&state.db, &r.view, r.caller.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One channel to use for the event.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ChannelChoiceBody {
    /// One of the caller's active (enabled and confirmed) integrations.
    #[serde(default)]
    pub integration_id: String,
    /// Tags for this event; empty or absent means every URL of the integration.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The caller's answer.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RsvpBody {
    /// going, maybe or declined.
    pub rsvp: Option<String>,
    /// The channels for this event. Absent: keep the ones chosen before, or (joining, or none
    /// chosen yet) every active integration with the caller's default reminder tags.
    pub channels: Option<Vec<ChannelChoiceBody>>,
}

/// The caller joins the event (any verified user who may see it, while it is published and not
/// over) or changes their answer and channels.
#[utoipa::path(put, path = "/events/{id}/rsvp", tag = "participants", request_body = RsvpBody,
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, description = "The answer changed", body = ApiParticipant),
        (status = 201, description = "The caller joined the event", body = ApiParticipant),
        (status = 403, description = "The caller's email address is not verified", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is cancelled, a draft or over", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn put_rsvp(
    State(state): State<AppState>,
    r: ApiEventView,
    ApiJson(input): ApiJson<RsvpBody>,
) -> Result<Response, ApiError> {
    let mut errors = FieldErrors::default();
    let answer = errors.check("rsvp", participants::parse_rsvp(input.rsvp.as_deref().unwrap_or("")));
    let channels = match &input.channels {
        Some(list) => {
            let raw: Vec<(String, Vec<String>)> =
                list.iter().map(|c| (c.integration_id.clone(), c.tags.clone())).collect();
            match participants::check_channels(&state.db, r.caller.user.id, "channels", &raw).await {
                Ok(c) => Some(c),
                Err(ServiceError::Invalid(more)) => {
                    errors.0.extend(more.0);
                    None
                }
                Err(e) => return Err(e.into()),
            }
        }
        None => None,
    };
    let Some(answer) = answer.filter(|_| errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let (p, joined) = participants::rsvp(&state, &r.view, &r.caller.user, answer, channels).await?;
    let status = if joined { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, ApiJson(load_participant(&state, p.id).await?)).into_response())
}
