//! An organization's report for its managers (owners, admins, organizers): answers per day,
//! deliveries by status and by channel kind, and how late reminders went, over the last
//! [`REPORT_DAYS`] days. Read-only; days are UTC days.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::db::Db;
use crate::domain::ServiceError;
use crate::events::manages_events;
use crate::orgs::OrgAccess;

/// How many days the report covers, today included.
pub const REPORT_DAYS: i64 = 30;

/// The delivery statuses, in the order the report lists them.
pub const STATUSES: [&str; 7] = ["sent", "partial", "failed", "expired", "skipped", "uncertain", "pending"];

/// The channel kinds, in the order the report lists them (`none`: the participant had no channel).
pub const CHANNEL_KINDS: [&str; 3] = ["email", "apprise", "none"];

/// The lateness buckets: a label and the upper bound in milliseconds (`None`: no bound).
pub const LATENESS_BUCKETS: [(&str, Option<i64>); 5] = [
    ("under 1 s", Some(1_000)),
    ("1–5 s", Some(5_000)),
    ("5–30 s", Some(30_000)),
    ("30 s–2 min", Some(120_000)),
    ("over 2 min", None),
];

/// The answers given on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayAnswers {
    pub day: NaiveDate,
    pub going: u64,
    pub maybe: u64,
    pub declined: u64,
}

/// The numbers of an organization's report.
#[derive(Debug, Clone)]
pub struct OrgReport {
    /// The first day covered (UTC).
    pub since: NaiveDate,
    /// The last day covered (today, UTC).
    pub until: NaiveDate,
    /// One entry per day, oldest first, [`REPORT_DAYS`] of them. Each participant's current
    /// answer counts on the day it was last changed.
    pub answers: Vec<DayAnswers>,
    /// Ledger rows due in the window, per status, in the order of [`STATUSES`].
    pub by_status: Vec<(&'static str, u64)>,
    /// Ledger rows due in the window, per channel kind, in the order of [`CHANNEL_KINDS`].
    pub by_channel: Vec<(&'static str, u64)>,
    /// Reminders sent in the window, by how long after their due time, per bucket of
    /// [`LATENESS_BUCKETS`].
    pub lateness: Vec<(&'static str, u64)>,
}

/// The report of the organization (owners, admins and organizers; anyone else:
/// [`ServiceError::NotFound`]) as of `now`.
pub async fn org_report(db: &Db, access: &OrgAccess, now: DateTime<Utc>) -> Result<OrgReport, ServiceError> {
    if !manages_events(access.role) {
        return Err(ServiceError::NotFound);
    }
    let until = now.date_naive();
    let since = until - Duration::days(REPORT_DAYS - 1);
    let start = since.and_hms_opt(0, 0, 0).map_or(now - Duration::days(REPORT_DAYS), |t| t.and_utc());

    let mut answers: Vec<DayAnswers> = (0..REPORT_DAYS)
        .map(|i| DayAnswers { day: since + Duration::days(i), going: 0, maybe: 0, declined: 0 })
        .collect();
    for row in db.report_answers(access.org.id, start).await? {
        let index = (row.updated_at.date_naive() - since).num_days();
        let Some(day) = usize::try_from(index).ok().and_then(|i| answers.get_mut(i)) else { continue };
        match row.rsvp.as_str() {
            "going" => day.going += 1,
            "maybe" => day.maybe += 1,
            "declined" => day.declined += 1,
            _ => {}
        }
    }

    let mut by_status: Vec<(&'static str, u64)> = STATUSES.iter().map(|s| (*s, 0)).collect();
    let mut by_channel: Vec<(&'static str, u64)> = CHANNEL_KINDS.iter().map(|k| (*k, 0)).collect();
    for row in db.report_deliveries(access.org.id, start).await? {
        let n = u64::try_from(row.count).unwrap_or(0);
        if let Some(entry) = by_status.iter_mut().find(|(s, _)| *s == row.status) {
            entry.1 += n;
        }
        if let Some(entry) = by_channel.iter_mut().find(|(k, _)| *k == row.channel_kind) {
            entry.1 += n;
        }
    }

    let mut lateness: Vec<(&'static str, u64)> = LATENESS_BUCKETS.iter().map(|(l, _)| (*l, 0)).collect();
    for row in db.report_lateness(access.org.id, start).await? {
        let late = (row.sent_at - row.due_at).num_milliseconds().max(0);
        let bucket = LATENESS_BUCKETS.iter().position(|(_, upto)| upto.is_none_or(|u| late < u));
        if let Some(entry) = bucket.and_then(|b| lateness.get_mut(b)) {
            entry.1 += 1;
        }
    }

    Ok(OrgReport { since, until, answers, by_status, by_channel, lateness })
}

/// A channel kind in words.
pub fn channel_label(kind: &str) -> &'static str {
    match kind {
        "email" => "Email",
        "apprise" => "Other channels",
        _ => "No channel",
    }
}
