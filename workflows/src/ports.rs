//! What the activities need from the application, as traits the `herald` crate implements.

use futures::future::BoxFuture;
use uuid::Uuid;

use crate::types::EventPlan;

/// Reads an event's current plan from the database.
pub trait PlanStore: Send + Sync + 'static {
    /// The current plan of `event_id`, or `None` when the event no longer exists.
    fn load_plan(&self, event_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<EventPlan>>>;
}
