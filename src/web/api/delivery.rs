//! `/api/v1/events/{id}/notifications` (the delivery ledger) and `/api/v1/events/{id}/schedule`
//! (what the workflow will send next), for the event's organizers.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::{ApiError, ApiJson, ApiUser, Problem};
use crate::db::delivery::LedgerEntry;
use crate::db::models::Event;
use crate::events;
use crate::schedule::{self, Source};
use crate::web::AppState;

/// The most ledger rows one answer carries (newest due first).
const LEDGER_LIMIT: i64 = 5_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(notifications)).routes(routes!(upcoming))
}

/// The event, for one of the organizers of its organization.
async fn organizer_event(state: &AppState, caller: Uuid, id: Uuid) -> Result<Event, ApiError> {
    let (access, event) = events::load_for_user(&state.db, id, caller).await?;
    if !events::manages_events(access.role) {
        return Err(ApiError::Forbidden(
            "Only owners, admins and organizers see an event's deliveries.".into(),
        ));
    }
    Ok(event)
}

/// One row of the delivery ledger: one notice to one participant through one channel.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiNotification {
    pub id: Uuid,
    /// `reminder`, `updated`, `cancelled` or `message` (an announcement or the follow-up).
    pub kind: String,
    /// `pending`, `sent`, `partial` (some of the channel's targets failed; never resent),
    /// `failed`, `expired` (too late: the event had started), `skipped` (no channel, or
    /// log-only mode) or `uncertain` (it was on its way when its sender stopped, e.g. a worker
    /// killed mid-send: most likely delivered, and never sent again so nobody gets it twice).
    pub status: String,
    /// When it was due.
    pub due_at: DateTime<Utc>,
    /// When the Apprise API accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Attempts so far.
    pub attempts: i64,
    /// The participant.
    pub participant_id: Option<Uuid>,
    /// Their display name.
    pub recipient: Option<String>,
    /// The channel (integration) it went through; none when the participant had none.
    pub integration_id: Option<Uuid>,
    /// The channel's name.
    pub channel: Option<String>,
    /// What the Apprise API answered, in words (failures and partial deliveries).
    pub detail: Option<String>,
}

impl From<LedgerEntry> for ApiNotification {
    fn from(e: LedgerEntry) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            status: e.status.as_str().to_owned(),
            due_at: e.due_at,
            sent_at: e.sent_at,
            attempts: e.attempts,
            participant_id: e.participant_id,
            recipient: e.recipient_name,
            integration_id: e.integration_id,
            channel: e.integration_name,
            detail: e.apprise_answer,
        }
    }
}

/// The delivery ledger.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiLedger {
    pub items: Vec<ApiNotification>,
}

/// The event's delivery ledger, newest due first (organizers only).
#[utoipa::path(get, path = "/events/{id}/notifications", tag = "delivery",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiLedger),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn notifications(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<ApiJson<ApiLedger>, ApiError> {
    let event = organizer_event(&state, caller.user.id, id).await?;
    let items =
        state.db.ledger(event.id, LEDGER_LIMIT).await?.into_iter().map(ApiNotification::from).collect();
    Ok(ApiJson(ApiLedger { items }))
}

/// A notice still to come.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiScheduledNotice {
    /// `reminder`, or a timed notice's kind (`follow_up`).
    pub kind: String,
    /// Seconds before the start.
    pub offset: i64,
    /// When it goes out.
    pub due_at: DateTime<Utc>,
    /// Who gets it, in words: `everyone`, `speakers and volunteers`, `those going`.
    pub for_whom: String,
}

/// What the event's workflow will send next.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiSchedule {
    /// `workflow` (the running workflow answered), `estimate` (computed from the event because
    /// the workflow could not be asked: see `reason`), `asleep` (computed from the event: its
    /// workflow rests until `wakes_at`, shortly before the first notice; a change wakes it at
    /// once) or `none` (nothing scheduled).
    pub source: String,
    /// Why this is an estimate.
    pub reason: Option<String>,
    /// With `asleep`: when the workflow takes the event up (15 to 30 minutes before its first
    /// notice).
    pub wakes_at: Option<DateTime<Utc>>,
    /// The workflow's phase: `loading`, `waiting`, `delivering`, `cancelled` or `finished`.
    pub phase: Option<String>,
    /// Upcoming notices, soonest first.
    pub items: Vec<ApiScheduledNotice>,
    /// The workflow in the Temporal Web UI, when configured.
    pub workflow_url: Option<String>,
}

/// The event's upcoming notices, from its workflow (organizers only).
#[utoipa::path(get, path = "/events/{id}/schedule", tag = "delivery",
    params(("id" = Uuid, Path, description = "The event's id")),
    responses((status = 200, body = ApiSchedule),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn upcoming(
    State(state): State<AppState>,
    ApiUser(caller): ApiUser,
    Path(id): Path<Uuid>,
) -> Result<ApiJson<ApiSchedule>, ApiError> {
    let event = organizer_event(&state, caller.user.id, id).await?;
    let s = schedule::of(&state.temporal, &event, Utc::now()).await;
    let (source, reason, wakes_at) = match s.source {
        Source::Workflow => ("workflow", None, None),
        Source::Estimate(r) => ("estimate", Some(r), None),
        Source::Asleep(wake) => ("asleep", None, Some(wake)),
        Source::Nothing => ("none", None, None),
    };
    Ok(ApiJson(ApiSchedule {
        source: source.into(),
        reason,
        wakes_at,
        phase: s.phase.map(|p| {
            serde_json::to_value(p).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
        }),
        items: s
            .upcoming
            .into_iter()
            .map(|n| ApiScheduledNotice {
                for_whom: crate::rules::notice_audience(&event, &n.kind, n.offset),
                kind: n.kind,
                offset: n.offset,
                due_at: n.due_at,
            })
            .collect(),
        workflow_url: s.workflow_url,
    }))
}
