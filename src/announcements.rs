//! Announcements: an organizer writes to some of an event's participants — a subject and a
//! Markdown body, to those with some answers (going, maybe, not answered yet; never those who
//! can't go) and roles — now or at a set time before the event ends.
//!
//! Saving one commits it with the event's revision bump (an `event_updates` row of kind
//! `message`) and its outbox row; the event's workflow then reads it as the timed notice
//! `message:{id}` ([`timed`]) and delivers it at its time through the same `deliver` activity,
//! ledger (kind `message`), batches, retries and exactly-once keys as reminders. Recipients are
//! resolved when it goes ([`message_for`]): those who stopped the event's messages are skipped,
//! those without a channel are recorded as skipped, and every message ends with Herald's footer.
//!
//! Why not after the end of the event: an announcement is about the event, and the event's
//! workflow finishes with it; a thank-you after the event is the follow-up's job.
//!
//! The preview renders with the same functions as the delivery ([`Own::text`], [`Own::html`],
//! [`crate::delivery::with_footer`]), so it reads as the recipient will read it — except the
//! recipient's own link to stop messages, which is theirs alone and shown as [`THEIR_LINK`].

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use herald_workflows::{NoticeSpec, TimedNotice};
use uuid::Uuid;

use crate::audit;
use crate::db::announcements::{Announcement, Audience, NewAnnouncement};
use crate::db::delivery::Recipient;
use crate::db::models::{Event, EventStatus, ParticipantRole, Rsvp};
use crate::db::{Db, DbError};
use crate::domain::{FieldErrors, ServiceError};
use crate::events::SyncState;
use crate::orgs::OrgAccess;
use crate::services::Services;

/// Longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY: usize = 10_000;
/// How long after its time an announcement may still be delivered (retries while the Apprise
/// API is away); past that it is recorded as expired.
pub const LATE_BY: Duration = Duration::hours(12);
/// The answers an announcement may go to, in the order pages show them.
pub const ANSWERS: [Rsvp; 3] = [Rsvp::Going, Rsvp::Maybe, Rsvp::Pending];
/// The roles an announcement may go to, in the order pages show them.
pub const ROLES: [ParticipantRole; 4] = [
    ParticipantRole::Speaker,
    ParticipantRole::Volunteer,
    ParticipantRole::Attendee,
    ParticipantRole::Organizer,
];
/// Stands in the preview for the recipient's own link to stop the event's messages.
pub const THEIR_LINK: &str = "[their own link]";

/// An announcement as written, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub subject: String,
    pub body: String,
    pub answers: Vec<Rsvp>,
    pub roles: Vec<ParticipantRole>,
    /// `None`: now.
    pub send_at: Option<DateTime<Utc>>,
}

/// An announcement as the form or the API gave it.
#[derive(Debug, Clone, Default)]
pub struct RawDraft {
    pub subject: String,
    pub body: String,
    pub answers: Vec<String>,
    pub roles: Vec<String>,
    pub send_at: Option<DateTime<Utc>>,
}

/// Checks a draft for `event`, at `now`; each problem names its field and what to do.
pub fn validate(raw: &RawDraft, event: &Event, now: DateTime<Utc>) -> Result<Draft, FieldErrors> {
    let mut errors = FieldErrors::default();
    let subject = raw.subject.trim().to_owned();
    if subject.is_empty() {
        errors.add("subject", "Write a subject.");
    } else if subject.chars().count() > MAX_SUBJECT {
        errors.add("subject", format!("Keep the subject to {MAX_SUBJECT} characters."));
    } else if subject.contains(['\n', '\r']) {
        errors.add("subject", "Keep the subject on one line.");
    }
    let body = raw.body.trim().to_owned();
    if body.is_empty() {
        errors.add("body", "Write the message.");
    } else if body.chars().count() > MAX_BODY {
        errors.add("body", format!("Keep the message to {MAX_BODY} characters."));
    }
    let mut answers = Vec::new();
    for a in &raw.answers {
        match a.trim() {
            "declined" => errors.add("answers", "People who can't go are never written to; leave them out."),
            other => match ANSWERS.iter().find(|r| r.as_str() == other) {
                Some(r) if !answers.contains(r) => answers.push(*r),
                Some(_) => {}
                None => {
                    errors.add("answers", format!("Unknown answer “{other}”: use going, maybe or pending."))
                }
            },
        }
    }
    if raw.answers.is_empty() {
        errors.add("answers", "Choose at least one answer: going, maybe or not answered yet.");
    }
    let mut roles = Vec::new();
    for r in &raw.roles {
        match ROLES.iter().find(|x| x.as_str() == r.trim()) {
            Some(x) if !roles.contains(x) => roles.push(*x),
            Some(_) => {}
            None => errors.add(
                "roles",
                format!("Unknown role “{}”: use speaker, volunteer, attendee or organizer.", r.trim()),
            ),
        }
    }
    if raw.roles.is_empty() {
        errors.add("roles", "Choose at least one role.");
    }
    if let Some(at) = raw.send_at {
        if at <= now {
            errors.add("send_at", "This time has passed: choose a later one, or send it now.");
        } else if at > event.ends_at {
            errors.add(
                "send_at",
                "Choose a time before the event ends: its messages stop with it (a thank-you afterwards is the follow-up's job).",
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Draft { subject, body, answers, roles, send_at: raw.send_at })
}

/// Whether the event may be written to now; the reason when not.
fn check_open(event: &Event, now: DateTime<Utc>) -> Result<(), ServiceError> {
    match event.status {
        EventStatus::Draft => {
            Err(ServiceError::Conflict("Publish the event first: nobody is written to about a draft.".into()))
        }
        EventStatus::Cancelled => {
            Err(ServiceError::Conflict("This event is cancelled: nothing more is sent about it.".into()))
        }
        EventStatus::Published if event.ends_at <= now => {
            Err(ServiceError::Conflict("This event is over: nothing more is sent about it.".into()))
        }
        // Its workflow finishes at the end: a message written in the last moments might reach
        // it too late and never go out.
        EventStatus::Published if event.ends_at - now < crate::events::BEFORE_THE_END => {
            Err(ServiceError::Conflict(
                "This event ends in less than a minute: a message written now might not go out before \
                 its messages stop. Write to participants before the last minute."
                    .into(),
            ))
        }
        EventStatus::Published => Ok(()),
    }
}

fn require_manager(access: &OrgAccess) -> Result<(), ServiceError> {
    if crate::events::manages_events(access.role) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("Only owners, admins and organizers write to participants.".into()))
    }
}

/// Where an announcement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Its time has not come.
    Scheduled,
    /// Its time has come: it went (or is going) out.
    Sent,
    /// Cancelled before it went.
    Cancelled,
}

impl State {
    /// As the API names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Ledger outcomes of one announcement, counted (one per person and channel).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcomes {
    pub pending: u64,
    pub sent: u64,
    pub partial: u64,
    pub failed: u64,
    pub expired: u64,
    pub skipped: u64,
}

/// An announcement with where it stands and its outcomes so far.
#[derive(Debug, Clone)]
pub struct Listed {
    pub announcement: Announcement,
    pub state: State,
    pub outcomes: Outcomes,
}

fn state_of(a: &Announcement, now: DateTime<Utc>) -> State {
    if a.cancelled_at.is_some() {
        State::Cancelled
    } else if a.send_at > now {
        State::Scheduled
    } else {
        State::Sent
    }
}

/// The ledger's notice key of announcement `id` (the `message:{id}` of the idempotency keys).
pub fn notice_key(id: Uuid) -> String {
    NoticeSpec::Announcement { id, due_at: DateTime::<Utc>::UNIX_EPOCH }.key()
}

async fn outcomes(db: &Db, event_id: Uuid) -> Result<BTreeMap<String, Outcomes>, DbError> {
    let mut out: BTreeMap<String, Outcomes> = BTreeMap::new();
    for (key, status) in db.message_outcomes(event_id).await? {
        // `{event}:message:{id}:{participant}:{channel}`
        let mut parts = key.split(':');
        let (Some(_), Some("message"), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let o = out.entry(id.to_owned()).or_default();
        match status.as_str() {
            "pending" => o.pending += 1,
            "sent" => o.sent += 1,
            "partial" => o.partial += 1,
            "failed" => o.failed += 1,
            "expired" => o.expired += 1,
            _ => o.skipped += 1,
        }
    }
    Ok(out)
}

/// The event's announcements, latest first, with their outcomes (those who manage events).
pub async fn list(svc: &Services, access: &OrgAccess, event: &Event) -> Result<Vec<Listed>, ServiceError> {
    require_manager(access)?;
    let now = Utc::now();
    let counts = outcomes(&svc.db, event.id).await?;
    Ok(svc
        .db
        .announcements_of(event.id)
        .await?
        .into_iter()
        .map(|a| Listed {
            state: state_of(&a, now),
            outcomes: counts.get(&a.id.to_string()).copied().unwrap_or_default(),
            announcement: a,
        })
        .collect())
}

/// One of the event's announcements.
pub async fn get(
    svc: &Services,
    access: &OrgAccess,
    event: &Event,
    id: Uuid,
) -> Result<Listed, ServiceError> {
    require_manager(access)?;
    let a =
        svc.db.announcement(id).await?.filter(|a| a.event_id == event.id).ok_or(ServiceError::NotFound)?;
    let counts = outcomes(&svc.db, event.id).await?;
    Ok(Listed {
        state: state_of(&a, Utc::now()),
        outcomes: counts.get(&a.id.to_string()).copied().unwrap_or_default(),
        announcement: a,
    })
}

/// Saves an announcement for the event (then tells its workflow).
pub async fn create(
    svc: &Services,
    access: &OrgAccess,
    event: &Event,
    raw: &RawDraft,
) -> Result<(Listed, SyncState), ServiceError> {
    require_manager(access)?;
    let now = Utc::now();
    check_open(event, now)?;
    let draft = validate(raw, event, now).map_err(ServiceError::Invalid)?;
    let (a, saved, update) = svc
        .db
        .create_announcement(&NewAnnouncement {
            event_id: event.id,
            author_id: access.user_id,
            subject: &draft.subject,
            body: &draft.body,
            answers: &draft.answers,
            roles: &draft.roles,
            send_at: draft.send_at.unwrap_or(now),
        })
        .await?;
    let action = if draft.send_at.is_some() { "announcement.scheduled" } else { "announcement.sent" };
    audit::record(&svc.db, access.org.id, Some(access.user_id), action, &saved.name, Some(&a.subject)).await;
    let synced = crate::events::sync(svc, &saved, Some(&update)).await;
    let state = state_of(&a, Utc::now());
    Ok((Listed { announcement: a, state, outcomes: Outcomes::default() }, synced))
}

/// Cancels a scheduled announcement before it goes (then tells the workflow); refused once its
/// time has come.
pub async fn cancel(
    svc: &Services,
    access: &OrgAccess,
    event: &Event,
    id: Uuid,
) -> Result<Listed, ServiceError> {
    let found = get(svc, access, event, id).await?;
    match found.state {
        State::Cancelled => {
            return Err(ServiceError::Conflict("This announcement is cancelled already.".into()));
        }
        State::Sent => {
            return Err(ServiceError::Conflict(
                "This announcement has gone out: it cannot be cancelled.".into(),
            ));
        }
        State::Scheduled => {}
    }
    let Some((a, saved, update)) = svc.db.cancel_announcement(id, access.user_id, Utc::now()).await? else {
        return Err(ServiceError::Conflict("This announcement has gone out: it cannot be cancelled.".into()));
    };
    audit::record(
        &svc.db,
        access.org.id,
        Some(access.user_id),
        "announcement.cancelled",
        &saved.name,
        Some(&a.subject),
    )
    .await;
    crate::events::sync(svc, &saved, Some(&update)).await;
    Ok(Listed { announcement: a, state: State::Cancelled, outcomes: found.outcomes })
}

// --- Delivery ---

/// The event's announcements as timed notices of its plan (cancelled ones left out; the
/// workflow skips those it has sent).
pub async fn timed(db: &Db, event: &Event) -> Result<Vec<TimedNotice>, DbError> {
    Ok(db
        .announcements_of(event.id)
        .await?
        .into_iter()
        .filter(|a| a.cancelled_at.is_none())
        .map(|a| TimedNotice {
            notice: NoticeSpec::Announcement { id: a.id, due_at: a.send_at },
            due_at: a.send_at,
        })
        .collect())
}

/// What announcement `id` says and to whom, when it goes: `None` when there is nothing to send
/// any more (cancelled, deleted, or the event is no longer published).
pub async fn message_for(db: &Db, event: &Event, id: Uuid) -> Result<Option<Own>, DbError> {
    if event.status != EventStatus::Published {
        return Ok(None);
    }
    Ok(db
        .announcement(id)
        .await?
        .filter(|a| a.event_id == event.id && a.cancelled_at.is_none())
        .map(|a| Own::of(&a)))
}

/// The latest an announcement due at `due_at` may still go.
pub fn deadline(due_at: DateTime<Utc>) -> DateTime<Utc> {
    due_at + LATE_BY
}

/// An announcement's own words and audience.
#[derive(Debug, Clone)]
pub struct Own {
    pub subject: String,
    /// Markdown.
    pub body: String,
    pub audience: Audience,
}

impl Own {
    fn of(a: &Announcement) -> Self {
        Self {
            subject: a.subject.clone(),
            body: a.body.clone(),
            audience: Audience::of(&a.answers.0, &a.roles.0),
        }
    }

    /// The subject and the plain-text body (before Herald's footer): the message as plain text,
    /// then which event it is about, when (in the reader's time zone) and its page.
    pub fn text(&self, event: &Event, recipient: &Recipient, link: Option<&str>) -> (String, String) {
        let viewer = recipient.viewer();
        let mut body = crate::calendar::plain_text(&self.body).trim_end().to_owned();
        body.push_str(&format!("\n\nAbout {}: {}", event.name, viewer.span(event.starts_at, event.ends_at)));
        if let Some(link) = link {
            body.push_str(&format!("\nDetails: {link}"));
        }
        (self.subject.clone(), body)
    }

    /// The HTML body for mail, footer included (`opt_out`: the recipient's absolute link to
    /// answer or stop the event's messages; `settings`: their notification settings).
    pub fn html(
        &self,
        event: &Event,
        recipient: &Recipient,
        link: Option<&str>,
        opt_out: &str,
        settings: &str,
    ) -> String {
        let viewer = recipient.viewer();
        let when = viewer.span(event.starts_at, event.ends_at);
        let message = crate::events::render_markdown(&self.body);
        maud::html! {
            (maud::PreEscaped(message))
            p {
                "About "
                @if let Some(link) = link { a href=(link) { (event.name) } } @else { (event.name) }
                ": " (when)
            }
            hr;
            p {
                "Your answer, or stop messages about this event: " a href=(opt_out) { (opt_out) }
                br;
                "Your notification settings: " a href=(settings) { (settings) }
            }
        }
        .into_string()
    }
}

// --- Preview ---

/// Who a preview is shown for.
#[derive(Debug, Clone)]
pub struct Reader {
    pub participant_id: Uuid,
    pub name: String,
    pub answer: Rsvp,
}

/// How many of the chosen people a message reaches, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reach {
    /// People with the chosen answers and roles.
    pub people: usize,
    /// People per kind of channel (a person with two kinds counts in both), most first.
    pub by_kind: Vec<(String, usize)>,
    /// People without any confirmed channel (recorded as skipped).
    pub no_channel: usize,
    /// People who stopped this event's messages (skipped).
    pub opted_out: usize,
}

impl Reach {
    /// In words: "12 by email, 3 by Slack, 2 with no channel".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = self.by_kind.iter().map(|(k, n)| format!("{n} by {k}")).collect();
        if self.no_channel > 0 {
            parts.push(format!("{} with no channel", self.no_channel));
        }
        if self.opted_out > 0 {
            parts.push(format!("{} who stopped this event's messages", self.opted_out));
        }
        if parts.is_empty() {
            return "Nobody matches these choices.".to_owned();
        }
        let people = if self.people == 1 { "1 person".to_owned() } else { format!("{} people", self.people) };
        format!("{people}: {}", parts.join(", "))
    }
}

/// A draft as a named recipient will get it, and how many it reaches.
#[derive(Debug, Clone)]
pub struct Preview {
    /// `None`: nobody matches.
    pub reader: Option<Reader>,
    /// Up to 200 people who match, for choosing whom to preview for.
    pub readers: Vec<(Uuid, String)>,
    pub subject: String,
    /// The text as a chat or push channel shows it, Herald's footer included.
    pub text: String,
    /// The mail's HTML, when the reader has the email channel.
    pub html: Option<String>,
    pub reach: Reach,
}

/// The most people a preview counts.
const PREVIEW_LIMIT: i64 = 20_000;

/// How a channel's kind is named from its URLs' schemes.
fn kind_of_scheme(scheme: &str) -> String {
    match scheme {
        "mailto" | "mailtos" => "email".to_owned(),
        "ntfy" | "ntfys" => "ntfy".to_owned(),
        "tgram" => "Telegram".to_owned(),
        "discord" => "Discord".to_owned(),
        "slack" => "Slack".to_owned(),
        "gotify" | "gotifys" => "Gotify".to_owned(),
        "json" | "jsons" => "webhook".to_owned(),
        "twilio" => "SMS".to_owned(),
        other => other.to_owned(),
    }
}

/// `raw` rendered for participant `reader` (default: the first who matches) with the number of
/// people it reaches per kind of channel. The draft is checked as at save time, except its time.
pub async fn preview(
    svc: &Services,
    access: &OrgAccess,
    event: &Event,
    raw: &RawDraft,
    reader: Option<Uuid>,
) -> Result<Preview, ServiceError> {
    require_manager(access)?;
    let timeless = RawDraft { send_at: None, ..raw.clone() };
    let draft = validate(&timeless, event, Utc::now()).map_err(ServiceError::Invalid)?;
    let own = Own {
        subject: draft.subject,
        body: draft.body,
        audience: Audience::of(&draft.answers, &draft.roles),
    };
    let people = svc.db.audience(event.id, own.audience, Uuid::nil(), PREVIEW_LIMIT).await?;
    let mut reach = Reach { people: people.len(), ..Reach::default() };
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut email_of: BTreeMap<Uuid, bool> = BTreeMap::new();
    if let Some(last) = people.last().map(|p| p.participant_id) {
        let mut by_person: BTreeMap<Uuid, Vec<crate::db::delivery::RecipientChannel>> = BTreeMap::new();
        for c in svc.db.recipient_channels(event.id, Uuid::nil(), last).await? {
            by_person.entry(c.participant_id).or_default().push(c);
        }
        let mut kind_cache: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
        for p in &people {
            if p.opted_out_at.is_some() {
                reach.opted_out += 1;
                continue;
            }
            let channels = by_person.remove(&p.participant_id).unwrap_or_default();
            if channels.is_empty() {
                reach.no_channel += 1;
                continue;
            }
            email_of.insert(p.participant_id, channels.iter().any(|c| c.is_email()));
            let mut mine: Vec<String> = Vec::new();
            for c in &channels {
                let names = match kind_cache.get(&c.integration_id) {
                    Some(k) => k.clone(),
                    None => {
                        let names = channel_kinds(svc, c).await?;
                        kind_cache.insert(c.integration_id, names.clone());
                        names
                    }
                };
                mine.extend(names);
            }
            mine.sort();
            mine.dedup();
            for k in mine {
                *kinds.entry(k).or_default() += 1;
            }
        }
    }
    let mut by_kind: Vec<(String, usize)> = kinds.into_iter().collect();
    by_kind.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    reach.by_kind = by_kind;
    let chosen = match reader {
        Some(id) => Some(people.iter().find(|p| p.participant_id == id).ok_or_else(|| {
            ServiceError::Invalid(FieldErrors::one(
                "recipient",
                "Choose someone among the people it goes to.",
            ))
        })?),
        None => people.first(),
    };
    let readers = people.iter().take(200).map(|p| (p.participant_id, p.display_name.clone())).collect();
    let link = svc.links.absolute(&format!("/o/{}/e/{}", access.org.slug, event.slug));
    let base = svc.links.absolute("");
    let Some(p) = chosen else {
        return Ok(Preview {
            reader: None,
            readers,
            subject: own.subject.clone(),
            text: String::new(),
            html: None,
            reach,
        });
    };
    let (subject, text) = own.text(event, p, Some(&link));
    let text = crate::delivery::with_footer(&text, THEIR_LINK, &base);
    let html = email_of
        .get(&p.participant_id)
        .copied()
        .unwrap_or(false)
        .then(|| own.html(event, p, Some(&link), THEIR_LINK, &format!("{base}/integrations")));
    Ok(Preview {
        reader: Some(Reader {
            participant_id: p.participant_id,
            name: p.display_name.clone(),
            answer: p.rsvp,
        }),
        readers,
        subject,
        text,
        html,
        reach,
    })
}

/// The kinds of a channel, from its URLs' schemes (the built-in email channel is email).
async fn channel_kinds(
    svc: &Services,
    c: &crate::db::delivery::RecipientChannel,
) -> Result<Vec<String>, ServiceError> {
    if c.is_email() {
        return Ok(vec!["email".to_owned()]);
    }
    let Some(integration) = svc.db.integration_by_id(c.integration_id).await? else {
        return Ok(Vec::new());
    };
    let mut kinds: Vec<String> = crate::integrations::entries_of(&svc.keys, &integration)
        .map_err(ServiceError::Internal)?
        .iter()
        .filter_map(|e| e.url.split_once("://").map(|(s, _)| kind_of_scheme(&s.to_ascii_lowercase())))
        .collect();
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reach_reads_plainly() {
        let r = Reach {
            people: 17,
            by_kind: vec![("email".into(), 12), ("Slack".into(), 3)],
            no_channel: 2,
            opted_out: 0,
        };
        assert_eq!(r.describe(), "17 people: 12 by email, 3 by Slack, 2 with no channel");
        assert_eq!(Reach::default().describe(), "Nobody matches these choices.");
    }

    #[test]
    fn the_notice_key_names_the_announcement() {
        let id = Uuid::nil();
        assert_eq!(notice_key(id), format!("message:{id}"));
    }
}
