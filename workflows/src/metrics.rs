//! The delivery metrics the activities record, through the `metrics` facade (the application
//! installs the recorder; without one, recording does nothing). Labels are bounded: the notice
//! kind and the ledger status.

use chrono::{DateTime, Utc};

use crate::ports::Status;
use crate::types::NoticeSpec;

/// Notifications by kind and final ledger status (counter).
pub const NOTIFICATIONS: &str = "herald_notifications_total";
/// Reminder lateness, sent minus due time (histogram, seconds).
pub const LATENESS: &str = "herald_reminder_lateness_seconds";
/// Deliver activity duration by notice kind (histogram, seconds).
pub const DELIVER_DURATION: &str = "herald_deliver_activity_duration_seconds";
/// Deliver activity attempts beyond the first, by notice kind (counter).
pub const DELIVER_RETRIES: &str = "herald_deliver_activity_retries_total";
/// Event workflows held in this process's memory (gauge): the worker's sticky cache, plus runs
/// being evicted. Once evictions are done it stays at or under `HERALD_WORKER_CACHE`.
pub const IN_MEMORY: &str = "herald_workflows_in_memory";

static RESIDENT: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Held by each event workflow in memory: counts it in [`IN_MEMORY`] while it lives.
#[derive(Debug)]
pub struct Resident(());

impl Resident {
    /// Counts one more workflow in memory.
    pub fn new() -> Self {
        let now = RESIDENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        metrics::gauge!(IN_MEMORY).set(now as f64);
        Self(())
    }
}

impl Default for Resident {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Resident {
    fn drop(&mut self) {
        let now = RESIDENT.fetch_sub(1, std::sync::atomic::Ordering::Relaxed) - 1;
        metrics::gauge!(IN_MEMORY).set(now as f64);
    }
}

/// The `kind` label of a notice.
pub fn kind(notice: &NoticeSpec) -> &'static str {
    match notice {
        NoticeSpec::Reminder { .. } | NoticeSpec::EarlyReminder { .. } => "reminder",
        NoticeSpec::Release { .. } => "held",
        NoticeSpec::Changes { .. } => "change",
        NoticeSpec::Cancelled { .. } => "cancellation",
        NoticeSpec::Announcement { .. } => "announcement",
        NoticeSpec::FollowUp { .. } => "follow_up",
    }
}

/// The `status` label of a final ledger status; `None` for pending.
fn status(status: Status) -> Option<&'static str> {
    Some(match status {
        Status::Sent => "sent",
        Status::Partial => "partial",
        Status::Failed => "failed",
        Status::Expired => "expired",
        Status::Skipped => "skipped",
        Status::Uncertain => "uncertain",
        Status::Pending => return None,
    })
}

/// Records a notification that reached its final status just now; a reminder that went out
/// (sent or partly) also records how late it was.
pub fn finished(notice: &NoticeSpec, final_status: Status, now: DateTime<Utc>) {
    let Some(label) = status(final_status) else { return };
    metrics::counter!(NOTIFICATIONS, "kind" => kind(notice), "status" => label).increment(1);
    if let NoticeSpec::Reminder { due_at, .. } = notice
        && matches!(final_status, Status::Sent | Status::Partial)
    {
        let late = (now - *due_at).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!(LATENESS).record(late);
    }
}

/// Records one run of the deliver activity.
pub fn deliver_run(notice: &NoticeSpec, attempt: u32, seconds: f64) {
    metrics::histogram!(DELIVER_DURATION, "kind" => kind(notice)).record(seconds);
    if attempt > 1 {
        metrics::counter!(DELIVER_RETRIES, "kind" => kind(notice)).increment(1);
    }
}
