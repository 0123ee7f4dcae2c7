//! What the activities need from the application, as traits the `herald` crate implements.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::apprise::{AppriseClient, BodyFormat, ConfigKey, NoticeType, TaggedUrl};
use crate::types::{DeliverRequest, EventPlan};

/// Reads an event's current plan from the database.
pub trait PlanStore: Send + Sync + 'static {
    /// The current plan of `event_id`, or `None` when the event no longer exists.
    fn load_plan(&self, event_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<EventPlan>>>;
}

/// Where one delivery goes: an integration's config key and the tags that pick its URLs (the
/// key is unused when the Apprise API is locked: then Herald picks the URLs itself).
#[derive(Clone)]
pub struct Target {
    /// The integration.
    pub integration_id: Uuid,
    /// Its Apprise config key.
    pub key: ConfigKey,
    /// The `tag` of the notify request (`all` for every URL).
    pub tag: String,
    /// URLs made for this very message, sent stateless instead of through the stored config:
    /// the built-in email channel, whose mail carries the person's own `List-Unsubscribe`
    /// link. Secrets: never log or render them.
    pub direct: Option<Vec<crate::apprise::TaggedUrl>>,
    /// Files to send with a `direct` message: the calendar update (`invite.ics`) of a change
    /// or a cancellation mailed to someone who is going (a digest: one per event it tells of).
    pub attachments: Vec<crate::apprise::Attachment>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("integration_id", &self.integration_id)
            .field("tag", &self.tag)
            .field("direct", &self.direct.as_ref().map(Vec::len))
            .field("attachments", &self.attachments.iter().map(|a| a.name.as_str()).collect::<Vec<_>>())
            .finish()
    }
}

/// One message to one recipient through one channel, with its ledger row already written.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The ledger row.
    pub ledger_id: Uuid,
    /// Whether the ledger row is final already (an earlier attempt finished it): then it is
    /// only counted, never sent again.
    pub done: Option<Status>,
    /// The channel; `None` when the recipient has no usable channel (recorded as skipped).
    pub target: Option<Target>,
    /// Nothing may be sent from this moment on (a reminder: the start; a change: the end).
    pub deadline: DateTime<Utc>,
    /// Title, rendered for the recipient.
    pub title: String,
    /// Body, rendered for the recipient.
    pub body: String,
    /// Info, warning, …
    pub kind: NoticeType,
    /// Text or Markdown.
    pub format: BodyFormat,
}

/// The ledger's statuses, as the activities set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not sent yet (an attempt may have failed in a way worth retrying).
    Pending,
    /// Delivered to every target.
    Sent,
    /// Delivered to some targets: never resent, or those get a duplicate.
    Partial,
    /// Refused for good.
    Failed,
    /// Too late to be useful.
    Expired,
    /// Not sent on purpose.
    Skipped,
    /// On its way when its sender stopped (a worker killed mid-send): never sent again.
    Uncertain,
}

/// An attempt's outcome, for [`Deliveries::record_many`].
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The ledger row.
    pub ledger_id: Uuid,
    /// What became of it.
    pub status: Status,
    /// The Apprise API's HTTP status, if it answered.
    pub apprise_status: Option<i64>,
    /// Why, in words (an Apprise answer or Herald's reason).
    pub answer: Option<String>,
}

/// A batch of planned deliveries.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// The deliveries.
    pub items: Vec<Planned>,
    /// Where the next batch starts, when there is one.
    pub next_after: Option<Uuid>,
    /// Whether some rows were held for quiet hours or a digest instead of being sent.
    pub held: bool,
}

/// The delivery ledger and the recipients, as the `deliver` activity needs them.
pub trait Deliveries: Send + Sync + 'static {
    /// Resolves one batch of `request`'s recipients now (participants by RSVP, their channels
    /// and tags), renders each message for its recipient and writes a pending ledger row for
    /// each one that has none (idempotent by key).
    fn plan_batch<'a>(&'a self, request: &'a DeliverRequest) -> BoxFuture<'a, anyhow::Result<Batch>>;

    /// Records an attempt's outcome in the ledger.
    fn record<'a>(
        &'a self,
        ledger_id: Uuid,
        status: Status,
        apprise_status: Option<i64>,
        answer: Option<&'a str>,
    ) -> BoxFuture<'a, anyhow::Result<()>>;

    /// Records several attempts' outcomes at once: [`Deliveries::record`] for each, in one write
    /// when the store can (all or none).
    fn record_many<'a>(&'a self, outcomes: &'a [Recorded]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            for o in outcomes {
                self.record(o.ledger_id, o.status, o.apprise_status, o.answer.as_deref()).await?;
            }
            Ok(())
        })
    }

    /// Writes `outcomes` and claims the rows of `claims` for the attempt `token`, in one write
    /// when the store can: an outcome clears its row's claim; a row is claimed only while it is
    /// pending and nobody else's. Returns the ids of `claims` this attempt may send (rows another
    /// attempt holds, or that are finished, are not among them). A store without claims grants
    /// every claim.
    fn claim_and_record<'a>(
        &'a self,
        token: Uuid,
        claims: &'a [Uuid],
        outcomes: &'a [Recorded],
    ) -> BoxFuture<'a, anyhow::Result<Vec<Uuid>>> {
        let _ = token;
        Box::pin(async move {
            self.record_many(outcomes).await?;
            Ok(claims.to_vec())
        })
    }

    /// The integration's Apprise config text, to push it again when the Apprise API lost it.
    fn config_text(&self, integration_id: Uuid) -> BoxFuture<'_, anyhow::Result<String>>;

    /// The integration's URLs with their tags, opened from Herald's sealed copy, to send them
    /// stateless when the Apprise API is locked (it keeps no config).
    fn config_urls(&self, integration_id: Uuid) -> BoxFuture<'_, anyhow::Result<Vec<TaggedUrl>>>;

    /// The Apprise API; `None` in log-only mode (every delivery is recorded as skipped).
    fn apprise(&self) -> Option<&AppriseClient>;
}
