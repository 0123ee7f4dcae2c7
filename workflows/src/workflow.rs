//! The per-event workflow: pure orchestration, no clock, randomness or I/O of its own.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    CancellableFuture, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};
use uuid::Uuid;

use crate::activities::{EventActivities, activity_opts};
use crate::types::{EventSignal, EventStatus, Phase, WorkflowStatus};

/// One workflow per event (id `event-{uuid}`): follows the event's committed revisions and
/// finishes when the event is cancelled, deleted or over.
#[workflow]
pub struct EventWorkflow {
    event_id: Uuid,
    phase: Phase,
    signalled_revision: i64,
    plan_revision: i64,
    cancelled: bool,
    next_wake_at: Option<DateTime<Utc>>,
}

#[workflow_methods]
impl EventWorkflow {
    /// Starts following `event_id`.
    #[init]
    pub fn new(_ctx: &WorkflowContextView, event_id: Uuid) -> Self {
        Self {
            event_id,
            phase: Phase::Loading,
            signalled_revision: 0,
            plan_revision: 0,
            cancelled: false,
            next_wake_at: None,
        }
    }

    /// Loads the plan, sleeps until the event ends or a newer revision is signalled, repeats.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let event_id = ctx.state(|s| s.event_id);
        loop {
            ctx.state_mut(|s| s.phase = Phase::Loading);
            let plan = ctx.execute_activity(EventActivities::load_plan, event_id, activity_opts()).await?;
            let Some(plan) = plan else {
                ctx.state_mut(|s| s.phase = Phase::Finished);
                return Ok(());
            };
            let seen = plan.revision.max(ctx.state(|s| s.signalled_revision));
            ctx.state_mut(|s| s.plan_revision = plan.revision);
            if plan.status == EventStatus::Cancelled || ctx.state(|s| s.cancelled) {
                ctx.state_mut(|s| s.phase = Phase::Cancelled);
                return Ok(());
            }
            let now = ctx.workflow_time().map(to_utc).unwrap_or(plan.starts_at);
            if now >= plan.ends_at {
                ctx.state_mut(|s| s.phase = Phase::Finished);
                return Ok(());
            }
            let sleep = (plan.ends_at - now).to_std().unwrap_or(Duration::ZERO);
            ctx.state_mut(|s| {
                s.phase = Phase::Waiting;
                s.next_wake_at = Some(plan.ends_at);
            });
            let mut timer = ctx.timer(sleep);
            temporalio_sdk::workflows::select! {
                _ = &mut timer => {}
                _ = ctx.wait_condition(move |s: &Self| s.signalled_revision > seen || s.cancelled) => {
                    timer.cancel();
                }
            }
            ctx.state_mut(|s| s.next_wake_at = None);
        }
    }

    /// A committed change: catch up with `revision`. Older or repeated revisions are ignored.
    #[signal]
    pub fn event_updated(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: EventSignal) {
        self.signalled_revision = self.signalled_revision.max(signal.revision);
    }

    /// The event was cancelled at `revision`.
    #[signal]
    pub fn event_cancelled(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: EventSignal) {
        self.signalled_revision = self.signalled_revision.max(signal.revision);
        self.cancelled = true;
    }

    /// Where the workflow is, for the organizer's pages.
    #[query]
    pub fn status(&self, _ctx: &WorkflowContextView) -> WorkflowStatus {
        WorkflowStatus {
            phase: self.phase,
            signalled_revision: self.signalled_revision,
            plan_revision: self.plan_revision,
            next_wake_at: self.next_wake_at,
        }
    }
}

fn to_utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}
