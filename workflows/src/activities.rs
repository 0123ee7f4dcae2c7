//! Activities: all of the workflow's I/O happens here, behind `Arc<Self>`.

use std::sync::Arc;
use std::time::Duration;

use temporalio_common::RetryPolicy;
use temporalio_macros::activities;
use temporalio_sdk::ActivityOptions;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use uuid::Uuid;

use crate::ports::PlanStore;
use crate::types::EventPlan;

/// The activities of the per-event workflow, holding the application's ports.
pub struct EventActivities {
    plans: Arc<dyn PlanStore>,
}

impl EventActivities {
    /// Activities reading plans from `plans`.
    pub fn new(plans: Arc<dyn PlanStore>) -> Self {
        Self { plans }
    }
}

#[activities]
impl EventActivities {
    /// Reads the event's current plan; `None` when the event was deleted.
    #[activity]
    pub async fn load_plan(
        self: Arc<Self>,
        _ctx: ActivityContext,
        event_id: Uuid,
    ) -> Result<Option<EventPlan>, ActivityError> {
        Ok(self.plans.load_plan(event_id).await?)
    }
}

/// Options for short database-bound activities: a tight timeout and retries with backoff for
/// as long as it takes (the database being down is not a reason to lose a reminder).
pub fn activity_opts() -> ActivityOptions {
    let mut opts = ActivityOptions::start_to_close_timeout(Duration::from_secs(30));
    opts.retry_policy = Some(
        RetryPolicy::builder()
            .initial_interval(Duration::from_secs(1))
            .backoff_coefficient(2.0)
            .maximum_interval(Duration::from_secs(60))
            .build(),
    );
    opts
}
