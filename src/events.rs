//! Events: the rules shared by pages and the API (who may manage, validation, DST-correct local
//! times, safe Markdown), and [`sync`], the one function that tells an event's workflow about a
//! committed change.
//!
//! Every operation starts from an [`OrgAccess`] (so a non-member gets 404 for everything of an
//! organization) and an event of that organization. Owners, admins and organizers manage events;
//! members see the published and cancelled ones, including private ones.
//!
//! Commit first, then sync: a change is saved (event row, `event_updates` row and its
//! `sync_outbox` row in one transaction) before Temporal is contacted. When Temporal is
//! unreachable the update stays unsignalled (`signalled_at` NULL, or `workflow_started_at` NULL)
//! and its outbox row waits for [`drain_outbox`]: nothing is lost.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeZone as _, Utc};
use chrono_tz::Tz;
use futures::StreamExt as _;
use herald_workflows::{EventSignal, EventWorkflow, WorkflowInput};
use temporalio_client::errors::{WorkflowInteractionError, WorkflowStartError};
use temporalio_client::{WorkflowIdReusePolicy, WorkflowSignalOptions, WorkflowStartOptions};
use tracing::{Instrument as _, info, warn};
use uuid::Uuid;

use crate::audit;
use crate::db::events::{IdempotencyKey, NewEvent, Notices};
use crate::db::models::{Event, EventStatus, EventUpdate, Role, UpdateKind, Visibility};
use crate::db::{Db, DbError};
use crate::domain::{CONTROL_CHARACTERS, FieldErrors, ServiceError, has_unwanted_chars};
use crate::orgs::OrgAccess;
use crate::services::Services;
use crate::temporal::Temporal;

/// Longest event name, in characters.
pub const MAX_NAME: usize = 200;
/// Longest description, in characters.
pub const MAX_DESCRIPTION: usize = 20_000;
/// Longest location, in characters.
pub const MAX_LOCATION: usize = 500;
/// Longest online link, in characters.
pub const MAX_URL: usize = 2_000;
/// Most reminders per event.
pub const MAX_REMINDERS: usize = 10;
/// Longest reminder offset: one year, in seconds.
pub const MAX_OFFSET: i64 = 366 * 24 * 3600;
/// The reminder presets: (seconds, label).
pub const PRESETS: &[(i64, &str)] = &[
    (7 * 24 * 3600, "1 week before"),
    (24 * 3600, "1 day before"),
    (3600, "1 hour before"),
    (900, "15 minutes before"),
];

/// Said next to the time fields: how a time that occurs twice is read.
pub const AMBIGUOUS_HELP: &str = "When a local time occurs twice (the night the clocks go back), \
    the earlier of the two moments is used.";

/// Whether a role may create and manage events.
pub fn manages_events(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin | Role::Organizer)
}

fn require_manager(access: &OrgAccess) -> Result<(), ServiceError> {
    if manages_events(access.role) {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("Only owners, admins and organizers manage events.".into()))
    }
}

/// Whether the event's workflow knows about every committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    /// Started or signalled (or nothing to tell: a draft).
    Synced,
    /// Saved, but the scheduler was not reachable; it will be told later.
    Pending,
}

/// Said on pages and in the API when a change could not reach the scheduler yet.
pub const PENDING_MESSAGE: &str = "Saved; reminders will be scheduled when the scheduler is reachable.";

// --- Validation ---

/// Validated event fields, ready to save: the same type from the form or API body to the row.
pub use crate::db::events::EventFields;

/// Parses an IANA zone, with a message naming an example.
pub fn parse_timezone(raw: &str) -> Result<Tz, String> {
    crate::domain::TimeZone::parse(raw).map(|t| t.0)
}

/// Parses `YYYY-MM-DDTHH:MM` (seconds optional, a space instead of `T` accepted).
pub fn parse_local(raw: &str) -> Result<NaiveDateTime, String> {
    let s = raw.trim().replace(' ', "T");
    if s.is_empty() {
        return Err("Enter a date and time.".into());
    }
    NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "Enter a date and time like 2026-11-22T18:30.".into())
}

/// The instant of a local time in `tz`: a time skipped by a clock change is an error; a time
/// that occurs twice resolves to the earlier instant (see [`AMBIGUOUS_HELP`]).
pub fn resolve_local(local: NaiveDateTime, tz: Tz) -> Result<DateTime<Utc>, String> {
    match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, b) => Ok(a.min(b).with_timezone(&Utc)),
        chrono::LocalResult::None => Err(format!(
            "{} does not exist in {} (the clocks go forward then); choose a time outside the skipped hour.",
            local.format("%Y-%m-%d %H:%M"),
            tz.name()
        )),
    }
}

/// Parses custom reminder offsets like `2h, 30m, 3d, 45 minutes` into seconds.
pub fn parse_offsets(raw: &str) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for part in raw.split([',', ';', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit() || *c == '-').collect();
        let unit = part[digits.len()..].trim().to_ascii_lowercase();
        let n: i64 = digits.parse().map_err(|_| {
            format!("'{part}' is not an offset; write a number and a unit, like 30m, 2h or 3d.")
        })?;
        let mult = match unit.as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 7 * 86_400,
            _ => return Err(format!("'{part}' has no known unit; use m (minutes), h (hours) or d (days).")),
        };
        out.push(n.saturating_mul(mult));
    }
    Ok(out)
}

/// Checks reminder offsets (seconds): positive, at most a year, at most ten, no duplicates.
/// Returns them sorted, largest (earliest reminder) first.
pub fn check_offsets(offsets: &[i64]) -> Result<Vec<i64>, String> {
    if offsets.len() > MAX_REMINDERS {
        return Err(format!("At most {MAX_REMINDERS} reminders per event."));
    }
    let mut out = Vec::new();
    for &o in offsets {
        if o <= 0 {
            return Err("Reminder offsets must be positive (a time before the start).".into());
        }
        if o > MAX_OFFSET {
            return Err("Reminders can be at most one year before the start.".into());
        }
        if out.contains(&o) {
            return Err(format!("The reminder {} before is listed twice.", describe_offset(o)));
        }
        out.push(o);
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
    Ok(out)
}

/// An offset in words: "1 day", "90 minutes", "2 hours".
pub fn describe_offset(secs: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if secs % (7 * 86_400) == 0 {
        plural(secs / (7 * 86_400), "week")
    } else if secs % 86_400 == 0 {
        plural(secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        plural(secs / 3600, "hour")
    } else if secs % 60 == 0 {
        plural(secs / 60, "minute")
    } else {
        plural(secs, "second")
    }
}

fn text(errors: &mut FieldErrors, field: &str, raw: &str, max: usize, required: bool) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() {
        if required {
            errors.add(field, "This is required.");
        }
        return None;
    }
    if s.chars().count() > max {
        errors.add(field, format!("Use at most {max} characters."));
        return None;
    }
    if has_unwanted_chars(s, false) {
        errors.add(field, CONTROL_CHARACTERS);
        return None;
    }
    Some(s.to_owned())
}

fn check_url(errors: &mut FieldErrors, field: &str, raw: &str) -> Option<String> {
    let s = text(errors, field, raw, MAX_URL, false)?;
    match url::Url::parse(&s) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(s),
        _ => {
            errors.add(field, "Enter a web address starting with https:// or http://.");
            None
        }
    }
}

/// Raw input, as both the form and the API give it (times already as instants or local).
#[derive(Debug, Clone, Default)]
pub struct RawEvent {
    /// Name.
    pub name: String,
    /// Markdown.
    pub description: String,
    /// Where.
    pub location: String,
    /// Online link.
    pub online_url: String,
    /// Start: local time in `timezone`, or an RFC 3339 instant.
    pub start: String,
    /// End, like `start`.
    pub end: String,
    /// IANA zone.
    pub timezone: String,
    /// public, unlisted or private.
    pub visibility: String,
    /// Offsets in seconds.
    pub reminder_offsets: Vec<i64>,
    /// Custom offsets as text (`2h, 30m`), from the form.
    pub custom_reminders: String,
    /// Per-role reminders and the follow-up.
    pub rules: crate::rules::RawRules,
    /// Notices.
    pub notices: Notices,
    /// draft or published.
    pub status: String,
}

/// Field names used in error messages; the API and the form name fields differently.
#[derive(Debug, Clone, Copy)]
pub struct FieldNames {
    /// The start field.
    pub start: &'static str,
    /// The end field.
    pub end: &'static str,
    /// The reminders field.
    pub reminders: &'static str,
}

/// The form's names.
pub const FORM_NAMES: FieldNames = FieldNames { start: "start", end: "end", reminders: "custom_reminders" };
/// The API's names.
pub const API_NAMES: FieldNames =
    FieldNames { start: "starts_at", end: "ends_at", reminders: "reminder_offsets" };

/// Validates input; every problem is named by field.
pub fn validate(raw: &RawEvent, names: FieldNames) -> Result<EventFields, FieldErrors> {
    let mut e = FieldErrors::default();
    let name = text(&mut e, "name", &raw.name, MAX_NAME, true);
    let description = if raw.description.chars().count() > MAX_DESCRIPTION {
        e.add("description", format!("Use at most {MAX_DESCRIPTION} characters."));
        None
    } else if has_unwanted_chars(&raw.description, true) {
        e.add("description", CONTROL_CHARACTERS);
        None
    } else {
        Some(raw.description.trim().to_owned())
    };
    let location = text(&mut e, "location", &raw.location, MAX_LOCATION, false);
    let online_url = check_url(&mut e, "online_url", &raw.online_url);
    let tz = e.check("timezone", parse_timezone(&raw.timezone));
    let instant = |raw_time: &str, tz: Option<Tz>| -> Result<Option<DateTime<Utc>>, String> {
        if let Ok(t) = DateTime::parse_from_rfc3339(raw_time.trim()) {
            return Ok(Some(t.with_timezone(&Utc)));
        }
        let local = parse_local(raw_time)?;
        match tz {
            Some(tz) => resolve_local(local, tz).map(Some),
            None => Ok(None),
        }
    };
    let start = e.check(names.start, instant(&raw.start, tz)).flatten();
    let end = e.check(names.end, instant(&raw.end, tz)).flatten();
    if let (Some(s), Some(en)) = (start, end)
        && en <= s
    {
        e.add(names.end, "The end must be after the start.");
    }
    let visibility = e.check(
        "visibility",
        Visibility::try_from(raw.visibility.trim().to_owned())
            .map_err(|_| "Choose public, unlisted or private.".to_owned()),
    );
    let mut offsets = raw.reminder_offsets.clone();
    if let Some(custom) = e.check(names.reminders, parse_offsets(&raw.custom_reminders)) {
        offsets.extend(custom);
    }
    let offsets = e.check(names.reminders, check_offsets(&offsets));
    let rules = crate::rules::check_raw(&raw.rules, &mut e);
    let status = match raw.status.trim() {
        "" | "draft" => Some(EventStatus::Draft),
        "published" => Some(EventStatus::Published),
        _ => {
            e.add("status", "Choose draft or published (cancel with the cancel action).");
            None
        }
    };
    match (name, description, tz, start, end, visibility, offsets, status, rules) {
        (
            Some(name),
            Some(description),
            Some(tz),
            Some(starts_at),
            Some(ends_at),
            Some(visibility),
            Some(offs),
            Some(status),
            Some(rules),
        ) if e.is_empty() => Ok(EventFields {
            name,
            description,
            location,
            online_url,
            starts_at,
            ends_at,
            timezone: tz.name().to_owned(),
            visibility,
            reminder_offsets: offs,
            rules,
            notices: raw.notices,
            status,
        }),
        _ => Err(e),
    }
}

// --- Markdown ---

/// Renders Markdown to HTML safely: raw HTML is shown as text, links only for http(s) and
/// mailto, images become links.
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Event as Md, Options, Parser, Tag, TagEnd};
    let parser =
        Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES).map(|ev| match ev {
            Md::Html(h) | Md::InlineHtml(h) => Md::Text(h),
            Md::Start(Tag::Link { link_type, dest_url, title, id }) => {
                let safe = safe_link(&dest_url);
                Md::Start(Tag::Link { link_type, dest_url: safe.into(), title, id })
            }
            Md::Start(Tag::Image { link_type, dest_url, title, id }) => {
                let safe = safe_link(&dest_url);
                Md::Start(Tag::Link { link_type, dest_url: safe.into(), title, id })
            }
            Md::End(TagEnd::Image) => Md::End(TagEnd::Link),
            // The page has its own h1 and h2: the description's headings start at h3.
            Md::Start(Tag::Heading { level, id, classes, attrs }) => {
                Md::Start(Tag::Heading { level: demote(level), id, classes, attrs })
            }
            Md::End(TagEnd::Heading(level)) => Md::End(TagEnd::Heading(demote(level))),
            other => other,
        });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, parser);
    out
}

fn demote(level: pulldown_cmark::HeadingLevel) -> pulldown_cmark::HeadingLevel {
    use pulldown_cmark::HeadingLevel::*;
    match level {
        H1 => H3,
        H2 => H4,
        H3 => H5,
        _ => H6,
    }
}

fn safe_link(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    if lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || lower.starts_with('/') && !lower.starts_with("//")
        || lower.starts_with('#')
    {
        url.to_owned()
    } else {
        "#".to_owned()
    }
}

// --- Operations ---

/// An event's address: its name, then 96 random bits (20 base-32 characters), so that an
/// unlisted event's link cannot be guessed — whatever the event's visibility is or becomes.
fn slug_for(name: &str) -> String {
    use rand::RngCore;
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let base = crate::domain::Slug::suggest(name);
    let base: String = base.chars().take(60).collect();
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let bits = bytes.iter().fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    let suffix: String = (0..20).map(|i| char::from(ALPHABET[((bits >> (5 * i)) & 31) as usize])).collect();
    if base.is_empty() {
        format!("event-{suffix}")
    } else {
        format!("{}-{suffix}", base.trim_end_matches('-'))
    }
}

/// The event `id` of the caller's organization; drafts only for those who manage events.
pub async fn load(db: &Db, access: &OrgAccess, id: Uuid) -> Result<Event, ServiceError> {
    let event = db.event(id).await?.ok_or(ServiceError::NotFound)?;
    if event.org_id != access.org.id || (event.status == EventStatus::Draft && !manages_events(access.role)) {
        return Err(ServiceError::NotFound);
    }
    Ok(event)
}

/// The event `id` as `user_id` may read it, with its organization's slug and whether its
/// workflow knows its latest change: the visibility rules of [`crate::participants::view`]
/// (public and unlisted events for anyone, private ones for members and participants, drafts
/// for those who manage events), in one database read. [`ServiceError::NotFound`] otherwise.
pub async fn read_for_user(
    db: &Db,
    id: Uuid,
    user_id: Uuid,
) -> Result<(Event, String, SyncState), ServiceError> {
    let seen = db.event_seen_by(id, user_id).await?.ok_or(ServiceError::NotFound)?;
    // A role the database holds but this build does not know counts as no role.
    let member = seen.member_role.and_then(|r| Role::try_from(r).ok());
    if !crate::participants::may_see(&seen.event, member, seen.participant || seen.invited) {
        return Err(ServiceError::NotFound);
    }
    let event = seen.event;
    let missing_workflow = event.status == EventStatus::Published && event.workflow_started_at.is_none();
    let synced = if missing_workflow || seen.unsynced { SyncState::Pending } else { SyncState::Synced };
    Ok((event, seen.org_slug, synced))
}

/// The event `id` and the caller's access to its organization; 404 unless a member.
pub async fn load_for_user(db: &Db, id: Uuid, user_id: Uuid) -> Result<(OrgAccess, Event), ServiceError> {
    let event = db.event(id).await?.ok_or(ServiceError::NotFound)?;
    let org = db.organization_by_id(event.org_id).await?.ok_or(ServiceError::NotFound)?;
    let access = crate::orgs::access(db, &org.slug, user_id).await?;
    let event = load(db, &access, id).await?;
    Ok((access, event))
}

/// Creates an event (then syncs it). With an idempotency key, a retry returns the same event.
pub async fn create(
    svc: &Services,
    access: &OrgAccess,
    fields: &EventFields,
    idempotency: Option<(&str, &str)>,
) -> Result<(Event, SyncState), ServiceError> {
    require_manager(access)?;
    if let Some(found) = replay(svc, access, idempotency).await? {
        return Ok(found);
    }
    let slug = slug_for(&fields.name);
    let new = NewEvent {
        org_id: access.org.id,
        slug: &slug,
        name: &fields.name,
        description: &fields.description,
        location: fields.location.as_deref(),
        online_url: fields.online_url.as_deref(),
        starts_at: fields.starts_at,
        ends_at: fields.ends_at,
        timezone: &fields.timezone,
        visibility: fields.visibility,
        reminder_offsets: fields.reminder_offsets.clone(),
        status: fields.status,
        created_by: Some(access.user_id),
    };
    let key =
        idempotency.map(|(key, request_hash)| IdempotencyKey { user_id: access.user_id, key, request_hash });
    let event = match svc.db.create_event_with_rules(&new, fields.notices, &fields.rules, key.as_ref()).await
    {
        Ok(e) => e,
        Err(DbError::Conflict(_)) if idempotency.is_some() => {
            // A concurrent retry with the same key won the race.
            return replay(svc, access, idempotency).await?.ok_or(ServiceError::NotFound);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &svc.db,
        access.org.id,
        Some(access.user_id),
        "event.created",
        &event.name,
        Some(event.status.as_str()),
    )
    .await;
    let update = if event.status == EventStatus::Published {
        svc.db.event_updates(event.id).await?.into_iter().next()
    } else {
        None
    };
    let synced = sync(svc, &event, update.as_ref()).await;
    Ok((event, synced))
}

/// The event an earlier request with this idempotency key `(key, request fingerprint)` created;
/// [`ServiceError::Conflict`] when the key was used for another request.
pub async fn replay(
    svc: &Services,
    access: &OrgAccess,
    idempotency: Option<(&str, &str)>,
) -> Result<Option<(Event, SyncState)>, ServiceError> {
    let Some((key, hash)) = idempotency else { return Ok(None) };
    let Some((stored_hash, event_id)) = svc.db.idempotent_event(access.user_id, key).await? else {
        return Ok(None);
    };
    if stored_hash != hash {
        return Err(ServiceError::Conflict(
            "This Idempotency-Key was already used with a different request; use a new key for a new event."
                .into(),
        ));
    }
    let event = svc.db.event(event_id).await?.ok_or(ServiceError::NotFound)?;
    let synced = sync_state(&svc.db, &event).await?;
    Ok(Some((event, synced)))
}

/// Whether everything committed for the event has reached its workflow.
pub async fn sync_state(db: &Db, event: &Event) -> Result<SyncState, ServiceError> {
    let missing_workflow = event.status == EventStatus::Published && event.workflow_started_at.is_none();
    if missing_workflow || db.event_unsynced(event.id).await? {
        Ok(SyncState::Pending)
    } else {
        Ok(SyncState::Synced)
    }
}

fn check_editable(event: &Event) -> Result<(), ServiceError> {
    if event.status == EventStatus::Cancelled {
        return Err(ServiceError::Conflict(
            "A cancelled event cannot be edited; duplicate it to plan it again.".into(),
        ));
    }
    Ok(())
}

/// Lets visitors answer event `id` without an account (guests), or not; returns the event.
pub async fn set_guests(
    svc: &Services,
    access: &OrgAccess,
    id: Uuid,
    on: bool,
) -> Result<Event, ServiceError> {
    require_manager(access)?;
    let event = load(&svc.db, access, id).await?;
    if event.guests != on {
        svc.db.set_event_guests(id, on).await?;
        tracing::info!(event_id = %id, on, "answers without an account switched");
    }
    load(&svc.db, access, id).await
}

/// Lets the public page of event `id` say how many are going and maybe, or not; returns the
/// event.
pub async fn set_show_attendee_count(
    svc: &Services,
    access: &OrgAccess,
    id: Uuid,
    on: bool,
) -> Result<Event, ServiceError> {
    require_manager(access)?;
    let event = load(&svc.db, access, id).await?;
    if event.show_attendee_count != on {
        svc.db.set_event_show_attendee_count(id, on).await?;
        tracing::info!(event_id = %id, on, "attendee count on the public page switched");
    }
    load(&svc.db, access, id).await
}

// --- Cover images ---

/// The largest cover image accepted: 2 MiB.
pub const MAX_COVER_BYTES: usize = 2 * 1024 * 1024;

/// Why a cover image was refused.
#[derive(Debug, thiserror::Error)]
pub enum CoverError {
    /// Over [`MAX_COVER_BYTES`] (413).
    #[error("The image is larger than 2 MB; choose a smaller one (a 1600 × 900 JPEG is plenty).")]
    TooLarge,
    /// Empty, or not a PNG, JPEG or WebP image, whatever its name says (415).
    #[error("That file is not a PNG, JPEG or WebP image; choose one of those.")]
    NotAnImage,
    /// The event or the caller's rights.
    #[error(transparent)]
    Event(#[from] ServiceError),
}

impl From<DbError> for CoverError {
    fn from(e: DbError) -> Self {
        Self::Event(e.into())
    }
}

/// The type of an image from its first bytes (its magic number): PNG, JPEG or WebP, nothing
/// else. The file's name and the type the browser claims are never trusted.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Sets (or replaces) the cover image of event `id` (those who manage events).
pub async fn set_cover(svc: &Services, access: &OrgAccess, id: Uuid, bytes: &[u8]) -> Result<(), CoverError> {
    require_manager(access)?;
    let event = load(&svc.db, access, id).await?;
    if bytes.len() > MAX_COVER_BYTES {
        return Err(CoverError::TooLarge);
    }
    let content_type = sniff_image(bytes).ok_or(CoverError::NotAnImage)?;
    svc.db.set_event_cover(event.id, content_type, bytes).await?;
    info!(event_id = %event.id, content_type, bytes = bytes.len(), "cover image set");
    Ok(())
}

/// Removes the cover image of event `id`; whether there was one.
pub async fn remove_cover(svc: &Services, access: &OrgAccess, id: Uuid) -> Result<bool, ServiceError> {
    require_manager(access)?;
    let event = load(&svc.db, access, id).await?;
    let removed = svc.db.delete_event_cover(event.id).await?;
    if removed {
        info!(event_id = %event.id, "cover image removed");
    }
    Ok(removed)
}

/// How long before its workflow finishes a change must reach it to be sure to count. The
/// workflow of an event finishes at its end (or at its last timed notice, such as the
/// follow-up); a signal that comes later finds nobody, and what it asked for is never sent. A
/// change is signalled at once after it is committed, so a minute is ample.
pub const BEFORE_THE_END: chrono::Duration = chrono::Duration::seconds(60);

/// Until when the workflow of `event` is sure to be running: its end, or its follow-up when
/// that comes later (announcements go before the end).
pub fn workflow_until(event: &Event) -> DateTime<Utc> {
    crate::rules::follow_up_due(event).map_or(event.ends_at, |due| due.max(event.ends_at))
}

/// Whether switching on or changing the follow-up of `old` (to `after` seconds after the end)
/// can still reach its workflow at `now`; the reason when not. Switching it off always can.
pub fn check_follow_up_in_time(
    old: &Event,
    after: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    if after.is_none() || after == old.follow_up_after || old.status != EventStatus::Published {
        return Ok(());
    }
    if workflow_until(old) - now >= BEFORE_THE_END {
        return Ok(());
    }
    let why = if old.ends_at > now {
        "This event ends in less than a minute: a thank-you set up now might never be sent. \
         Set the follow-up before the last minute."
    } else if old.follow_up_after.is_some() && workflow_until(old) > now {
        "The thank-you goes out in less than a minute: it can no longer be changed."
    } else {
        "This event is over and Herald no longer sends anything about it, so a thank-you set up \
         now would never go out. Set the follow-up before the event ends."
    };
    Err(ServiceError::Conflict(why.into()))
}

/// Saves an edit (then syncs it).
pub async fn edit(
    svc: &Services,
    access: &OrgAccess,
    id: Uuid,
    fields: &EventFields,
) -> Result<(Event, SyncState), ServiceError> {
    require_manager(access)?;
    let old = load(&svc.db, access, id).await?;
    check_editable(&old)?;
    check_follow_up_in_time(&old, fields.rules.follow_up_after, Utc::now())?;
    if old.status == EventStatus::Published && fields.status == EventStatus::Draft {
        let mut e = FieldErrors::default();
        e.add("status", "A published event cannot go back to draft; cancel it instead.");
        return Err(ServiceError::Invalid(e));
    }
    let (event, update) = svc.db.update_event(id, fields, Some(access.user_id)).await?;
    let action = match event.status {
        EventStatus::Published if old.status != EventStatus::Published => "event.published",
        EventStatus::Cancelled => "event.cancelled",
        _ => "event.edited",
    };
    audit::record(&svc.db, access.org.id, Some(access.user_id), action, &event.name, None).await;
    let synced = sync(svc, &event, Some(&update)).await;
    Ok((event, synced))
}

/// Publishes a draft as it is (then syncs it): people can see it and answer, and its reminders
/// are scheduled. A draft whose start has passed is refused (edit its time first).
pub async fn publish(
    svc: &Services,
    access: &OrgAccess,
    id: Uuid,
) -> Result<(Event, SyncState), ServiceError> {
    require_manager(access)?;
    let old = load(&svc.db, access, id).await?;
    match old.status {
        EventStatus::Published => return Ok((old.clone(), sync_state(&svc.db, &old).await?)),
        EventStatus::Cancelled => {
            return Err(ServiceError::Conflict("A cancelled event cannot be published.".into()));
        }
        EventStatus::Draft => {}
    }
    if old.starts_at <= Utc::now() {
        return Err(ServiceError::Conflict(
            "This draft's start has passed: edit its time, then publish it.".into(),
        ));
    }
    let mut changes = EventFields::of(&old);
    changes.status = EventStatus::Published;
    let (event, update) = svc.db.update_event(id, &changes, Some(access.user_id)).await?;
    audit::record(&svc.db, access.org.id, Some(access.user_id), "event.published", &event.name, None).await;
    let synced = sync(svc, &event, Some(&update)).await;
    Ok((event, synced))
}

/// Cancels a draft or published event (then syncs it).
pub async fn cancel(
    svc: &Services,
    access: &OrgAccess,
    id: Uuid,
) -> Result<(Event, SyncState), ServiceError> {
    require_manager(access)?;
    let old = load(&svc.db, access, id).await?;
    check_editable(&old)?;
    let mut changes = EventFields::of(&old);
    changes.status = EventStatus::Cancelled;
    let (event, update) = svc.db.update_event(id, &changes, Some(access.user_id)).await?;
    audit::record(&svc.db, access.org.id, Some(access.user_id), "event.cancelled", &event.name, None).await;
    let synced = sync(svc, &event, Some(&update)).await;
    Ok((event, synced))
}

/// Deletes a draft or an event that has ended.
pub async fn delete(svc: &Services, access: &OrgAccess, id: Uuid) -> Result<(), ServiceError> {
    require_manager(access)?;
    let event = load(&svc.db, access, id).await?;
    if event.status != EventStatus::Draft && event.ends_at > Utc::now() {
        return Err(ServiceError::Conflict(
            "Only drafts and events that have ended can be deleted; cancel this one instead, so participants are told."
                .into(),
        ));
    }
    svc.db.delete_event(id).await?;
    audit::record(&svc.db, access.org.id, Some(access.user_id), "event.deleted", &event.name, None).await;
    Ok(())
}

/// A copy of the event as a new draft named "Copy of …".
pub async fn duplicate(svc: &Services, access: &OrgAccess, id: Uuid) -> Result<Event, ServiceError> {
    require_manager(access)?;
    let old = load(&svc.db, access, id).await?;
    let name: String = format!("Copy of {}", old.name).chars().take(MAX_NAME).collect();
    let slug = slug_for(&old.name);
    let new = NewEvent {
        org_id: old.org_id,
        slug: &slug,
        name: &name,
        description: &old.description,
        location: old.location.as_deref(),
        online_url: old.online_url.as_deref(),
        starts_at: old.starts_at,
        ends_at: old.ends_at,
        timezone: old.timezone.name(),
        visibility: old.visibility,
        reminder_offsets: old.reminder_offsets.0.clone(),
        status: EventStatus::Draft,
        created_by: Some(access.user_id),
    };
    let notices = Notices {
        reminders: old.notify_reminders,
        changes: old.notify_changes,
        cancellation: old.notify_cancellation,
    };
    let copy = svc.db.create_event_with_rules(&new, notices, &EventFields::of(&old).rules, None).await?;
    let detail = format!("as {}", copy.name);
    audit::record(&svc.db, access.org.id, Some(access.user_id), "event.duplicated", &old.name, Some(&detail))
        .await;
    Ok(copy)
}

// --- Sync with the workflow ---

/// Tells the event's workflow about a committed change: publishing starts the workflow
/// (already started counts as success), an edit signals `event_updated`, a cancellation
/// `event_cancelled`; on success the update is marked signalled and its outbox row deleted. A
/// draft has nothing to tell. Never fails: the change and its outbox row are committed.
///
/// A save never waits long for Temporal. The process that saved a change holds its outbox row
/// for a while ([`crate::db::outbox::HANDOFF`]) and tries at once, waiting at most
/// [`SYNC_BUDGET`] before answering ([`SyncState::Pending`] then; the attempt goes on in the
/// background). When the link is known to be down, or the attempt fails, it hands the row
/// over: the outbox drain of any Herald process ([`drain_outbox`]) tells the workflow once
/// Temporal answers, and the reconciler ([`reconcile`]) stays the safety net.
pub async fn sync(svc: &Services, event: &Event, update: Option<&EventUpdate>) -> SyncState {
    if event.status == EventStatus::Draft {
        // Nothing is scheduled for a draft: only the database is told.
        return sync_with(&svc.db, &svc.temporal, event, update).await;
    }
    if matches!(svc.temporal.state(), crate::temporal::LinkState::Down(_)) {
        info!(event_id = %event.id, "Temporal is unreachable; the change is saved and will be synced later");
        hand_over(&svc.db, event.id).await;
        return SyncState::Pending;
    }
    // Temporal slow or swamped: past this many saves still talking to it, the outbox drain
    // (which tells SYNC_CONCURRENCY at a time) takes the change instead of another waiting task.
    let Ok(in_flight) = SYNCS_IN_FLIGHT.try_acquire() else {
        hand_over(&svc.db, event.id).await;
        return SyncState::Pending;
    };
    let (db, temporal, event, update) =
        (svc.db.clone(), svc.temporal.clone(), event.clone(), update.cloned());
    // In the request's span, so that the start or signal joins its trace (optional traces).
    // A change the outbox drain tells later joins it too: its row carries the trace.
    let task = tokio::spawn(
        async move {
            let _in_flight = in_flight;
            let state = sync_with(&db, &temporal, &event, update.as_ref()).await;
            if state == SyncState::Pending {
                hand_over(&db, event.id).await;
            }
            state
        }
        .in_current_span(),
    );
    match tokio::time::timeout(SYNC_BUDGET, task).await {
        Ok(Ok(state)) => state,
        Ok(Err(e)) => {
            warn!(error = %e, "the sync task failed; the outbox drain will catch up");
            SyncState::Pending
        }
        // Still talking to Temporal: it goes on in the background (and the outbox drain
        // would redo it, idempotently, if it failed).
        Err(_) => SyncState::Pending,
    }
}

/// Whether the link to Temporal is up: a [`SyncState::Pending`] save is then being told right
/// now, not waiting for the scheduler to come back.
pub fn scheduler_reachable(svc: &Services) -> bool {
    svc.temporal.state() == crate::temporal::LinkState::Up
}

/// Saves of this process still talking to Temporal, at most [`MAX_SYNCS_IN_FLIGHT`]: a bulk
/// import while Temporal is slow would otherwise pile up one waiting task (and its memory) per
/// save.
static SYNCS_IN_FLIGHT: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_SYNCS_IN_FLIGHT);

/// See [`SYNCS_IN_FLIGHT`].
pub const MAX_SYNCS_IN_FLIGHT: usize = 64;

/// The longest a save waits for Temporal before answering.
pub const SYNC_BUDGET: std::time::Duration = std::time::Duration::from_millis(50);

/// Lets any process's outbox drain take the event's changes from here, at once.
async fn hand_over(db: &Db, event_id: Uuid) {
    if let Err(e) = db.release_outbox(event_id, None, Utc::now()).await {
        // The row is still there: it becomes claimable when the saving process's hold ends.
        warn!(event_id = %event_id, error = %e, "cannot hand the change over to the outbox drain now");
    }
}

/// [`sync`] for callers that hold only the database and Temporal (the reconciler).
pub async fn sync_with(
    db: &Db,
    temporal: &Temporal,
    event: &Event,
    update: Option<&EventUpdate>,
) -> SyncState {
    sync_traced(db, temporal, event, update, None).await
}

/// [`sync_with`], the start or signal joining the trace `parent` (the request that saved the
/// change, when the outbox drain tells it later).
async fn sync_traced(
    db: &Db,
    temporal: &Temporal,
    event: &Event,
    update: Option<&EventUpdate>,
    parent: Option<&str>,
) -> SyncState {
    match try_sync(db, temporal, event, update, parent).await {
        Ok(s) => s,
        Err(e) => {
            warn!(event_id = %event.id, error = format!("{e:#}"), "event saved but not yet synced with Temporal");
            SyncState::Pending
        }
    }
}

async fn try_sync(
    db: &Db,
    temporal: &Temporal,
    event: &Event,
    update: Option<&EventUpdate>,
    parent: Option<&str>,
) -> anyhow::Result<SyncState> {
    let revision = update.map_or(event.revision, |u| u.revision);
    if event.status == EventStatus::Draft {
        // Nothing is scheduled for a draft: there is no workflow to tell.
        db.mark_told(event.id, revision).await?;
        return Ok(SyncState::Synced);
    }
    let cancelled = event.status == EventStatus::Cancelled;
    if cancelled && event.workflow_started_at.is_none() && !was_published(db, event.id).await? {
        // Never scheduled and nobody was told about it: nothing to stop, nobody to tell.
        db.mark_told(event.id, revision).await?;
        return Ok(SyncState::Synced);
    }
    let Some(client) = temporal.client().await else {
        return Ok(SyncState::Pending);
    };
    let workflow_id = herald_workflows::workflow_id(event.id);
    let started_now = event.workflow_started_at.is_none();
    if started_now {
        // Also for an event cancelled while Temporal was away: the workflow tells its
        // participants, then finishes. One whose first notice is far off starts asleep.
        let wake = match event.status {
            EventStatus::Published => {
                let plan = crate::delivery::plan(db, event).await?;
                crate::schedule::wake_at(event.id, &plan, Utc::now())
            }
            _ => None,
        };
        // The start's own span (optional traces): the workflow's deliveries continue its trace.
        let span =
            tracing::info_span!("temporal.start_workflow", event_id = %event.id, asleep = wake.is_some());
        herald_workflows::trace::follow(&span, parent);
        let traceparent = span.in_scope(herald_workflows::trace::current);
        let input = WorkflowInput {
            event_id: event.id,
            traceparent: traceparent.clone(),
            ..WorkflowInput::default()
        };
        let task_queue = &temporal.config().task_queue;
        let started = match wake {
            Some(wake) => {
                let delay = (wake - Utc::now()).to_std().unwrap_or_default();
                crate::temporal::start_delayed(
                    &client,
                    EventWorkflow::run,
                    input,
                    task_queue,
                    workflow_id,
                    delay,
                )
                .instrument(span)
                .await?
            }
            None => {
                let options = WorkflowStartOptions::new(task_queue.clone(), workflow_id).build();
                match client.start_workflow(EventWorkflow::run, input, options).instrument(span).await {
                    Ok(_) => true,
                    Err(WorkflowStartError::AlreadyStarted { .. }) => false,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let mut wakes_at = wake;
        let mut woken = false;
        if !started {
            // Someone started it first (another process, or the reconciler while this start was
            // on its way), perhaps asleep on an older plan: one that would wake later than this
            // plan needs is woken now, to read it. (The same plan gives the same moment, give or
            // take the time the start took on its way: a minute's margin.)
            let workflow_id = herald_workflows::workflow_id(event.id);
            wakes_at = crate::temporal::wakes_at(&client, &workflow_id).await?;
            let margin = chrono::Duration::minutes(1);
            if wakes_at.is_some_and(|theirs| wake.is_none_or(|ours| ours + margin < theirs)) {
                let signal = EventSignal { revision, traceparent, refresh: false };
                let cancelled = event.status == EventStatus::Cancelled;
                signal_with_start(&client, temporal, event.id, signal, cancelled).await?;
                (wakes_at, woken) = (None, true);
            }
        }
        db.mark_workflow_started(event.id, wakes_at).await?;
        if woken {
            // The other start may have recorded when it would wake.
            db.mark_workflow_awake(event.id).await?;
        }
    } else {
        // A started workflow reads the current plan on every signal: tell it.
        let span = tracing::info_span!("temporal.signal", event_id = %event.id, revision);
        herald_workflows::trace::follow(&span, parent);
        let traceparent = span.in_scope(herald_workflows::trace::current);
        let signal = EventSignal { revision, traceparent, refresh: false };
        if crate::schedule::asleep(event, Utc::now()) {
            // A plain signal would wait with the workflow until it wakes.
            signal_with_start(&client, temporal, event.id, signal, cancelled).instrument(span).await?;
            db.mark_workflow_awake(event.id).await?;
        } else {
            let handle = client.get_workflow_handle::<EventWorkflow>(workflow_id);
            let sent = if cancelled {
                handle
                    .signal(EventWorkflow::event_cancelled, signal, WorkflowSignalOptions::default())
                    .instrument(span)
                    .await
            } else {
                handle
                    .signal(EventWorkflow::event_updated, signal, WorkflowSignalOptions::default())
                    .instrument(span)
                    .await
            };
            if let Err(e) = sent {
                if !matches!(e, WorkflowInteractionError::NotFound(_)) {
                    return Err(e.into());
                }
                // The workflow has finished (the event ended, or it was cancelled before): a
                // signal has nobody to reach, and the plan it would read is in the database.
                info!(event_id = %event.id, "the event's workflow has finished; nothing to signal");
            }
        }
    }
    db.mark_told(event.id, revision).await?;
    Ok(SyncState::Synced)
}

/// Signals the event's workflow with a signal-with-start, which also wakes a workflow started
/// asleep (a plain signal waits with it). It never starts a new run: a finished workflow has
/// nobody to tell, as with a plain signal.
async fn signal_with_start(
    client: &temporalio_client::Client,
    temporal: &Temporal,
    event_id: Uuid,
    signal: EventSignal,
    cancelled: bool,
) -> anyhow::Result<()> {
    let options = WorkflowStartOptions::new(
        temporal.config().task_queue.clone(),
        herald_workflows::workflow_id(event_id),
    )
    .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
    .build();
    let input = WorkflowInput { event_id, ..WorkflowInput::default() };
    let sent = if cancelled {
        client
            .signal_with_start_workflow(
                EventWorkflow::run,
                input,
                EventWorkflow::event_cancelled,
                signal,
                options,
            )
            .await
    } else {
        client
            .signal_with_start_workflow(
                EventWorkflow::run,
                input,
                EventWorkflow::event_updated,
                signal,
                options,
            )
            .await
    };
    match sent {
        Ok(_) => Ok(()),
        // The id's workflow has finished, and a new run is not wanted.
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(WorkflowStartError::Rpc(status)) if status.code() == tonic::Code::AlreadyExists => {
            info!(event_id = %event_id, "the event's workflow has finished; nothing to signal");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

async fn was_published(db: &Db, event_id: Uuid) -> Result<bool, DbError> {
    Ok(db.event_updates(event_id).await?.iter().any(|u| u.kind == UpdateKind::Published))
}

/// How many events' workflows are started or signalled at once by the outbox drain and the
/// reconciler: enough to keep Temporal busy, few enough not to swamp it or the database pool.
pub const SYNC_CONCURRENCY: usize = 16;

/// What catching one event up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct CaughtUp {
    started: usize,
    signalled: usize,
    pending: bool,
}

/// Tells the workflow of event `event_id` everything it has not been told, as it is now: starts
/// it when it was never started (its plan is read at the start, so every change is in), else
/// signals each unsignalled change in order. Idempotent; a deleted event has nothing to tell.
///
/// `traces`: the trace of each revision's change (from its outbox row), which the start or
/// signal joins.
async fn catch_up(
    db: &Db,
    temporal: &Temporal,
    event_id: Uuid,
    refresh: bool,
    traces: &HashMap<i64, String>,
) -> Result<CaughtUp, DbError> {
    let Some(event) = db.event(event_id).await? else { return Ok(CaughtUp::default()) };
    let mut unsignalled: Vec<EventUpdate> =
        db.event_updates(event_id).await?.into_iter().filter(|u| u.signalled_at.is_none()).collect();
    unsignalled.sort_by_key(|u| u.revision);
    let mut done = CaughtUp::default();
    let missing_workflow = event.status != EventStatus::Draft && event.workflow_started_at.is_none();
    if missing_workflow {
        // The start tells every change at once: it joins the trace of the first.
        let first = traces.iter().min_by_key(|(revision, _)| **revision).map(|(_, t)| t.as_str());
        match sync_traced(db, temporal, &event, None, first).await {
            SyncState::Synced => done.started = 1,
            SyncState::Pending => done.pending = true,
        }
    } else {
        for update in &unsignalled {
            let parent = traces.get(&update.revision).map(String::as_str);
            match sync_traced(db, temporal, &event, Some(update), parent).await {
                SyncState::Synced => done.signalled += 1,
                SyncState::Pending => {
                    done.pending = true;
                    break;
                }
            }
        }
    }
    if refresh
        && !missing_workflow
        && !done.pending
        && done.signalled == 0
        && event.status == EventStatus::Published
    {
        // Only asked to read the plan again (someone's quiet hours changed).
        match refresh_workflow(db, temporal, &event).await {
            Ok(()) => done.signalled += 1,
            Err(e) => {
                warn!(event_id = %event.id, error = format!("{e:#}"), "cannot ask the workflow to read its plan again now");
                done.pending = true;
            }
        }
    }
    if !done.pending {
        // Nothing (more) to tell: the rows of changes up to the current revision are done.
        db.outbox_done(event_id, event.revision).await?;
    }
    Ok(done)
}

/// Asks the event's workflow to read its plan again though its revision did not change (a
/// finished workflow has nothing left to plan).
async fn refresh_workflow(db: &Db, temporal: &Temporal, event: &Event) -> anyhow::Result<()> {
    let Some(client) = temporal.client().await else {
        anyhow::bail!("Temporal is unreachable");
    };
    let signal = EventSignal { revision: event.revision, traceparent: None, refresh: true };
    if crate::schedule::asleep(event, Utc::now()) {
        signal_with_start(&client, temporal, event.id, signal, false).await?;
        db.mark_workflow_awake(event.id).await?;
        return Ok(());
    }
    let handle = client.get_workflow_handle::<EventWorkflow>(herald_workflows::workflow_id(event.id));
    match handle.signal(EventWorkflow::event_updated, signal, WorkflowSignalOptions::default()).await {
        Ok(()) | Err(WorkflowInteractionError::NotFound(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Catches up with everything Temporal missed: starts the workflows of published events that
/// have none, and signals committed changes not yet signalled, [`SYNC_CONCURRENCY`] events at
/// a time. Idempotent: the workflow ignores revisions it has seen, and a start of a running
/// workflow counts as done.
pub async fn reconcile(db: &Db, temporal: &Temporal) -> anyhow::Result<Reconciled> {
    let mut ids: Vec<Uuid> = db.events_missing_workflow(500).await?.into_iter().map(|e| e.id).collect();
    ids.extend(db.unsignalled_updates(500).await?.into_iter().map(|u| u.event_id));
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(*id));
    // The reconciler tells what nobody told: its starts and signals are traces of their own.
    let no_traces = HashMap::new();
    let no_traces = &no_traces;
    let passes: Vec<Result<CaughtUp, DbError>> = futures::stream::iter(ids)
        .map(|id| catch_up(db, temporal, id, false, no_traces))
        .buffer_unordered(SYNC_CONCURRENCY)
        .collect()
        .await;
    let mut done = Reconciled::default();
    for pass in passes {
        let pass = pass?;
        done.started += pass.started;
        done.signalled += pass.signalled;
        done.pending += usize::from(pass.pending);
    }
    Ok(done)
}

/// What one pass of [`reconcile`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Workflows started.
    pub started: usize,
    /// Changes signalled.
    pub signalled: usize,
    /// Events still waiting for Temporal.
    pub pending: usize,
}

/// The most outbox rows one drain pass claims.
pub const OUTBOX_BATCH: i64 = 256;

/// How long a drain pass holds the rows it claimed: far more than a pass takes, so a process
/// that dies mid-pass only delays its rows this long.
pub const OUTBOX_LEASE: chrono::Duration = chrono::Duration::seconds(60);

/// The wait before the `attempts`-th retry of an event Temporal did not take: 1, 2, 4 … 60 s.
fn retry_delay(attempts: i32) -> chrono::Duration {
    chrono::Duration::seconds(1_i64 << attempts.clamp(1, 7).saturating_sub(1))
        .min(chrono::Duration::seconds(60))
}

/// What one [`drain_outbox`] pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drained {
    /// Rows claimed.
    pub claimed: usize,
    /// Events whose workflow now knows everything.
    pub synced: usize,
    /// Events whose workflow could not be told yet (retried later).
    pub pending: usize,
}

/// One pass of the outbox drain: claims the due rows (safely with other processes doing the
/// same), tells each event's workflow what it missed, [`SYNC_CONCURRENCY`] events at a time,
/// deletes the rows of those told and retries the others later.
pub async fn drain_outbox(db: &Db, temporal: &Temporal) -> Result<Drained, DbError> {
    let rows = db.claim_outbox(OUTBOX_BATCH, Utc::now() + OUTBOX_LEASE).await?;
    let mut events: HashMap<Uuid, (i64, i32, bool)> = HashMap::new();
    let mut traces: HashMap<Uuid, HashMap<i64, String>> = HashMap::new();
    for row in &rows {
        let e = events.entry(row.event_id).or_insert((row.id, row.attempts, row.refresh));
        *e = (e.0.max(row.id), e.1.max(row.attempts), e.2 || row.refresh);
        if let Some(t) = &row.traceparent {
            traces.entry(row.event_id).or_default().insert(row.revision, t.clone());
        }
    }
    let traces = &traces;
    let no_traces = HashMap::new();
    let no_traces = &no_traces;
    let outcomes: Vec<bool> = futures::stream::iter(events)
        .map(|(event_id, (last_row, attempts, refresh))| async move {
            let traces = traces.get(&event_id).unwrap_or(no_traces);
            let pending = match catch_up(db, temporal, event_id, refresh, traces).await {
                Ok(done) => done.pending,
                Err(e) => {
                    warn!(event_id = %event_id, error = %e, "cannot catch this event up now");
                    true
                }
            };
            if pending {
                let again = Utc::now() + retry_delay(attempts);
                if let Err(e) = db.release_outbox(event_id, Some(last_row), again).await {
                    // Claimable again when the lease ends.
                    warn!(event_id = %event_id, error = %e, "cannot schedule the retry; the lease will");
                }
            }
            pending
        })
        .buffer_unordered(SYNC_CONCURRENCY)
        .collect()
        .await;
    let pending = outcomes.iter().filter(|p| **p).count();
    Ok(Drained { claimed: rows.len(), synced: outcomes.len() - pending, pending })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_checked() {
        assert_eq!(
            parse_offsets("2h, 30m, 3d").unwrap_or_else(|e| panic!("{e:?}")),
            vec![7200, 1800, 259_200]
        );
        assert!(parse_offsets("2 fortnights").is_err());
        assert_eq!(check_offsets(&[60, 3600]).unwrap_or_else(|e| panic!("{e:?}")), vec![3600, 60]);
        assert!(check_offsets(&[0]).is_err());
        assert!(check_offsets(&[MAX_OFFSET + 1]).is_err());
        assert!(check_offsets(&[60, 60]).is_err());
        assert!(check_offsets(&(1..=11).collect::<Vec<_>>()).is_err());
    }

    #[test]
    fn local_times_follow_dst() {
        let tz: Tz = "Europe/Paris".parse().unwrap_or_else(|e| panic!("{e:?}"));
        // 2026-10-25 02:30 happens twice in Paris: the earlier (CEST, +02:00) is used.
        let t = resolve_local(parse_local("2026-10-25T02:30").unwrap_or_else(|e| panic!("{e:?}")), tz)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(t.to_rfc3339(), "2026-10-25T00:30:00+00:00");
        // 2026-03-29 02:30 does not exist.
        assert!(
            resolve_local(parse_local("2026-03-29T02:30").unwrap_or_else(|e| panic!("{e:?}")), tz).is_err()
        );
    }

    #[test]
    fn markdown_is_safe() {
        let html = render_markdown("**hi** <script>alert(1)</script> [x](javascript:alert(1))");
        assert!(html.contains("<strong>hi</strong>"));
        assert!(!html.contains("<script>"));
        assert!(!html.contains("javascript:"));
        assert!(render_markdown("# Title").contains("<h3>Title</h3>"));
    }
}

#[cfg(test)]
mod cover_tests {
    use super::sniff_image;

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F']), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
    }

    #[test]
    fn anything_else_is_not_an_image() {
        for bytes in [
            &b""[..],
            b"hello, this is text pretending to be a .png",
            b"\x89PNG",                                   // cut short
            b"RIFF\x24\0\0\0WAVEfmt ",                    // a sound
            b"GIF89a\x01\0\x01\0",                        // GIF: not accepted
            b"<svg xmlns='http://www.w3.org/2000/svg'/>", // SVG: scripts, never
        ] {
            assert_eq!(sniff_image(bytes), None, "{bytes:?}");
        }
    }
}
