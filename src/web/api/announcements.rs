//! `/api/v1/events/{id}/announcements…`: an organizer's own messages to an event's participants
//! ([`crate::announcements`]): write one (now, or at `send_at`), list them with their delivery
//! outcomes, cancel a scheduled one, and preview one as a named recipient will get it with the
//! number of people it reaches per kind of channel. Owners, admins and organizers of the event's
//! organization; anyone else who may not see the event gets 404, a member who does not manage
//! events 403; bad fields 422 naming each one; an event that is a draft, cancelled or over 409.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::ApiEventRef;
use super::{ApiError, ApiJson, Problem};
use crate::announcements::{self, Listed, RawDraft};
use crate::domain::FieldErrors;
use crate::events::SyncState;
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_announcements, create_announcement))
        .routes(routes!(preview_announcement))
        .routes(routes!(get_announcement))
        .routes(routes!(cancel_announcement))
}

/// Delivery outcomes so far, one per person and channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiOutcomes {
    /// Not delivered yet.
    pub pending: u64,
    /// Delivered.
    pub sent: u64,
    /// Delivered to some of a channel's addresses only.
    pub partial: u64,
    /// Refused for good.
    pub failed: u64,
    /// Too late to deliver.
    pub expired: u64,
    /// Not sent on purpose: no channel, or they stopped this event's messages.
    pub skipped: u64,
}

/// An announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAnnouncement {
    /// Its id.
    pub id: Uuid,
    /// The event's id.
    pub event_id: Uuid,
    /// The subject.
    pub subject: String,
    /// The message, in Markdown.
    pub body: String,
    /// The answers it goes to: going, maybe, pending (not answered yet).
    pub answers: Vec<String>,
    /// The roles it goes to: speaker, volunteer, attendee, organizer.
    pub roles: Vec<String>,
    /// When it goes (or went), UTC.
    pub send_at: DateTime<Utc>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// scheduled, sent (its time has come) or cancelled.
    pub state: String,
    /// Delivery outcomes so far.
    pub outcomes: ApiOutcomes,
    /// Whether the event's scheduler knows about it (false: it is told within moments, or once it
    /// is reachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synced: Option<bool>,
}

fn api_announcement(l: Listed, synced: Option<SyncState>) -> ApiAnnouncement {
    let a = l.announcement;
    let o = l.outcomes;
    ApiAnnouncement {
        id: a.id,
        event_id: a.event_id,
        subject: a.subject,
        body: a.body,
        answers: a.answers.0.iter().map(|r| r.as_str().to_owned()).collect(),
        roles: a.roles.0.iter().map(|r| r.as_str().to_owned()).collect(),
        send_at: a.send_at,
        created_at: a.created_at,
        cancelled_at: a.cancelled_at,
        state: l.state.as_str().to_owned(),
        outcomes: ApiOutcomes {
            pending: o.pending,
            sent: o.sent,
            partial: o.partial,
            failed: o.failed,
            expired: o.expired,
            skipped: o.skipped,
        },
        synced: synced.map(|s| s == SyncState::Synced),
    }
}

/// An announcement to write.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct AnnouncementBody {
    /// The subject: one line, up to 200 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub subject: String,
    /// The message in Markdown, up to 10,000 characters. Mail gets it as HTML, other channels
    /// as plain text.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    /// The answers it goes to, among going, maybe and pending (not answered yet); default going
    /// and maybe. Those who can't go (declined) are never written to.
    #[schema(example = json!(["going", "maybe"]))]
    pub answers: Option<Vec<String>>,
    /// The roles it goes to, among speaker, volunteer, attendee and organizer; default all four.
    #[schema(example = json!(["speaker"]))]
    pub roles: Option<Vec<String>>,
    /// When to send it, RFC 3339 (absent: now). After now and not after the event's end.
    #[schema(example = "2026-12-10T17:00:00Z")]
    pub send_at: Option<String>,
}

impl AnnouncementBody {
    fn raw(&self) -> Result<RawDraft, ApiError> {
        let send_at = match self.send_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => {
                Some(DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                    ApiError::Invalid(FieldErrors::one(
                        "send_at",
                        "Use an RFC 3339 time with offset, like 2026-12-10T17:00:00Z.",
                    ))
                })?)
            }
            None => None,
        };
        Ok(RawDraft {
            subject: self.subject.clone(),
            body: self.body.clone(),
            answers: self.answers.clone().unwrap_or_else(|| vec!["going".into(), "maybe".into()]),
            roles: self
                .roles
                .clone()
                .unwrap_or_else(|| announcements::ROLES.iter().map(|r| r.as_str().to_owned()).collect()),
            send_at,
        })
    }
}

/// The event's announcements, latest first, with their delivery outcomes.
#[utoipa::path(get, path = "/events/{id}/announcements", tag = "announcements",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = [ApiAnnouncement]),
        (status = 403, description = "The caller does not manage events", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_announcements(
    State(state): State<AppState>,
    r: ApiEventRef,
) -> Result<ApiJson<Vec<ApiAnnouncement>>, ApiError> {
    let list = announcements::list(&state, &r.access, &r.event).await?;
    Ok(ApiJson(list.into_iter().map(|l| api_announcement(l, None)).collect()))
}

/// Writes to the event's participants with the chosen answers and roles, now or at `send_at`.
/// The event's workflow delivers it at its time, once per person and channel.
#[utoipa::path(post, path = "/events/{id}/announcements", tag = "announcements", request_body = AnnouncementBody,
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 201, body = ApiAnnouncement),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is a draft, cancelled or over", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field to fix: subject, body, answers, roles or send_at", body = Problem, content_type = "application/problem+json")))]
async fn create_announcement(
    State(state): State<AppState>,
    r: ApiEventRef,
    ApiJson(input): ApiJson<AnnouncementBody>,
) -> Result<(StatusCode, ApiJson<ApiAnnouncement>), ApiError> {
    let raw = input.raw()?;
    let (listed, synced) = announcements::create(&state, &r.access, &r.event, &raw).await?;
    Ok((StatusCode::CREATED, ApiJson(api_announcement(listed, Some(synced)))))
}

/// An announcement to preview, and for whom.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PreviewBody {
    /// The announcement as it would be written (`send_at` is not checked).
    #[serde(flatten)]
    pub announcement: AnnouncementBody,
    /// The participant to show it for (a participant id among those it goes to; absent: the
    /// first of them).
    pub recipient: Option<Uuid>,
}

/// How many people a message reaches by one kind of channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKindReach {
    /// email, Slack, ntfy, Telegram, Discord, Gotify, webhook, SMS, …
    pub kind: String,
    /// People reached that way.
    pub people: usize,
}

/// How many people a message reaches.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReach {
    /// People with the chosen answers and roles.
    pub people: usize,
    /// People per kind of channel (someone with two kinds counts in both), most first.
    pub by_kind: Vec<ApiKindReach>,
    /// People without a confirmed channel: not reached (recorded as skipped).
    pub no_channel: usize,
    /// People who stopped this event's messages: not reached.
    pub opted_out: usize,
    /// In words: "12 by email, 3 by Slack, 2 with no channel".
    pub summary: String,
}

/// Who a preview is shown for.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiReader {
    /// Their participant id.
    pub participant_id: Uuid,
    /// Their name.
    pub name: String,
}

/// An announcement as one recipient will get it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAnnouncementPreview {
    /// Whom it is shown for; `null` when nobody matches.
    pub recipient: Option<ApiReader>,
    /// The subject.
    pub subject: String,
    /// The text as a chat or push channel shows it, footer included (the recipient's own link
    /// to stop messages shows as "[their own link]").
    pub text: String,
    /// The mail's HTML, when the recipient has the email channel.
    pub html: Option<String>,
    /// How many it reaches, per kind of channel.
    pub reach: ApiReach,
}

/// Shows an announcement as a named recipient will get it, and how many people it reaches per
/// kind of channel. Nothing is saved or sent.
#[utoipa::path(post, path = "/events/{id}/announcements/preview", tag = "announcements", request_body = PreviewBody,
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiAnnouncementPreview),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn preview_announcement(
    State(state): State<AppState>,
    r: ApiEventRef,
    ApiJson(input): ApiJson<PreviewBody>,
) -> Result<ApiJson<ApiAnnouncementPreview>, ApiError> {
    let raw = input.announcement.raw()?;
    let p = announcements::preview(&state, &r.access, &r.event, &raw, input.recipient).await?;
    Ok(ApiJson(ApiAnnouncementPreview {
        recipient: p.reader.map(|x| ApiReader { participant_id: x.participant_id, name: x.name }),
        subject: p.subject,
        text: p.text,
        html: p.html,
        reach: ApiReach {
            people: p.reach.people,
            summary: p.reach.describe(),
            by_kind: p
                .reach
                .by_kind
                .into_iter()
                .map(|(kind, people)| ApiKindReach { kind, people })
                .collect(),
            no_channel: p.reach.no_channel,
            opted_out: p.reach.opted_out,
        },
    }))
}

/// One announcement with its delivery outcomes.
#[utoipa::path(get, path = "/events/{id}/announcements/{aid}", tag = "announcements",
    params(("id" = Uuid, Path, description = "The event's id"), ("aid" = Uuid, Path, description = "The announcement's id")),
    responses((status = 200, body = ApiAnnouncement),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_announcement(
    State(state): State<AppState>,
    r: ApiEventRef,
    Path((_event, aid)): Path<(String, String)>,
) -> Result<ApiJson<ApiAnnouncement>, ApiError> {
    let aid = Uuid::parse_str(&aid).map_err(|_| ApiError::NotFound)?;
    let listed = announcements::get(&state, &r.access, &r.event, aid).await?;
    Ok(ApiJson(api_announcement(listed, None)))
}

/// Cancels a scheduled announcement before it goes; refused (409) once its time has come.
#[utoipa::path(post, path = "/events/{id}/announcements/{aid}/cancel", tag = "announcements",
    params(("id" = Uuid, Path, description = "The event's id"), ("aid" = Uuid, Path, description = "The announcement's id")),
    responses((status = 200, body = ApiAnnouncement),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has gone out, or was cancelled already", body = Problem, content_type = "application/problem+json")))]
async fn cancel_announcement(
    State(state): State<AppState>,
    r: ApiEventRef,
    Path((_event, aid)): Path<(String, String)>,
) -> Result<ApiJson<ApiAnnouncement>, ApiError> {
    let aid = Uuid::parse_str(&aid).map_err(|_| ApiError::NotFound)?;
    let listed = announcements::cancel(&state, &r.access, &r.event, aid).await?;
    Ok(ApiJson(api_announcement(listed, None)))
}
