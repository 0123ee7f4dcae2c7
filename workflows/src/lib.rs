//! Herald's Temporal side: the per-event workflow (pure orchestration), the activities that do
//! its I/O, the ports (traits) those activities need from the application, and the types that
//! travel to and from Temporal.
//!
//! The database is the single source of truth: signals carry only a revision number and the
//! workflow reads the plan again through the [`activities::EventActivities::load_plan`] (local)
//! activity when one says a newer revision is committed.

pub mod activities;
pub mod apprise;
pub mod floor;
pub mod metrics;
pub mod ports;
pub mod trace;
pub mod types;
pub mod workflow;

pub use activities::EventActivities;
pub use ports::{Batch, Deliveries, PlanStore, Planned, Recorded, Status, Target};
pub use types::{
    DeliverReport, DeliverRequest, DeliveryCounts, EventPlan, EventSignal, EventStatus, NoticeSpec,
    NoticeSwitches, Phase, ReminderKey, ScheduledNotice, TimedNotice, WorkflowInput, WorkflowStatus,
};
pub use workflow::{EventWorkflow, first_task_at};

/// The workflow id of an event's workflow: `event-{uuid}`.
pub fn workflow_id(event_id: uuid::Uuid) -> String {
    format!("event-{event_id}")
}
