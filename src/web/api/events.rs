//! `/api/v1/orgs/{slug}/events` and `/api/v1/events/{id}…`: events, their cancellation and
//! change history.
//!
//! The same rules as the pages ([`crate::events`]): a non-member gets 404 for everything of an
//! organization, a member who does not manage events 403, bad fields 422 naming each one.
//! Times are RFC 3339 with the offset of the event's time zone, plus the zone's name; reminder
//! offsets are seconds before the start. `POST …/events` honours `Idempotency-Key`.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::{ApiEventId, ApiEventRef, ApiOrg};
use super::idempotency::{IdempotencyKey, fingerprint};
use super::rules::ApiFollowUp;
use super::{ApiError, ApiJson, Problem};
use crate::db::events::Notices;
use crate::db::models::{Event, EventUpdate};
use crate::domain::FieldErrors;
use crate::events::{self, API_NAMES, RawEvent, SyncState};
use crate::rules::RawRules;

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_events, create_event))
        .routes(routes!(get_event, update_event, delete_event))
        .routes(routes!(cancel_event))
        .routes(routes!(list_updates))
}

/// Who sees an event.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ApiVisibility {
    /// Listed on the organization's public page.
    Public,
    /// Anyone with the link.
    Unlisted,
    /// Members of the organization and participants only.
    Private,
}

/// An event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiEvent {
    /// Event id.
    pub id: Uuid,
    /// The organization's slug.
    pub org: String,
    /// URL slug of the event within the organization.
    pub slug: String,
    /// Name.
    pub name: String,
    /// Markdown description.
    pub description: String,
    /// Where.
    pub location: Option<String>,
    /// Online link.
    pub online_url: Option<String>,
    /// Start, RFC 3339 with the offset of `timezone` at that moment.
    pub starts_at: String,
    /// End, like `starts_at`.
    pub ends_at: String,
    /// IANA time zone name.
    pub timezone: String,
    /// public, unlisted or private.
    pub visibility: String,
    /// Reminders, in seconds before the start: every role's, unless `role_reminders` gives the
    /// role its own.
    pub reminder_offsets: Vec<i64>,
    /// Reminders of a role's own (`speaker`, `volunteer`, `attendee`, `organizer`), in seconds
    /// before the start.
    #[schema(example = json!({"speaker": [259200, 86400], "volunteer": [7200]}))]
    pub role_reminders: BTreeMap<String, Vec<i64>>,
    /// The thank-you after the event to those going (`null`: none).
    pub follow_up: Option<ApiFollowUp>,
    /// The reminders and follow-up in words, a line each ("Speakers: 3 days and 1 day before").
    pub rules_in_words: Vec<String>,
    /// Participants get reminders.
    pub notify_reminders: bool,
    /// Whether visitors may answer without an account (public and unlisted events only).
    pub guests: bool,
    /// Whether the event's public page says how many are going and maybe (never who).
    pub show_attendee_count: bool,
    /// Participants are told about changes of time, place or link.
    pub notify_changes: bool,
    /// Participants are told about a cancellation.
    pub notify_cancellation: bool,
    /// draft, published or cancelled.
    pub status: String,
    /// Bumped by every saved change.
    pub revision: i64,
    /// Whether the scheduler knows about every saved change (false: it is told within moments, or
    /// once it is reachable when it is down; read the event again to see).
    pub synced: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn api_event(e: &Event, org_slug: &str, synced: SyncState) -> ApiEvent {
    let tz = e.timezone.0;
    ApiEvent {
        id: e.id,
        org: org_slug.to_owned(),
        slug: e.slug.clone(),
        name: e.name.clone(),
        description: e.description.clone(),
        location: e.location.clone(),
        online_url: e.online_url.clone(),
        starts_at: e.starts_at.with_timezone(&tz).to_rfc3339(),
        ends_at: e.ends_at.with_timezone(&tz).to_rfc3339(),
        timezone: e.timezone.name().to_owned(),
        visibility: e.visibility.to_string(),
        reminder_offsets: e.reminder_offsets.0.clone(),
        role_reminders: e.role_reminders.0.clone(),
        follow_up: e.follow_up_after.map(|after| ApiFollowUp { after, link: e.follow_up_link.clone() }),
        rules_in_words: crate::rules::in_words(e),
        notify_reminders: e.notify_reminders,
        guests: e.guests,
        show_attendee_count: e.show_attendee_count,
        notify_changes: e.notify_changes,
        notify_cancellation: e.notify_cancellation,
        status: e.status.to_string(),
        revision: e.revision,
        synced: synced == SyncState::Synced,
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

/// A new event, or (all fields optional) the changes to one.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct EventBody {
    /// Name (1–200 characters).
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Markdown description (at most 20,000 characters).
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// Start: RFC 3339 with offset (or a local `YYYY-MM-DDTHH:MM` in `timezone`; a time that
    /// occurs twice means the earlier moment, a skipped one is rejected).
    pub starts_at: Option<String>,
    /// End, like `starts_at`; after the start.
    pub ends_at: Option<String>,
    /// IANA time zone name, like Europe/Paris.
    #[schema(example = "Europe/Paris", max_length = 64)]
    pub timezone: Option<String>,
    /// Where (at most 500 characters).
    #[schema(max_length = 500)]
    pub location: Option<String>,
    /// Online link (http or https, at most 2,000 characters).
    #[schema(max_length = 2000, pattern = "^https?://")]
    pub online_url: Option<String>,
    /// public (default), unlisted or private.
    pub visibility: Option<ApiVisibility>,
    /// Reminders in seconds before the start: positive, at most a year, at most 10, distinct.
    /// Absent on a new event: the organization's default.
    #[schema(max_items = 10, example = json!([86400, 3600]))]
    pub reminder_offsets: Option<Vec<i64>>,
    /// Reminders of a role's own (`speaker`, `volunteer`, `attendee`, `organizer`), in seconds
    /// before the start, checked like `reminder_offsets` (an empty list: none for that role); a
    /// role left out gets `reminder_offsets`. Absent on a new event: the organization's default.
    #[schema(example = json!({"speaker": [259200, 86400], "volunteer": [7200]}))]
    pub role_reminders: Option<BTreeMap<String, Vec<i64>>>,
    /// The thank-you after the event to those going; `null` for none. Absent on a new event:
    /// the organization's default.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ApiFollowUp>)]
    pub follow_up: Option<Option<ApiFollowUp>>,
    /// Default true.
    pub notify_reminders: Option<bool>,
    /// Whether visitors may answer without an account (default true; public and unlisted
    /// events only).
    pub guests: Option<bool>,
    /// Whether the event's public page says how many are going and maybe (default false).
    pub show_attendee_count: Option<bool>,
    /// Default true.
    pub notify_changes: Option<bool>,
    /// Default true.
    pub notify_cancellation: Option<bool>,
    /// draft (default) or published.
    pub status: Option<String>,
}

impl EventBody {
    /// The input on top of `base` (an existing event's values, or the defaults).
    fn raw(&self, base: RawEvent) -> RawEvent {
        RawEvent {
            name: self.name.clone().unwrap_or(base.name),
            description: self.description.clone().unwrap_or(base.description),
            location: self.location.clone().unwrap_or(base.location),
            online_url: self.online_url.clone().unwrap_or(base.online_url),
            start: self.starts_at.clone().unwrap_or(base.start),
            end: self.ends_at.clone().unwrap_or(base.end),
            timezone: self.timezone.clone().unwrap_or(base.timezone),
            visibility: self
                .visibility
                .map(|v| match v {
                    ApiVisibility::Public => "public",
                    ApiVisibility::Unlisted => "unlisted",
                    ApiVisibility::Private => "private",
                })
                .map_or(base.visibility, str::to_owned),
            reminder_offsets: self.reminder_offsets.clone().unwrap_or(base.reminder_offsets),
            custom_reminders: String::new(),
            rules: RawRules {
                role_reminders: self.role_reminders.clone().unwrap_or(base.rules.role_reminders),
                follow_up_after: match &self.follow_up {
                    Some(f) => f.as_ref().map(|f| f.after),
                    None => base.rules.follow_up_after,
                },
                follow_up_link: match &self.follow_up {
                    Some(f) => f.as_ref().and_then(|f| f.link.clone()).unwrap_or_default(),
                    None => base.rules.follow_up_link,
                },
                ..RawRules::default()
            },
            notices: Notices {
                reminders: self.notify_reminders.unwrap_or(base.notices.reminders),
                changes: self.notify_changes.unwrap_or(base.notices.changes),
                cancellation: self.notify_cancellation.unwrap_or(base.notices.cancellation),
            },
            status: self.status.clone().unwrap_or(base.status),
        }
    }
}

fn raw_of(e: &Event) -> RawEvent {
    RawEvent {
        name: e.name.clone(),
        description: e.description.clone(),
        location: e.location.clone().unwrap_or_default(),
        online_url: e.online_url.clone().unwrap_or_default(),
        start: e.starts_at.to_rfc3339(),
        end: e.ends_at.to_rfc3339(),
        timezone: e.timezone.name().to_owned(),
        visibility: e.visibility.to_string(),
        reminder_offsets: e.reminder_offsets.0.clone(),
        custom_reminders: String::new(),
        rules: RawRules::of(&crate::events::EventFields::of(e).rules),
        notices: Notices {
            reminders: e.notify_reminders,
            changes: e.notify_changes,
            cancellation: e.notify_cancellation,
        },
        status: e.status.to_string(),
    }
}

/// One page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Events by start time.
    pub items: Vec<ApiEvent>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Filters and paging of the event list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only events ending after this instant (RFC 3339).
    pub from: Option<String>,
    /// Only events starting before this instant (RFC 3339).
    pub to: Option<String>,
    /// Page size: default 50, at most 200.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn encode_cursor(e: &Event) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{}", e.starts_at.to_rfc3339(), e.id))
}

fn decode_cursor(raw: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (at, id) = text.split_once('|')?;
    Some((DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc), Uuid::parse_str(id).ok()?))
}

/// The organization's events by start time (drafts only for those who manage events).
#[utoipa::path(get, path = "/orgs/{slug}/events", tag = "events",
    params(("slug" = String, Path, description = "The organization's slug"), ListParams),
    responses((status = 200, body = EventPage),
        (status = 404, description = "No such organization, or not a member", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Bad filter", body = Problem, content_type = "application/problem+json")))]
async fn list_events(
    State(state): State<AppState>,
    o: ApiOrg,
    Query(q): Query<ListParams>,
) -> Result<ApiJson<EventPage>, ApiError> {
    let mut errors = FieldErrors::default();
    let instant = |raw: &Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        raw.as_deref()
            .map(|s| {
                DateTime::parse_from_rfc3339(s.trim()).map(|t| t.with_timezone(&Utc)).map_err(|_| {
                    "Use an RFC 3339 time with offset, like 2026-11-22T18:30:00+01:00.".to_owned()
                })
            })
            .transpose()
    };
    let from = errors.check("from", instant(&q.from)).flatten();
    let to = errors.check("to", instant(&q.to)).flatten();
    let limit = q.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.add("limit", "Use a limit from 1 to 200.");
    }
    let after = match q.cursor.as_deref() {
        Some(c) => {
            let decoded = decode_cursor(c);
            if decoded.is_none() {
                errors.add("cursor", "This cursor is not valid; use the next_cursor of a previous page.");
            }
            decoded
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let manages = events::manages_events(o.access.role);
    let mut list = state.db.org_events(o.access.org.id, from, to, after, manages, limit + 1).await?;
    let more = list.len() as i64 > limit;
    list.truncate(usize::try_from(limit).unwrap_or(50));
    let next_cursor = if more { list.last().map(encode_cursor) } else { None };
    let mut items = Vec::with_capacity(list.len());
    for e in &list {
        items.push(api_event(e, &o.access.org.slug, events::sync_state(&state.db, e).await?));
    }
    Ok(ApiJson(EventPage { items, next_cursor }))
}

/// Creates an event (owners, admins, organizers). With an `Idempotency-Key` header, a retry
/// with the same key and body returns the same event (200) instead of creating another; the
/// same key with a different body is a 409.
#[utoipa::path(post, path = "/orgs/{slug}/events", tag = "events", request_body = EventBody,
    params(("slug" = String, Path, description = "The organization's slug"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: one event per key")),
    responses((status = 201, body = ApiEvent),
        (status = 200, description = "A retry of an earlier request with the same Idempotency-Key", body = ApiEvent),
        (status = 403, description = "The caller does not manage events", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create_event(
    State(state): State<AppState>,
    o: ApiOrg,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<EventBody>,
) -> Result<Response, ApiError> {
    if !events::manages_events(o.access.role) {
        return Err(ApiError::Forbidden("Only owners, admins and organizers manage events.".into()));
    }
    // What is left out comes from the organization's defaults for new events.
    let defaults = crate::rules::defaults(&state.db, o.access.org.id).await?;
    let base = RawEvent {
        visibility: "public".into(),
        status: "draft".into(),
        notices: Notices::default(),
        reminder_offsets: defaults.reminder_offsets.0.clone(),
        rules: RawRules::of(&defaults.rules()),
        ..Default::default()
    };
    let request_hash = fingerprint(&o.access.org.id.to_string(), &input)?;
    let idem = key.as_deref().map(|k| (k, request_hash.as_str()));
    // A retry is answered with what the first request created, before its body is judged again.
    if let Some(found) = events::replay(&state, &o.access, idem).await? {
        let (event, synced) = found;
        return Ok((StatusCode::OK, ApiJson(api_event(&event, &o.access.org.slug, synced))).into_response());
    }
    let fields = events::validate(&input.raw(base), API_NAMES).map_err(ApiError::Invalid)?;
    let (mut event, synced) = events::create(&state, &o.access, &fields, idem).await?;
    if let Some(on) = input.guests {
        event = events::set_guests(&state, &o.access, event.id, on).await?;
    }
    if let Some(on) = input.show_attendee_count {
        event = events::set_show_attendee_count(&state, &o.access, event.id, on).await?;
    }
    Ok((StatusCode::CREATED, ApiJson(api_event(&event, &o.access.org.slug, synced))).into_response())
}

/// One event: public and unlisted ones for any caller, private ones for members and
/// participants, drafts only for those who manage events.
#[utoipa::path(get, path = "/events/{id}", tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiEvent),
        (status = 404, description = "No such event, or not visible to the caller", body = Problem, content_type = "application/problem+json")))]
async fn get_event(
    State(state): State<AppState>,
    super::ApiUser(caller): super::ApiUser,
    ApiEventId(id): ApiEventId,
) -> Result<ApiJson<ApiEvent>, ApiError> {
    let (event, org_slug, synced) = events::read_for_user(&state.db, id, caller.user.id).await?;
    Ok(ApiJson(api_event(&event, &org_slug, synced)))
}

/// Changes an event: only the fields given change. Every change bumps `revision` and is
/// recorded in the history; participants are told according to the notice settings.
#[utoipa::path(patch, path = "/events/{id}", tag = "events", request_body = EventBody,
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiEvent),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event is cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update_event(
    State(state): State<AppState>,
    r: ApiEventRef,
    ApiJson(input): ApiJson<EventBody>,
) -> Result<ApiJson<ApiEvent>, ApiError> {
    if !events::manages_events(r.access.role) {
        return Err(ApiError::Forbidden("Only owners, admins and organizers manage events.".into()));
    }
    let fields = events::validate(&input.raw(raw_of(&r.event)), API_NAMES).map_err(ApiError::Invalid)?;
    let (mut event, synced) = events::edit(&state, &r.access, r.event.id, &fields).await?;
    if let Some(on) = input.guests {
        event = events::set_guests(&state, &r.access, event.id, on).await?;
    }
    if let Some(on) = input.show_attendee_count {
        event = events::set_show_attendee_count(&state, &r.access, event.id, on).await?;
    }
    Ok(ApiJson(api_event(&event, &r.access.org.slug, synced)))
}

/// Deletes a draft, or an event that has ended (cancel upcoming ones instead).
#[utoipa::path(delete, path = "/events/{id}", tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 204, description = "Deleted"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Published and not ended yet", body = Problem, content_type = "application/problem+json")))]
async fn delete_event(State(state): State<AppState>, r: ApiEventRef) -> Result<StatusCode, ApiError> {
    events::delete(&state, &r.access, r.event.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancels an event: participants are told (if they chose to be) and get no further reminders.
#[utoipa::path(post, path = "/events/{id}/cancel", tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiEvent),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already cancelled", body = Problem, content_type = "application/problem+json")))]
async fn cancel_event(State(state): State<AppState>, r: ApiEventRef) -> Result<ApiJson<ApiEvent>, ApiError> {
    let (event, synced) = events::cancel(&state, &r.access, r.event.id).await?;
    Ok(ApiJson(api_event(&event, &r.access.org.slug, synced)))
}

/// One saved change of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiEventUpdate {
    /// The event's revision after the change.
    pub revision: i64,
    /// published, updated, cancelled or message.
    pub kind: String,
    /// What changed, old → new: `time`, `place`, `link`, `status` as `{"old": …, "new": …}`,
    /// and `fields`, the names of other changed fields.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// Whether the scheduler was told.
    pub signalled: bool,
}

impl From<&EventUpdate> for ApiEventUpdate {
    fn from(u: &EventUpdate) -> Self {
        Self {
            revision: u.revision,
            kind: u.kind.to_string(),
            changes: u.payload.0.clone(),
            created_at: u.created_at,
            signalled: u.signalled_at.is_some(),
        }
    }
}

/// The event's change history, newest first.
#[utoipa::path(get, path = "/events/{id}/updates", tag = "events",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = [ApiEventUpdate]),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_updates(
    State(state): State<AppState>,
    r: ApiEventRef,
) -> Result<ApiJson<Vec<ApiEventUpdate>>, ApiError> {
    let updates = state.db.event_updates(r.event.id).await?;
    Ok(ApiJson(updates.iter().map(ApiEventUpdate::from).collect()))
}
