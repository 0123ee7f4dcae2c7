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
//! - **Mail.** A released change notice mailed through the built-in email channel carries the
//!   calendar update an immediate one would (`invite.ics`), made from the event as it is at the
//!   release and only for someone still going; a digest carries one per event it tells of
//!   (`invite-{event}.ics`). A digest's `List-Unsubscribe` turns the digest off (its link
//!   spans several events, so the per-event opt-out does not fit).

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use herald_workflows::apprise::{Attachment, BodyFormat, NoticeType, TaggedUrl};
use herald_workflows::{Batch, NoticeSpec, Planned, Status, Target, TimedNotice};
use uuid::Uuid;

use super::{Deliverer, Organizer, done_status};
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
/// start or the offsets were last set; a moment before it is not one anybody asked for;
/// `planned`: the event's reminders, [`crate::rules::planned_offsets`]).
pub(super) async fn timed(
    db: &Db,
    event: &Event,
    set_at: Option<DateTime<Utc>>,
    planned: &[i64],
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
    for &offset in planned {
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
    let mut calendars = Calendars { d, events: HashMap::new() };
    for row in d.db.held_alone(event.id, at).await? {
        let Some(message) = row.held.as_ref().map(|m| m.0.clone()) else { continue };
        let done = done_status(row.status);
        let opt_out =
            row.participant_id.map(|p| format!("{base}{}", crate::participants::opt_out_path(&d.keys, p)));
        let target = match done {
            Some(_) => None,
            None => {
                let mut target = target(d, row.integration_id, &message.tag, opt_out.as_deref()).await?;
                if let Some(t) = target.as_mut()
                    && let (true, Some(urls), Some(participant)) =
                        (message.calendar, t.direct.as_deref(), row.participant_id)
                    && let Some(file) = calendars.file(row.event_id, participant, urls).await?
                {
                    t.attachments.push(file);
                }
                target
            }
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
        // Its `List-Unsubscribe` turns the digest off: it gathers several events, so stopping
        // one event's messages would not be what was asked.
        let digest_off = format!("{base}{}", crate::quiet::digest_off_path(&d.keys, digest.user_id));
        let target = match done {
            Some(_) => None,
            None => {
                let mut target = target(d, digest.integration_id, &tag, Some(&digest_off)).await?;
                if let Some(t) = target.as_mut()
                    && let Some(urls) = t.direct.clone()
                {
                    let mut seen = BTreeSet::new();
                    let mut names = BTreeSet::new();
                    for row in &rows {
                        let calendar = row.held.as_ref().is_some_and(|m| m.0.calendar);
                        if let (true, Some(participant)) = (calendar, row.participant_id)
                            && seen.insert(row.event_id)
                            && let Some(mut file) = calendars.file(row.event_id, participant, &urls).await?
                        {
                            file.name = calendars.file_name(row.event_id, &mut names);
                            t.attachments.push(file);
                        }
                    }
                }
                target
            }
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
/// `opt_out` (the person's opt-out link, or a digest's link that turns it off) as
/// `List-Unsubscribe` when there is one.
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
    Ok(Some(Target { integration_id: id, key, tag: tag.to_owned(), direct, attachments: Vec::new() }))
}

/// The events of one release's calendar updates, each read once.
struct Calendars<'a> {
    d: &'a Deliverer,
    /// Per event: the event (`None`: gone or not published any more, so no update), its page
    /// and its organization's name.
    events: HashMap<Uuid, Option<(Event, Option<String>, String)>>,
}

impl Calendars<'_> {
    /// The calendar update of `event_id` as it is now for the participant `participant`, mailed
    /// through `urls`: `None` when they no longer go, or the event is no longer on.
    async fn file(
        &mut self,
        event_id: Uuid,
        participant: Uuid,
        urls: &[TaggedUrl],
    ) -> anyhow::Result<Option<Attachment>> {
        let d = self.d;
        if let std::collections::hash_map::Entry::Vacant(slot) = self.events.entry(event_id) {
            let loaded = match d.db.event(event_id).await? {
                Some(event) if event.status == EventStatus::Published => {
                    let org = d.db.organization_by_id(event.org_id).await?;
                    let link = org.as_ref().map(|o| format!("{}o/{}/e/{}", d.public_url, o.slug, event.slug));
                    let name = org.map_or_else(|| "Herald".to_owned(), |o| o.name);
                    Some((event, link, name))
                }
                _ => None,
            };
            slot.insert(loaded);
        }
        let Some((event, link, name)) = self.events.get(&event_id).and_then(Option::as_ref) else {
            return Ok(None);
        };
        let Some(recipient) = d.db.recipient(participant).await? else { return Ok(None) };
        let fallback = format!("herald@{}", d.public_url.host_str().unwrap_or("localhost"));
        let organizer = Organizer { name, fallback: &fallback };
        Ok(super::calendar_file(
            event,
            crate::calendar::Method::Request,
            &recipient,
            link.as_deref(),
            organizer,
            urls,
        ))
    }

    /// A digest's file for `event_id`, named after the event so several read apart
    /// (`invite-rust-night.ics`; `…-2.ics` for a name already in `taken`).
    fn file_name(&self, event_id: Uuid, taken: &mut BTreeSet<String>) -> String {
        let name =
            self.events.get(&event_id).and_then(Option::as_ref).map_or("", |(e, _, _)| e.name.as_str());
        let words: Vec<String> = name
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let mut stem: String = words.join("-").chars().take(40).collect();
        if stem.is_empty() {
            stem = "event".to_owned();
        }
        let mut file = format!("invite-{stem}.ics");
        let mut n = 2;
        while !taken.insert(file.clone()) {
            file = format!("invite-{stem}-{n}.ics");
            n += 1;
        }
        file
    }
}

/// A held notice's message: as rendered for its recipient now, to be sent as it is later.
/// `calendar`: it would have been mailed with a calendar update.
pub(super) fn message(
    title: &str,
    body: &str,
    tag: &str,
    kind: NoticeType,
    event: &str,
    calendar: bool,
) -> HeldMessage {
    HeldMessage {
        title: title.to_owned(),
        body: body.to_owned(),
        tag: tag.to_owned(),
        warning: matches!(kind, NoticeType::Warning),
        event: event.to_owned(),
        calendar,
    }
}

/// How long before the start an early reminder sent at `at` comes, as its wording says it:
/// in whole minutes from two minutes on (the few seconds of [`crate::quiet::EARLY_LEAD`] would
/// only clutter "starts in 3 hours").
pub(super) fn lead(starts_at: DateTime<Utc>, at: DateTime<Utc>) -> i64 {
    let secs = (starts_at - at).num_seconds().max(0);
    if secs >= 120 { secs - secs % 60 } else { secs }
}
