//! Rules per audience: reminder schedules per role, the follow-up after an event, and each
//! participant's choice among the reminders offered to them.
//!
//! An event's `reminder_offsets` are every role's reminders unless the role has its own
//! (`role_reminders`). The workflow plans the union of all of them, so neither a participant's
//! new role nor their choice needs a new plan: each reminder's batch keeps only the recipients
//! whose reminders, narrowed by their choice, include it ([`receives`]), decided when it is sent.
//! A participant chooses among the reminders offered to their role (none chosen: all of them);
//! a user's default applies to events where they chose nothing, as far as it matches what is
//! offered.
//!
//! The follow-up is a thank-you sent a set time after the end of the event to the people who
//! said they were going (not to those who said maybe: nobody knows whether they came, and a
//! thank-you for coming is wrong for someone who did not), with an optional feedback link.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use herald_workflows::{NoticeSpec, TimedNotice};
use uuid::Uuid;

use crate::audit;
use crate::db::Db;
use crate::db::DbError;
use crate::db::delivery::Recipient;
use crate::db::models::{Event, EventStatus, ParticipantRole, Rsvp};
use crate::db::rules::{EventDefaults, EventRules, OwnTimesRow};
use crate::domain::{FieldErrors, ServiceError};
use crate::events::{check_offsets, describe_offset};
use crate::orgs::OrgAccess;
use crate::participants::EventView;
use crate::services::Services;

/// The roles that may have reminders of their own, in the order pages show them.
pub const ROLES: [ParticipantRole; 4] = [
    ParticipantRole::Speaker,
    ParticipantRole::Volunteer,
    ParticipantRole::Attendee,
    ParticipantRole::Organizer,
];

/// Reminders by role name (seconds before the start).
pub type RoleReminders = BTreeMap<String, Vec<i64>>;
/// Problems found, as (where, what to fix).
pub type Problems<F> = Vec<(F, String)>;
/// A follow-up: its delay after the end and its link.
pub type FollowUp = (Option<i64>, Option<String>);

/// The latest follow-up: 30 days after the end.
pub const MAX_FOLLOW_UP: i64 = 30 * 86_400;
/// Longest feedback link.
const MAX_LINK: usize = 2000;
/// How long after its due time a follow-up may still go out (a worker or the scheduler away
/// longer than that: it is recorded as expired rather than sent days late).
const FOLLOW_UP_GRACE: i64 = 2 * 86_400;

/// A role's people, for schedules in words ("Speakers").
pub fn role_plural(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::Speaker => "Speakers",
        ParticipantRole::Volunteer => "Volunteers",
        ParticipantRole::Attendee => "Attendees",
        ParticipantRole::Organizer => "Organizers",
    }
}

// --- Who gets what ---

/// The reminders offered to `role` on `event` (seconds before the start, earliest first).
pub fn offered(event: &Event, role: ParticipantRole) -> &[i64] {
    event.role_reminders.0.get(role.as_str()).map_or(event.reminder_offsets.0.as_slice(), Vec::as_slice)
}

/// Every reminder of `event`, whoever it is for: what the workflow plans (earliest first).
pub fn all_offsets(event: &Event) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::new();
    for role in ROLES {
        for o in offered(event, role) {
            if !out.contains(o) {
                out.push(*o);
            }
        }
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    out
}

/// The reminders someone gets out of `offered`: those they chose (`choice`), or else those of
/// their default that are offered, or else all of them.
pub fn effective(offered: &[i64], choice: Option<&[i64]>, default: Option<&[i64]>) -> Vec<i64> {
    match (choice, default) {
        (Some(chosen), _) => offered.iter().copied().filter(|o| chosen.contains(o)).collect(),
        (None, Some(preferred)) if offered.iter().any(|o| preferred.contains(o)) => {
            offered.iter().copied().filter(|o| preferred.contains(o)).collect()
        }
        _ => offered.to_vec(),
    }
}

/// Whether `recipient` gets `notice` of `event`: a reminder only when it is among theirs (by
/// their role now and their choice now, or one of their own times), the follow-up only when they said they were going.
pub fn receives(event: &Event, notice: &NoticeSpec, recipient: &Recipient) -> bool {
    match notice {
        NoticeSpec::Reminder { offset, .. } | NoticeSpec::EarlyReminder { offset, .. } => {
            effective(
                offered(event, recipient.role),
                recipient.reminder_choice.as_ref().map(|c| c.0.as_slice()),
                recipient.reminder_default.as_ref().map(|c| c.0.as_slice()),
            )
            .contains(offset)
                || recipient.reminder_own.as_ref().is_some_and(|own| own.0.contains(offset))
        }
        NoticeSpec::FollowUp { .. } => recipient.rsvp == Rsvp::Going,
        _ => true,
    }
}

/// `recipients` without those who do not get `notice` (see [`receives`]).
pub fn keep_receivers(event: &Event, notice: &NoticeSpec, recipients: Vec<Recipient>) -> Vec<Recipient> {
    recipients.into_iter().filter(|r| receives(event, notice, r)).collect()
}

// --- The follow-up ---

/// When the follow-up of `event` is due (`None`: it has none).
pub fn follow_up_due(event: &Event) -> Option<DateTime<Utc>> {
    event.follow_up_after.map(|after| event.ends_at + chrono::Duration::seconds(after))
}

/// The notices at a set time that these rules add to the event's plan: its follow-up. Its key
/// holds the end, so moving the event arms it again; changing only the delay does not.
pub fn timed(event: &Event) -> Vec<TimedNotice> {
    if event.status != EventStatus::Published {
        return Vec::new();
    }
    follow_up_due(event)
        .map(|due_at| TimedNotice { notice: NoticeSpec::FollowUp { ends_at: event.ends_at }, due_at })
        .into_iter()
        .collect()
}

/// Whether a follow-up planned for an event ending at `ends_at` is still one to send.
pub fn follow_up_current(event: &Event, ends_at: DateTime<Utc>) -> bool {
    event.status == EventStatus::Published && event.follow_up_after.is_some() && event.ends_at == ends_at
}

/// Until when the follow-up may still go out.
pub fn follow_up_deadline(event: &Event) -> DateTime<Utc> {
    follow_up_due(event).unwrap_or(event.ends_at) + chrono::Duration::seconds(FOLLOW_UP_GRACE)
}

// --- Checking input ---

/// Per-role reminders as entered (role name → offsets): known roles, offsets as for the event.
/// Errors are `(role, message)`.
pub fn check_role_reminders(raw: &BTreeMap<String, Vec<i64>>) -> Result<RoleReminders, Problems<String>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (role, offsets) in raw {
        let key = role.trim().to_lowercase();
        if !ROLES.iter().any(|r| r.as_str() == key) {
            errors.push((role.clone(), "Use speaker, volunteer, attendee or organizer.".to_owned()));
            continue;
        }
        match check_offsets(offsets) {
            Ok(offs) => {
                out.insert(key, offs);
            }
            Err(message) => errors.push((key, message)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The follow-up as entered: a delay after the end in seconds (`None`: none) and an optional
/// https link. Errors are `(after | link, message)`.
pub fn check_follow_up(after: Option<i64>, link: &str) -> Result<FollowUp, Problems<&'static str>> {
    let mut errors = Vec::new();
    if let Some(a) = after
        && !(1..=MAX_FOLLOW_UP).contains(&a)
    {
        errors.push(("after", "The follow-up goes from 1 second to 30 days after the end.".to_owned()));
    }
    let link = link.trim();
    let link = if link.is_empty() {
        None
    } else if link.chars().count() > MAX_LINK {
        errors.push(("link", format!("Use a link of at most {MAX_LINK} characters.")));
        None
    } else {
        match url::Url::parse(link) {
            Ok(u) if u.scheme() == "https" && u.host_str().is_some() => Some(link.to_owned()),
            _ => {
                errors.push(("link", "Enter a web address starting with https://.".to_owned()));
                None
            }
        }
    };
    if link.is_some() && after.is_none() && errors.is_empty() {
        errors.push(("link", "A feedback link goes with a follow-up: set when it is sent too.".to_owned()));
    }
    if errors.is_empty() { Ok((after, link)) } else { Err(errors) }
}

/// The rules of an event as entered: by the API (`role_reminders`, `follow_up_after` in
/// seconds, field names `role_reminders.{role}`, `follow_up.after`, `follow_up.link`) or by
/// the form (texts like `3d, 1d` or `none` per role and `2h` for the follow-up, field names
/// `remind_{role}`, `follow_up_after`, `follow_up_link`).
#[derive(Debug, Clone, Default)]
pub struct RawRules {
    /// Per-role offsets (the API).
    pub role_reminders: BTreeMap<String, Vec<i64>>,
    /// Per-role offsets as text, by role (the form; empty: the role gets the event's).
    pub role_texts: BTreeMap<String, String>,
    /// The follow-up delay in seconds (the API; `None`: no follow-up).
    pub follow_up_after: Option<i64>,
    /// The follow-up delay as text (the form; empty: no follow-up).
    pub follow_up_text: String,
    /// The feedback link.
    pub follow_up_link: String,
    /// Whether this came from the form (for the field names of errors).
    pub form: bool,
}

impl RawRules {
    /// An event's rules, to start an edit from.
    pub fn of(rules: &EventRules) -> Self {
        Self {
            role_reminders: rules.role_reminders.clone(),
            role_texts: BTreeMap::new(),
            follow_up_after: rules.follow_up_after,
            follow_up_text: String::new(),
            follow_up_link: rules.follow_up_link.clone().unwrap_or_default(),
            form: false,
        }
    }
}

/// Checks `raw`, recording problems in `errors`; `None` when there was one.
pub fn check_raw(raw: &RawRules, errors: &mut FieldErrors) -> Option<EventRules> {
    let before = errors.0.len();
    let mut given = raw.role_reminders.clone();
    for (role, text) in &raw.role_texts {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if text.eq_ignore_ascii_case("none") {
            given.insert(role.clone(), Vec::new());
            continue;
        }
        match crate::events::parse_offsets(text) {
            Ok(offsets) => {
                given.insert(role.clone(), offsets);
            }
            Err(message) => errors.add(&format!("remind_{role}"), message),
        }
    }
    let roles = match check_role_reminders(&given) {
        Ok(r) => Some(r),
        Err(list) => {
            for (role, message) in list {
                let field =
                    if raw.form { format!("remind_{role}") } else { format!("role_reminders.{role}") };
                errors.add(&field, message);
            }
            None
        }
    };
    let after = if raw.form {
        let text = raw.follow_up_text.trim();
        if text.is_empty() {
            Some(None)
        } else {
            match crate::events::parse_offsets(text) {
                Ok(list) if list.len() == 1 => Some(list.first().copied()),
                Ok(_) => {
                    errors.add("follow_up_after", "Write one delay, like 2h or 1d.");
                    None
                }
                Err(message) => {
                    errors.add("follow_up_after", message);
                    None
                }
            }
        }
    } else {
        Some(raw.follow_up_after)
    };
    let follow_up = match after.map(|a| check_follow_up(a, &raw.follow_up_link)) {
        Some(Ok(f)) => Some(f),
        Some(Err(list)) => {
            for (field, message) in list {
                let name = if raw.form { format!("follow_up_{field}") } else { format!("follow_up.{field}") };
                errors.add(&name, message);
            }
            None
        }
        None => None,
    };
    match (roles, follow_up) {
        (Some(role_reminders), Some((follow_up_after, follow_up_link))) if errors.0.len() == before => {
            Some(EventRules { role_reminders, follow_up_after, follow_up_link })
        }
        _ => None,
    }
}

/// A role's reminders as the form shows them ("3d, 1d", "none"; empty: the event's).
pub fn role_text(rules: &BTreeMap<String, Vec<i64>>, role: ParticipantRole) -> String {
    match rules.get(role.as_str()) {
        None => String::new(),
        Some(list) if list.is_empty() => "none".to_owned(),
        Some(list) => list.iter().map(|o| short_offset(*o)).collect::<Vec<_>>().join(", "),
    }
}

/// Short text for an offset: 30m, 2h, 3d, 45s.
pub fn short_offset(secs: i64) -> String {
    if secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

// --- In words ---

/// Reminders in words: "3 days and 1 day before", "no reminders".
pub fn offsets_in_words(offsets: &[i64]) -> String {
    let words: Vec<String> = offsets.iter().map(|o| describe_offset(*o)).collect();
    match words.as_slice() {
        [] => "no reminders".to_owned(),
        [one] => format!("{one} before"),
        [init @ .., last] => format!("{} and {last} before", init.join(", ")),
    }
}

/// The event's reminders in words, a line each: "Everyone: 1 day and 1 hour before", or
/// "Speakers: 3 days and 1 day before", "Volunteers: 2 hours before", "Everyone else: …".
pub fn reminders_in_words(event: &Event) -> Vec<String> {
    let mut out = Vec::new();
    if !event.notify_reminders {
        out.push("No reminders".to_owned());
    } else if event.role_reminders.0.is_empty() {
        out.push(format!("Everyone: {}", offsets_in_words(&event.reminder_offsets.0)));
    } else {
        for role in ROLES {
            if let Some(own) = event.role_reminders.0.get(role.as_str()) {
                out.push(format!("{}: {}", role_plural(role), offsets_in_words(own)));
            }
        }
        if ROLES.iter().any(|r| !event.role_reminders.0.contains_key(r.as_str())) {
            out.push(format!("Everyone else: {}", offsets_in_words(&event.reminder_offsets.0)));
        }
    }
    out
}

/// The follow-up in words (`None`: the event has none).
pub fn follow_up_in_words(event: &Event) -> Option<String> {
    event.follow_up_after.map(|after| {
        let link = if event.follow_up_link.is_some() { ", with the feedback link" } else { "" };
        format!("A thank-you to those going, {} after the end{link}", describe_offset(after))
    })
}

/// The event's reminders and follow-up in words, a line each (the API's `rules_in_words`).
pub fn in_words(event: &Event) -> Vec<String> {
    let mut out = reminders_in_words(event);
    if let Some(f) = follow_up_in_words(event) {
        out.push(format!("Follow-up: {f}"));
    }
    out
}

/// Who gets a scheduled notice, in words, for the organizer's schedule: a reminder's roles
/// ("everyone", "speakers and volunteers"), the follow-up's "those going".
pub fn notice_audience(event: &Event, kind: &str, offset: i64) -> String {
    match kind {
        "reminder" => audience(event, offset),
        "follow_up" => "those going".to_owned(),
        _ => "everyone".to_owned(),
    }
}

/// Who gets the reminder `offset` before the start, in words: "everyone", "speakers and
/// volunteers", or "those who chose this time" (one of the participants' own times).
pub fn audience(event: &Event, offset: i64) -> String {
    let roles: Vec<ParticipantRole> =
        ROLES.into_iter().filter(|r| offered(event, *r).contains(&offset)).collect();
    if roles.len() == ROLES.len() {
        return "everyone".to_owned();
    }
    let names: Vec<String> = roles.iter().map(|r| role_plural(*r).to_lowercase()).collect();
    match names.as_slice() {
        [] => "those who chose this time".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

// --- Organization defaults ---

/// The organization's defaults for new events (Herald's when it set none: no reminders, no
/// follow-up).
pub async fn defaults(db: &Db, org_id: Uuid) -> Result<EventDefaults, ServiceError> {
    Ok(db.event_defaults(org_id).await?.unwrap_or_default())
}

/// Defaults as entered.
#[derive(Debug, Clone, Default)]
pub struct RawDefaults {
    /// Reminders for everyone.
    pub reminder_offsets: Vec<i64>,
    /// Per-role reminders.
    pub role_reminders: BTreeMap<String, Vec<i64>>,
    /// Follow-up delay after the end, seconds.
    pub follow_up_after: Option<i64>,
    /// Feedback link.
    pub follow_up_link: String,
}

/// Checks `raw`; field names are the API's (`reminder_offsets`, `role_reminders.speaker`,
/// `follow_up.after`, `follow_up.link`).
pub fn check_defaults(raw: &RawDefaults) -> Result<EventDefaults, FieldErrors> {
    let mut errors = FieldErrors::default();
    let offsets = errors.check("reminder_offsets", check_offsets(&raw.reminder_offsets));
    let roles = match check_role_reminders(&raw.role_reminders) {
        Ok(r) => Some(r),
        Err(list) => {
            for (role, message) in list {
                errors.add(&format!("role_reminders.{role}"), message);
            }
            None
        }
    };
    let follow_up = match check_follow_up(raw.follow_up_after, &raw.follow_up_link) {
        Ok(f) => Some(f),
        Err(list) => {
            for (field, message) in list {
                errors.add(&format!("follow_up.{field}"), message);
            }
            None
        }
    };
    match (offsets, roles, follow_up) {
        (Some(offsets), Some(roles), Some((after, link))) if errors.is_empty() => Ok(EventDefaults {
            reminder_offsets: sqlx::types::Json(offsets),
            role_reminders: sqlx::types::Json(roles),
            follow_up_after: after,
            follow_up_link: link,
        }),
        _ => Err(errors),
    }
}

/// Saves the organization's defaults for new events (those who manage events).
pub async fn save_defaults(
    svc: &Services,
    access: &OrgAccess,
    raw: &RawDefaults,
) -> Result<EventDefaults, ServiceError> {
    if !crate::events::manages_events(access.role) {
        return Err(ServiceError::Forbidden(
            "Only owners, admins and organizers set defaults for events.".into(),
        ));
    }
    let d = check_defaults(raw).map_err(ServiceError::Invalid)?;
    svc.db.save_event_defaults(access.org.id, &d).await?;
    audit::record(
        &svc.db,
        access.org.id,
        Some(access.user_id),
        "event_defaults.changed",
        "Defaults for new events",
        None,
    )
    .await;
    Ok(d)
}

/// The rules of a new event: what was given, else the organization's defaults.
pub fn rules_or_defaults(given: Option<EventRules>, defaults: &EventDefaults) -> EventRules {
    given.unwrap_or_else(|| defaults.rules())
}

// --- A participant's choice ---

/// A participant's reminders: what is offered to their role, what they chose and what they get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderChoice {
    /// Their role.
    pub role: ParticipantRole,
    /// Offered to their role (earliest first).
    pub offered: Vec<i64>,
    /// What they chose (`None`: nothing, so their default or all offered).
    pub chosen: Option<Vec<i64>>,
    /// Their own times set for this event (`None`: their default own times apply).
    pub own: Option<Vec<i64>>,
    /// Their default own times.
    pub own_default: Vec<i64>,
    /// What they get: the offered ones they keep and their own times that apply here.
    pub effective: Vec<i64>,
    /// Whether the event sends reminders at all.
    pub reminders_on: bool,
    /// The range own times may take here: (latest, earliest) in seconds before the start.
    pub own_range: (i64, i64),
}

/// The caller's reminders on the event of `view` (they must take part).
pub async fn choice_of(db: &Db, view: &EventView) -> Result<ReminderChoice, ServiceError> {
    let p = view.participant.as_ref().ok_or(ServiceError::NotFound)?;
    let chosen = db.reminder_choice(p.id).await?;
    let (default, own_default) = match p.user_id {
        Some(uid) => (db.reminder_default(uid).await?, db.own_reminder_default(uid).await?),
        None => (None, None),
    };
    let own = db.own_reminders(p.id).await?;
    let offered = offered(&view.event, p.role).to_vec();
    let mut effective = effective(&offered, chosen.as_deref(), default.as_deref());
    let planned = planned_offsets(db, &view.event).await?;
    for o in own.as_ref().or(own_default.as_ref()).into_iter().flatten() {
        if planned.contains(o) && !effective.contains(o) {
            effective.push(*o);
        }
    }
    effective.sort_unstable_by(|a, b| b.cmp(a));
    Ok(ReminderChoice {
        role: p.role,
        offered,
        chosen,
        own,
        own_default: own_default.unwrap_or_default(),
        effective,
        reminders_on: view.event.notify_reminders,
        own_range: own_range(Some(&view.event)),
    })
}

/// A change to someone's own reminder times: `None` keeps them, `Some(None)` clears them (on an
/// event: back to their default own times), `Some(Some(list))` sets them.
pub type OwnUpdate = Option<Option<Vec<i64>>>;

/// Sets the caller's reminders on the event of `view`: `chosen` among those offered to their
/// role (`None`: all of them, or their default), and their own times (`own`). A choice among
/// the offered ones does not change the workflow's plan (it is read when each reminder is
/// sent); a change of own times asks the workflow to read its plan again.
pub async fn choose(
    db: &Db,
    view: &EventView,
    chosen: Option<Vec<i64>>,
    own: OwnUpdate,
) -> Result<ReminderChoice, ServiceError> {
    let p = view.participant.as_ref().ok_or(ServiceError::NotFound)?;
    let offered = offered(&view.event, p.role);
    let chosen = match chosen {
        Some(list) => {
            let mut seen = Vec::new();
            for o in &list {
                if !offered.contains(o) {
                    let words: Vec<String> = offered.iter().map(|o| describe_offset(*o)).collect();
                    let message = if words.is_empty() {
                        "This event offers no reminders to choose from.".to_owned()
                    } else {
                        format!("Choose among the reminders offered: {} before.", words.join(", "))
                    };
                    return Err(ServiceError::field("offsets", message));
                }
                if !seen.contains(o) {
                    seen.push(*o);
                }
            }
            seen.sort_unstable_by(|a, b| b.cmp(a));
            Some(seen)
        }
        None => None,
    };
    let own = match own {
        Some(Some(list)) => Some(Some(check_own_on(db, view, p.id, &list, Utc::now()).await?)),
        other => other,
    };
    db.set_reminder_choice(p.id, chosen.as_deref()).await?;
    if let Some(own) = own
        && db.own_reminders(p.id).await? != own
    {
        db.set_own_reminders(p.id, own.as_deref()).await?;
        tracing::info!(event_id = %view.event.id, participant_id = %p.id, "own reminder times set");
    }
    choice_of(db, view).await
}

/// A user's reminder times for every event: the offered ones they prefer (`None`: all) and
/// their own times added everywhere they set none for the event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultTimes {
    /// Preferred among those offered.
    pub preferred: Option<Vec<i64>>,
    /// Their own times.
    pub own: Vec<i64>,
}

/// The reminder times `user_id` prefers and adds.
pub async fn default_times(db: &Db, user_id: Uuid) -> Result<DefaultTimes, ServiceError> {
    Ok(DefaultTimes {
        preferred: db.reminder_default(user_id).await?,
        own: db.own_reminder_default(user_id).await?.unwrap_or_default(),
    })
}

/// Sets the reminder times `user_id` prefers where they choose nothing (`None`: all offered)
/// and, unless `own` is `None`, the times of their own added on every event (empty: none);
/// every problem at once, under `offsets` and `own`. A change of own times asks the workflows
/// of their events still to come to read their plans again.
pub async fn set_default(
    db: &Db,
    user_id: Uuid,
    offsets: Option<Vec<i64>>,
    own: OwnUpdate,
) -> Result<DefaultTimes, ServiceError> {
    let mut errors = FieldErrors::default();
    let preferred = match offsets {
        Some(list) => errors.check("offsets", check_offsets(&list)).map(Some),
        None => Some(None),
    };
    let own = match own {
        None => Some(None),
        Some(None) => Some(Some(Vec::new())),
        Some(Some(list)) => errors.check("own", check_own(&list, own_range(None))).map(Some),
    };
    let (Some(preferred), Some(own)) = (preferred, own) else {
        return Err(ServiceError::Invalid(errors));
    };
    db.set_reminder_default(user_id, preferred.as_deref()).await?;
    if let Some(own) = own {
        let stored = if own.is_empty() { None } else { Some(own) };
        if db.own_reminder_default(user_id).await? != stored {
            let refreshed = db.set_own_reminder_default(user_id, stored.as_deref()).await?;
            tracing::info!(%user_id, refreshed, "default own reminder times set");
        }
    }
    default_times(db, user_id).await
}

// --- A participant's own times ---

/// The most reminder times of their own someone adds, on an event or as a default: enough for
/// "the day before, and an hour before", few enough that nobody floods themselves.
pub const MAX_OWN: usize = 3;
/// The latest an own time may be, in seconds before the start: 5 minutes (later is too late to
/// act on, and within the delivery's own delays).
pub const OWN_LATEST: i64 = 5 * 60;
/// The earliest an own time may be: 14 days before the start.
pub const OWN_EARLIEST: i64 = 14 * 86_400;
/// The most different own times one event plans beyond the organizer's reminders (each is a
/// timer of the event's workflow and a pass over its participants).
pub const MAX_OWN_PER_EVENT: usize = 30;

/// The range own times may take, `(latest, earliest)` in seconds before the start:
/// [`OWN_LATEST`] to [`OWN_EARLIEST`], widened on `event` to the organizer's own reminders there
/// (an organizer who reminds 1 minute before has an event where such short notice is useful).
pub fn own_range(event: Option<&Event>) -> (i64, i64) {
    let mut range = (OWN_LATEST, OWN_EARLIEST);
    for o in event.map(all_offsets).unwrap_or_default() {
        range = (range.0.min(o), range.1.max(o));
    }
    range
}

/// Checks own times: at most [`MAX_OWN`], each within `range`; the same time twice counts once.
/// Returns them earliest first.
pub fn check_own(list: &[i64], range: (i64, i64)) -> Result<Vec<i64>, String> {
    let mut out: Vec<i64> = Vec::new();
    for o in list {
        if !out.contains(o) {
            out.push(*o);
        }
    }
    if out.len() > MAX_OWN {
        return Err(format!("Add at most {MAX_OWN} times of your own; you gave {}.", out.len()));
    }
    let (latest, earliest) = range;
    if let Some(bad) = out.iter().find(|o| **o <= 0) {
        return Err(format!(
            "Write times before the start (you gave {bad} seconds), between {} and {} before it.",
            describe_offset(latest),
            describe_offset(earliest)
        ));
    }
    if let Some(bad) = out.iter().find(|o| **o < latest || **o > earliest) {
        return Err(format!(
            "Choose times between {} and {} before the start; {} is outside that.",
            describe_offset(latest),
            describe_offset(earliest),
            describe_offset(*bad)
        ));
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// Checks own times for participant `participant_id` on the event of `view` at `now`: within
/// the event's range, not already past, and within what the event plans
/// ([`MAX_OWN_PER_EVENT`] different own times; 409 beyond, with the times already planned).
async fn check_own_on(
    db: &Db,
    view: &EventView,
    participant_id: Uuid,
    list: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, ServiceError> {
    let event = &view.event;
    let own = check_own(list, own_range(Some(event))).map_err(|m| ServiceError::field("own", m))?;
    if let Some(past) = own.iter().find(|o| event.starts_at - chrono::Duration::seconds(**o) <= now) {
        return Err(ServiceError::field(
            "own",
            format!(
                "{} before the start has already passed; choose a time still to come.",
                capitalized(&describe_offset(*past))
            ),
        ));
    }
    let rows = db.own_times_in_event(event.id).await?;
    let others = own_planned(event, &rows, Some(participant_id));
    let fresh = own.iter().filter(|o| !others.contains(o) && !all_offsets(event).contains(o)).count();
    if others.len() + fresh > MAX_OWN_PER_EVENT {
        let mut planned = all_offsets(event);
        planned.extend(others);
        planned.sort_unstable_by(|a, b| b.cmp(a));
        return Err(ServiceError::Conflict(format!(
            "This event already has {MAX_OWN_PER_EVENT} reminder times that people chose themselves, the most \
             it takes. Choose among the times it already has: {}.",
            offsets_in_words(&planned)
        )));
    }
    Ok(own)
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

/// The own times `event` plans beyond the organizer's reminders, from its participants' `rows`
/// (without participant `except`'s): a time already past when it was set (or when its owner
/// joined) is not one anybody asked for, and is left out. At most [`MAX_OWN_PER_EVENT`]: times
/// set for this event first, then those most people share, then the earliest.
pub fn own_planned(event: &Event, rows: &[OwnTimesRow], except: Option<Uuid>) -> Vec<i64> {
    let organizer = all_offsets(event);
    // offset → (people who set it for this event, people in all).
    let mut counts: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    for row in rows.iter().filter(|r| Some(r.participant_id) != except) {
        let (list, asked_at, explicit) = match (&row.reminder_own, &row.reminder_own_default) {
            (Some(own), _) => (&own.0, row.reminder_own_at.unwrap_or(row.joined_at), true),
            (None, Some(default)) => {
                (&default.0, row.reminder_own_default_at.unwrap_or(row.joined_at).max(row.joined_at), false)
            }
            (None, None) => continue,
        };
        for o in list {
            if organizer.contains(o) || event.starts_at - chrono::Duration::seconds(*o) < asked_at {
                continue;
            }
            let c = counts.entry(*o).or_default();
            c.0 += usize::from(explicit);
            c.1 += 1;
        }
    }
    let mut ranked: Vec<(i64, (usize, usize))> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    ranked.into_iter().take(MAX_OWN_PER_EVENT).map(|(o, _)| o).collect()
}

/// Every reminder `event` plans: the organizer's ([`all_offsets`]) and its participants' own
/// times ([`own_planned`]), earliest first. What the workflow's plan holds.
pub async fn planned_offsets(db: &Db, event: &Event) -> Result<Vec<i64>, DbError> {
    let mut out = all_offsets(event);
    if event.status == EventStatus::Published && event.notify_reminders {
        out.extend(own_planned(event, &db.own_times_in_event(event.id).await?, None));
        out.sort_unstable_by(|a, b| b.cmp(a));
    }
    Ok(out)
}

/// Whether `event`, as it is now, still sends the reminder `offset` before the start: it is
/// published with reminders on, and `offset` is among [`planned_offsets`]. An organizer's
/// reminder (the common case, on the path of every due reminder) needs no query.
pub async fn plans_reminder(db: &Db, event: &Event, offset: i64) -> Result<bool, DbError> {
    if event.status != EventStatus::Published || !event.notify_reminders {
        return Ok(false);
    }
    if all_offsets(event).contains(&offset) {
        return Ok(true);
    }
    Ok(planned_offsets(db, event).await?.contains(&offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_choice_narrows_what_is_offered_and_a_default_applies_only_where_it_fits() {
        let offered = [86_400, 3600];
        assert_eq!(effective(&offered, None, None), vec![86_400, 3600]);
        assert_eq!(effective(&offered, Some(&[3600]), None), vec![3600]);
        assert_eq!(effective(&offered, Some(&[]), Some(&[3600])), Vec::<i64>::new());
        assert_eq!(effective(&offered, None, Some(&[3600, 900])), vec![3600]);
        // A default matching nothing offered leaves the organizer's reminders.
        assert_eq!(effective(&offered, None, Some(&[900])), vec![86_400, 3600]);
    }

    #[test]
    fn role_reminders_and_follow_ups_are_checked() {
        let raw =
            BTreeMap::from([("Speaker".to_owned(), vec![3600, 86_400]), ("guest".to_owned(), vec![60])]);
        let errors = check_role_reminders(&raw).err().unwrap_or_default();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "guest");
        let ok = check_role_reminders(&BTreeMap::from([("speaker".to_owned(), vec![3600, 86_400])]));
        assert_eq!(ok.ok().and_then(|m| m.get("speaker").cloned()), Some(vec![86_400, 3600]));
        assert!(check_follow_up(Some(7200), "https://example.org/form").is_ok());
        assert!(check_follow_up(Some(7200), "http://example.org/form").is_err());
        assert!(check_follow_up(Some(0), "").is_err());
        assert!(check_follow_up(None, "https://example.org/form").is_err());
        assert_eq!(check_follow_up(None, ""), Ok((None, None)));
    }

    #[test]
    fn reminders_read_in_words() {
        assert_eq!(offsets_in_words(&[3 * 86_400, 86_400]), "3 days and 1 day before");
        assert_eq!(offsets_in_words(&[7200]), "2 hours before");
        assert_eq!(offsets_in_words(&[86_400, 3600, 900]), "1 day, 1 hour and 15 minutes before");
    }
}
