//! Activities: all of the workflow's I/O happens here, behind `Arc<Self>`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use temporalio_common::RetryPolicy;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowCancellationToken};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument as _, info, warn};
use uuid::Uuid;

use crate::apprise::{Notice, Outcome};
use crate::ports::{Deliveries, PlanStore, Planned, Recorded, Status};
use crate::types::{DeliverReport, DeliverRequest, DeliveryCounts, EventPlan, NoticeSpec};

/// How many messages of one batch are in flight at once (APPRISE.md: 8–32 keeps the Apprise
/// API busy without drowning it).
pub const CONCURRENCY: usize = 16;

/// Participants per page: a `deliver` activity plans its recipients (and writes their ledger
/// rows) a page at a time.
pub const BATCH: u32 = 250;

/// Pages one `deliver` activity sends before it hands the rest back to the workflow. The next
/// page is planned while the last messages of the one before are still in flight, so a fan-out
/// of up to `BATCH × PAGES_PER_ACTIVITY` recipients never stops between pages (between two
/// activities it does, for a workflow task and the next activity's start: about 130 ms on a
/// busy 2-core machine); a retry plans again from the activity's first page, and the ledger
/// skips what is done.
pub const PAGES_PER_ACTIVITY: u32 = 4;

/// How often a running `deliver` activity heartbeats.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(3);

/// The activities of the per-event workflow, holding the application's ports.
pub struct EventActivities {
    plans: Arc<dyn PlanStore>,
    deliveries: Arc<dyn Deliveries>,
}

impl EventActivities {
    /// Activities reading plans from `plans` and delivering through `deliveries`.
    pub fn new(plans: Arc<dyn PlanStore>, deliveries: Arc<dyn Deliveries>) -> Self {
        Self { plans, deliveries }
    }
}

/// What became of one planned delivery.
enum Done {
    Final(Status),
    /// Nothing was delivered and a later attempt may work.
    Retry(String),
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

    /// Delivers up to [`PAGES_PER_ACTIVITY`] pages of a notice's recipients: resolves each page
    /// when the sends reach it, skips what the ledger says is finished, sends the rest with
    /// bounded concurrency (heartbeating as it goes) and records every outcome. Fails, to be
    /// retried by Temporal, when some message could not reach anybody for a reason that may
    /// pass; the ledger keeps the retry from sending anything twice.
    #[activity]
    pub async fn deliver(
        self: Arc<Self>,
        ctx: ActivityContext,
        request: DeliverRequest,
    ) -> Result<DeliverReport, ActivityError> {
        let started = std::time::Instant::now();
        let attempt = ctx.info().attempt;
        // The activity's span, in the trace of the request that started or signalled the
        // workflow (optional traces); the sends below, and their Apprise calls, are its children.
        let span = tracing::info_span!("deliver", event_id = %request.event_id, attempt);
        crate::trace::follow(&span, request.traceparent.as_deref());
        let first = self.deliveries.plan_batch(&request).await?;
        // Where the pages stand: the next page's first participant, and whether a page held
        // something back (for quiet hours or a digest).
        let paging = Arc::new(tokio::sync::Mutex::new((first.next_after, first.held)));
        let mut counts = DeliveryCounts::default();
        let mut retry: Vec<String> = Vec::new();
        // This attempt's token: it claims each row just before sending it, so a retry that
        // overlaps it (or comes after it died) never sends the same message.
        let recorder = Recorder::start(self.deliveries.clone(), Uuid::new_v4());
        // The recipients, a page at a time: the next page is planned when the sends reach the
        // end of the one before, while its last messages are still in flight.
        let pages = Pages {
            items: first.items.into_iter(),
            planned: 1,
            this: self.clone(),
            request: request.clone(),
            paging: paging.clone(),
        };
        let recipients = futures::stream::unfold(pages, Pages::next);
        let recipients = std::pin::pin!(recipients);
        let mut results = recipients
            .map(|planned: anyhow::Result<Planned>| {
                let this = self.clone();
                let notice = &request.notice;
                let recorder = &recorder;
                async move { this.send(planned?, notice, recorder).await }.instrument(span.clone())
            })
            .buffer_unordered(CONCURRENCY);
        // Heartbeat on a ticker, whatever a send takes, so that a worker that died mid-batch
        // is noticed within the heartbeat timeout and the batch retried elsewhere.
        let mut ticker = tokio::time::interval(HEARTBEAT_EVERY);
        let mut finished = 0u64;
        loop {
            tokio::select! {
                next = results.next() => match next {
                    None => break,
                    Some(result) => {
                        match result? {
                            Done::Final(status) => count(&mut counts, status),
                            Done::Retry(reason) => retry.push(reason),
                        }
                        finished += 1;
                    }
                },
                _ = ticker.tick() => {
                    let _ = ctx.record_heartbeat(finished).await;
                }
            }
        }
        // The sends did not wait for their outcomes to be committed: every one is, before the
        // activity reports them.
        recorder.flush().await?;
        crate::metrics::deliver_run(&request.notice, attempt, started.elapsed().as_secs_f64());
        if let Some(reason) = retry.first() {
            return Err(anyhow::anyhow!(
                "{} of the messages could not be delivered yet ({reason}); trying again",
                retry.len()
            )
            .into());
        }
        let (next_after, held) = *paging.lock().await;
        Ok(DeliverReport { next_after, counts, held })
    }
}

/// The recipients of one `deliver` activity, a page at a time (see [`PAGES_PER_ACTIVITY`]).
struct Pages {
    /// What is left of the current page.
    items: std::vec::IntoIter<Planned>,
    /// Pages planned so far.
    planned: u32,
    this: Arc<EventActivities>,
    request: DeliverRequest,
    /// The next page's first participant (`None`: no more) and whether a page held something
    /// back for quiet hours or a digest.
    paging: Arc<tokio::sync::Mutex<(Option<Uuid>, bool)>>,
}

impl Pages {
    /// The next recipient, planning the next page when this one is used up (while the sends
    /// of its last recipients are still in flight). An error ends the pages: the activity
    /// fails and a retry starts again from its first page.
    async fn next(mut self) -> Option<(anyhow::Result<Planned>, Self)> {
        loop {
            if let Some(planned) = self.items.next() {
                return Some((Ok(planned), self));
            }
            if self.planned >= PAGES_PER_ACTIVITY {
                return None;
            }
            let paging = self.paging.clone();
            let mut paging = paging.lock().await;
            let after = paging.0?;
            let next = DeliverRequest { after: Some(after), ..self.request.clone() };
            match self.this.deliveries.plan_batch(&next).await {
                Ok(batch) => {
                    *paging = (batch.next_after, paging.1 || batch.held);
                    self.items = batch.items.into_iter();
                    self.planned += 1;
                }
                Err(e) => {
                    self.planned = PAGES_PER_ACTIVITY;
                    return Some((Err(e), self));
                }
            }
        }
    }
}

impl EventActivities {
    async fn send(
        self: Arc<Self>,
        planned: Planned,
        notice_spec: &NoticeSpec,
        recorder: &Recorder,
    ) -> anyhow::Result<Done> {
        if let Some(status) = planned.done {
            return Ok(Done::Final(status));
        }
        let ledger_id = planned.ledger_id;
        let record = |status: Status, code: Option<i64>, answer: Option<String>| async move {
            recorder.record(Recorded { ledger_id, status, apprise_status: code, answer })?;
            crate::metrics::finished(notice_spec, status, Utc::now());
            anyhow::Ok(Done::Final(status))
        };
        if Utc::now() >= planned.deadline {
            return record(Status::Expired, None, Some("too late: the moment had passed".into())).await;
        }
        let Some(target) = planned.target.clone() else {
            return record(Status::Skipped, None, Some("no confirmed channel".into())).await;
        };
        let Some(client) = self.deliveries.apprise() else {
            info!(ledger_id = %planned.ledger_id, title = %planned.title, "log-only mode: a notification would be sent now");
            return record(Status::Skipped, None, Some("log-only mode: nothing is sent".into())).await;
        };
        // Claim the row first (with the outcomes being written meanwhile): if another attempt
        // holds it, that attempt sends it, and a later attempt sees how it went.
        if !recorder.claim(ledger_id).await? {
            return Ok(Done::Retry("an earlier attempt is still sending some of these messages".to_owned()));
        }
        let notice = Notice {
            title: &planned.title,
            body: &planned.body,
            kind: planned.kind,
            format: planned.format,
            tag: Some(&target.tag),
        };
        let outcome = if let Some(urls) = &target.direct {
            client.notify_urls_attaching(urls, &notice, &target.attachments).await
        } else if client.config_locked() {
            // The Apprise API keeps no config: Herald picks the URLs and sends them stateless.
            match self.deliveries.config_urls(target.integration_id).await {
                Ok(urls) => client.notify_urls(&urls, &notice).await,
                Err(e) => {
                    warn!(ledger_id = %planned.ledger_id, error = format!("{e:#}"), "cannot read a channel's stored config");
                    Outcome::Unavailable {
                        reason: "the channel's stored config could not be read".to_owned(),
                    }
                }
            }
        } else {
            let deliveries = self.deliveries.clone();
            client
                .notify_repushing(&target.key, &notice, || async move {
                    deliveries.config_text(target.integration_id).await
                })
                .await
                .0
        };
        match outcome {
            Outcome::Delivered => record(Status::Sent, Some(200), None).await,
            Outcome::Partial { reason } => record(Status::Partial, Some(424), Some(reason)).await,
            Outcome::Rejected { reason } => record(Status::Failed, Some(400), Some(reason)).await,
            Outcome::KeyMissing => {
                let reason = "the Apprise API does not know this channel and it could not be pushed again";
                recorder.record(Recorded {
                    ledger_id,
                    status: Status::Pending,
                    apprise_status: Some(204),
                    answer: Some(reason.to_owned()),
                })?;
                Ok(Done::Retry(reason.to_owned()))
            }
            Outcome::Unavailable { reason } => {
                warn!(%ledger_id, reason = %reason, "a notification could not be delivered yet");
                recorder.record(Recorded {
                    ledger_id,
                    status: Status::Pending,
                    apprise_status: None,
                    answer: Some(reason.clone()),
                })?;
                Ok(Done::Retry(reason))
            }
        }
    }
}

/// Writes one activity's claims and outcomes to the ledger as they come, a group at a time: a
/// send claims its row just before the call and waits until the claim is committed, then hands
/// its outcome over right after the call and goes on to its next message; what arrives while one
/// write is under way goes together into the next, in arrival order. So each outcome is still
/// written right after its message went (a send's next claim commits with it or after it), no
/// message goes without its claim committed, and 16 sends in flight cost a few writes instead
/// of two each. [`Recorder::flush`] waits for every outcome and says whether one failed.
struct Recorder {
    queue: mpsc::UnboundedSender<(Write, Option<Answer>)>,
}

/// Where the ledger writer answers a write that is waited for: whether a claim was granted, or
/// why the write failed.
type Answer = oneshot::Sender<Result<bool, String>>;

/// One item for the ledger writer.
enum Write {
    Claim(Uuid),
    Outcome(Recorded),
    /// Answered once everything before it is written: an error when an outcome could not be.
    Flush,
}

impl Recorder {
    /// A recorder writing to `deliveries` for the attempt `token`; its writer task ends when the
    /// recorder is dropped and the last item is written.
    fn start(deliveries: Arc<dyn Deliveries>, token: Uuid) -> Self {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(Write, Option<Answer>)>();
        tokio::spawn(
            async move {
                // The first outcome that could not be written, for the next flush.
                let mut lost: Option<String> = None;
                while let Some(first) = incoming.recv().await {
                    let mut group = vec![first];
                    while let Ok(more) = incoming.try_recv() {
                        group.push(more);
                    }
                    let mut claims = Vec::new();
                    let mut outcomes = Vec::new();
                    for (write, _) in &group {
                        match write {
                            Write::Claim(id) => claims.push(*id),
                            Write::Outcome(o) => outcomes.push(o.clone()),
                            Write::Flush => {}
                        }
                    }
                    let result = deliveries
                        .claim_and_record(token, &claims, &outcomes)
                        .await
                        .map_err(|e| format!("{e:#}"));
                    if let Err(e) = &result
                        && !outcomes.is_empty()
                    {
                        lost.get_or_insert_with(|| e.clone());
                    }
                    for (write, done) in group {
                        let answer = match (&result, write) {
                            (_, Write::Flush) => lost.clone().map_or(Ok(true), Err),
                            (Ok(granted), Write::Claim(id)) => Ok(granted.contains(&id)),
                            (Ok(_), Write::Outcome(_)) => Ok(true),
                            (Err(e), _) => Err(e.clone()),
                        };
                        // A send that stopped waiting (its activity was cancelled) needs no answer.
                        if let Some(done) = done {
                            let _ = done.send(answer);
                        }
                    }
                }
            }
            .in_current_span(),
        );
        Self { queue }
    }

    /// Queues `write` and waits until it is committed.
    async fn write(&self, write: Write) -> anyhow::Result<bool> {
        let (done, committed) = oneshot::channel();
        self.queue.send((write, Some(done))).map_err(|_| anyhow::anyhow!("the ledger writer stopped"))?;
        match committed.await {
            Ok(Ok(granted)) => Ok(granted),
            Ok(Err(e)) => Err(anyhow::anyhow!("cannot write to the delivery ledger: {e}")),
            Err(_) => Err(anyhow::anyhow!("the ledger writer stopped")),
        }
    }

    /// Claims `ledger_id` for this attempt; `false` when another attempt holds it or it is
    /// finished. Returns once the claim is committed.
    async fn claim(&self, ledger_id: Uuid) -> anyhow::Result<bool> {
        self.write(Write::Claim(ledger_id)).await
    }

    /// Queues `outcome` (which releases its claim) for the next write, without waiting for it.
    fn record(&self, outcome: Recorded) -> anyhow::Result<()> {
        self.queue
            .send((Write::Outcome(outcome), None))
            .map_err(|_| anyhow::anyhow!("the ledger writer stopped"))
    }

    /// Waits until every outcome queued so far is committed; an error when one could not be.
    async fn flush(&self) -> anyhow::Result<()> {
        self.write(Write::Flush).await.map(|_| ())
    }
}

fn count(counts: &mut DeliveryCounts, status: Status) {
    match status {
        Status::Sent => counts.sent += 1,
        Status::Partial => counts.partial += 1,
        Status::Failed => counts.failed += 1,
        Status::Expired => counts.expired += 1,
        Status::Skipped => counts.skipped += 1,
        Status::Uncertain => counts.uncertain += 1,
        Status::Pending => {}
    }
}

/// Options for short database-bound activities: a tight timeout and retries with backoff for
/// as long as it takes (the database being down is not a reason to lose a reminder).
pub fn activity_opts() -> ActivityOptions {
    let mut opts = ActivityOptions::start_to_close_timeout(Duration::from_secs(10));
    opts.retry_policy = Some(retry_policy(Duration::from_secs(60)));
    opts.cancellation_token = Some(own_token());
    opts
}

/// A cancellation token for one timer or activity, instead of the workflow's own.
///
/// The SDK (temporalio-sdk 1.1.1) registers a cancellation callback, which holds the workflow's
/// context, in the token a timer or an activity is given, and removes it only when that timer
/// or activity completes. With the workflow's own token (the default), which lives in that same
/// context, a timer dropped before it fires (the run is evicted from the worker's cache, or a
/// signal woke the workflow first) closes a reference cycle: the evicted run's context, its
/// history and the SDK's bookkeeping were never freed, a few KiB per run, so memory grew with
/// every workflow the worker had ever held (docs/BENCHMARKS.md). A token of its own goes away
/// with the timer. Herald never cancels a workflow (a cancelled event is a signal), so no
/// cancellation is lost.
pub fn own_token() -> WorkflowCancellationToken {
    WorkflowCancellationToken::new()
}

/// Options for `load_plan` run as a local activity: the same timeout and retries as
/// [`activity_opts`]; a retry waiting longer than a few seconds becomes a durable timer.
pub fn local_activity_opts() -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(Duration::from_secs(10))
        .retry_policy(retry_policy(Duration::from_secs(60)))
        .timer_backoff_threshold(Duration::from_secs(5))
        .cancellation_token(own_token())
        .build()
}

/// Options for `deliver`: a batch may take minutes when channels are slow, so it heartbeats
/// every few seconds and a silent one (its worker died) is retried after 12 s;
/// retries come quickly at first (a restarting Apprise API is back in seconds) and at least
/// every 30 s after, without limit: the activity itself gives up on what has become too late.
pub fn deliver_opts() -> ActivityOptions {
    let mut opts = ActivityOptions::start_to_close_timeout(Duration::from_secs(600));
    opts.heartbeat_timeout = Some(Duration::from_secs(12));
    opts.retry_policy = Some(retry_policy(Duration::from_secs(30)));
    opts.cancellation_token = Some(own_token());
    opts
}

fn retry_policy(max: Duration) -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_secs(1))
        .backoff_coefficient(2.0)
        .maximum_interval(max)
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every activity gets a cancellation token of its own, never the workflow's: with the
    /// workflow's, an activity still running when its run is evicted keeps the run in memory
    /// (see [`own_token`]).
    #[test]
    fn activities_do_not_hold_the_workflows_cancellation_token() {
        assert!(activity_opts().cancellation_token.is_some());
        assert!(deliver_opts().cancellation_token.is_some());
        assert!(local_activity_opts().cancellation_token.is_some());
        // A fresh token each time: cancelling one leaves the next untouched.
        let first = own_token();
        first.cancel();
        assert!(first.is_cancelled());
        assert!(!own_token().is_cancelled());
    }
}
