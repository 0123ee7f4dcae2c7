//! Values exchanged between the application, the workflow and its activities.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Lifecycle of an event as stored in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Being prepared; nobody is notified.
    Draft,
    /// Visible and scheduled; reminders fire.
    Published,
    /// Called off; participants were told and nothing more is sent.
    Cancelled,
}

/// What the workflow needs to know about an event, read fresh from the database on every loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPlan {
    /// The event's id.
    pub event_id: Uuid,
    /// The revision this plan was read at.
    pub revision: i64,
    /// Current status.
    pub status: EventStatus,
    /// Start, in UTC.
    pub starts_at: DateTime<Utc>,
    /// End, in UTC.
    pub ends_at: DateTime<Utc>,
    /// Reminder offsets in seconds before the start.
    pub reminder_offsets: Vec<i64>,
    /// Which notices participants get.
    #[serde(default)]
    pub notices: NoticeSwitches,
    /// The revision at which the event was published (`None`: never).
    #[serde(default)]
    pub published_revision: Option<i64>,
    /// When the start or the reminder offsets were last set: a reminder due before this moment
    /// was already past when the organizer chose it and is never sent.
    #[serde(default)]
    pub schedule_set_at: Option<DateTime<Utc>>,
    /// Notices due at a set time besides the reminders (announcements, follow-ups, …), computed
    /// from the database with the plan. The workflow sends each one once, at its time, and stays
    /// alive until the last of them even past the end of the event.
    #[serde(default)]
    pub timed: Vec<TimedNotice>,
    /// The newest revision that edited the event (`updated`), 0 when none did. A revision
    /// without an edit (an announcement's `message`) tells participants nothing: no change
    /// notice is even attempted for it. `None` in plans read before this field existed (a change
    /// notice is then attempted for every new revision, as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_revision: Option<i64>,
}

/// A notice the plan says goes out at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedNotice {
    /// What to send; its [`NoticeSpec::key`] names it among the notices already sent.
    pub notice: NoticeSpec,
    /// When it is due.
    pub due_at: DateTime<Utc>,
}

impl EventPlan {
    /// When the workflow has nothing more to wait for: the end of the event, or the last timed
    /// notice when that is later.
    pub fn finish_at(&self) -> DateTime<Utc> {
        self.timed.iter().map(|t| t.due_at).fold(self.ends_at, DateTime::max)
    }
}

/// A signal's payload: the committed revision that the workflow should catch up with.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EventSignal {
    /// The event's revision after the change was committed.
    pub revision: i64,
    /// The W3C `traceparent` of whoever sent this (optional traces; absent when they are off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// Read the plan again even if `revision` is not newer: something the plan is computed
    /// from changed without a new revision (someone's quiet hours).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh: bool,
}

/// Where the workflow is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the plan from the database.
    Loading,
    /// Sleeping until the next reminder, the end of the event or a signal.
    Waiting,
    /// Delivering a notice.
    Delivering,
    /// The event was cancelled; the workflow is finishing.
    Cancelled,
    /// The event is over; the workflow is finishing.
    Finished,
}

/// Answer of the `status` query, for the organizer's pages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowStatus {
    /// Current phase.
    pub phase: Phase,
    /// Highest revision signalled to the workflow.
    pub signalled_revision: i64,
    /// Revision of the plan the workflow is acting on.
    pub plan_revision: i64,
    /// When the workflow will next wake up on its own, if it is sleeping.
    pub next_wake_at: Option<DateTime<Utc>>,
    /// Reminders still to come, soonest first.
    #[serde(default)]
    pub upcoming: Vec<ScheduledNotice>,
    /// Ledger outcomes of this workflow's deliveries so far.
    #[serde(default)]
    pub counts: DeliveryCounts,
}

/// Which notices the organizer wants participants to get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeSwitches {
    /// Reminders before the start.
    pub reminders: bool,
    /// "What changed" notices after an edit.
    pub changes: bool,
    /// A notice when the event is cancelled.
    pub cancellation: bool,
}

impl Default for NoticeSwitches {
    fn default() -> Self {
        Self { reminders: true, changes: true, cancellation: true }
    }
}

/// The input of [`crate::EventWorkflow`]: the event, and what an earlier run of the same
/// workflow already did when it continued as new.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct WorkflowInput {
    /// The event this workflow follows.
    pub event_id: Uuid,
    /// Changes up to this revision have been notified (`None`: from the publication on).
    #[serde(default)]
    pub notified_revision: Option<i64>,
    /// Reminders already handled, keyed by (offset in seconds, start as a Unix timestamp).
    #[serde(default)]
    pub done_reminders: Vec<ReminderKey>,
    /// Timed notices already handled, by [`NoticeSpec::key`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub done_notices: Vec<String>,
    /// Highest revision signalled so far.
    #[serde(default)]
    pub signalled_revision: i64,
    /// Delivery counts so far.
    #[serde(default)]
    pub counts: DeliveryCounts,
    /// The W3C `traceparent` of whoever started or last signalled the workflow (optional traces; absent when they are off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// A reminder's identity: moving the event gives its reminders new keys, so they are armed again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReminderKey {
    /// Seconds before the start.
    pub offset: i64,
    /// The start it was computed from, as a Unix timestamp.
    pub starts_at: i64,
}

/// One notice for every recipient of an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeSpec {
    /// A reminder `offset` seconds before `starts_at`, due at `due_at`.
    Reminder {
        /// Seconds before the start.
        offset: i64,
        /// The start it was computed from.
        starts_at: DateTime<Utc>,
        /// When it is due.
        due_at: DateTime<Utc>,
    },
    /// What changed in revisions `after + 1 ..= upto`.
    Changes {
        /// Changes up to this revision were notified before.
        after: i64,
        /// The revision this notice brings participants up to.
        upto: i64,
    },
    /// The event was cancelled.
    Cancelled {
        /// The revision of the cancellation.
        revision: i64,
    },
    /// The reminder `offset` before `starts_at` (due at `due_at`), sent at `at` instead to the
    /// people whose quiet hours begin then and hold its due time. In the ledger it is that
    /// reminder (same key), so nobody gets both.
    EarlyReminder {
        /// Seconds before the start.
        offset: i64,
        /// The start it was computed from.
        starts_at: DateTime<Utc>,
        /// When the reminder itself is due.
        due_at: DateTime<Utc>,
        /// When it goes to them.
        at: DateTime<Utc>,
    },
    /// The notices held for quiet hours or digests until `at`: sent now.
    Release {
        /// The moment they were held until.
        at: DateTime<Utc>,
    },
    /// An organizer's announcement (its words and audience are in the database).
    Announcement {
        /// The announcement's id.
        id: Uuid,
        /// When it is due.
        due_at: DateTime<Utc>,
    },
    /// The thank-you after the event that ended at `ends_at` (moving the event gives it a new
    /// key, so it is armed again).
    FollowUp {
        /// The end it was computed from.
        ends_at: DateTime<Utc>,
    },
}

impl NoticeSpec {
    /// The part of the ledger's idempotency key that names this notice.
    pub fn key(&self) -> String {
        match self {
            Self::Reminder { offset, starts_at, .. } => {
                format!("reminder:{offset}:{}", starts_at.timestamp())
            }
            Self::Changes { upto, .. } => format!("updated:{upto}"),
            Self::Cancelled { .. } => "cancelled".to_owned(),
            Self::EarlyReminder { offset, starts_at, at, .. } => {
                format!("early-reminder:{offset}:{}:{}", starts_at.timestamp(), at.timestamp())
            }
            Self::Release { at } => format!("release:{}", at.timestamp()),
            Self::Announcement { id, .. } => format!("message:{id}"),
            Self::FollowUp { ends_at } => format!("follow_up:{}", ends_at.timestamp()),
        }
    }

    /// The notice's kind as the organizer's pages name it (`reminder`, `updated`, `cancelled`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Self::Reminder { .. } => "reminder",
            Self::Changes { .. } => "updated",
            Self::Cancelled { .. } => "cancelled",
            Self::EarlyReminder { .. } => "reminder",
            Self::Release { .. } => "held",
            Self::Announcement { .. } => "announcement",
            Self::FollowUp { .. } => "follow_up",
        }
    }
}

/// A `deliver` activity's work: one batch of one notice's recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverRequest {
    /// The event.
    pub event_id: Uuid,
    /// What to tell.
    pub notice: NoticeSpec,
    /// Recipients after this participant id (`None`: from the first).
    pub after: Option<Uuid>,
    /// Participants per page (the activity sends up to `PAGES_PER_ACTIVITY` pages).
    pub limit: u32,
    /// The W3C `traceparent` of the request that last started or signalled the workflow (optional traces; absent when they are off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

/// Ledger outcomes, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliveryCounts {
    /// Delivered to every target.
    pub sent: u64,
    /// Delivered to some targets only.
    pub partial: u64,
    /// Refused for good.
    pub failed: u64,
    /// Too late: the event had started.
    pub expired: u64,
    /// Not sent on purpose (log-only mode, no channel).
    pub skipped: u64,
    /// On their way when an earlier attempt stopped: not sent again (absent in older histories).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub uncertain: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl DeliveryCounts {
    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &DeliveryCounts) {
        self.sent += other.sent;
        self.partial += other.partial;
        self.failed += other.failed;
        self.expired += other.expired;
        self.skipped += other.skipped;
        self.uncertain += other.uncertain;
    }
}

/// What a `deliver` activity did with its batch.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeliverReport {
    /// Where the next batch starts, when there is one.
    pub next_after: Option<Uuid>,
    /// Outcomes of this batch (deliveries an earlier attempt finished are not counted again).
    pub counts: DeliveryCounts,
    /// Whether some of it was held for quiet hours or a digest: the plan, read again, says
    /// when it is released.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub held: bool,
}

/// A notice the workflow will send, for the organizer's pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledNotice {
    /// `reminder`, or the kind of a timed notice (changes and cancellations go out at once).
    pub kind: String,
    /// Seconds before the start, for reminders (0 for other kinds).
    pub offset: i64,
    /// When it will go out.
    pub due_at: DateTime<Utc>,
}
