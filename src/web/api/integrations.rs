//! `/api/v1/integrations…`: the caller's notification channels, and `/api/v1/me/notification-defaults`.
//!
//! The same rules as the pages ([`crate::integrations`]): only verified users add channels (403
//! otherwise), another user's channel is 404 everywhere, bad fields are 422 naming each one
//! (`name`, `urls[1].url`, `urls[0].tags[2]`, `code`), and answers only ever show redacted URLs.
//! A channel is active once the code sent through it is confirmed.

use axum::Json;
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

use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::db::models::Integration;
use crate::domain::ServiceError;
use crate::integrations::{self as rules, Channels, Delivery, EntryInput, Pushed, Saved};
use crate::web::AppState;
use crate::web::session::CurrentUser;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(confirm))
        .routes(routes!(resend_code))
        .routes(routes!(test))
        .routes(routes!(get_defaults, put_defaults))
}

fn channels(state: &AppState) -> Channels<'_> {
    Channels { db: &state.db, keys: &state.keys, apprise: state.apprise.as_ref(), targets: state.targets }
}

/// The caller and one of their channels, named by `{id}`: another user's (or a malformed id) is
/// 404, decided before the body is read so that a bad body tells nothing either.
struct OwnChannel {
    caller: CurrentUser,
    id: Uuid,
}

impl FromRequestParts<AppState> for OwnChannel {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(caller) = ApiUser::from_request_parts(parts, state).await?;
        let Path(raw) =
            Path::<String>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let id = Uuid::parse_str(&raw).map_err(|_| ApiError::NotFound)?;
        state.db.integration_of(caller.user.id, id).await?.ok_or(ApiError::NotFound)?;
        Ok(Self { caller, id })
    }
}

/// Where a channel stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelStatus {
    /// Waiting for the code sent through it (`POST …/confirm`).
    AwaitingConfirmation,
    /// Confirmed and enabled: it receives notifications.
    Active,
    /// Switched off: it receives nothing.
    Disabled,
}

/// One URL of a channel, redacted: passwords, tokens and secret path parts are `****`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RedactedUrlOut {
    /// The URL with its secrets replaced by `****`.
    #[schema(example = "ntfys://ntfy.sh/****")]
    pub url: String,
    /// Its tags.
    pub tags: Vec<String>,
}

/// What became of a message sent through a channel, as the Apprise API answered.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// Every URL received it.
    Delivered,
    /// Some URLs failed; the others received it.
    Partial,
    /// The Apprise API did not know the channel, even after Herald stored it again.
    KeyMissing,
    /// The Apprise API refused the message.
    Rejected,
    /// The Apprise API could not be reached, or nothing could be delivered now.
    Unavailable,
    /// Herald runs in log-only mode: nothing was sent, the message went to Herald's log.
    LogOnly,
}

/// A message sent through a channel: the outcome, and the Apprise API's answer in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    /// What happened.
    pub outcome: DeliveryOutcome,
    /// Whether the Apprise API had lost the channel's config, so Herald stored it again and retried.
    pub repushed: bool,
    /// The answer in words, for a person.
    pub message: String,
}

impl DeliveryOut {
    fn new(d: &Delivery, what: &str) -> Self {
        let outcome = match d.code() {
            "delivered" => DeliveryOutcome::Delivered,
            "partial" => DeliveryOutcome::Partial,
            "key_missing" => DeliveryOutcome::KeyMissing,
            "rejected" => DeliveryOutcome::Rejected,
            "unavailable" => DeliveryOutcome::Unavailable,
            _ => DeliveryOutcome::LogOnly,
        };
        let repushed = matches!(d, Delivery::Sent(s) if s.repushed);
        Self { outcome, repushed, message: d.describe(what) }
    }
}

/// Whether a new or changed config reached the Apprise API.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfigPush {
    /// The Apprise API stored it.
    Stored,
    /// Log-only mode: there is no Apprise API.
    LogOnly,
    /// Saved in Herald, but the Apprise API could not store it now; it is pushed again when a
    /// code or notification is sent.
    Pending,
    /// Saved in Herald only, on purpose: the Apprise API is locked and stores no configs, so
    /// every message carries the channel's URLs.
    Locked,
}

/// A notification channel, with its URLs redacted.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    /// Channel id.
    pub id: Uuid,
    /// Its name, unique among the caller's channels.
    pub name: String,
    /// `apprise` (the caller's own URLs) or `email` (the built-in channel to the account's
    /// address, made by Herald when system mail is set up: it can be switched off, not edited
    /// or deleted).
    #[schema(example = "apprise", pattern = "^(apprise|email)$")]
    pub kind: String,
    /// Where it stands.
    pub status: ChannelStatus,
    /// Whether it is switched on.
    pub enabled: bool,
    /// Whether its code was confirmed (since the last change of URLs).
    pub confirmed: bool,
    /// When it was confirmed.
    pub verified_at: Option<DateTime<Utc>>,
    /// Every tag its URLs use.
    pub tags: Vec<String>,
    /// Its URLs, redacted.
    pub urls: Vec<RedactedUrlOut>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Only in answers that created the channel or replaced its URLs: whether the config reached
    /// the Apprise API.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_push: Option<ConfigPush>,
    /// Only in answers that created the channel or replaced its URLs: how the confirmation code
    /// was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<DeliveryOut>,
}

impl IntegrationOut {
    fn new(state: &AppState, i: &Integration) -> Self {
        let status = match rules::status_of(i) {
            "disabled" => ChannelStatus::Disabled,
            "awaiting_confirmation" => ChannelStatus::AwaitingConfirmation,
            _ => ChannelStatus::Active,
        };
        Self {
            id: i.id,
            name: i.name.clone(),
            kind: i.kind.clone(),
            status,
            enabled: i.enabled,
            confirmed: i.verified_at.is_some(),
            verified_at: i.verified_at,
            tags: i.tags.0.clone(),
            urls: rules::redacted_entries(&state.keys, i)
                .into_iter()
                .map(|(url, tags)| RedactedUrlOut { url, tags })
                .collect(),
            created_at: i.created_at,
            updated_at: i.updated_at,
            config_push: None,
            confirmation: None,
        }
    }

    fn saved(state: &AppState, saved: &Saved) -> Self {
        let mut out = Self::new(state, &saved.integration);
        out.config_push = Some(match saved.pushed {
            Pushed::Stored => ConfigPush::Stored,
            Pushed::LogOnly => ConfigPush::LogOnly,
            Pushed::Later(_) => ConfigPush::Pending,
            Pushed::Locked => ConfigPush::Locked,
        });
        out.confirmation = Some(DeliveryOut::new(&saved.code, "The confirmation code"));
        out
    }
}

/// One Apprise URL with its tags.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlIn {
    /// An Apprise URL, like `ntfys://ntfy.sh/my-topic` or `mailtos://user:pass@smtp.example.org?to=me@example.org`;
    /// at most 2,048 characters, no spaces.
    #[schema(
        example = "ntfys://ntfy.sh/my-topic",
        min_length = 1,
        max_length = 2048,
        pattern = "^[A-Za-z][A-Za-z0-9+.-]*://"
    )]
    pub url: String,
    /// Tags: lower-case letters, digits, `_` and `-`, 1–32 characters each (`all` and `always`
    /// are reserved by Apprise). Upper case is lower-cased.
    #[serde(default)]
    #[schema(example = json!(["phone", "urgent"]), max_items = 10)]
    pub tags: Vec<String>,
}

impl From<&UrlIn> for EntryInput {
    fn from(u: &UrlIn) -> Self {
        Self { url: u.url.clone(), tags: u.tags.clone() }
    }
}

/// A new channel.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntegration {
    /// Its name, 1–100 characters, unique among the caller's channels.
    #[schema(example = "My phone", min_length = 1, max_length = 100)]
    pub name: String,
    /// 1–20 Apprise URLs with their tags.
    #[schema(min_items = 1, max_items = 20)]
    pub urls: Vec<UrlIn>,
}

/// Changes to a channel; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationChanges {
    /// A new name, 1–100 characters.
    #[serde(default)]
    pub name: Option<String>,
    /// Switch it on or off.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Replaces every URL: the channel receives a new code and is inactive until it is confirmed.
    #[serde(default)]
    pub urls: Option<Vec<UrlIn>>,
}

/// The codes a channel received: one 6-digit code per URL.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmInput {
    /// The 6-digit code; for a channel with several URLs, every URL's code, separated by spaces,
    /// in any order.
    #[schema(example = "123456", max_length = 1000)]
    pub code: String,
}

/// The caller's channels, by name.
#[utoipa::path(get, path = "/integrations", tag = "integrations",
    responses((status = 200, body = Vec<IntegrationOut>),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn list(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
) -> Result<Json<Vec<IntegrationOut>>, ApiError> {
    let rows = state.db.integrations_of(caller.user.id).await?;
    Ok(Json(rows.iter().map(|i| IntegrationOut::new(&state, i)).collect()))
}

/// Adds a channel: Herald stores the URLs encrypted, pushes them to the Apprise API and sends a
/// 6-digit code to each of its URLs (confirm it with all of them: `POST /integrations/{id}/confirm`).
/// Only verified users may add channels.
#[utoipa::path(post, path = "/integrations", tag = "integrations", request_body = NewIntegration,
    responses((status = 201, body = IntegrationOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, body = Problem, content_type = "application/problem+json", description = "The caller's email address is not verified"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "The caller has 20 channels already"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn create(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(input): ApiJson<NewIntegration>,
) -> Response {
    let entries: Vec<EntryInput> = input.urls.iter().map(EntryInput::from).collect();
    match channels(&state).create(&caller.user, &input.name, &entries).await {
        Ok(saved) => (StatusCode::CREATED, Json(IntegrationOut::saved(&state, &saved))).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// One of the caller's channels.
#[utoipa::path(get, path = "/integrations/{id}", tag = "integrations",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = IntegrationOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_one(State(state): State<AppState>, OwnChannel { caller, id }: OwnChannel) -> Response {
    match channels(&state).get(&caller.user, id).await {
        Ok(i) => Json(IntegrationOut::new(&state, &i)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Renames a channel, switches it on or off, or replaces its URLs (then it receives a new code
/// and is inactive until confirmed).
#[utoipa::path(patch, path = "/integrations/{id}", tag = "integrations", request_body = IntegrationChanges,
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = IntegrationOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn update(
    State(state): State<AppState>,
    OwnChannel { caller, id }: OwnChannel,
    ApiJson(input): ApiJson<IntegrationChanges>,
) -> Response {
    let ch = channels(&state);
    let user = &caller.user;
    let result = async {
        let mut current = ch.get(user, id).await?;
        // Check every field before changing anything.
        let mut errors = crate::domain::FieldErrors::default();
        if let Some(name) = &input.name
            && let Some(name) = errors.check("name", crate::domain::Name::parse(name))
            && let Some(other) = state.db.integration_named(user.id, name.as_str()).await?
            && other.id != id
        {
            errors.add(
                "name",
                format!("You already have a channel named “{}”; choose another name.", name.as_str()),
            );
        }
        let entries: Option<Vec<EntryInput>> =
            input.urls.as_ref().map(|u| u.iter().map(EntryInput::from).collect());
        if let Some(entries) = &entries {
            rules::validate_entries(entries, &mut errors);
        }
        if !errors.is_empty() {
            return Err(ServiceError::Invalid(errors));
        }
        let mut saved = None;
        if let Some(entries) = &entries {
            let s = ch.replace_urls(user, id, entries).await?;
            current = s.integration.clone();
            saved = Some(s);
        }
        if let Some(name) = &input.name {
            current = ch.rename(user, id, name).await?;
        }
        if let Some(enabled) = input.enabled {
            current = ch.set_enabled(user, id, enabled).await?;
        }
        Ok(match saved {
            Some(mut s) => {
                s.integration = current;
                IntegrationOut::saved(&state, &s)
            }
            None => IntegrationOut::new(&state, &current),
        })
    }
    .await;
    match result {
        Ok(out) => Json(out).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Deletes a channel: first from the Apprise API (unless it is locked and holds none), then
/// from Herald. When the Apprise API cannot be reached, nothing is deleted (503).
#[utoipa::path(delete, path = "/integrations/{id}", tag = "integrations",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 204, description = "Deleted"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json", description = "The Apprise API is unavailable; nothing was deleted")))]
async fn delete(State(state): State<AppState>, OwnChannel { caller, id }: OwnChannel) -> Response {
    match channels(&state).delete(&caller.user, id).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Confirms a channel with the 6-digit codes its URLs received (one per URL, so nobody can enrol
/// a target they do not control); it becomes active. Missing, wrong, expired or exhausted codes
/// are a 422 on `code` (5 tries per set of codes; codes work for 30 minutes).
#[utoipa::path(post, path = "/integrations/{id}/confirm", tag = "integrations", request_body = ConfirmInput,
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = IntegrationOut),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn confirm(
    State(state): State<AppState>,
    OwnChannel { caller, id }: OwnChannel,
    ApiJson(input): ApiJson<ConfirmInput>,
) -> Response {
    match channels(&state).confirm(&caller.user, id, &input.code).await {
        Ok(i) => Json(IntegrationOut::new(&state, &i)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Sends a new confirmation code through a channel that awaits confirmation (earlier codes stop
/// working; at most one every 30 seconds: 409 otherwise).
#[utoipa::path(post, path = "/integrations/{id}/code", tag = "integrations",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = DeliveryOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "Already confirmed, or a code was sent moments ago")))]
async fn resend_code(State(state): State<AppState>, OwnChannel { caller, id }: OwnChannel) -> Response {
    match channels(&state).resend_code(&caller.user, id).await {
        Ok((_, d)) => Json(DeliveryOut::new(&d, "The confirmation code")).into_response(),
        Err(ServiceError::Invalid(fields)) => {
            let why = fields.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            ApiError::Conflict(why).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Sends a test message through a confirmed channel and reports the Apprise API's answer
/// (`outcome` and, in words, `message`). An unconfirmed channel is 409.
#[utoipa::path(post, path = "/integrations/{id}/test", tag = "integrations",
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = DeliveryOut),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json", description = "The channel is not confirmed yet")))]
async fn test(State(state): State<AppState>, OwnChannel { caller, id }: OwnChannel) -> Response {
    match channels(&state).test(&caller.user, id).await {
        Ok((_, d)) => Json(DeliveryOut::new(&d, "The test message")).into_response(),
        Err(ServiceError::Forbidden(why)) => ApiError::Conflict(why).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The caller's default tags: which of their channels' URLs receive reminders, and which
/// receive urgent changes (cancellations, a new time or place), when they join an event. An
/// empty list means every URL of every active channel.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationDefaults {
    /// Tags that receive reminders.
    #[schema(example = json!(["email"]))]
    pub reminder_tags: Vec<String>,
    /// Tags that receive urgent changes.
    #[schema(example = json!(["phone", "email"]))]
    pub urgent_tags: Vec<String>,
}

/// The caller's default tags.
#[utoipa::path(get, path = "/me/notification-defaults", tag = "integrations",
    responses((status = 200, body = NotificationDefaults),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
async fn get_defaults(State(state): State<AppState>, ApiUser(caller): ApiUser) -> Response {
    match channels(&state).defaults(&caller.user).await {
        Ok((reminder_tags, urgent_tags)) => {
            Json(NotificationDefaults { reminder_tags, urgent_tags }).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Sets the caller's default tags (both lists; problems under `reminder_tags[i]`, `urgent_tags[i]`).
#[utoipa::path(put, path = "/me/notification-defaults", tag = "integrations", request_body = NotificationDefaults,
    responses((status = 200, body = NotificationDefaults),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
async fn put_defaults(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    ApiJson(input): ApiJson<NotificationDefaults>,
) -> Response {
    match channels(&state).set_defaults(&caller.user, &input.reminder_tags, &input.urgent_tags).await {
        Ok((reminder_tags, urgent_tags)) => {
            Json(NotificationDefaults { reminder_tags, urgent_tags }).into_response()
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}
