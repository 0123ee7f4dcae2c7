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

/// An event's workflow whose first notice is further off than this is started asleep: Temporal
/// hands it its first task [`WAKE_LEAD`] to twice that before the notice, so ten thousand events
/// planned weeks ahead cost the scheduler and the worker nothing until then, and their first
/// tasks never queue in front of reminders due now (docs/BENCHMARKS.md).
pub const WAKE_LEAD: chrono::Duration = chrono::Duration::minutes(15);

/// A start delay shorter than this is not worth one: the workflow starts at once.
const MIN_DELAY: chrono::Duration = chrono::Duration::minutes(1);

/// When the workflow of the event `event_id`, started at `now` with `plan`, should get its first
/// task: [`WAKE_LEAD`] before its first notice, plus up to as much again chosen by the event's
/// id, so that events with the same first notice do not all wake in the same second. `None`: at
/// once (something to send within the lead, a change or a cancellation to tell).
pub fn wake_at(
    event_id: uuid::Uuid,
    plan: &herald_workflows::EventPlan,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let first = herald_workflows::first_task_at(plan)?;
    let spread = (event_id.as_u128() % WAKE_LEAD.num_seconds().unsigned_abs() as u128) as i64;
    let wake = first - WAKE_LEAD - chrono::Duration::seconds(spread);
    (wake - now >= MIN_DELAY).then_some(wake)
}

/// Whether the event's workflow may still be waiting for its first task, so that a plain signal
/// would wait with it: a minute's margin for the clocks of Herald and Temporal.
pub fn asleep(event: &Event, now: DateTime<Utc>) -> bool {
    event.workflow_wakes_at.is_some_and(|wake| now < wake + MIN_DELAY)
}

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
    /// Computed from the event: its workflow sleeps until this moment, well before the first
    /// notice (see [`WAKE_LEAD`]), and cannot be asked until then.
    Asleep(DateTime<Utc>),
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
    if let Some(wake) = event.workflow_wakes_at.filter(|_| asleep(event, now)) {
        return Schedule {
            source: Source::Asleep(wake),
            phase: None,
            upcoming: estimate(event, now),
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

#[cfg(test)]
mod tests {
    use super::*;
    use herald_workflows::{EventPlan, EventStatus as PlanStatus, NoticeSwitches};

    fn plan(starts_in: chrono::Duration, offsets: Vec<i64>, now: DateTime<Utc>) -> EventPlan {
        EventPlan {
            event_id: uuid::Uuid::nil(),
            revision: 1,
            status: PlanStatus::Published,
            starts_at: now + starts_in,
            ends_at: now + starts_in + chrono::Duration::hours(1),
            reminder_offsets: offsets,
            notices: NoticeSwitches::default(),
            published_revision: Some(1),
            schedule_set_at: Some(now),
            timed: Vec::new(),
            edited_revision: Some(0),
        }
    }

    #[test]
    fn far_off_workflows_wake_15_to_30_minutes_before_their_first_notice() {
        let now = Utc::now();
        let p = plan(chrono::Duration::days(3), vec![86_400, 3600], now);
        let first = p.starts_at - chrono::Duration::days(1);
        for id in [uuid::Uuid::nil(), uuid::Uuid::from_u128(899), uuid::Uuid::new_v4()] {
            let wake = wake_at(id, &p, now).unwrap_or_else(|| panic!("{id} starts asleep"));
            assert!(wake <= first - WAKE_LEAD && wake > first - WAKE_LEAD * 2, "{id}: {wake}");
        }
        // Spread by id: these two wake 899 s apart.
        let spread = wake_at(uuid::Uuid::nil(), &p, now).zip(wake_at(uuid::Uuid::from_u128(899), &p, now));
        assert_eq!(spread.map(|(a, b)| (a - b).num_seconds()), Some(899));
    }

    #[test]
    fn near_or_newsworthy_workflows_start_at_once() {
        let now = Utc::now();
        // The first reminder in 15 minutes: no delay worth having.
        let soon = plan(chrono::Duration::minutes(25), vec![600], now);
        assert_eq!(wake_at(uuid::Uuid::nil(), &soon, now), None);
        // Cancelled, far off: its participants are told at once.
        let cancelled =
            EventPlan { status: PlanStatus::Cancelled, ..plan(chrono::Duration::days(3), vec![], now) };
        assert_eq!(wake_at(uuid::Uuid::nil(), &cancelled, now), None);
    }
}
