//! The wording of notices. Each organization may rewrite the subject and body of its reminders,
//! change notices and cancellations as templates with variables (`{{ event.name }}`,
//! `{{ participant.name }}`, …; the `minijinja` engine). A template is checked when it is saved —
//! its syntax, every variable it names, and a bounded amount of work — against sample messages
//! of its kind, so a message never fails at send time; should one still fail, Herald's default
//! wording is sent instead. Herald always adds the footer (the person's own link to answer or stop
//! the event's messages, and to their settings): templates cannot drop it.
//!
//! The preview and the delivery build the same [`Context`] with [`context`] and render it with
//! [`render`], so what an organizer previews is what a participant gets.

use std::fmt::Write as _;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;
use uuid::Uuid;

use crate::audit;
use crate::db::models::{Event, NoticeKind};
use crate::domain::changes::{ChangeSet, Field};
use crate::domain::time::Viewer;
use crate::domain::{FieldErrors, ServiceError};
use crate::orgs::OrgAccess;
use crate::services::Services;

/// Longest subject template, in characters.
pub const MAX_SUBJECT: usize = 200;
/// Longest body template, in characters.
pub const MAX_BODY: usize = 5000;
/// The work one rendering may do (minijinja's fuel): far above any sensible message, far below
/// a loop that would stall a delivery.
const FUEL: u64 = 20_000;

/// The kinds of notice whose wording an organization may write, in the order pages show them.
pub const KINDS: [NoticeKind; 4] =
    [NoticeKind::Reminder, NoticeKind::Updated, NoticeKind::Cancelled, NoticeKind::FollowUp];

/// A subject and a body template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wording {
    /// The subject (one line once rendered).
    pub subject: String,
    /// The body.
    pub body: String,
}

/// Herald's own wording of `kind`.
pub fn default_wording(kind: NoticeKind) -> Wording {
    let (subject, body) = match kind {
        NoticeKind::Reminder => (
            "Reminder: {{ event.name }}",
            "{{ event.name }} starts in {{ reminder.starts_in }}.\n\n{{ details }}",
        ),
        NoticeKind::Updated => {
            ("Changed: {{ event.name }}", "{{ event.name }} has changed.\n{{ changes }}\n\n{{ details }}")
        }
        NoticeKind::FollowUp => (
            "Thank you for coming: {{ event.name }}",
            "Thank you for coming to {{ event.name }}, {{ participant.name }}.\n{% if follow_up.link %}\nTell us how it went: {{ follow_up.link }}\n{% endif %}\n{{ org.name }}",
        ),
        NoticeKind::Cancelled | NoticeKind::Message => {
            ("Cancelled: {{ event.name }}", "{{ event.name }} has been cancelled.\n\n{{ details }}")
        }
    };
    Wording { subject: subject.to_owned(), body: body.to_owned() }
}

/// The kind named `raw` (`reminder`, `updated`, `cancelled`, `follow_up`), for pages and the API.
pub fn parse_kind(raw: &str) -> Result<NoticeKind, ServiceError> {
    KINDS.into_iter().find(|k| k.as_str() == raw).ok_or(ServiceError::NotFound)
}

/// The kind in words.
pub fn kind_label(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Reminder => "Reminders",
        NoticeKind::Updated => "Change notices",
        NoticeKind::Cancelled => "Cancellations",
        NoticeKind::Message => "Messages",
        NoticeKind::FollowUp => "Follow-ups",
    }
}

/// The variables a template may use, with what each holds, for the help beside the editor.
pub const VARIABLES: [(&str, &str); 16] = [
    ("event.name", "the event's name"),
    ("event.when", "start and end, in the reader's time zone"),
    ("event.starts_local", "the start, in the reader's time zone"),
    ("event.ends_local", "the end, in the reader's time zone"),
    ("event.timezone", "the event's time zone"),
    ("event.location", "the place (may be empty)"),
    ("event.online_url", "the online link (may be empty)"),
    ("event.url", "the event's public page"),
    ("org.name", "your organization's name"),
    ("participant.name", "the reader's name"),
    ("participant.answer", "their answer: Going, Maybe, …"),
    ("reminder.starts_in", "reminders: how long before the start, \"1 hour\""),
    ("changes", "change notices: what changed, a line each"),
    ("follow_up.link", "follow-ups: the feedback link (may be empty)"),
    ("details", "When, Where, Online and Details lines, as Herald writes them"),
    ("event.description", "the description (Markdown as plain text)"),
];

/// What a notice is about.
#[derive(Debug, Clone)]
pub enum About {
    /// A reminder this many seconds before the start.
    Reminder(i64),
    /// What changed.
    Changed(Box<ChangeSet>),
    /// The event was cancelled.
    Cancelled,
    /// An organizer's announcement (its own words; see [`crate::announcements`]).
    Message,
    /// The thank-you after the event (its feedback link is the event's).
    FollowUp,
}

impl About {
    /// The kind of notice.
    pub fn kind(&self) -> NoticeKind {
        match self {
            Self::Reminder(_) => NoticeKind::Reminder,
            Self::Changed(_) => NoticeKind::Updated,
            Self::Cancelled => NoticeKind::Cancelled,
            Self::Message => NoticeKind::Message,
            Self::FollowUp => NoticeKind::FollowUp,
        }
    }
}

/// The variables of one message to one reader.
#[derive(Debug, Clone, Serialize)]
pub struct Context {
    event: EventVars,
    org: OrgVars,
    participant: PersonVars,
    reminder: ReminderVars,
    follow_up: FollowUpVars,
    changes: String,
    details: String,
}

#[derive(Debug, Clone, Serialize)]
struct FollowUpVars {
    link: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct EventVars {
    name: String,
    when: String,
    starts_local: String,
    ends_local: String,
    timezone: String,
    location: Option<String>,
    online_url: Option<String>,
    url: Option<String>,
    description: String,
}

#[derive(Debug, Clone, Serialize)]
struct OrgVars {
    name: String,
}

#[derive(Debug, Clone, Serialize)]
struct PersonVars {
    name: String,
    answer: String,
}

#[derive(Debug, Clone, Serialize)]
struct ReminderVars {
    starts_in: String,
}

/// The reader of a message.
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// Their name.
    pub name: &'a str,
    /// Their answer, in words.
    pub answer: &'a str,
    /// How they read times.
    pub viewer: Viewer,
}

/// The variables of the message about `about` for `reader`, on `event` of the organization
/// named `org`, whose public page is `link`.
pub fn context(event: &Event, org: &str, reader: Reader<'_>, link: Option<&str>, about: &About) -> Context {
    let viewer = reader.viewer;
    let mut changes = String::new();
    if let About::Changed(c) = about {
        if let Some(t) = &c.time {
            let _ = writeln!(
                changes,
                "Time: {} → {}",
                viewer.span(t.old.starts_at, t.old.ends_at),
                viewer.span(t.new.starts_at, t.new.ends_at)
            );
        }
        if let Some(p) = &c.place {
            let _ = writeln!(changes, "Place: {} → {}", text_of(&p.old), text_of(&p.new));
        }
        if let Some(l) = &c.link {
            let _ = writeln!(changes, "Online link: {} → {}", text_of(&l.old), text_of(&l.new));
        }
        if c.mentions(Field::Name) {
            let _ = writeln!(changes, "The name is now “{}”.", event.name);
        }
        if c.mentions(Field::Description) {
            let _ = writeln!(changes, "The description was updated.");
        }
    }
    let mut details = String::new();
    let _ = writeln!(details, "When: {}", viewer.span(event.starts_at, event.ends_at));
    if viewer.zone != event.timezone {
        let in_event_zone = viewer.in_zone(event.timezone);
        let _ =
            writeln!(details, "      {} (event time)", in_event_zone.span(event.starts_at, event.ends_at));
    }
    if let Some(place) = &event.location {
        let _ = writeln!(details, "Where: {place}");
    }
    if let Some(url) = &event.online_url {
        let _ = writeln!(details, "Online: {url}");
    }
    if let Some(link) = link {
        let _ = writeln!(details, "Details: {link}");
    }
    let starts_in = match about {
        About::Reminder(offset) => crate::events::describe_offset(*offset),
        _ => String::new(),
    };
    Context {
        event: EventVars {
            name: event.name.clone(),
            when: viewer.span(event.starts_at, event.ends_at),
            starts_local: viewer.moment(event.starts_at),
            ends_local: viewer.moment(event.ends_at),
            timezone: event.timezone.to_string(),
            location: event.location.clone(),
            online_url: event.online_url.clone(),
            url: link.map(str::to_owned),
            description: crate::calendar::plain_text(&event.description),
        },
        org: OrgVars { name: org.to_owned() },
        participant: PersonVars { name: reader.name.to_owned(), answer: reader.answer.to_owned() },
        reminder: ReminderVars { starts_in },
        follow_up: FollowUpVars { link: event.follow_up_link.clone() },
        changes: changes.trim_end().to_owned(),
        details: details.trim_end().to_owned(),
    }
}

fn text_of(v: &Option<String>) -> &str {
    v.as_deref().filter(|s| !s.is_empty()).unwrap_or("(none)")
}

/// Why a template cannot be used: which part, and what is wrong, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordingError {
    /// `subject` or `body`.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    // A misspelt variable is an error (at save time), never an empty gap in a message.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env
}

fn render_one(
    env: &Environment<'_>,
    field: &'static str,
    template: &str,
    ctx: &Context,
) -> Result<String, WordingError> {
    let describe = |e: minijinja::Error| {
        let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
        let detail = e.detail().map(str::to_owned).unwrap_or_else(|| e.kind().to_string());
        WordingError { field, message: format!("{detail}{line}") }
    };
    env.render_str(template, ctx).map_err(describe)
}

/// `wording` for `ctx`: the subject on one line, the body without trailing blank lines.
pub fn render(wording: &Wording, ctx: &Context) -> Result<(String, String), WordingError> {
    let env = environment();
    let subject = render_one(&env, "subject", &wording.subject, ctx)?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = render_one(&env, "body", &wording.body, ctx)?.trim_end().to_owned();
    if subject.is_empty() {
        return Err(WordingError { field: "subject", message: "The subject comes out empty.".into() });
    }
    if body.trim().is_empty() {
        return Err(WordingError { field: "body", message: "The message comes out empty.".into() });
    }
    Ok((subject, body))
}

/// Sample messages of `kind`, to check a template against: every variable set, and every
/// optional one both set and empty.
fn samples(kind: NoticeKind) -> Vec<Context> {
    let full = |location: Option<&str>| Context {
        follow_up: FollowUpVars {
            link: location
                .filter(|_| kind == NoticeKind::FollowUp)
                .map(|_| "https://forms.example.org/rust-night".to_owned()),
        },
        event: EventVars {
            name: "Rust night".into(),
            when: "Tue 1 June 2027, 18:00–20:00 CEST".into(),
            starts_local: "Tue 1 June 2027, 18:00 CEST".into(),
            ends_local: "Tue 1 June 2027, 20:00 CEST".into(),
            timezone: "Europe/Paris".into(),
            location: location.map(str::to_owned),
            online_url: location.map(|_| "https://meet.example.org/rust".to_owned()),
            url: Some("https://herald.example.org/o/rust-paris/e/rust-night".into()),
            description: "Talks and pizza.".into(),
        },
        org: OrgVars { name: "Rust Paris".into() },
        participant: PersonVars { name: "Ada Lovelace".into(), answer: "Going".into() },
        reminder: ReminderVars {
            starts_in: if kind == NoticeKind::Reminder { "1 hour".into() } else { String::new() },
        },
        changes: if kind == NoticeKind::Updated { "Place: Room 1 → Room 9".into() } else { String::new() },
        details: "When: Tue 1 June 2027, 18:00–20:00 CEST\nWhere: Room 9".into(),
    };
    vec![full(Some("Room 9")), full(None)]
}

/// Checks `wording` for `kind` as it is saved: lengths, then a rendering of every sample.
pub fn check(kind: NoticeKind, wording: &Wording) -> Result<(), FieldErrors> {
    let mut errors = FieldErrors::default();
    if wording.subject.trim().is_empty() {
        errors.add("subject", "Write a subject.");
    } else if wording.subject.chars().count() > MAX_SUBJECT {
        errors.add("subject", format!("Keep the subject under {MAX_SUBJECT} characters."));
    }
    if wording.body.trim().is_empty() {
        errors.add("body", "Write the message.");
    } else if wording.body.chars().count() > MAX_BODY {
        errors.add("body", format!("Keep the message under {MAX_BODY} characters."));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for sample in samples(kind) {
        if let Err(e) = render(wording, &sample) {
            errors.add(e.field, format!("This template cannot be used: {}", e.message));
            return Err(errors);
        }
    }
    Ok(())
}

/// The wording of `kind` that `org_id` uses: its own, or the default.
pub async fn wording_of(
    db: &crate::db::Db,
    org_id: Uuid,
    kind: NoticeKind,
) -> Result<(Wording, bool), crate::db::DbError> {
    Ok(match db.notice_template(org_id, kind).await? {
        Some(t) => (Wording { subject: t.subject, body: t.body }, true),
        None => (default_wording(kind), false),
    })
}

/// One kind's wording as the organization has it.
#[derive(Debug, Clone)]
pub struct KindWording {
    /// The kind.
    pub kind: NoticeKind,
    /// The templates in use.
    pub wording: Wording,
    /// Whether they are the organization's own (not the default).
    pub custom: bool,
}

fn require_editor(access: &OrgAccess) -> Result<(), ServiceError> {
    if crate::events::manages_events(access.role) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden(
            "Only owners, admins and organizers change the wording of messages.".into(),
        ))
    }
}

/// The wording of every kind, for the organization's Messages page and the API.
pub async fn list(svc: &Services, access: &OrgAccess) -> Result<Vec<KindWording>, ServiceError> {
    require_editor(access)?;
    let mine = svc.db.notice_templates(access.org.id).await?;
    Ok(KINDS
        .into_iter()
        .map(|kind| match mine.iter().find(|t| t.kind == kind) {
            Some(t) => KindWording {
                kind,
                wording: Wording { subject: t.subject.clone(), body: t.body.clone() },
                custom: true,
            },
            None => KindWording { kind, wording: default_wording(kind), custom: false },
        })
        .collect())
}

/// Saves the organization's wording of `kind` once it passes [`check`].
pub async fn save(
    svc: &Services,
    access: &OrgAccess,
    kind: NoticeKind,
    wording: Wording,
) -> Result<KindWording, ServiceError> {
    require_editor(access)?;
    check(kind, &wording).map_err(ServiceError::Invalid)?;
    svc.db.save_notice_template(access.org.id, kind, &wording.subject, &wording.body).await?;
    audit::record(&svc.db, access.org.id, Some(access.user_id), "wording.changed", kind_label(kind), None)
        .await;
    Ok(KindWording { kind, wording, custom: true })
}

/// Goes back to Herald's wording of `kind`.
pub async fn reset(
    svc: &Services,
    access: &OrgAccess,
    kind: NoticeKind,
) -> Result<KindWording, ServiceError> {
    require_editor(access)?;
    if svc.db.delete_notice_template(access.org.id, kind).await? {
        audit::record(&svc.db, access.org.id, Some(access.user_id), "wording.reset", kind_label(kind), None)
            .await;
    }
    Ok(KindWording { kind, wording: default_wording(kind), custom: false })
}

/// A message as its reader gets it (before Herald's footer).
#[derive(Debug, Clone)]
pub struct Preview {
    /// The subject.
    pub subject: String,
    /// The body.
    pub body: String,
    /// The event it was shown with (`None`: a sample event).
    pub event: Option<String>,
}

/// `wording` of `kind` rendered for the caller as reader, with the organization's next event
/// (or `event_id`, one of its events), or a sample event when it has none. A template that
/// cannot be used is refused like at save time.
pub async fn preview(
    svc: &Services,
    access: &OrgAccess,
    kind: NoticeKind,
    wording: &Wording,
    event_id: Option<Uuid>,
) -> Result<Preview, ServiceError> {
    require_editor(access)?;
    check(kind, wording).map_err(ServiceError::Invalid)?;
    let reader = svc.db.user_by_id(access.user_id).await?.ok_or(ServiceError::NotFound)?;
    let event = match event_id {
        Some(id) => Some(
            svc.db.event(id).await?.filter(|e| e.org_id == access.org.id).ok_or(ServiceError::NotFound)?,
        ),
        // The next event not over yet, drafts included.
        None => svc
            .db
            .org_events(access.org.id, Some(chrono::Utc::now()), None, None, true, 1)
            .await?
            .into_iter()
            .next(),
    };
    let about = match kind {
        NoticeKind::Reminder => About::Reminder(
            event.as_ref().and_then(|e| e.reminder_offsets.0.first().copied()).unwrap_or(3600),
        ),
        NoticeKind::Updated => About::Changed(Box::new(sample_change(event.as_ref()))),
        NoticeKind::FollowUp => About::FollowUp,
        _ => About::Cancelled,
    };
    let ctx = match &event {
        Some(event) => {
            let link = svc.links.absolute(&format!("/o/{}/e/{}", access.org.slug, event.slug));
            let viewer = reader.viewer();
            context(
                event,
                &access.org.name,
                Reader { name: &reader.display_name, answer: "Going", viewer },
                Some(&link),
                &about,
            )
        }
        None => {
            let mut sample = samples(kind).swap_remove(0);
            sample.org.name = access.org.name.clone();
            sample.participant.name = reader.display_name.clone();
            sample
        }
    };
    let (subject, body) = render(wording, &ctx).map_err(|e| {
        let mut errors = FieldErrors::default();
        errors.add(e.field, format!("This template cannot be used: {}", e.message));
        ServiceError::Invalid(errors)
    })?;
    Ok(Preview { subject, body, event: event.map(|e| e.name) })
}

/// A change to show in a preview: the place, as if it moved.
fn sample_change(event: Option<&Event>) -> ChangeSet {
    let mut changes = ChangeSet::default();
    let old = event.and_then(|e| e.location.clone()).unwrap_or_else(|| "Room 1".to_owned());
    changes.place = Some(crate::domain::changes::Change { old: Some(old), new: Some("Room 9".to_owned()) });
    changes
}

/// A daily digest: the held notices `messages` (as each was rendered when it was due) in one
/// message, each with its title and what it says (its own footer left out), ending with the way
/// to the reader's settings (`settings`, a URL).
pub fn digest(messages: &[crate::db::quiet::HeldMessage], settings: &str) -> (String, String) {
    let n = messages.len();
    let title = if n == 1 {
        "Your Herald digest: 1 notice".to_owned()
    } else {
        format!("Your Herald digest: {n} notices")
    };
    let mut body = String::new();
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            body.push_str("\n\n");
        }
        let text = m.body.split("\n\n—\n").next().unwrap_or(&m.body).trim_end();
        body.push_str(&format!("{}. {}\n{text}", i + 1, m.title));
    }
    body.push_str(&format!(
        "\n\n—\nThese waited for your daily digest. Your digest and quiet hours: {settings}"
    ));
    (title, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_their_own_check() {
        for kind in KINDS {
            assert!(check(kind, &default_wording(kind)).is_ok(), "{kind:?}");
        }
    }

    #[test]
    fn broken_templates_are_refused_with_the_reason() {
        let broken = Wording { subject: "Hi {{ event.name".into(), body: "x".into() };
        let errors =
            check(NoticeKind::Reminder, &broken).err().map(|e| format!("{:?}", e.0)).unwrap_or_default();
        assert!(errors.contains("subject") && errors.contains("cannot be used"), "{errors}");
        let unknown = Wording { subject: "Hi".into(), body: "{{ event.nmae }}".into() };
        let errors =
            check(NoticeKind::Reminder, &unknown).err().map(|e| format!("{:?}", e.0)).unwrap_or_default();
        assert!(errors.contains("body"), "{errors}");
        let endless =
            Wording { subject: "Hi".into(), body: "{% for i in range(100000) %}x{% endfor %}".into() };
        assert!(check(NoticeKind::Reminder, &endless).is_err(), "bounded work");
    }

    #[test]
    fn variables_render() {
        let w = Wording {
            subject: "{{ org.name }}:\n{{ event.name }}".into(),
            body: "Hi {{ participant.name }}{% if event.location %}, see you at {{ event.location }}{% endif %}.".into(),
        };
        let ctx = samples(NoticeKind::Reminder).swap_remove(0);
        assert_eq!(
            render(&w, &ctx),
            Ok(("Rust Paris: Rust night".to_owned(), "Hi Ada Lovelace, see you at Room 9.".to_owned()))
        );
    }
}
