//! Quiet hours and digests on the delivery side (see `crate::quiet` for the rules).
//!
//! - **Early reminders.** The plan adds a timed [`NoticeSpec::EarlyReminder`] for each moment
//!   just before someone's quiet hours begin that holds one of the event's reminders; its batch
//!   goes only to the people whose reminder falls in quiet hours beginning then, under the
//!   reminder's own ledger key, so nobody gets both. The reminder's own batch leaves their rows
//!   to it.
//! - **Holding.** A non-urgent notice to someone in quiet hours, or with a daily digest, is
//!   written to the ledger as pending with `hold_until` and its message as rendered now, and not
//!   sent. The workflow is told (the batch says it held something) and reads its plan again,
//!   which then has a [`NoticeSpec::Release`] at that moment.
//! - **Release.** At that moment the event's rows held alone are sent as they were rendered;
//!   the digests due then are claimed in one transaction by this release (one per person and
//!   channel, gathering that person's held rows of every event) and sent by it alone, each
//!   with a ledger entry of its own, so a retried or concurrent release sends nothing twice.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use herald_workflows::apprise::{BodyFormat, NoticeType};
use herald_workflows::{Batch, NoticeSpec, Planned, Status, Target, TimedNotice};
use uuid::Uuid;

use super::{Deliverer, done_status};
use crate::db::delivery::Recipient;
use crate::db::models::{Event, EventStatus, Notification};
use crate::db::quiet::{HeldMessage, HeldRow};
use crate::db::{Db, DbError};
use crate::quiet::{Settings, Urgency, urgency};

/// The ledger row of a cancelled event's held notices.
pub(super) const CANCELLED_MEANWHILE: &str =
    "not sent: the event was cancelled while it waited for quiet hours to end";

/// The notice part of the ledger's idempotency key: an early reminder is the reminder itself.
pub(super) fn ledger_key(notice: &NoticeSpec) -> String {
    match notice {
        NoticeSpec::EarlyReminder { offset, starts_at, due_at, .. } => {
            NoticeSpec::Reminder { offset: *offset, starts_at: *starts_at, due_at: *due_at }.key()
        }
        other => other.key(),
    }
}

/// The timed notices quiet hours add to `event`'s plan: the releases of its held rows, and the
/// early reminders of people whose reminders fall inside their quiet hours (`set_at`: when the
/// start or the offsets were last set; a moment before it is not one anybody asked for).
pub(super) async fn timed(
    db: &Db,
    event: &Event,
    set_at: Option<DateTime<Utc>>,
) -> Result<Vec<TimedNotice>, DbError> {
    let mut out: Vec<TimedNotice> = db
        .hold_times(event.id)
        .await?
        .into_iter()
        .map(|at| TimedNotice { notice: NoticeSpec::Release { at }, due_at: at })
        .collect();
    if event.status != EventStatus::Published || !event.notify_reminders {
        return Ok(out);
    }
    let people: Vec<Settings> = db.quiet_attendees(event.id).await?.iter().map(Settings::from_row).collect();
    if people.is_empty() {
        return Ok(out);
    }
    // A slot that has just passed while the plan was read is still sent.
    let recent = Utc::now() - Duration::minutes(1);
    let mut slots: BTreeSet<(i64, DateTime<Utc>)> = BTreeSet::new();
    for offset in crate::rules::all_offsets(event) {
        let due = event.starts_at - Duration::seconds(offset);
        if due <= recent || set_at.is_some_and(|s| due < s) {
            continue;
        }
        for person in &people {
            if let Some(slot) = person.early_slot(due)
                && slot > recent
                && set_at.is_none_or(|s| slot >= s)
            {
                slots.insert((offset, slot));
            }
        }
    }
    out.extend(slots.into_iter().map(|(offset, at)| TimedNotice {
        notice: NoticeSpec::EarlyReminder {
            offset,
            starts_at: event.starts_at,
            due_at: event.starts_at - Duration::seconds(offset),
            at,
        },
        due_at: at,
    }));
    Ok(out)
}

/// What quiet hours and digests do to one batch of one notice.
pub(super) struct Holds {
    urgency: Urgency,
    settings: HashMap<Uuid, Settings>,
    now: DateTime<Utc>,
    /// Whether a row of this batch is held.
    pub(super) held: bool,
}

impl Holds {
    /// Reads the settings the batch needs: those of the event's people with quiet hours or a
    /// digest, for early reminders and notices that may wait.
    pub(super) async fn load(db: &Db, event: &Event, notice: &NoticeSpec) -> Result<Self, DbError> {
        let now = Utc::now();
        let urgency = urgency(notice, event, now);
        // Urgent notices wait for nobody; a reminder's own batch only looks at its ledger rows.
        let needed = match notice {
            NoticeSpec::Reminder { .. } => false,
            _ => urgency != Urgency::Urgent,
        };
        let settings = if !needed {
            HashMap::new()
        } else {
            db.quiet_settings_in_event(event.id)
                .await?
                .iter()
                .map(|row| (row.user_id, Settings::from_row(row)))
                .collect()
        };
        Ok(Self { urgency, settings, now, held: false })
    }

    /// For an early reminder at `at`: only the recipients whose reminder falls in quiet hours
    /// that begin then (or later, but already now).
    pub(super) fn early_only(&self, notice: &NoticeSpec, recipients: &mut Vec<Recipient>) {
        let NoticeSpec::EarlyReminder { due_at, at, .. } = notice else { return };
        recipients.retain(|r| {
            self.settings
                .get(&r.user_id)
                .and_then(|s| s.early_slot(*due_at))
                .is_some_and(|slot| *at <= slot && slot <= self.now)
        });
    }

    /// Whether the ledger row `row` of `recipient` is not to be sent by this batch: a reminder
    /// row an early slot wrote (it is that slot's to send), a row held before, or one to hold
    /// now (then held with `message`). Only for rows that would be sent.
    pub(super) async fn hold(
        &mut self,
        db: &Db,
        notice: &NoticeSpec,
        row: &Notification,
        recipient: &Recipient,
        message: impl FnOnce() -> HeldMessage,
    ) -> Result<bool, DbError> {
        if let NoticeSpec::Reminder { due_at, .. } = notice {
            return Ok(row.due_at < *due_at);
        }
        if row.hold_until.is_some() {
            self.held = true;
            return Ok(true);
        }
        let Some((until, digest)) =
            self.settings.get(&recipient.user_id).and_then(|s| s.hold_until(self.urgency, self.now))
        else {
            return Ok(false);
        };
        db.hold_notification(row.id, until, digest, &message()).await?;
        self.held = true;
        Ok(true)
    }
}

/// The batch of a release at `at`: the event's rows held alone until then, and the digests due
/// then that this release claims. One batch (the rows are few: those held for one moment).
pub(super) async fn release(d: &Deliverer, event: &Event, at: DateTime<Utc>) -> anyhow::Result<Batch> {
    if event.status == EventStatus::Cancelled {
        d.db.drop_held(event.id, CANCELLED_MEANWHILE).await?;
        return Ok(Batch::default());
    }
    let base = d.public_url.as_str().trim_end_matches('/').to_owned();
    let deadline = at + Duration::days(1);
    let mut items = Vec::new();
    for row in d.db.held_alone(event.id, at).await? {
        let Some(message) = row.held.as_ref().map(|m| m.0.clone()) else { continue };
        let done = done_status(row.status);
        let opt_out =
            row.participant_id.map(|p| format!("{base}{}", crate::participants::opt_out_path(&d.keys, p)));
        let target = match done {
            Some(_) => None,
            None => target(d, row.integration_id, &message.tag, opt_out.as_deref()).await?,
        };
        items.push(planned(row.id, done, target, deadline, message.title, message.body, message.warning));
    }
    let claimer = format!("{}:{}", event.id, NoticeSpec::Release { at }.key());
    d.db.claim_digests(event.id, at, &claimer).await?;
    for (digest, rows) in d.db.claimed_digests(&claimer).await? {
        let messages: Vec<HeldMessage> =
            rows.iter().filter_map(|r: &HeldRow| r.held.as_ref().map(|m| m.0.clone())).collect();
        if messages.is_empty() {
            continue;
        }
        let done = done_status(digest.status);
        let tag = union_of_tags(&messages);
        let target = match done {
            Some(_) => None,
            None => target(d, digest.integration_id, &tag, None).await?,
        };
        let (title, body) = crate::wording::digest(&messages, &format!("{base}/account"));
        let warning = messages.iter().any(|m| m.warning);
        items.push(planned(digest.id, done, target, deadline, title, body, warning));
    }
    Ok(Batch { items, next_after: None, held: false })
}

fn planned(
    ledger_id: Uuid,
    done: Option<Status>,
    target: Option<Target>,
    deadline: DateTime<Utc>,
    title: String,
    body: String,
    warning: bool,
) -> Planned {
    Planned {
        ledger_id,
        done,
        target,
        deadline,
        title,
        body,
        kind: if warning { NoticeType::Warning } else { NoticeType::Info },
        format: BodyFormat::Text,
    }
}

/// The tags that reach every URL any of the gathered notices would have reached.
fn union_of_tags(messages: &[HeldMessage]) -> String {
    let mut tags: Vec<&str> = Vec::new();
    for m in messages {
        if m.tag == "all" {
            return "all".to_owned();
        }
        for t in m.tag.split(',') {
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
    }
    if tags.is_empty() { "all".to_owned() } else { tags.join(",") }
}

/// Where a released message goes: the channel as it is now (`None`: gone, disabled or not
/// confirmed any more, recorded as skipped). Mail through the built-in email channel carries
/// the person's opt-out link (`opt_out`) as `List-Unsubscribe` when there is one.
async fn target(
    d: &Deliverer,
    integration_id: Option<Uuid>,
    tag: &str,
    opt_out: Option<&str>,
) -> anyhow::Result<Option<Target>> {
    let Some(id) = integration_id else { return Ok(None) };
    let Some(integration) = d.db.integration_by_id(id).await? else { return Ok(None) };
    if !integration.enabled || integration.verified_at.is_none() {
        return Ok(None);
    }
    let Ok(key) = crate::integrations::open_config_key(&d.keys, integration.id, &integration.config_key)
    else {
        return Ok(None);
    };
    let direct = match opt_out {
        Some(link) if integration.is_email() => Some(
            crate::integrations::tagged_urls(&d.keys, &integration)?
                .into_iter()
                .map(|u| herald_workflows::apprise::TaggedUrl {
                    url: crate::mail::with_unsubscribe(&u.url, link),
                    tags: u.tags,
                })
                .collect(),
        ),
        _ => None,
    };
    Ok(Some(Target { integration_id: id, key, tag: tag.to_owned(), direct, attachment: None }))
}

/// A held notice's message: as rendered for its recipient now, to be sent as it is later.
pub(super) fn message(title: &str, body: &str, tag: &str, kind: NoticeType, event: &str) -> HeldMessage {
    HeldMessage {
        title: title.to_owned(),
        body: body.to_owned(),
        tag: tag.to_owned(),
        warning: matches!(kind, NoticeType::Warning),
        event: event.to_owned(),
    }
}

/// How long before the start an early reminder sent at `at` comes, as its wording says it:
/// in whole minutes from two minutes on (the few seconds of [`crate::quiet::EARLY_LEAD`] would
/// only clutter "starts in 3 hours").
pub(super) fn lead(starts_at: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    let secs = (starts_at - at).num_seconds().max(0);
    if secs >= 120 { secs - secs % 60 } else { secs }
}
