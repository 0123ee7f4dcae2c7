//! The workflow's ports, implemented on the database: the plan it follows, and the recipients,
//! messages and ledger of its `deliver` activity.
//!
//! Recipients are resolved when a batch is sent, not when the notice was scheduled: someone
//! who joined, left or changed their channels in between is treated as they are now.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use herald_workflows::apprise::{AppriseClient, Attachment, BodyFormat, NoticeType, TaggedUrl};
use herald_workflows::{
    Batch, DeliverRequest, EventPlan, NoticeSpec, NoticeSwitches, Planned, Recorded, Status, Target,
};
use uuid::Uuid;

use crate::db::delivery::{Recipient, RecipientChannel};
use crate::db::models::{DeliveryStatus, Event, EventStatus, EventUpdate, NoticeKind, Rsvp, UpdateKind};
use crate::db::notifications::{DeliveryOutcome, PlannedNotice};
use crate::db::{Db, DbError};
use crate::domain::changes::{ChangeSet, Field};
use crate::integrations::Targets;
use crate::secrets::SecretKey;
use crate::wording::{About, Reader, Wording, default_wording};

mod held;

/// The database side of the per-event workflow.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    keys: SecretKey,
    apprise: Option<AppriseClient>,
    public_url: url::Url,
    targets: Targets,
}

/// Recorded in the ledger for a channel whose URLs reach a private address.
const BLOCKED_TARGET: &str = "not sent: the channel points to a private network address";
/// Why a message is `uncertain` (the answer kept in the ledger).
pub const UNCERTAIN: &str = "the sender stopped while this message was on its way: it most likely arrived, \
and it is not sent again so that nobody gets it twice";

/// How long a claim may stay without an outcome before the message counts as uncertain: longer
/// than a live attempt takes for one message (an Apprise call times out after 15 s, and a lost
/// config costs a push and a second call).
pub const CLAIM_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// The ledger's reason for a message not sent to someone who stopped the event's messages.
pub const OPTED_OUT: &str = "not sent: they stopped this event's messages";

impl Deliverer {
    /// Delivers through `apprise` (`None`: log-only mode), linking to pages under `public_url`,
    /// to channels whose URLs `targets` allows.
    pub fn new(
        db: Db,
        keys: SecretKey,
        apprise: Option<AppriseClient>,
        public_url: url::Url,
        targets: Targets,
    ) -> Self {
        Self { db, keys, apprise, public_url, targets }
    }

    /// Whether a channel's URLs may be sent to now (checked once per batch and channel).
    async fn reachable(&self, integration_id: Uuid, cache: &mut HashMap<Uuid, bool>) -> anyhow::Result<bool> {
        if self.targets.allow_private {
            return Ok(true);
        }
        if let Some(ok) = cache.get(&integration_id) {
            return Ok(*ok);
        }
        let integration = self.db.integration_by_id(integration_id).await?.ok_or(DbError::NotFound)?;
        if integration.is_email() {
            // The built-in email channel uses the operator's own mail URL.
            cache.insert(integration_id, true);
            return Ok(true);
        }
        let urls: Vec<String> =
            crate::integrations::entries_of(&self.keys, &integration)?.into_iter().map(|e| e.url).collect();
        let ok = self.targets.check_all(&urls).await.is_ok();
        if !ok {
            tracing::warn!(%integration_id, "a channel's URLs reach a private address; not sending through it");
        }
        cache.insert(integration_id, ok);
        Ok(ok)
    }

    /// For the built-in email channel, its URLs for one message: with the `List-Unsubscribe`
    /// and `List-Unsubscribe-Post` headers (RFC 2369, RFC 8058) that point at `opt_out`, which
    /// Apprise's mail plugin adds from `+Header=value` arguments. `None` for other channels
    /// (checked once per batch and channel).
    async fn email_urls(
        &self,
        channel: &RecipientChannel,
        opt_out: &str,
        cache: &mut HashMap<Uuid, Option<Vec<TaggedUrl>>>,
    ) -> anyhow::Result<Option<Vec<TaggedUrl>>> {
        if !channel.is_email() {
            return Ok(None);
        }
        let integration_id = channel.integration_id;
        let urls = match cache.get(&integration_id) {
            Some(known) => known.clone(),
            None => {
                let urls = match self.db.integration_by_id(integration_id).await? {
                    Some(i) if i.is_email() => Some(crate::integrations::tagged_urls(&self.keys, &i)?),
                    _ => None,
                };
                cache.insert(integration_id, urls.clone());
                urls
            }
        };
        Ok(urls.map(|urls| {
            urls.into_iter()
                .map(|u| TaggedUrl { url: crate::mail::with_unsubscribe(&u.url, opt_out), tags: u.tags })
                .collect()
        }))
    }

    async fn plan(&self, event_id: Uuid) -> anyhow::Result<Option<EventPlan>> {
        match self.db.event(event_id).await? {
            Some(event) => Ok(Some(plan(&self.db, &event).await?)),
            None => Ok(None),
        }
    }

    async fn batch(&self, request: &DeliverRequest) -> anyhow::Result<Batch> {
        let Some(event) = self.db.event(request.event_id).await? else {
            return Ok(Batch::default());
        };
        if let NoticeSpec::Release { at } = request.notice {
            return held::release(self, &event, at).await;
        }
        let Some(message) = self.message(&event, &request.notice).await? else {
            return Ok(Batch::default());
        };
        let mut holds = held::Holds::load(&self.db, &event, &request.notice).await?;
        let limit = i64::from(request.limit.max(1));
        let after = request.after.unwrap_or(Uuid::nil());
        let with_pending =
            !matches!(request.notice, NoticeSpec::Reminder { .. } | NoticeSpec::EarlyReminder { .. });
        let mut recipients = match &message.own {
            Some(own) => self.db.audience(event.id, own.audience, after, limit).await?,
            None => self.db.recipients(event.id, after, limit, with_pending).await?,
        };
        let Some(last) = recipients.last().map(|r| r.participant_id) else {
            return Ok(Batch::default());
        };
        let page_len = recipients.len() as i64;
        holds.early_only(&request.notice, &mut recipients);
        let recipients = crate::rules::keep_receivers(&event, &request.notice, recipients);
        let mut channels: HashMap<Uuid, Vec<RecipientChannel>> = HashMap::new();
        for channel in self.db.recipient_channels(event.id, after, last).await? {
            channels.entry(channel.participant_id).or_default().push(channel);
        }
        let org = self.db.organization_by_id(event.org_id).await?;
        let link = org.as_ref().map(|o| format!("{}o/{}/e/{}", self.public_url, o.slug, event.slug));
        let org_name = org.as_ref().map_or("Herald", |o| o.name.as_str());
        let (wording, _) = crate::wording::wording_of(&self.db, event.org_id, message.about.kind()).await?;
        let fallback_sender = format!("herald@{}", self.public_url.host_str().unwrap_or("localhost"));
        let (kind, due_at, deadline) = match &request.notice {
            NoticeSpec::Reminder { starts_at, due_at, .. } => (NoticeKind::Reminder, *due_at, *starts_at),
            NoticeSpec::Changes { .. } => (NoticeKind::Updated, Utc::now(), event.ends_at),
            NoticeSpec::Cancelled { .. } => {
                self.db.drop_held(event.id, held::CANCELLED_MEANWHILE).await?;
                (NoticeKind::Cancelled, Utc::now(), event.ends_at)
            }
            NoticeSpec::EarlyReminder { starts_at, at, .. } => (NoticeKind::Reminder, *at, *starts_at),
            NoticeSpec::Release { .. } => (NoticeKind::Updated, Utc::now(), event.ends_at),
            NoticeSpec::Announcement { due_at, .. } => {
                (NoticeKind::Message, *due_at, crate::announcements::deadline(*due_at))
            }
            NoticeSpec::FollowUp { .. } => {
                let due = crate::rules::follow_up_due(&event).unwrap_or(event.ends_at);
                (NoticeKind::Message, due, crate::rules::follow_up_deadline(&event))
            }
        };
        let notice_key = held::ledger_key(&request.notice);
        let mut reachable: HashMap<Uuid, bool> = HashMap::new();
        let mut email_channels: HashMap<Uuid, Option<Vec<TaggedUrl>>> = HashMap::new();
        // One ledger row per recipient and channel (or "none"), planned in one transaction.
        let mut entries: Vec<(&Recipient, Option<RecipientChannel>, String)> = Vec::new();
        for recipient in &recipients {
            let mine = channels.remove(&recipient.participant_id).unwrap_or_default();
            let targets: Vec<Option<RecipientChannel>> =
                if mine.is_empty() { vec![None] } else { mine.into_iter().map(Some).collect() };
            for channel in targets {
                let key = format!(
                    "{}:{notice_key}:{}:{}",
                    event.id,
                    recipient.participant_id,
                    channel.as_ref().map_or_else(|| "none".to_owned(), |c| c.integration_id.to_string())
                );
                entries.push((recipient, channel, key));
            }
        }
        let planned: Vec<PlannedNotice<'_>> = entries
            .iter()
            .map(|(recipient, channel, key)| PlannedNotice {
                event_id: event.id,
                participant_id: recipient.participant_id,
                integration_id: channel.as_ref().map(|c| c.integration_id),
                kind,
                idempotency_key: key,
                due_at,
            })
            .collect();
        let rows = self.db.plan_notifications(&planned).await?;
        let base = self.public_url.as_str().trim_end_matches('/');
        let mut rendered: HashMap<Uuid, (String, String, String)> = HashMap::new();
        let mut items = Vec::with_capacity(entries.len());
        for ((recipient, channel, _), row) in entries.iter().zip(rows) {
            let (title, body, opt_out) = rendered
                .entry(recipient.participant_id)
                .or_insert_with(|| {
                    let (title, body) =
                        message.render(&event, org_name, &wording, recipient, link.as_deref());
                    // Every message ends with the way to stop this event's messages and to
                    // manage one's notifications.
                    let opt_out = crate::participants::opt_out_path(&self.keys, recipient.participant_id);
                    let body = with_footer(&body, &format!("{base}{opt_out}"), base);
                    (title, body, opt_out)
                })
                .clone();
            let channel = channel.as_ref();
            let target = match channel {
                None => None,
                Some(c) => {
                    match crate::integrations::open_config_key(&self.keys, c.integration_id, &c.config_key) {
                        Ok(k) => {
                            let direct =
                                self.email_urls(c, &format!("{base}{opt_out}"), &mut email_channels).await?;
                            let attachment = direct.as_deref().and_then(|urls| {
                                let organizer = Organizer { name: org_name, fallback: &fallback_sender };
                                calendar_update(
                                    &event,
                                    &request.notice,
                                    recipient,
                                    link.as_deref(),
                                    organizer,
                                    urls,
                                )
                            });
                            Some(Target {
                                integration_id: c.integration_id,
                                key: k,
                                tag: tag_for(c, recipient, kind),
                                direct,
                                attachments: attachment.into_iter().collect(),
                            })
                        }
                        Err(_) => None,
                    }
                }
            };
            let mut done = done_status(row.status);
            // A claim left by an attempt that stopped mid-send: the message was on its way.
            if done.is_none()
                && row.sending_token.is_some()
                && row.sending_at.is_some_and(|at| Utc::now() - at > CLAIM_LEASE)
            {
                self.db.record_delivery(row.id, DeliveryStatus::Uncertain, None, Some(UNCERTAIN)).await?;
                done = Some(Status::Uncertain);
            }
            if done.is_none() && recipient.opted_out_at.is_some() {
                self.db.record_delivery(row.id, DeliveryStatus::Skipped, None, Some(OPTED_OUT)).await?;
                done = Some(Status::Skipped);
            }
            if let (None, Some(t)) = (done, &target)
                && self.apprise.is_some()
                && !self.reachable(t.integration_id, &mut reachable).await?
            {
                self.db.record_delivery(row.id, DeliveryStatus::Failed, None, Some(BLOCKED_TARGET)).await?;
                done = Some(Status::Failed);
            }
            if let (None, Some(t)) = (done, &target) {
                let calendar = !t.attachments.is_empty();
                let held = || held::message(&title, &body, &t.tag, message.kind, &event.name, calendar);
                if holds.hold(&self.db, &request.notice, &row, recipient, held).await? {
                    done = Some(Status::Pending);
                }
            }
            // An announcement reaches mail as HTML (its Markdown rendered), other channels as text.
            let (body, format) = match (&message.own, channel) {
                (Some(own), Some(c)) if c.is_email() => (
                    own.html(
                        &event,
                        recipient,
                        link.as_deref(),
                        &format!("{base}{opt_out}"),
                        &format!("{base}/integrations"),
                    ),
                    BodyFormat::Html,
                ),
                _ => (body, BodyFormat::Text),
            };
            items.push(Planned {
                ledger_id: row.id,
                done,
                target,
                deadline,
                title,
                body,
                kind: message.kind,
                format,
            });
        }
        let next_after = (page_len >= limit).then_some(last);
        Ok(Batch { items, next_after, held: holds.held })
    }

    /// What to say for `notice`, or `None` when there is nothing to say any more (the event
    /// moved or was cancelled since the reminder was scheduled, or the changes are ones nobody
    /// needs to be told about).
    async fn message(&self, event: &Event, notice: &NoticeSpec) -> anyhow::Result<Option<Message>> {
        Ok(match notice {
            NoticeSpec::Reminder { offset, starts_at, .. } => {
                let current = event.starts_at == *starts_at
                    && crate::rules::plans_reminder(&self.db, event, *offset).await?;
                current.then_some(Message {
                    about: About::Reminder(*offset),
                    kind: NoticeType::Info,
                    own: None,
                })
            }
            NoticeSpec::Changes { after, upto } => {
                let updates = self.db.event_updates(event.id).await?;
                let changes = changes_between(&updates, *after, *upto);
                (event.notify_changes && worth_telling(&changes)).then(|| Message {
                    about: About::Changed(Box::new(changes)),
                    kind: NoticeType::Warning,
                    own: None,
                })
            }
            NoticeSpec::Cancelled { .. } => (event.status == EventStatus::Cancelled
                && event.notify_cancellation)
                .then_some(Message { about: About::Cancelled, kind: NoticeType::Warning, own: None }),
            NoticeSpec::EarlyReminder { offset, starts_at, at, .. } => {
                let current = event.starts_at == *starts_at
                    && crate::rules::plans_reminder(&self.db, event, *offset).await?;
                current.then(|| Message {
                    about: About::Reminder(held::lead(*starts_at, *at)),
                    kind: NoticeType::Info,
                    own: None,
                })
            }
            NoticeSpec::Release { .. } => None,
            NoticeSpec::Announcement { id, .. } => crate::announcements::message_for(&self.db, event, *id)
                .await?
                .map(|own| Message { about: About::Message, kind: NoticeType::Info, own: Some(own) }),
            NoticeSpec::FollowUp { ends_at } => crate::rules::follow_up_current(event, *ends_at)
                .then_some(Message { about: About::FollowUp, kind: NoticeType::Info, own: None }),
        })
    }
}

/// The ledger's status for an activity's [`Status`].
fn ledger_status(status: Status) -> DeliveryStatus {
    match status {
        Status::Pending => DeliveryStatus::Pending,
        Status::Sent => DeliveryStatus::Sent,
        Status::Partial => DeliveryStatus::Partial,
        Status::Failed => DeliveryStatus::Failed,
        Status::Expired => DeliveryStatus::Expired,
        Status::Skipped => DeliveryStatus::Skipped,
        Status::Uncertain => DeliveryStatus::Uncertain,
    }
}

fn done_status(status: DeliveryStatus) -> Option<Status> {
    match status {
        DeliveryStatus::Pending => None,
        DeliveryStatus::Sent => Some(Status::Sent),
        DeliveryStatus::Partial => Some(Status::Partial),
        DeliveryStatus::Failed => Some(Status::Failed),
        DeliveryStatus::Expired => Some(Status::Expired),
        DeliveryStatus::Skipped => Some(Status::Skipped),
        DeliveryStatus::Uncertain => Some(Status::Uncertain),
    }
}

/// Who sends an invitation: the organization, by the mail URL's sender (`fallback` when it names
/// none).
#[derive(Clone, Copy)]
struct Organizer<'a> {
    name: &'a str,
    fallback: &'a str,
}

/// The calendar update mailed with a change or a cancellation to someone going (or maybe
/// going), so the entry their calendar took from the confirmation follows the event: a change
/// is a METHOD:REQUEST with the event's new revision as SEQUENCE, a cancellation a
/// METHOD:CANCEL. Nothing for reminders or for people who have not said they go.
fn calendar_update(
    event: &Event,
    notice: &NoticeSpec,
    recipient: &Recipient,
    link: Option<&str>,
    organizer: Organizer<'_>,
    urls: &[TaggedUrl],
) -> Option<Attachment> {
    use crate::calendar::Method;
    let method = match notice {
        NoticeSpec::Reminder { .. }
        | NoticeSpec::EarlyReminder { .. }
        | NoticeSpec::Release { .. }
        | NoticeSpec::Announcement { .. }
        | NoticeSpec::FollowUp { .. } => return None,
        NoticeSpec::Changes { .. } => Method::Request,
        NoticeSpec::Cancelled { .. } => Method::Cancel,
    };
    calendar_file(event, method, recipient, link, organizer, urls)
}

/// The calendar file of `event` as it is now, sent with `method` to `recipient` when they go
/// (or maybe go) through the mail `urls`: for [`calendar_update`], and for a held change
/// notice when it is released (the event as it is then, so the calendar takes the latest).
fn calendar_file(
    event: &Event,
    method: crate::calendar::Method,
    recipient: &Recipient,
    link: Option<&str>,
    organizer: Organizer<'_>,
    urls: &[TaggedUrl],
) -> Option<Attachment> {
    use crate::calendar::Person;
    if !matches!(recipient.rsvp, Rsvp::Going | Rsvp::Maybe) {
        return None;
    }
    let sender =
        urls.first().and_then(|u| mail_sender(&u.url)).unwrap_or_else(|| organizer.fallback.to_owned());
    Some(invitation_file(crate::calendar::invitation(
        event,
        link.unwrap_or_default(),
        method,
        Person { name: organizer.name, email: &sender },
        Person { name: &recipient.display_name, email: &recipient.email },
        recipient.rsvp == Rsvp::Maybe,
    )))
}

/// An invitation as the file attached to a mail: `invite.ics`, `text/calendar`. The method is in
/// the file (METHOD:); Apprise refuses a media type with parameters (`method=REQUEST`), and
/// sends the file as an attachment, not as an inline calendar part (APPRISE.md): calendar
/// clients that do not look inside attachments show it as a file to open.
pub fn invitation_file(content: String) -> Attachment {
    Attachment { name: "invite.ics".to_owned(), mime: "text/calendar".to_owned(), content }
}

/// The sender of a mail URL (`from=`), which a calendar invitation names as its organizer.
pub fn mail_sender(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let from = url.query_pairs().find(|(k, _)| k == "from").map(|(_, v)| v.into_owned())?;
    // `from` may be "Name <address>".
    let address = match (from.find('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim().to_owned(),
        _ => from.trim().to_owned(),
    };
    address.contains('@').then_some(address)
}

/// The tags that pick the channel's URLs: those chosen for the event (or the user's defaults
/// when they chose nothing for it); a change or cancellation also reaches the user's "urgent"
/// tags (a reminder or an announcement does not). No tags at all means every URL (`all`).
fn tag_for(channel: &RecipientChannel, recipient: &Recipient, kind: NoticeKind) -> String {
    let mut tags: Vec<String> =
        if channel.chosen { channel.tags.0.clone() } else { recipient.reminder_tags.0.clone() };
    if tags.is_empty() {
        return "all".to_owned();
    }
    if matches!(kind, NoticeKind::Updated | NoticeKind::Cancelled) {
        for t in &recipient.urgent_tags.0 {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
    }
    tags.join(",")
}

/// The revision at which the event was first published (`None`: never).
fn published_revision(updates: &[EventUpdate]) -> Option<i64> {
    updates.iter().filter(|u| u.kind == UpdateKind::Published).map(|u| u.revision).min()
}

/// When the start or the reminders were last set: publication, or an edit of either.
fn schedule_set_at(updates: &[EventUpdate]) -> Option<DateTime<Utc>> {
    updates
        .iter()
        .filter(|u| match u.kind {
            UpdateKind::Published => true,
            UpdateKind::Updated => u.changes().touches_schedule(),
            _ => false,
        })
        .map(|u| u.created_at)
        .max()
}

struct Message {
    about: About,
    kind: NoticeType,
    /// An announcement's own words and audience (`None`: Herald's wording, to every recipient).
    own: Option<crate::announcements::Own>,
}

/// `body` with Herald's footer: the recipient's own link to answer or stop this event's messages
/// (`opt_out`, absolute) and their notification settings under `base`.
pub fn with_footer(body: &str, opt_out: &str, base: &str) -> String {
    format!(
        "{body}\n\n—\nYour answer, or stop messages about this event: {opt_out}\nYour notification settings: {base}/integrations"
    )
}

/// The newest revision that edited the event, 0 when none did.
fn edited_revision(updates: &[EventUpdate]) -> i64 {
    updates.iter().filter(|u| u.kind == UpdateKind::Updated).map(|u| u.revision).max().unwrap_or(0)
}

/// The edits between two revisions, merged: the oldest "old" and the newest "new" of each.
fn changes_between(updates: &[EventUpdate], after: i64, upto: i64) -> ChangeSet {
    let mut sorted: Vec<&EventUpdate> = updates
        .iter()
        .filter(|u| u.kind == UpdateKind::Updated && u.revision > after && u.revision <= upto)
        .collect();
    sorted.sort_by_key(|u| u.revision);
    sorted.into_iter().fold(ChangeSet::default(), |merged, u| merged.then(u.changes()))
}

/// Whether a change notice has anything to tell participants (visibility, reminder and notice
/// settings are not announced).
fn worth_telling(changes: &ChangeSet) -> bool {
    changes.time.is_some()
        || changes.place.is_some()
        || changes.link.is_some()
        || changes.mentions(Field::Name)
        || changes.mentions(Field::Description)
}

impl Message {
    /// Title and body for `recipient`, in their time zone (and the event's when different), in
    /// the organization's wording (`wording`), or Herald's should that one fail.
    fn render(
        &self,
        event: &Event,
        org: &str,
        wording: &Wording,
        recipient: &Recipient,
        link: Option<&str>,
    ) -> (String, String) {
        if let Some(own) = &self.own {
            return own.text(event, recipient, link);
        }
        let reader = Reader {
            name: &recipient.display_name,
            answer: crate::participants::rsvp_label(recipient.rsvp),
            viewer: recipient.viewer(),
        };
        let ctx = crate::wording::context(event, org, reader, link, &self.about);
        match crate::wording::render(wording, &ctx) {
            Ok(rendered) => rendered,
            Err(e) => {
                tracing::warn!(event_id = %event.id, field = e.field, error = %e.message, "an organization's wording failed; Herald's own is sent");
                crate::wording::render(&default_wording(self.about.kind()), &ctx)
                    .unwrap_or_else(|_| (event.name.clone(), ctx_fallback(event)))
            }
        }
    }
}

/// The last resort of a message whose wording cannot be rendered at all.
/// The plan of `event` as its workflow reads it: what to send when, from the database.
pub async fn plan(db: &Db, event: &Event) -> anyhow::Result<EventPlan> {
    let event_id = event.id;
    let updates = db.event_updates(event_id).await?;
    let planned = crate::rules::planned_offsets(db, event).await?;
    let status = match event.status {
        EventStatus::Draft => herald_workflows::EventStatus::Draft,
        EventStatus::Published => herald_workflows::EventStatus::Published,
        EventStatus::Cancelled => herald_workflows::EventStatus::Cancelled,
    };
    Ok(EventPlan {
        event_id,
        revision: event.revision,
        status,
        starts_at: event.starts_at,
        ends_at: event.ends_at,
        reminder_offsets: planned.clone(),
        notices: NoticeSwitches {
            reminders: event.notify_reminders,
            changes: event.notify_changes,
            cancellation: event.notify_cancellation,
        },
        published_revision: published_revision(&updates),
        schedule_set_at: schedule_set_at(&updates),
        timed: {
            let mut timed = held::timed(db, event, schedule_set_at(&updates), &planned).await?;
            timed.extend(crate::announcements::timed(db, event).await?);
            timed.extend(crate::rules::timed(event));
            timed
        },
        edited_revision: Some(edited_revision(&updates)),
    })
}

fn ctx_fallback(event: &Event) -> String {
    format!("{}: {}", event.name, event.starts_at.to_rfc3339())
}

impl Deliverer {
    /// Writes outcomes and claims in one transaction; outcomes of digests (no ledger row) are
    /// recorded as such. Returns the claims granted.
    async fn claim_and_record_all(
        &self,
        token: Uuid,
        claims: &[Uuid],
        outcomes: &[Recorded],
    ) -> anyhow::Result<Vec<Uuid>> {
        let rows: Vec<DeliveryOutcome<'_>> = outcomes
            .iter()
            .map(|o| DeliveryOutcome {
                id: o.ledger_id,
                status: ledger_status(o.status),
                apprise_status: o.apprise_status,
                apprise_answer: o.answer.as_deref(),
            })
            .collect();
        let done = self.db.claim_and_record(token, claims, &rows).await?;
        // Not notices: digests gathering several.
        for row in rows.iter().filter(|r| done.missing.contains(&r.id)) {
            if !self.db.record_digest(row.id, row.status, row.apprise_status, row.apprise_answer).await? {
                return Err(DbError::NotFound.into());
            }
        }
        Ok(done.granted)
    }
}

impl herald_workflows::PlanStore for Deliverer {
    fn load_plan(&self, event_id: Uuid) -> BoxFuture<'_, anyhow::Result<Option<EventPlan>>> {
        Box::pin(self.plan(event_id))
    }
}

impl herald_workflows::Deliveries for Deliverer {
    fn plan_batch<'a>(&'a self, request: &'a DeliverRequest) -> BoxFuture<'a, anyhow::Result<Batch>> {
        Box::pin(self.batch(request))
    }

    fn record<'a>(
        &'a self,
        ledger_id: Uuid,
        status: Status,
        apprise_status: Option<i64>,
        answer: Option<&'a str>,
    ) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let status = ledger_status(status);
            match self.db.record_delivery(ledger_id, status, apprise_status, answer).await {
                // Not a notice: a digest gathering several.
                Err(DbError::NotFound)
                    if self.db.record_digest(ledger_id, status, apprise_status, answer).await? => {}
                other => {
                    other?;
                }
            }
            Ok(())
        })
    }

    fn record_many<'a>(&'a self, outcomes: &'a [Recorded]) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            self.claim_and_record_all(Uuid::nil(), &[], outcomes).await?;
            Ok(())
        })
    }

    fn claim_and_record<'a>(
        &'a self,
        token: Uuid,
        claims: &'a [Uuid],
        outcomes: &'a [Recorded],
    ) -> BoxFuture<'a, anyhow::Result<Vec<Uuid>>> {
        Box::pin(self.claim_and_record_all(token, claims, outcomes))
    }

    fn config_text(&self, integration_id: Uuid) -> BoxFuture<'_, anyhow::Result<String>> {
        Box::pin(async move {
            let integration = self.db.integration_by_id(integration_id).await?.ok_or(DbError::NotFound)?;
            crate::integrations::open(&self.keys, integration.id, &integration.config_ciphertext)
        })
    }

    fn config_urls(&self, integration_id: Uuid) -> BoxFuture<'_, anyhow::Result<Vec<TaggedUrl>>> {
        Box::pin(async move {
            let integration = self.db.integration_by_id(integration_id).await?.ok_or(DbError::NotFound)?;
            crate::integrations::tagged_urls(&self.keys, &integration)
        })
    }

    fn apprise(&self) -> Option<&AppriseClient> {
        self.apprise.as_ref()
    }
}
