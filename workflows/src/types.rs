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
}

/// A signal's payload: the committed revision that the workflow should catch up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSignal {
    /// The event's revision after the change was committed.
    pub revision: i64,
}

/// Where the workflow is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the plan from the database.
    Loading,
    /// Sleeping until the event ends or a signal arrives.
    Waiting,
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
}
