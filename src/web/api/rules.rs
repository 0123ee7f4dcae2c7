//! Rules per audience in the API ([`crate::rules`]): an organization's defaults for new events
//! (`/orgs/{slug}/event-defaults`), the caller's reminders on an event they take part in
//! (`/me/events/{id}/reminders`) and their preferred reminder times (`/me/reminders`).
//! An event's own per-role reminders and follow-up are fields of the event (see `events`).

use std::collections::BTreeMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::access::ApiOrg;
use super::participants::ApiEventView;
use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::db::rules::EventDefaults;
use crate::rules::{self, RawDefaults, ReminderChoice};
use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_defaults, put_defaults))
        .routes(routes!(get_my_default, put_my_default))
        .routes(routes!(get_my_reminders, put_my_reminders))
}

/// The follow-up after an event: a thank-you to those going.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiFollowUp {
    /// Seconds after the end (1 to 2,592,000: 30 days).
    #[schema(minimum = 1, maximum = 2592000, example = 7200)]
    pub after: i64,
    /// An optional feedback link (https).
    #[serde(default)]
    #[schema(max_length = 2000, pattern = "^https://")]
    pub link: Option<String>,
}

/// An organization's defaults for its new events: used when an event is created without these
/// fields (the API) and filled in on the new-event form.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ApiEventDefaults {
    /// Reminders for everyone, in seconds before the start.
    #[serde(default)]
    #[schema(max_items = 10, example = json!([86400, 3600]))]
    pub reminder_offsets: Vec<i64>,
    /// Reminders of their own for some roles (`speaker`, `volunteer`, `attendee`,
    /// `organizer`), in seconds before the start; a role left out gets `reminder_offsets`.
    #[serde(default)]
    #[schema(example = json!({"speaker": [259200, 86400], "volunteer": [7200]}))]
    pub role_reminders: BTreeMap<String, Vec<i64>>,
    /// The follow-up after the event (`null`: none).
    #[serde(default)]
    pub follow_up: Option<ApiFollowUp>,
}

impl From<&EventDefaults> for ApiEventDefaults {
    fn from(d: &EventDefaults) -> Self {
        Self {
            reminder_offsets: d.reminder_offsets.0.clone(),
            role_reminders: d.role_reminders.0.clone(),
            follow_up: d.follow_up_after.map(|after| ApiFollowUp { after, link: d.follow_up_link.clone() }),
        }
    }
}

/// The organization's defaults for new events.
#[utoipa::path(get, path = "/orgs/{slug}/event-defaults", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = ApiEventDefaults),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_defaults(
    State(state): State<AppState>,
    o: ApiOrg,
) -> Result<ApiJson<ApiEventDefaults>, ApiError> {
    let d = rules::defaults(&state.db, o.access.org.id).await?;
    Ok(ApiJson(ApiEventDefaults::from(&d)))
}

/// Sets the organization's defaults for new events (owners, admins and organizers).
#[utoipa::path(put, path = "/orgs/{slug}/event-defaults", tag = "organizations", request_body = ApiEventDefaults,
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = ApiEventDefaults),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What to fix, by field", body = Problem, content_type = "application/problem+json")))]
async fn put_defaults(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(body): ApiJson<ApiEventDefaults>,
) -> Result<ApiJson<ApiEventDefaults>, ApiError> {
    let raw = RawDefaults {
        reminder_offsets: body.reminder_offsets,
        role_reminders: body.role_reminders,
        follow_up_after: body.follow_up.as_ref().map(|f| f.after),
        follow_up_link: body.follow_up.and_then(|f| f.link).unwrap_or_default(),
    };
    let d = rules::save_defaults(&state, &o.access, &raw).await?;
    Ok(ApiJson(ApiEventDefaults::from(&d)))
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The caller's reminder times for every event.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ApiReminderTimes {
    /// The reminders offered that they prefer, in seconds before the start (`null`: no
    /// preference, every reminder the organizer offers).
    #[schema(max_items = 10, example = json!([3600]))]
    pub offsets: Option<Vec<i64>>,
    /// Times of their own added on every event where they set none for it, in seconds before
    /// the start: at most 3, each from 300 (5 minutes) to 1,209,600 (14 days).
    #[schema(max_items = 3, example = json!([7200]))]
    pub own: Vec<i64>,
}

impl From<rules::DefaultTimes> for ApiReminderTimes {
    fn from(d: rules::DefaultTimes) -> Self {
        Self { offsets: d.preferred, own: d.own }
    }
}

/// A change to the caller's reminder times for every event.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApiReminderTimesInput {
    /// The reminders offered that they prefer, in seconds before the start (`null` or left
    /// out: no preference).
    #[serde(default)]
    #[schema(max_items = 10, example = json!([3600]))]
    pub offsets: Option<Vec<i64>>,
    /// Times of their own added on every event, in seconds before the start: at most 3, each
    /// from 300 (5 minutes) to 1,209,600 (14 days). `null` or `[]`: none; left out: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<i64>>, max_items = 3, example = json!([7200]))]
    pub own: Option<Option<Vec<i64>>>,
}

/// The caller's reminder times for every event: the offered ones they prefer (used on events
/// where they chose none: the reminders offered there that are among these, all offered ones
/// when none is) and the times of their own added on every event.
#[utoipa::path(get, path = "/me/reminders", tag = "account",
    responses((status = 200, body = ApiReminderTimes),
        (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn get_my_default(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
) -> Result<ApiJson<ApiReminderTimes>, ApiError> {
    Ok(ApiJson(rules::default_times(&state.db, caller.user.id).await?.into()))
}

/// Sets the caller's reminder times for every event. A change of their own times reaches the
/// plans of their events still to come (where they set no own times for the event).
#[utoipa::path(put, path = "/me/reminders", tag = "account", request_body = ApiReminderTimesInput,
    responses((status = 200, body = ApiReminderTimes),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What to fix in `offsets` or `own`", body = Problem, content_type = "application/problem+json")))]
async fn put_my_default(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(body): ApiJson<ApiReminderTimesInput>,
) -> Result<ApiJson<ApiReminderTimes>, ApiError> {
    Ok(ApiJson(rules::set_default(&state.db, caller.user.id, body.offsets, body.own).await?.into()))
}

/// The range own reminder times may take on an event, in seconds before the start.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiOwnRange {
    /// The latest: 300 (5 minutes), or the organizer's latest reminder when it is later.
    pub latest: i64,
    /// The earliest: 1,209,600 (14 days), or the organizer's earliest when it is earlier.
    pub earliest: i64,
    /// How many own times one may add.
    pub most: usize,
}

/// The caller's reminders on an event they take part in.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiMyReminders {
    /// Their role: organizer, speaker, volunteer or attendee.
    pub role: String,
    /// The reminders the organizer offers to that role, in seconds before the start.
    pub offered: Vec<i64>,
    /// What they chose among those (`null`: nothing, so their preferred times or every one
    /// offered).
    pub chosen: Option<Vec<i64>>,
    /// Times of their own set for this event (`null`: their default own times apply).
    pub own: Option<Vec<i64>>,
    /// Their default own times (`/me/reminders`).
    pub own_default: Vec<i64>,
    /// The reminders they will get: the offered ones they keep and their own times.
    pub effective: Vec<i64>,
    /// Whether the event sends reminders at all.
    pub reminders_on: bool,
    /// The range their own times may take on this event.
    pub own_range: ApiOwnRange,
}

impl From<ReminderChoice> for ApiMyReminders {
    fn from(c: ReminderChoice) -> Self {
        Self {
            role: c.role.as_str().to_owned(),
            offered: c.offered,
            chosen: c.chosen,
            own: c.own,
            own_default: c.own_default,
            effective: c.effective,
            reminders_on: c.reminders_on,
            own_range: ApiOwnRange { latest: c.own_range.0, earliest: c.own_range.1, most: rules::MAX_OWN },
        }
    }
}

/// A change to the caller's reminders on an event.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ApiMyRemindersInput {
    /// The reminders offered to keep, in seconds before the start (`null` or left out: all of
    /// them, or the preferred times).
    #[serde(default)]
    #[schema(max_items = 10, example = json!([3600]))]
    pub offsets: Option<Vec<i64>>,
    /// Times of their own on this event, in seconds before the start: at most 3, each from 5
    /// minutes to 14 days before the start (wider when the organizer's reminders are) and still
    /// to come. `null`: back to the default own times; `[]`: none here; left out: unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Vec<i64>>, max_items = 3, example = json!([7200]))]
    pub own: Option<Option<Vec<i64>>>,
}

/// The caller's reminders on the event (404 unless they take part in it).
#[utoipa::path(get, path = "/me/events/{id}/reminders", tag = "participants",
    params(("id" = uuid::Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiMyReminders),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_my_reminders(
    State(state): State<AppState>,
    r: ApiEventView,
) -> Result<ApiJson<ApiMyReminders>, ApiError> {
    Ok(ApiJson(rules::choice_of(&state.db, &r.view).await?.into()))
}

/// Sets the caller's reminders on the event: which of those offered to their role they keep
/// (`null`: all of them) and times of their own, which only they get. Takes effect for every
/// reminder not sent yet.
#[utoipa::path(put, path = "/me/events/{id}/reminders", tag = "participants", request_body = ApiMyRemindersInput,
    params(("id" = uuid::Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiMyReminders),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The event already plans as many times of people's own as it takes", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A time that is not offered, or an own time outside the limits or already past", body = Problem, content_type = "application/problem+json")))]
async fn put_my_reminders(
    State(state): State<AppState>,
    r: ApiEventView,
    ApiJson(body): ApiJson<ApiMyRemindersInput>,
) -> Result<ApiJson<ApiMyReminders>, ApiError> {
    Ok(ApiJson(rules::choose(&state.db, &r.view, body.offsets, body.own).await?.into()))
}
