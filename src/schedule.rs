//! What an event's workflow will send next, for the organizer's page and the API: asked from
//! the workflow itself (its `status` query), or estimated from the database when Temporal or
//! the workflow cannot answer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use herald_workflows::{DeliveryCounts, EventWorkflow, Phase, ScheduledNotice};
use temporalio_client::WorkflowQueryOptions;

use crate::db::models::{Event, EventStatus};
use crate::temporal::Temporal;

/// How long a page waits for the workflow to answer.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// The upcoming notices of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Where the answer comes from.
    pub source: Source,
    /// The workflow's phase, when it answered.
    pub phase: Option<Phase>,
    /// Reminders still to come, soonest first.
    pub upcoming: Vec<ScheduledNotice>,
    /// The workflow's delivery counts, when it answered.
    pub counts: Option<DeliveryCounts>,
    /// The workflow in the Temporal Web UI, when `HERALD_TEMPORAL_UI_URL` is set.
    pub workflow_url: Option<String>,
}

/// Where a [`Schedule`] comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The running workflow answered.
    Workflow,
    /// Computed from the event: the reason the workflow did not answer.
    Estimate(String),
    /// Nothing is scheduled: a draft, a cancelled or past event.
    Nothing,
}

/// The schedule of `event`.
pub async fn of(temporal: &Temporal, event: &Event, now: DateTime<Utc>) -> Schedule {
    let workflow_url = event
        .workflow_started_at
        .and(Some(herald_workflows::workflow_id(event.id)))
        .and_then(|id| temporal.config().workflow_ui_url(&id));
    let last = crate::rules::follow_up_due(event).map_or(event.ends_at, |d| d.max(event.ends_at));
    if event.status != EventStatus::Published || last <= now {
        return Schedule {
            source: Source::Nothing,
            phase: None,
            upcoming: Vec::new(),
            counts: None,
            workflow_url,
        };
    }
    let reason = match ask(temporal, event).await {
        // The page says the change is saved: until the workflow has taken it in, the schedule
        // comes from the saved plan, never from the old one (the page looks again shortly).
        // Its list is settled only once it waits again on the newest plan.
        Ok(status)
            if status.plan_revision < event.revision
                || matches!(status.phase, Phase::Loading | Phase::Delivering) =>
        {
            let phase = if status.phase == Phase::Delivering { Phase::Delivering } else { Phase::Loading };
            return Schedule {
                source: Source::Estimate("the workflow is still taking in the latest change".into()),
                phase: Some(phase),
                upcoming: estimate(event, now),
                counts: Some(status.counts),
                workflow_url,
            };
        }
        Ok(status) => {
            return Schedule {
                source: Source::Workflow,
                phase: Some(status.phase),
                upcoming: status.upcoming,
                counts: Some(status.counts),
                workflow_url,
            };
        }
        Err(reason) => reason,
    };
    Schedule {
        source: Source::Estimate(reason),
        phase: None,
        upcoming: estimate(event, now),
        counts: None,
        workflow_url,
    }
}

async fn ask(temporal: &Temporal, event: &Event) -> Result<herald_workflows::WorkflowStatus, String> {
    if event.workflow_started_at.is_none() {
        return Err("the workflow has not started yet (the scheduler was unreachable)".into());
    }
    let client = temporal.client().await.ok_or("the scheduler (Temporal) is unreachable")?;
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(event.id));
    match tokio::time::timeout(
        QUERY_TIMEOUT,
        handle.query(EventWorkflow::status, (), WorkflowQueryOptions::default()),
    )
    .await
    {
        Err(_) => Err("the workflow did not answer in time".into()),
        Ok(Err(e)) => {
            tracing::debug!(event_id = %event.id, error = %e, "workflow status query failed");
            Err("the workflow could not be asked".into())
        }
        Ok(Ok(status)) => Ok(status),
    }
}

/// The reminders (for every role) and follow-up still ahead, from the event alone.
pub fn estimate(event: &Event, now: DateTime<Utc>) -> Vec<ScheduledNotice> {
    if event.status != EventStatus::Published {
        return Vec::new();
    }
    let reminders = if event.notify_reminders { crate::rules::all_offsets(event) } else { Vec::new() };
    let follow_up = crate::rules::timed(event).into_iter().map(|t| ScheduledNotice {
        kind: t.notice.kind_name().into(),
        offset: 0,
        due_at: t.due_at,
    });
    let mut out: Vec<ScheduledNotice> = reminders
        .into_iter()
        .map(|offset| ScheduledNotice {
            kind: "reminder".into(),
            offset,
            due_at: event.starts_at - chrono::Duration::seconds(offset),
        })
        .chain(follow_up)
        .filter(|n| n.due_at > now)
        .collect();
    out.sort_by_key(|n| n.due_at);
    out
}
