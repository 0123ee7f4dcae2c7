//! The per-event workflow: pure orchestration, no clock, randomness or I/O of its own.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    CancellableFuture, ContinueAsNewOptions, SyncWorkflowContext, TimerOptions, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};
use uuid::Uuid;

use crate::activities::{
    BATCH, EventActivities, activity_opts, deliver_opts, local_activity_opts, own_token,
};
use crate::types::{
    DeliverRequest, DeliveryCounts, EventPlan, EventSignal, EventStatus, NoticeSpec, Phase, ReminderKey,
    ScheduledNotice, TimedNotice, WorkflowInput, WorkflowStatus,
};

/// The patch under which the plan is read by a local activity (in the worker, within the workflow
/// task: no server round trip) and kept until a signal says a newer revision is committed.
/// Histories recorded before it read the plan with a regular activity on every loop, and replay
/// that way.
pub const PLAN_ON_SIGNAL: &str = "plan-read-locally-on-signal";

/// Past this many history events the workflow continues as new even if the server has not
/// suggested it yet, so a long-lived, often edited event never drags a huge history along.
const MAX_HISTORY: u32 = 4_000;

/// One workflow per event (id `event-{uuid}`): sends the reminders at their due times, tells
/// participants about changes and a cancellation, and finishes when the event is cancelled,
/// deleted or over.
///
/// The plan comes from the database (the single source of truth) through `load_plan`, run as a
/// local activity; it is read again only when a signal says that a newer revision is committed
/// (signals carry nothing else). So a due reminder costs one workflow task, the `deliver`
/// activity and the workflow task that arms the next timer, as a bare timer → activity workflow.
#[workflow]
pub struct EventWorkflow {
    event_id: Uuid,
    phase: Phase,
    signalled_revision: i64,
    plan_revision: i64,
    notified_revision: Option<i64>,
    done_reminders: BTreeSet<ReminderKey>,
    done_notices: BTreeSet<String>,
    next_wake_at: Option<DateTime<Utc>>,
    upcoming: Vec<ScheduledNotice>,
    counts: DeliveryCounts,
    /// The trace context of the latest start or signal that carried one (see [`crate::trace`]).
    traceparent: Option<String>,
    /// Asks to read the plan again without a newer revision: counted up by a signal with
    /// `refresh` and by a delivery that held notices for quiet hours or a digest.
    refreshes: u64,
    /// [`Self::refreshes`] when the plan was last read (or kept).
    refresh_seen: u64,
    /// Counts this run in `herald_workflows_in_memory` while the worker holds it.
    _resident: crate::metrics::Resident,
}

#[workflow_methods]
impl EventWorkflow {
    /// Starts following the event, carrying on from what an earlier run did.
    #[init]
    pub fn new(_ctx: &WorkflowContextView, input: WorkflowInput) -> Self {
        Self {
            event_id: input.event_id,
            phase: Phase::Loading,
            signalled_revision: input.signalled_revision,
            plan_revision: 0,
            notified_revision: input.notified_revision,
            done_reminders: input.done_reminders.into_iter().collect(),
            done_notices: input.done_notices.into_iter().collect(),
            next_wake_at: None,
            upcoming: Vec::new(),
            counts: input.counts,
            traceparent: input.traceparent,
            refreshes: 0,
            refresh_seen: 0,
            _resident: crate::metrics::Resident::new(),
        }
    }

    /// Loads the plan, delivers what is due, sleeps until the next reminder, the end of the
    /// event or a newer revision, and repeats. Each step is a function below, in this order.
    #[run]
    pub async fn run(ctx: &mut WorkflowContext<Self>) -> WorkflowResult<()> {
        let event_id = ctx.state(|s| s.event_id);
        // Histories from before the patch re-read the plan with a regular activity every loop.
        let lean = ctx.patched(PLAN_ON_SIGNAL);
        let mut kept: Option<EventPlan> = None;
        loop {
            let known = start_loading(ctx);
            let plan = match kept.take() {
                Some(plan) => plan,
                None => match load_plan(ctx, event_id, lean).await? {
                    Some(plan) => plan,
                    None => {
                        finish(ctx, Phase::Finished);
                        return Ok(());
                    }
                },
            };
            let seen = plan.revision.max(known);
            if plan.status == EventStatus::Cancelled {
                announce_cancellation(ctx, event_id, &plan).await?;
                finish(ctx, Phase::Cancelled);
                return Ok(());
            }
            announce_changes(ctx, event_id, &plan).await?;
            if lean && refresh_asked(ctx) {
                // The change notice was held for someone: the plan now says until when.
                continue;
            }

            let now = workflow_now(ctx, &plan);
            let pending = ctx.state(|s| pending_reminders(&plan, &s.done_reminders));
            let timed = ctx.state(|s| pending_timed(&plan, &s.done_notices));
            let sent_reminders = send_due_reminders(ctx, event_id, &plan, &pending, now).await?;
            if send_due_timed(ctx, event_id, &timed, now).await? || sent_reminders {
                // Delivering took time: look at the plan again before sleeping if it changed.
                if lean && !changed_since(ctx, seen) {
                    kept = Some(plan);
                }
                continue;
            }
            if now >= plan.finish_at() {
                finish(ctx, Phase::Finished);
                return Ok(());
            }
            continue_as_new_when_long(ctx, event_id)?;
            sleep_until_due_or_signalled(ctx, &plan, &pending, &timed, now, seen).await;
            if lean && !changed_since(ctx, seen) {
                // Woken by the timer: the plan still holds.
                kept = Some(plan);
            }
        }
    }

    /// A committed change: catch up with `revision`. Older or repeated revisions are ignored.
    #[signal]
    pub fn event_updated(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: EventSignal) {
        self.signalled_revision = self.signalled_revision.max(signal.revision);
        self.traceparent = signal.traceparent.or(self.traceparent.take());
        if signal.refresh {
            self.refreshes += 1;
        }
    }

    /// The event was cancelled at `revision`: the plan read next says so.
    #[signal]
    pub fn event_cancelled(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: EventSignal) {
        self.signalled_revision = self.signalled_revision.max(signal.revision);
        self.traceparent = signal.traceparent.or(self.traceparent.take());
    }

    /// Where the workflow is, for the organizer's pages.
    #[query]
    pub fn status(&self, _ctx: &WorkflowContextView) -> WorkflowStatus {
        WorkflowStatus {
            phase: self.phase,
            signalled_revision: self.signalled_revision,
            plan_revision: self.plan_revision,
            next_wake_at: self.next_wake_at,
            upcoming: self.upcoming.clone(),
            counts: self.counts,
        }
    }
}

/// Marks the start of a loop; returns the newest revision signalled so far. Signals up to here
/// are committed, so the plan read next includes them.
fn start_loading(ctx: &mut WorkflowContext<EventWorkflow>) -> i64 {
    ctx.state_mut(|s| {
        s.phase = Phase::Loading;
        s.refresh_seen = s.refreshes;
        s.signalled_revision
    })
}

/// Whether a revision newer than `seen` was signalled.
fn changed_since(ctx: &WorkflowContext<EventWorkflow>, seen: i64) -> bool {
    ctx.state(|s| s.signalled_revision > seen || s.refreshes > s.refresh_seen)
}

/// Whether the plan should be read again though no newer revision was signalled.
fn refresh_asked(ctx: &WorkflowContext<EventWorkflow>) -> bool {
    ctx.state(|s| s.refreshes > s.refresh_seen)
}

/// Reads the event's plan from the database; `None` when the event was deleted. `local`: as a
/// local activity (histories from before [`PLAN_ON_SIGNAL`]: a regular one).
async fn load_plan(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    local: bool,
) -> WorkflowResult<Option<EventPlan>> {
    let plan = if local {
        ctx.execute_local_activity(EventActivities::load_plan, event_id, local_activity_opts()).await?
    } else {
        ctx.execute_activity(EventActivities::load_plan, event_id, activity_opts()).await?
    };
    if let Some(plan) = &plan {
        ctx.state_mut(|s| s.plan_revision = plan.revision);
    }
    Ok(plan)
}

/// Ends the workflow's life in `phase`, with nothing left to send.
fn finish(ctx: &mut WorkflowContext<EventWorkflow>, phase: Phase) {
    ctx.state_mut(|s| {
        s.phase = phase;
        s.upcoming.clear();
    });
}

/// Tells participants that a published event is cancelled (when its notices say so).
async fn announce_cancellation(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    plan: &EventPlan,
) -> WorkflowResult<()> {
    if plan.notices.cancellation && plan.published_revision.is_some() {
        deliver(ctx, event_id, NoticeSpec::Cancelled { revision: plan.revision }).await?;
    }
    Ok(())
}

/// Sends one change notice covering every revision since the last one told (published events
/// whose notices include changes), and remembers how far participants have been told.
async fn announce_changes(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    plan: &EventPlan,
) -> WorkflowResult<()> {
    let notified = ctx.state(|s| s.notified_revision).or(plan.published_revision).unwrap_or(plan.revision);
    // A revision that edited nothing (an announcement) has nothing to tell: no activity for it.
    let edited = plan.edited_revision.is_none_or(|edited| edited > notified);
    if plan.status == EventStatus::Published && plan.revision > notified && plan.notices.changes && edited {
        deliver(ctx, event_id, NoticeSpec::Changes { after: notified, upto: plan.revision }).await?;
    }
    ctx.state_mut(|s| s.notified_revision = Some(notified.max(plan.revision)));
    Ok(())
}

/// Sends every reminder of `pending` that is due at `now`; whether any was sent.
async fn send_due_reminders(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    plan: &EventPlan,
    pending: &[(ReminderKey, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> WorkflowResult<bool> {
    let due: Vec<_> = pending.iter().filter(|(_, at)| *at <= now).copied().collect();
    for &(key, due_at) in &due {
        let notice = NoticeSpec::Reminder { offset: key.offset, starts_at: plan.starts_at, due_at };
        deliver(ctx, event_id, notice).await?;
        ctx.state_mut(|s| s.done_reminders.insert(key));
    }
    Ok(!due.is_empty())
}

/// Sends every timed notice of `pending` that is due at `now`; whether any was sent.
async fn send_due_timed(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    pending: &[TimedNotice],
    now: DateTime<Utc>,
) -> WorkflowResult<bool> {
    let due: Vec<_> = pending.iter().filter(|t| t.due_at <= now).cloned().collect();
    for timed in &due {
        deliver(ctx, event_id, timed.notice.clone()).await?;
        ctx.state_mut(|s| s.done_notices.insert(timed.notice.key()));
    }
    Ok(!due.is_empty())
}

/// Continues as new, carrying what was done, when the server suggests it or the history is long.
fn continue_as_new_when_long(ctx: &mut WorkflowContext<EventWorkflow>, event_id: Uuid) -> WorkflowResult<()> {
    if ctx.continue_as_new_suggested() || ctx.history_length() > MAX_HISTORY {
        let input = ctx.state(|s| WorkflowInput {
            event_id,
            notified_revision: s.notified_revision,
            done_reminders: s.done_reminders.iter().copied().collect(),
            done_notices: s.done_notices.iter().cloned().collect(),
            signalled_revision: s.signalled_revision,
            counts: s.counts,
            traceparent: s.traceparent.clone(),
        });
        ctx.continue_as_new(input, ContinueAsNewOptions::default())?;
    }
    Ok(())
}

/// Sleeps on a durable timer until the next reminder or timed notice or the end of the event
/// (or of its last timed notice), or until a
/// revision newer than `seen` (the plan's, or a newer one signalled before it was read) is
/// signalled (then the timer is cancelled).
async fn sleep_until_due_or_signalled(
    ctx: &mut WorkflowContext<EventWorkflow>,
    plan: &EventPlan,
    pending: &[(ReminderKey, DateTime<Utc>)],
    timed: &[TimedNotice],
    now: DateTime<Utc>,
    seen: i64,
) {
    let finish_at = plan.finish_at();
    let wake = pending.first().map_or(finish_at, |(_, at)| (*at).min(finish_at));
    let wake = timed.first().map_or(wake, |t| t.due_at.min(wake));
    ctx.state_mut(|s| {
        s.phase = Phase::Waiting;
        s.next_wake_at = Some(wake);
        s.upcoming = upcoming(pending, timed);
    });
    // A token of its own, or the timer dropped when a signal wins (or the run is evicted) would
    // keep the run in memory (see `own_token`).
    let mut timer = ctx.timer(
        TimerOptions::builder((wake - now).to_std().unwrap_or(Duration::ZERO))
            .cancellation_token(own_token())
            .build(),
    );
    temporalio_sdk::workflows::select! {
        _ = &mut timer => {}
        _ = ctx.wait_condition(move |s: &EventWorkflow| s.signalled_revision > seen || s.refreshes > s.refresh_seen) => {
            timer.cancel();
        }
    }
    ctx.state_mut(|s| s.next_wake_at = None);
}

/// Delivers `notice` to every recipient, up to `PAGES_PER_ACTIVITY` pages per activity.
async fn deliver(
    ctx: &mut WorkflowContext<EventWorkflow>,
    event_id: Uuid,
    notice: NoticeSpec,
) -> WorkflowResult<()> {
    ctx.state_mut(|s| s.phase = Phase::Delivering);
    let mut after = None;
    loop {
        let traceparent = ctx.state(|s| s.traceparent.clone());
        let request = DeliverRequest { event_id, notice: notice.clone(), after, limit: BATCH, traceparent };
        let report = ctx.execute_activity(EventActivities::deliver, request, deliver_opts()).await?;
        ctx.state_mut(|s| {
            s.counts.add(&report.counts);
            if report.held {
                s.refreshes += 1;
            }
        });
        match report.next_after {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

/// The reminders of `plan` not handled yet, soonest first. A reminder that was already due
/// when the organizer set the start or the offsets is not one anybody asked for: left out.
fn pending_reminders(plan: &EventPlan, done: &BTreeSet<ReminderKey>) -> Vec<(ReminderKey, DateTime<Utc>)> {
    if plan.status != EventStatus::Published || !plan.notices.reminders {
        return Vec::new();
    }
    let mut out: Vec<_> = plan
        .reminder_offsets
        .iter()
        .filter_map(|&offset| {
            let key = ReminderKey { offset, starts_at: plan.starts_at.timestamp() };
            let due = plan.starts_at - chrono::Duration::seconds(offset);
            let stale = plan.schedule_set_at.is_some_and(|set| due < set);
            (!stale && !done.contains(&key)).then_some((key, due))
        })
        .collect();
    out.sort_by_key(|(key, due)| (*due, key.offset));
    out
}

/// The timed notices of `plan` not handled yet, soonest first (none unless it is published).
fn pending_timed(plan: &EventPlan, done: &BTreeSet<String>) -> Vec<TimedNotice> {
    if plan.status != EventStatus::Published {
        return Vec::new();
    }
    let mut out: Vec<TimedNotice> =
        plan.timed.iter().filter(|t| !done.contains(&t.notice.key())).cloned().collect();
    out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then_with(|| a.notice.key().cmp(&b.notice.key())));
    out
}

/// When a first run of the event's workflow, started now with nothing done yet, first has
/// something to do under `plan`: its first reminder or timed notice, or the end of the event
/// (when it finishes). `None`: at once (it is cancelled or not published, or it has a change to
/// tell participants about). Starting it with a delay up to a moment before this loses nothing:
/// every change after the start is signalled, with a signal-with-start while it still waits,
/// which wakes it at once.
pub fn first_task_at(plan: &EventPlan) -> Option<DateTime<Utc>> {
    if plan.status != EventStatus::Published {
        return None;
    }
    // As `announce_changes` sees it in a first run: edits after the publication are told at once.
    if let Some(published) = plan.published_revision {
        let edited = plan.edited_revision.is_none_or(|edited| edited > published);
        if plan.revision > published && plan.notices.changes && edited {
            return None;
        }
    }
    let first_reminder = pending_reminders(plan, &BTreeSet::new()).first().map(|(_, due)| *due);
    let first_timed = pending_timed(plan, &BTreeSet::new()).first().map(|t| t.due_at);
    Some([first_reminder, first_timed].into_iter().flatten().fold(plan.finish_at(), DateTime::min))
}

/// What is still to come, soonest first, for the `status` query.
fn upcoming(pending: &[(ReminderKey, DateTime<Utc>)], timed: &[TimedNotice]) -> Vec<ScheduledNotice> {
    let mut out: Vec<ScheduledNotice> = pending
        .iter()
        .map(|(key, at)| ScheduledNotice { kind: "reminder".into(), offset: key.offset, due_at: *at })
        .chain(timed.iter().map(|t| ScheduledNotice {
            kind: t.notice.kind_name().into(),
            offset: 0,
            due_at: t.due_at,
        }))
        .collect();
    out.sort_by_key(|n| n.due_at);
    out
}

fn workflow_now(ctx: &WorkflowContext<EventWorkflow>, plan: &EventPlan) -> DateTime<Utc> {
    ctx.workflow_time().map(to_utc).unwrap_or(plan.starts_at)
}

fn to_utc(t: SystemTime) -> DateTime<Utc> {
    DateTime::<Utc>::from(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::NoticeSwitches;

    fn plan(offsets: Vec<i64>, set_at: Option<DateTime<Utc>>) -> EventPlan {
        let starts_at =
            DateTime::parse_from_rfc3339("2026-12-01T18:00:00Z").map(|t| t.to_utc()).unwrap_or_default();
        EventPlan {
            event_id: Uuid::nil(),
            revision: 1,
            status: EventStatus::Published,
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(2),
            reminder_offsets: offsets,
            notices: NoticeSwitches::default(),
            published_revision: Some(1),
            schedule_set_at: set_at,
            timed: Vec::new(),
            edited_revision: None,
        }
    }

    #[test]
    fn a_first_run_acts_at_its_first_notice_or_at_once_when_it_has_news() {
        let p = plan(vec![3600, 86_400], None);
        // The one-day reminder is the first thing a new run does.
        assert_eq!(first_task_at(&p), Some(p.starts_at - chrono::Duration::days(1)));
        // No reminders: it only waits for the end of the event (then finishes).
        let quiet = EventPlan { reminder_offsets: Vec::new(), ..p.clone() };
        assert_eq!(first_task_at(&quiet), Some(p.ends_at));
        // A follow-up after the end keeps it until then; an earlier timed notice comes first.
        let notice = |due_at| TimedNotice { notice: NoticeSpec::FollowUp { ends_at: p.ends_at }, due_at };
        let early = p.starts_at - chrono::Duration::days(3);
        let with_notice = EventPlan { timed: vec![notice(early)], ..p.clone() };
        assert_eq!(first_task_at(&with_notice), Some(early));
        // Edited after it was published (the start came late): the change notice goes at once.
        let edited = EventPlan { revision: 3, edited_revision: Some(3), ..p.clone() };
        assert_eq!(first_task_at(&edited), None);
        // ... unless participants are not told about changes, or nothing was edited.
        let untold = EventPlan { notices: NoticeSwitches { changes: false, ..p.notices }, ..edited.clone() };
        assert_eq!(first_task_at(&untold), Some(p.starts_at - chrono::Duration::days(1)));
        let announced = EventPlan { revision: 3, edited_revision: Some(1), ..p.clone() };
        assert_eq!(first_task_at(&announced), Some(p.starts_at - chrono::Duration::days(1)));
        // Cancelled: it tells participants at once.
        assert_eq!(first_task_at(&EventPlan { status: EventStatus::Cancelled, ..p }), None);
    }

    #[test]
    fn reminders_come_soonest_first_and_skip_done_and_stale_ones() {
        let p = plan(vec![3600, 86_400, 900], None);
        let all = pending_reminders(&p, &BTreeSet::new());
        assert_eq!(all.iter().map(|(k, _)| k.offset).collect::<Vec<_>>(), vec![86_400, 3600, 900]);
        let done = BTreeSet::from([ReminderKey { offset: 3600, starts_at: p.starts_at.timestamp() }]);
        assert_eq!(pending_reminders(&p, &done).len(), 2);
        // Set two hours before the start: the one-day reminder was already past.
        let late = plan(vec![3600, 86_400], Some(p.starts_at - chrono::Duration::hours(2)));
        assert_eq!(
            pending_reminders(&late, &BTreeSet::new()).iter().map(|(k, _)| k.offset).collect::<Vec<_>>(),
            vec![3600]
        );
    }

    #[test]
    fn moving_the_event_re_arms_its_reminders() {
        let p = plan(vec![3600], None);
        let done = BTreeSet::from([ReminderKey { offset: 3600, starts_at: p.starts_at.timestamp() }]);
        let mut moved = p.clone();
        moved.starts_at += chrono::Duration::days(1);
        assert_eq!(pending_reminders(&moved, &done).len(), 1);
    }

    #[test]
    fn timed_notices_keep_the_workflow_alive_and_come_once() {
        let p = plan(vec![3600], None);
        let after_end = p.ends_at + chrono::Duration::hours(3);
        let mut with_timed = p.clone();
        with_timed.timed = vec![
            TimedNotice { notice: NoticeSpec::Cancelled { revision: 9 }, due_at: after_end },
            TimedNotice {
                notice: NoticeSpec::Changes { after: 1, upto: 2 },
                due_at: p.starts_at - chrono::Duration::hours(5),
            },
        ];
        assert_eq!(p.finish_at(), p.ends_at);
        assert_eq!(with_timed.finish_at(), after_end);
        let pending = pending_timed(&with_timed, &BTreeSet::new());
        assert_eq!(
            pending.iter().map(|t| t.notice.key()).collect::<Vec<_>>(),
            vec!["updated:2", "cancelled"]
        );
        let done = BTreeSet::from(["updated:2".to_owned()]);
        assert_eq!(pending_timed(&with_timed, &done).len(), 1);
        let mut draft = with_timed.clone();
        draft.status = EventStatus::Draft;
        assert!(pending_timed(&draft, &BTreeSet::new()).is_empty());
        let listed = upcoming(&pending_reminders(&with_timed, &BTreeSet::new()), &pending);
        assert_eq!(
            listed.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(),
            vec!["updated", "reminder", "cancelled"]
        );
    }
}
