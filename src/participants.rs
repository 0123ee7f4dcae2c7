//! Participants of events: who may see an event, adding people by email (existing users are
//! added, unknown addresses invited by mail), roles, RSVP with the channels an event uses,
//! leaving and removing, and CSV imports. The rules shared by pages and the API.
//!
//! - **Visibility** ([`may_see`]): drafts only for those who manage the organization's events;
//!   public and unlisted events for anyone; private ones for the organization's members and the
//!   event's participants. Anything else is [`ServiceError::NotFound`], like a missing event.
//! - **Invitations.** An unknown address is stored as `invited_email` and mailed a link to the
//!   event page and to sign up. When someone verifies that very address, the invitation becomes
//!   their participation ([`crate::db::Db::mark_user_verified`]): matching on a *verified*
//!   address is what stops a stranger from claiming an invitation by signing up with it.
//! - **Channels.** A participant picks which of their active (enabled and confirmed)
//!   integrations the event uses, each with tags; an empty tag list means every URL of the
//!   integration (the same rule as the default tags of issue #4). Without a choice, the
//!   defaults are every active integration with the user's default reminder tags. Organizers
//!   see the integrations' names and tags, never their URLs or keys.
//! - **CSV import**: `email[,role[,name]]` per line, an optional header; each row is reported
//!   (added, invited, already a participant, or an error with the reason), bad rows never stop
//!   good ones. Runs in the background; progress and report live in the `imports` table.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use crate::audit;
use crate::db::events::IdempotencyKey;
use crate::db::models::{
    Event, EventStatus, Organization, Participant, ParticipantRole, Role, Rsvp, User, Visibility,
};
use crate::db::participants::{ChannelRow, Import, ImportOutcome, Invitee, ParticipantRow};
use crate::db::{Db, DbError};
use crate::domain::FieldErrors;
use crate::domain::ServiceError;
use crate::domain::time::Viewer;
use crate::domain::{Email, Name};
use crate::events::manages_events;
use crate::services::Services;

/// Largest CSV file accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 1024 * 1024;
/// Most rows in one CSV import.
pub const MAX_IMPORT_ROWS: usize = 5000;
/// A running import not updated for this long was interrupted (Herald restarted).
pub const IMPORT_STALE_SECS: i64 = 120;

/// Said to unverified users who try to RSVP.
pub const VERIFY_FIRST: &str = "Verify your email address first: open the link we mailed you (or send it again \
     from your account page). Then you can join events.";

fn forbidden_manage() -> ServiceError {
    ServiceError::Forbidden("Only owners, admins and organizers manage participants.".into())
}

fn field(name: &str, message: impl Into<String>) -> ServiceError {
    let mut e = FieldErrors::default();
    e.add(name, message);
    ServiceError::Invalid(e)
}

// --- Visibility ---

/// Whether someone with organization role `member` (none: not a member) who is or is not a
/// participant may see `event`.
pub fn may_see(event: &Event, member: Option<Role>, participant: bool) -> bool {
    match event.status {
        EventStatus::Draft => member.is_some_and(manages_events),
        _ => event.visibility != Visibility::Private || member.is_some() || participant,
    }
}

/// An event as one visitor may see it.
#[derive(Debug, Clone)]
pub struct EventView {
    /// The event's organization.
    pub org: Organization,
    /// The event.
    pub event: Event,
    /// The visitor's role in the organization, if a member.
    pub member: Option<Role>,
    /// The visitor's participation, if any.
    pub participant: Option<Participant>,
    /// An invitation to the visitor's verified address, waiting for their answer (only when they
    /// do not take part yet). Answering accepts it; until then nothing is sent to them.
    pub invitation: Option<Participant>,
}

impl EventView {
    /// Whether the visitor manages the organization's events (and so its participants).
    pub fn manages(&self) -> bool {
        self.member.is_some_and(manages_events)
    }
}

/// `event` as `user` (none: anonymous) sees it; [`ServiceError::NotFound`] if they may not.
pub async fn view(
    db: &Db,
    org: Organization,
    event: Event,
    user: Option<Uuid>,
) -> Result<EventView, ServiceError> {
    let (member, participant) = match user {
        Some(uid) => {
            (db.membership(org.id, uid).await?.map(|m| m.role), db.participant_of(event.id, uid).await?)
        }
        None => (None, None),
    };
    let invitation = match (user, &participant) {
        (Some(uid), None) => db.invitation_for_user(event.id, uid).await?,
        _ => None,
    };
    if !may_see(&event, member, participant.is_some() || invitation.is_some()) {
        return Err(ServiceError::NotFound);
    }
    Ok(EventView { org, event, member, participant, invitation })
}

/// The event `id` as `user` sees it.
pub async fn view_by_id(db: &Db, id: Uuid, user: Option<Uuid>) -> Result<EventView, ServiceError> {
    let event = db.event(id).await?.ok_or(ServiceError::NotFound)?;
    let org = db.organization_by_id(event.org_id).await?.ok_or(ServiceError::NotFound)?;
    view(db, org, event, user).await
}

/// The event `slug` of organization `org_slug` as `user` sees it on the public pages, where
/// drafts are nobody's (organizers see them in the portal).
pub async fn view_by_slug(
    db: &Db,
    org_slug: &str,
    slug: &str,
    user: Option<Uuid>,
) -> Result<EventView, ServiceError> {
    let org = db.organization_by_slug(org_slug).await?.ok_or(ServiceError::NotFound)?;
    let event = db.event_by_slug(org.id, slug).await?.ok_or(ServiceError::NotFound)?;
    if event.status == EventStatus::Draft {
        return Err(ServiceError::NotFound);
    }
    view(db, org, event, user).await
}

// --- Parsing ---

/// A participant role as typed; empty means attendee.
pub fn parse_role(raw: &str) -> Result<ParticipantRole, String> {
    let s = raw.trim().to_lowercase();
    if s.is_empty() {
        return Ok(ParticipantRole::Attendee);
    }
    ParticipantRole::try_from(s).map_err(|_| "Choose organizer, speaker, volunteer or attendee.".to_owned())
}

/// An answer a participant may give: going, maybe or declined.
pub fn parse_rsvp(raw: &str) -> Result<Rsvp, String> {
    match raw.trim().to_lowercase().as_str() {
        "going" => Ok(Rsvp::Going),
        "maybe" => Ok(Rsvp::Maybe),
        "declined" => Ok(Rsvp::Declined),
        _ => Err("Answer going, maybe or declined.".to_owned()),
    }
}

/// A role in words, for lists.
pub fn role_label(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::Organizer => "Organizer",
        ParticipantRole::Speaker => "Speaker",
        ParticipantRole::Volunteer => "Volunteer",
        ParticipantRole::Attendee => "Attendee",
    }
}

/// An answer in words.
pub fn rsvp_label(rsvp: Rsvp) -> &'static str {
    match rsvp {
        Rsvp::Pending => "No answer yet",
        Rsvp::Going => "Going",
        Rsvp::Maybe => "Maybe",
        Rsvp::Declined => "Declined",
    }
}

// --- Adding ---

/// What adding an address did.
#[derive(Debug, Clone)]
pub enum Added {
    /// An existing user was added.
    User(Participant),
    /// The address has no account: it was invited (`mailed` is false when the mail failed).
    Invited {
        /// The stored invitation.
        participant: Participant,
        /// Whether the mail was handed over.
        mailed: bool,
    },
}

impl Added {
    /// The participant row.
    pub fn participant(&self) -> &Participant {
        match self {
            Self::User(p) | Self::Invited { participant: p, .. } => p,
        }
    }
}

/// Why one address could not be added.
#[derive(Debug)]
enum AddFailure {
    Already,
    Full(usize),
    Db(DbError),
}

/// Said when an event has as many participants as this Herald allows.
fn full(max: usize) -> String {
    format!("This event has reached the limit of {max} participants set by this Herald's operator.")
}

/// Whether the event has room for one more participant.
async fn has_room(svc: &Services, event: &Event) -> Result<bool, DbError> {
    let max = svc.limits.max_participants();
    Ok(usize::try_from(svc.db.participant_count(event.id).await?).unwrap_or(usize::MAX) < max)
}

fn check_open_for_changes(event: &Event) -> Result<(), ServiceError> {
    if event.status == EventStatus::Cancelled {
        return Err(ServiceError::Conflict(
            "This event is cancelled; its participants can no longer change.".into(),
        ));
    }
    Ok(())
}

/// Adds `email` with `role` to the event (organizers): an existing user directly (with their
/// default channels), an unknown address as a mailed invitation. With an idempotency key
/// (API), the key is stored with the participant.
#[allow(clippy::too_many_arguments)]
pub async fn add(
    svc: &Services,
    member: Option<Role>,
    org: &Organization,
    event: &Event,
    inviter: &User,
    email: &str,
    role: &str,
    idempotency: Option<&IdempotencyKey<'_>>,
) -> Result<Added, ServiceError> {
    if !member.is_some_and(manages_events) {
        return Err(forbidden_manage());
    }
    let mut errors = FieldErrors::default();
    let email = errors.check("email", Email::parse(email));
    let role = errors.check("role", parse_role(role));
    let (Some(email), Some(role)) = (email, role) else { return Err(ServiceError::Invalid(errors)) };
    check_open_for_changes(event)?;
    match add_one(svc, org, event, inviter, &email, role, None, idempotency).await {
        Ok(added) => {
            let action = match added {
                Added::User(_) => "participant.added",
                Added::Invited { .. } => "participant.invited",
            };
            let detail = format!("{email} as {role}");
            audit::record(&svc.db, org.id, Some(inviter.id), action, &event.name, Some(&detail)).await;
            Ok(added)
        }
        Err(AddFailure::Already) => Err(ServiceError::Conflict(format!("{email} is already a participant."))),
        Err(AddFailure::Full(max)) => Err(ServiceError::Conflict(full(max))),
        Err(AddFailure::Db(e)) => Err(e.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn add_one(
    svc: &Services,
    org: &Organization,
    event: &Event,
    inviter: &User,
    email: &Email,
    role: ParticipantRole,
    name: Option<&str>,
    idempotency: Option<&IdempotencyKey<'_>>,
) -> Result<Added, AddFailure> {
    let db = &svc.db;
    let conflict = |e: DbError| match e {
        DbError::Conflict(_) => AddFailure::Already,
        other => AddFailure::Db(other),
    };
    // Members of the organization are added at once: they joined it. Anyone else is invited and
    // hears nothing until they answer, and the organizer's answer is the same whether or not the
    // address has an account.
    if !has_room(svc, event).await.map_err(AddFailure::Db)? {
        return Err(AddFailure::Full(svc.limits.max_participants()));
    }
    let account = db.user_by_email(email.as_str()).await.map_err(AddFailure::Db)?;
    if let Some(user) = &account
        && db.participant_of(event.id, user.id).await.map_err(AddFailure::Db)?.is_some()
    {
        return Err(AddFailure::Already);
    }
    let member = match &account {
        Some(user) => db.membership(org.id, user.id).await.map_err(AddFailure::Db)?.map(|_| user),
        None => None,
    };
    if let Some(user) = member {
        let p = db
            .add_participant_with(event.id, Invitee::User(user.id), role, None, idempotency)
            .await
            .map_err(conflict)?;
        let defaults = default_channels(db, user.id).await.map_err(AddFailure::Db)?;
        db.set_participant_channels(p.id, &defaults).await.map_err(AddFailure::Db)?;
        tracing::info!(event_id = %event.id, participant_id = %p.id, "participant added");
        return Ok(Added::User(p));
    }
    let p = db
        .add_participant_with(event.id, Invitee::Email(email.as_str()), role, name, idempotency)
        .await
        .map_err(conflict)?;
    tracing::info!(event_id = %event.id, participant_id = %p.id, "participant invited");
    let mailed = svc.limits.invitation_mail(inviter.id, email.as_str())
        && send_invitation(svc, org, event, &inviter.display_name, email, role, account.is_some()).await;
    Ok(Added::Invited { participant: p, mailed })
}

async fn send_invitation(
    svc: &Services,
    org: &Organization,
    event: &Event,
    inviter: &str,
    to: &Email,
    role: ParticipantRole,
    has_account: bool,
) -> bool {
    let page = format!("/o/{}/e/{}", org.slug, event.slug);
    let next = url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>();
    // The invitee has no preferences yet: the event's own time, month in words.
    let viewer = Viewer::stranger(event.timezone);
    let when = format!("{} ({})", viewer.moment(event.starts_at), event.timezone);
    let page_url = svc.links.absolute(&page);
    let signup = svc.links.absolute(&format!("/signup?next={next}"));
    let how = if has_account {
        let signin = svc.links.absolute(&format!("/signin?next={next}"));
        format!(
            "To take part, sign in to Herald as {to} and answer on the event's page; nothing is sent to \
             you about this event until you do:\n\n{signin}"
        )
    } else if guests_welcome(event) {
        format!(
            "To answer and get reminders by email, open the event's page and answer with this address \
             ({to}); no account or password is needed:\n\n{page_url}\n\nNothing is sent to you about this \
             event until you answer."
        )
    } else {
        format!(
            "To answer and get reminders, create a Herald account with this address ({to}) and verify it; \
             the event is then yours to answer:\n\n{signup}"
        )
    };
    let body = format!(
        "Hello,\n\n{inviter} invited you to {event} ({org}) on Herald as {role}.\n\n\
         When: {when}\n\nThe event: {page_url}\n\n{how}\n\n\
         If you did not expect this, ignore this message.\n",
        event = event.name,
        org = org.name,
        role = role_label(role).to_lowercase(),
    );
    let subject = format!("{inviter} invited you to {} on Herald", event.name);
    match svc.mailer.send(to, &subject, &body).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, event_id = %event.id, "cannot mail an event invitation");
            false
        }
    }
}

// --- Opting out ---

/// The link at the end of every message to a participant: it stops this event's messages to
/// them (after one click on the page it opens, or one POST as RFC 8058 mail clients send).
/// The token names the participant and is signed: nobody can make one for someone else.
pub fn opt_out_path(keys: &crate::secrets::SecretKey, participant_id: Uuid) -> String {
    format!("/optout/{}", opt_out_token(keys, participant_id))
}

fn opt_out_token(keys: &crate::secrets::SecretKey, participant_id: Uuid) -> String {
    use base64::Engine;
    let mac = keys.sign("opt-out", participant_id.as_bytes());
    let mut raw = participant_id.as_bytes().to_vec();
    raw.extend_from_slice(&mac[..16]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// The participant an opt-out token names, when it is genuine.
fn opt_out_participant(keys: &crate::secrets::SecretKey, token: &str) -> Option<Uuid> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.as_bytes()).ok()?;
    let (id, mac) = (raw.get(..16)?, raw.get(16..)?);
    let id = Uuid::from_slice(id).ok()?;
    let expected = keys.sign("opt-out", id.as_bytes());
    crate::secrets::constant_time_eq(mac, &expected[..16]).then_some(id)
}

/// What an opt-out link is about: the participation and its event.
#[derive(Debug, Clone)]
pub struct OptOut {
    /// The participation.
    pub participant: Participant,
    /// Its event.
    pub event: Event,
}

/// The participation an opt-out token names; [`ServiceError::NotFound`] for a forged token or
/// a participation that is gone.
pub async fn opt_out_target(svc: &Services, token: &str) -> Result<OptOut, ServiceError> {
    let id = opt_out_participant(&svc.keys, token).ok_or(ServiceError::NotFound)?;
    let participant = svc.db.participant(id).await?.ok_or(ServiceError::NotFound)?;
    let event = svc.db.event(participant.event_id).await?.ok_or(ServiceError::NotFound)?;
    Ok(OptOut { participant, event })
}

/// Stops (`stop`) or resumes the event's messages to the participant the token names.
pub async fn set_opted_out(svc: &Services, token: &str, stop: bool) -> Result<OptOut, ServiceError> {
    let target = opt_out_target(svc, token).await?;
    let at = stop.then(Utc::now);
    if target.participant.opted_out_at.is_some() != stop {
        svc.db.set_opted_out(target.participant.id, at).await?;
        tracing::info!(participant_id = %target.participant.id, stop, "event messages opted out or back in");
    }
    opt_out_target(svc, token).await
}

/// Changes the answer of the participant the token names (the link at the end of every message
/// works for guests too, who have no account to sign in with). A cancelled or finished event
/// keeps its answers.
pub async fn answer_by_link(svc: &Services, token: &str, answer: Rsvp) -> Result<OptOut, ServiceError> {
    let target = opt_out_target(svc, token).await?;
    if target.event.status != EventStatus::Published || target.event.ends_at <= Utc::now() {
        return Err(ServiceError::Conflict("This event no longer takes answers.".into()));
    }
    if target.participant.rsvp != answer {
        svc.db.set_rsvp(target.participant.id, answer, true).await?;
        tracing::info!(participant_id = %target.participant.id, answer = %answer, "answer changed from a message link");
        confirm_by_mail(svc, target.participant.id, target.participant.rsvp, answer);
    }
    opt_out_target(svc, token).await
}

// --- Confirmations with a calendar invitation ---

/// After an answer changed from `before` to `after`: mails the participant a confirmation with
/// the event as a calendar invitation (`invite.ics`, METHOD:REQUEST, the event's UID and
/// revision), or, when they no longer go, a METHOD:CANCEL that takes it out of their calendar
/// again. Only through the built-in email channel, when it is on and used for the event, and
/// never to someone who stopped the event's messages. Sent in the background: the answer does
/// not wait for the mail server, and a mail that cannot be sent is logged.
fn confirm_by_mail(svc: &Services, participant_id: Uuid, before: Rsvp, after: Rsvp) {
    use crate::calendar::Method;
    let going = |r: Rsvp| matches!(r, Rsvp::Going | Rsvp::Maybe);
    let method = match (going(before), going(after)) {
        _ if before == after => return,
        (_, true) => Method::Request,
        (true, false) => Method::Cancel,
        (false, false) => return,
    };
    if !svc.mailer.sends() {
        return;
    }
    let svc = svc.clone();
    tokio::spawn(async move {
        if let Err(e) = mail_confirmation(&svc, participant_id, method).await {
            tracing::warn!(%participant_id, error = format!("{e:#}"), "cannot mail an answer's confirmation");
        }
    });
}

async fn mail_confirmation(
    svc: &Services,
    participant_id: Uuid,
    method: crate::calendar::Method,
) -> anyhow::Result<()> {
    use crate::calendar::{Method, Person};
    let db = &svc.db;
    let Some(participant) = db.participant(participant_id).await? else { return Ok(()) };
    let Some(user_id) = participant.user_id else { return Ok(()) };
    let (Some(event), Some(user)) = (db.event(participant.event_id).await?, db.user_by_id(user_id).await?)
    else {
        return Ok(());
    };
    if participant.opted_out_at.is_some()
        || event.status != EventStatus::Published
        || event.ends_at <= Utc::now()
        || user.verified_at.is_none()
    {
        return Ok(());
    }
    // The built-in email channel must be on and among the channels the event uses for them.
    let Some(email_channel) = db.email_integration_of(user.id).await? else { return Ok(()) };
    let chosen = db.channel_rows_of(participant.id).await?;
    let uses_email = email_channel.enabled
        && (chosen.is_empty() || chosen.iter().any(|c| c.integration_id == email_channel.id));
    if !uses_email {
        return Ok(());
    }
    let Some(org) = db.organization_by_id(event.org_id).await? else { return Ok(()) };
    let to = Email::parse(&user.email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let page = svc.links.absolute(&format!("/o/{}/e/{}", org.slug, event.slug));
    let sender = svc
        .mailer
        .url_for(&to)
        .and_then(|u| crate::delivery::mail_sender(&u))
        .unwrap_or_else(|| format!("herald@{}", svc.links.host()));
    let file = crate::delivery::invitation_file(crate::calendar::invitation(
        &event,
        &page,
        method,
        Person { name: &org.name, email: &sender },
        Person { name: &user.display_name, email: &user.email },
        participant.rsvp == Rsvp::Maybe,
    ));
    let viewer = user.viewer();
    let (subject, opening) = match (method, participant.rsvp) {
        (Method::Request, Rsvp::Maybe) => (
            format!("Maybe: {}", event.name),
            "You said you might go. The event is attached for your calendar.",
        ),
        (Method::Request, _) => (
            format!("You're going: {}", event.name),
            "See you there. The event is attached for your calendar.",
        ),
        (Method::Cancel, _) => (
            format!("Not going: {}", event.name),
            "You are no longer going; the attachment takes the event out of your calendar.",
        ),
    };
    let opt_out = svc.links.absolute(&opt_out_path(&svc.keys, participant.id));
    let mut body = format!(
        "{opening}\n\n{name}\nWhen: {when}\n",
        name = event.name,
        when = viewer.span(event.starts_at, event.ends_at),
    );
    if let Some(place) = &event.location {
        body.push_str(&format!("Where: {place}\n"));
    }
    if let Some(url) = &event.online_url {
        body.push_str(&format!("Online: {url}\n"));
    }
    body.push_str(&format!(
        "Details: {page}\n\n—\nYour answer, or stop messages about this event: {opt_out}\nYour notification settings: {}",
        svc.links.absolute("/integrations")
    ));
    svc.mailer.send_attaching(&to, &subject, &body, &file, Some(&opt_out)).await?;
    tracing::info!(%participant_id, event_id = %event.id, "answer confirmed by mail with a calendar invitation");
    Ok(())
}

// --- Guests ---

/// How long the link confirming a guest's answer works.
pub const GUEST_LINK_HOURS: i64 = 48;

/// Whether visitors may answer `event` without an account: allowed by its organizers (the
/// default), published, public or unlisted, not over.
pub fn guests_welcome(event: &Event) -> bool {
    event.guests
        && event.status == EventStatus::Published
        && event.visibility != Visibility::Private
        && event.ends_at > Utc::now()
}

/// A visitor answers without an account: name, address and answer. Nothing changes until the
/// link mailed to that address is followed ([`confirm_guest_answer`]), so nobody can make
/// someone else a participant; the answer is the same whatever the address. Returns the
/// address the link went to.
pub async fn guest_answer(
    svc: &Services,
    view: &EventView,
    name: &str,
    email: &str,
    answer: &str,
    client: std::net::IpAddr,
) -> Result<Email, ServiceError> {
    let event = &view.event;
    if !guests_welcome(event) {
        return Err(ServiceError::Conflict(
            "This event takes no answers without an account (it may be over, cancelled or private): sign in to answer."
                .into(),
        ));
    }
    let mut errors = FieldErrors::default();
    let name = errors.check("name", Name::parse(name));
    let email = errors.check("email", Email::parse(email));
    let rsvp = errors.check("rsvp", parse_rsvp(answer));
    let (Some(name), Some(email), Some(rsvp)) = (name, email, rsvp) else {
        return Err(ServiceError::Invalid(errors));
    };
    svc.limits.guest_answer(client)?;
    let token = crate::secrets::random_token();
    let expires = Utc::now() + chrono::Duration::hours(GUEST_LINK_HOURS);
    svc.db
        .create_guest_answer(
            event.id,
            email.as_str(),
            name.as_str(),
            rsvp,
            &crate::secrets::hash_token(&token),
            expires,
        )
        .await?;
    if svc.limits.account_mail(email.as_str()) {
        let link = svc.links.absolute(&format!("/guest/{token}"));
        let viewer = Viewer::stranger(event.timezone);
        let when = format!("{} ({})", viewer.moment(event.starts_at), event.timezone);
        let body = format!(
            "Hello {name},\n\nyou answered “{answer}” to {event} ({org}), {when}.\n\n\
             Confirm it with this link; Herald then emails you the reminders and any change:\n\n{link}\n\n\
             The link works once, for {GUEST_LINK_HOURS} hours. If you did not answer, ignore this message.\n",
            name = name.as_str(),
            answer = rsvp_label(rsvp),
            event = event.name,
            org = view.org.name,
        );
        let subject = format!("Confirm your answer to {}", event.name);
        if let Err(e) = svc.mailer.send(&email, &subject, &body).await {
            tracing::warn!(error = %e, event_id = %event.id, "cannot mail a guest's confirmation link");
        }
    }
    tracing::info!(event_id = %event.id, "guest answer waiting for its link");
    Ok(email)
}

/// A guest's answer, confirmed.
#[derive(Debug, Clone)]
pub struct GuestConfirmed {
    /// The account of the address (made now if it had none).
    pub user_id: Uuid,
    /// The event.
    pub event: Event,
    /// Its organization.
    pub org: Organization,
    /// The answer.
    pub rsvp: Rsvp,
}

/// Follows a guest's link: the address is proven, so it becomes (or joins) an account, which
/// takes part in the event with the answer given. `None` for a link that is unknown, used or
/// expired.
pub async fn confirm_guest_answer(
    svc: &Services,
    token: &str,
) -> Result<Option<GuestConfirmed>, ServiceError> {
    let db = &svc.db;
    let Some((event_id, email, name, answer)) =
        db.use_guest_answer(&crate::secrets::hash_token(token)).await?
    else {
        return Ok(None);
    };
    let rsvp = parse_rsvp(&answer).map_err(|m| anyhow::anyhow!("a stored guest answer: {m}"))?;
    let event = db.event(event_id).await?.ok_or(ServiceError::NotFound)?;
    let org = db.organization_by_id(event.org_id).await?.ok_or(ServiceError::NotFound)?;
    let user = match db.user_by_email(&email).await? {
        Some(user) => user,
        None => {
            let new = crate::db::users::NewUser {
                email: &email,
                display_name: &name,
                password_hash: None,
                timezone: event.timezone.name(),
                verified: false,
            };
            match db.create_user(&new).await {
                Ok(user) => user,
                Err(DbError::Conflict(_)) => db.user_by_email(&email).await?.ok_or(ServiceError::NotFound)?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    // The link proves the inbox (this also turns invitations to the address into participations).
    crate::accounts::mark_verified(db, user.id).await?;
    let participant = match db.participant_of(event.id, user.id).await? {
        Some(p) => p,
        None => {
            if !has_room(svc, &event).await? {
                return Err(ServiceError::Conflict(full(svc.limits.max_participants())));
            }
            match db
                .add_participant_with(event.id, Invitee::User(user.id), ParticipantRole::Attendee, None, None)
                .await
            {
                Ok(p) => p,
                Err(DbError::Conflict(_)) => {
                    db.participant_of(event.id, user.id).await?.ok_or(ServiceError::NotFound)?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    db.set_rsvp(participant.id, rsvp, true).await?;
    crate::integrations::email::ensure_for(svc, user.id).await;
    confirm_by_mail(svc, participant.id, participant.rsvp, rsvp);
    tracing::info!(event_id = %event.id, participant_id = %participant.id, "guest answer confirmed");
    Ok(Some(GuestConfirmed { user_id: user.id, event, org, rsvp }))
}

// --- What was sent ---

/// One message to a participant as they may see it: what, when, through which channel, and
/// how it went in plain words (never the notification service's own answer).
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// When it was (or is) due.
    pub at: chrono::DateTime<Utc>,
    /// "Reminder", "Change", "Cancellation".
    pub what: &'static str,
    /// The channel's name ("—" when none).
    pub channel: String,
    /// How it went.
    pub outcome: String,
    /// Whether it reached them.
    pub delivered: bool,
}

/// The messages Herald sent (or did not send) to `participant_id`, newest first.
pub async fn sent_to(db: &Db, participant_id: Uuid) -> Result<Vec<SentMessage>, DbError> {
    use crate::db::models::{DeliveryStatus, NoticeKind};
    let rows = db.ledger_of_participant(participant_id, 100).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let what = match r.kind {
                NoticeKind::Reminder => "Reminder",
                NoticeKind::Updated => "Change",
                NoticeKind::Cancelled => "Cancellation",
                NoticeKind::Message | NoticeKind::FollowUp => "Message",
            };
            let reason = r.apprise_answer.as_deref().unwrap_or("");
            let (outcome, delivered) = match r.status {
                DeliveryStatus::Sent => ("Delivered".to_owned(), true),
                DeliveryStatus::Partial => ("Delivered to some of its addresses".to_owned(), true),
                DeliveryStatus::Pending => ("Sending".to_owned(), false),
                DeliveryStatus::Failed => ("Not delivered: the service did not accept it".to_owned(), false),
                DeliveryStatus::Expired => ("Not sent: it was too late".to_owned(), false),
                DeliveryStatus::Skipped if reason == crate::delivery::OPTED_OUT => {
                    ("Not sent: you stopped this event's messages".to_owned(), false)
                }
                DeliveryStatus::Skipped if reason.contains("no confirmed channel") => {
                    ("Not sent: you had no confirmed channel".to_owned(), false)
                }
                DeliveryStatus::Skipped => ("Not sent".to_owned(), false),
                DeliveryStatus::Uncertain => {
                    ("Probably delivered: it was on its way when sending was interrupted".to_owned(), true)
                }
            };
            SentMessage {
                at: r.due_at,
                what,
                channel: r.integration_name.unwrap_or_else(|| "—".to_owned()),
                outcome,
                delivered,
            }
        })
        .collect())
}

// --- Reach ---

/// How a participant will be told about an event, as the organizer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Through these channels (names, never URLs).
    Through(Vec<String>),
    /// Not at all, and why, in words.
    Not(&'static str),
}

impl Reach {
    /// Whether notices reach the participant.
    pub fn reachable(&self) -> bool {
        matches!(self, Self::Through(_))
    }
}

/// Said of an invitation not answered yet.
pub const NOT_ANSWERED: &str = "Invited: nothing is sent until they answer";
/// Said of someone without any working channel.
pub const NO_CHANNEL: &str = "No confirmed channel: they will not be told";
/// Said of someone who declined.
pub const DECLINED: &str = "Declined: nothing more is sent";
/// Said of someone who stopped the event's messages with the link in one.
pub const OPTED_OUT: &str = "Stopped this event's messages";

/// For each of `rows` (participants of `event_id`, with `chosen` their channels for the event,
/// as the caller loaded them), how they will be told: the channels they chose that still work,
/// or else all their working channels (as delivery does), or why nobody can reach them.
pub async fn reachability(
    db: &Db,
    event_id: Uuid,
    rows: &[ParticipantRow],
    chosen: &[ChannelRow],
) -> Result<HashMap<Uuid, Reach>, DbError> {
    let active = db.participants_active_channels(event_id).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let reach = if r.user_id.is_none() {
            Reach::Not(NOT_ANSWERED)
        } else if r.rsvp == Rsvp::Declined {
            Reach::Not(DECLINED)
        } else if r.opted_out_at.is_some() {
            Reach::Not(OPTED_OUT)
        } else {
            let working: Vec<&(Uuid, Uuid, String)> = active.iter().filter(|(p, _, _)| *p == r.id).collect();
            let mine: Vec<&ChannelRow> = chosen.iter().filter(|c| c.participant_id == r.id).collect();
            let names: Vec<String> = if mine.is_empty() {
                working.iter().map(|(_, _, name)| name.clone()).collect()
            } else {
                mine.iter()
                    .filter(|c| working.iter().any(|(_, id, _)| *id == c.integration_id))
                    .map(|c| c.name.clone())
                    .collect()
            };
            if names.is_empty() { Reach::Not(NO_CHANNEL) } else { Reach::Through(names) }
        };
        out.insert(r.id, reach);
    }
    Ok(out)
}

// --- Channels ---

/// A channel chosen for an event: one of the user's integrations and its tags (empty: every URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelChoice {
    /// The integration.
    pub integration_id: Uuid,
    /// Tags; empty means every URL of the integration.
    pub tags: Vec<String>,
}

/// The user's defaults: every active integration, with their default reminder tags.
pub async fn default_channels(db: &Db, user_id: Uuid) -> Result<Vec<(Uuid, Vec<String>)>, DbError> {
    let (reminder_tags, _) = db.notification_defaults(user_id).await?;
    Ok(db
        .integrations_of(user_id)
        .await?
        .into_iter()
        .filter(|i| i.enabled && i.verified_at.is_some())
        .map(|i| (i.id, reminder_tags.clone()))
        .collect())
}

/// Checks the channels `user` chose: their own active integrations, each once, with valid tags.
/// Problems are named `{prefix}[i].integration_id` and `{prefix}[i].tags`.
pub async fn check_channels(
    db: &Db,
    user_id: Uuid,
    prefix: &str,
    raw: &[(String, Vec<String>)],
) -> Result<Vec<ChannelChoice>, ServiceError> {
    let mut errors = FieldErrors::default();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    if raw.len() > 50 {
        return Err(field(prefix, "Choose at most 50 channels."));
    }
    for (i, (id, tags)) in raw.iter().enumerate() {
        let id_field = format!("{prefix}[{i}].integration_id");
        let integration = match Uuid::parse_str(id.trim()) {
            Ok(id) => db.integration_of(user_id, id).await?,
            Err(_) => None,
        };
        let Some(integration) = integration else {
            errors.add(&id_field, "This is not one of your notification channels.");
            continue;
        };
        if !integration.enabled || integration.verified_at.is_none() {
            errors
                .add(&id_field, format!("“{}” is not active: confirm or enable it first.", integration.name));
            continue;
        }
        if !seen.insert(integration.id) {
            errors.add(&id_field, format!("“{}” is chosen twice.", integration.name));
            continue;
        }
        if tags.len() > crate::integrations::MAX_TAGS {
            errors.add(
                &format!("{prefix}[{i}].tags"),
                format!("Use {} tags at most.", crate::integrations::MAX_TAGS),
            );
            continue;
        }
        let mut checked = Vec::new();
        for t in tags {
            match crate::integrations::parse_tag(t) {
                Ok(t) if !checked.contains(&t) => checked.push(t),
                Ok(_) => {}
                Err(m) => errors.add(&format!("{prefix}[{i}].tags"), m),
            }
        }
        out.push(ChannelChoice { integration_id: integration.id, tags: checked });
    }
    if errors.is_empty() { Ok(out) } else { Err(ServiceError::Invalid(errors)) }
}

// --- RSVP, leave, remove, roles ---

/// The caller answers for the event, joining it if they were not a participant yet. `channels`:
/// the channels to use; `None` keeps the ones chosen before, or sets the defaults for a new
/// participant (or one who never had any). Returns the participation and whether it is new.
pub async fn rsvp(
    svc: &Services,
    view: &EventView,
    user: &User,
    answer: Rsvp,
    channels: Option<Vec<ChannelChoice>>,
) -> Result<(Participant, bool), ServiceError> {
    let db = &svc.db;
    if user.verified_at.is_none() {
        return Err(ServiceError::Forbidden(VERIFY_FIRST.into()));
    }
    let event = &view.event;
    match event.status {
        EventStatus::Published => {}
        EventStatus::Cancelled => {
            return Err(ServiceError::Conflict(
                "This event is cancelled; there is nothing to answer.".into(),
            ));
        }
        EventStatus::Draft => {
            return Err(ServiceError::Conflict(
                "This event is a draft; publish it before people answer.".into(),
            ));
        }
    }
    if event.ends_at <= Utc::now() {
        return Err(ServiceError::Conflict("This event has ended.".into()));
    }
    let accepted = match (&view.participant, &view.invitation) {
        (None, Some(invitation)) => match db.accept_event_invitation(invitation.id, user.id).await {
            Ok(true) => {
                tracing::info!(event_id = %event.id, participant_id = %invitation.id, "invitation accepted");
                db.participant(invitation.id).await?
            }
            Ok(false) | Err(DbError::Conflict(_)) => None,
            Err(e) => return Err(e.into()),
        },
        _ => None,
    };
    let (participant, joined) = match (&view.participant, accepted) {
        (Some(p), _) => (p.clone(), false),
        (None, Some(p)) => (p, false),
        (None, None) if !has_room(svc, event).await? => {
            return Err(ServiceError::Conflict(full(svc.limits.max_participants())));
        }
        (None, None) => match db
            .add_participant_with(event.id, Invitee::User(user.id), ParticipantRole::Attendee, None, None)
            .await
        {
            Ok(p) => (p, true),
            // A concurrent request joined first.
            Err(DbError::Conflict(_)) => {
                (db.participant_of(event.id, user.id).await?.ok_or(ServiceError::NotFound)?, false)
            }
            Err(e) => return Err(e.into()),
        },
    };
    let before = participant.rsvp;
    // Someone new, or a new answer: the plan may change when their quiet hours, digest or own
    // reminder times shape it (the query checks).
    db.set_rsvp(participant.id, answer, joined || before != answer).await?;
    match channels {
        Some(chosen) => {
            let list: Vec<(Uuid, Vec<String>)> =
                chosen.into_iter().map(|c| (c.integration_id, c.tags)).collect();
            db.set_participant_channels(participant.id, &list).await?;
        }
        None if joined || db.channel_rows_of(participant.id).await?.is_empty() => {
            let defaults = default_channels(db, user.id).await?;
            db.set_participant_channels(participant.id, &defaults).await?;
        }
        None => {}
    }
    tracing::info!(event_id = %event.id, participant_id = %participant.id, rsvp = %answer, joined, "RSVP saved");
    confirm_by_mail(svc, participant.id, before, answer);
    let fresh = db.participant(participant.id).await?.ok_or(ServiceError::NotFound)?;
    Ok((fresh, joined))
}

/// The caller leaves the event; [`ServiceError::NotFound`] if they were not a participant.
pub async fn leave(db: &Db, view: &EventView) -> Result<Participant, ServiceError> {
    let p = view.participant.clone().ok_or(ServiceError::NotFound)?;
    db.delete_participant(p.id).await?;
    tracing::info!(event_id = %view.event.id, participant_id = %p.id, "participant left");
    let label = participant_label(db, &p).await;
    audit::record(db, view.org.id, p.user_id, "participant.left", &view.event.name, Some(&label)).await;
    Ok(p)
}

/// Who a participant is, in a few words: the invited address or the account's address.
async fn participant_label(db: &Db, p: &Participant) -> String {
    if let Some(email) = &p.invited_email {
        return email.clone();
    }
    match p.user_id {
        Some(id) => db.user_by_id(id).await.ok().flatten().map_or_else(|| "someone".to_owned(), |u| u.email),
        None => "someone".to_owned(),
    }
}

/// The participant `id` of the event; [`ServiceError::NotFound`] for another event's.
pub async fn participant_in(db: &Db, event: &Event, id: Uuid) -> Result<Participant, ServiceError> {
    db.participant(id).await?.filter(|p| p.event_id == event.id).ok_or(ServiceError::NotFound)
}

/// Removes a participant: organizers may remove anyone, a participant only themself (leaving).
pub async fn remove(db: &Db, view: &EventView, user_id: Uuid, id: Uuid) -> Result<Participant, ServiceError> {
    let p = participant_in(db, &view.event, id).await?;
    if !view.manages() && p.user_id != Some(user_id) {
        return Err(forbidden_manage());
    }
    db.delete_participant(p.id).await?;
    tracing::info!(event_id = %view.event.id, participant_id = %p.id, "participant removed");
    let label = participant_label(db, &p).await;
    let action = if p.user_id == Some(user_id) { "participant.left" } else { "participant.removed" };
    audit::record(db, view.org.id, Some(user_id), action, &view.event.name, Some(&label)).await;
    Ok(p)
}

/// Changes a participant's role (organizers).
pub async fn set_role(
    db: &Db,
    view: &EventView,
    actor: Option<Uuid>,
    id: Uuid,
    role: &str,
) -> Result<Participant, ServiceError> {
    if !view.manages() {
        return Err(forbidden_manage());
    }
    let p = participant_in(db, &view.event, id).await?;
    let role = parse_role(role).map_err(|m| field("role", m))?;
    db.set_participant_role(p.id, role).await?;
    if p.role != role {
        let detail = format!("{} → {role}", participant_label(db, &p).await);
        audit::record(db, view.org.id, actor, "participant.role_changed", &view.event.name, Some(&detail))
            .await;
    }
    participant_in(db, &view.event, id).await
}

// --- CSV import ---

/// One data row of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvRow {
    /// Line number where the row starts (1-based, header included).
    pub line: usize,
    /// The fields, trimmed.
    pub fields: Vec<String>,
}

/// Splits CSV text into rows of trimmed fields with the `csv` crate (RFC 4180 quoting, CRLF or
/// LF), skipping blank lines and a header row whose first field is `email`. The separator is `,`,
/// or `;` when the first line uses `;` and no `,` (spreadsheets in some languages save so).
pub fn parse_csv(text: &str) -> Vec<CsvRow> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let delimiter = if first.contains(';') && !first.contains(',') { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    // The line a record starts on: the first line with content from where the reader stood
    // (it skips blank lines by itself).
    let line_at = |from: u64| {
        let from = usize::try_from(from).unwrap_or(usize::MAX).min(text.len());
        let start = text.as_bytes()[from..]
            .iter()
            .position(|b| *b != b'\n' && *b != b'\r')
            .map_or(text.len(), |i| from + i);
        1 + text.as_bytes()[..start].iter().filter(|b| **b == b'\n').count()
    };
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let from = reader.position().byte();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) if record.iter().any(|f| !f.is_empty()) => {
                rows.push(CsvRow { line: line_at(from), fields: record.iter().map(str::to_owned).collect() });
            }
            Ok(true) => {}
            // A row the reader cannot make sense of is reported (as one without an address).
            Err(_) => {
                rows.push(CsvRow { line: line_at(from), fields: Vec::new() });
                if reader.position().byte() == from {
                    break;
                }
            }
        }
    }
    if rows.first().is_some_and(|r| r.fields.first().is_some_and(|f| f.eq_ignore_ascii_case("email"))) {
        rows.remove(0);
    }
    rows
}

/// Why a file was not imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Over [`MAX_IMPORT_BYTES`] (413).
    #[error("The file is larger than 1 MiB; split it into smaller files.")]
    TooLarge,
    /// Not a CSV Herald can read, or too many rows (422).
    #[error("{0}")]
    Unreadable(String),
    /// The event or the caller's rights.
    #[error(transparent)]
    Event(#[from] ServiceError),
}

impl From<DbError> for ImportError {
    fn from(e: DbError) -> Self {
        Self::Event(e.into())
    }
}

/// Checks a CSV file and starts importing it in the background; returns the import to follow.
pub async fn start_import(
    svc: &Services,
    view: &EventView,
    inviter: &User,
    bytes: &[u8],
) -> Result<Import, ImportError> {
    if !view.manages() {
        return Err(forbidden_manage().into());
    }
    check_open_for_changes(&view.event)?;
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(ImportError::TooLarge);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ImportError::Unreadable("The file is not UTF-8 text; save it as CSV (UTF-8).".into()))?;
    let rows = parse_csv(text);
    if rows.is_empty() {
        return Err(ImportError::Unreadable(
            "The file has no rows; each line needs an email address, optionally a role and a name.".into(),
        ));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(ImportError::Unreadable(format!(
            "The file has {} rows; import at most {MAX_IMPORT_ROWS} at a time.",
            rows.len()
        )));
    }
    let import = svc.db.create_import(view.event.id, inviter.id, rows.len() as i64).await?;
    tracing::info!(event_id = %view.event.id, import_id = %import.id, rows = rows.len(), "CSV import started");
    let (svc, org, event, inviter, id) =
        (svc.clone(), view.org.clone(), view.event.clone(), inviter.clone(), import.id);
    tokio::spawn(async move {
        run_import(&svc, &org, &event, &inviter, id, rows).await;
    });
    Ok(import)
}

async fn import_row(
    svc: &Services,
    org: &Organization,
    event: &Event,
    inviter: &User,
    row: &CsvRow,
) -> ImportOutcome {
    let raw_email = row.fields.first().cloned().unwrap_or_default();
    let outcome = |outcome: &str, message: Option<String>| ImportOutcome {
        row: row.line,
        email: raw_email.chars().take(254).collect(),
        outcome: outcome.to_owned(),
        message,
    };
    if row.fields.len() > 3 {
        return outcome("error", Some("Too many columns: use email, role, name.".into()));
    }
    let email = match Email::parse(&raw_email) {
        Ok(e) => e,
        Err(m) => return outcome("error", Some(m)),
    };
    let role = match parse_role(row.fields.get(1).map_or("", String::as_str)) {
        Ok(r) => r,
        Err(m) => return outcome("error", Some(m)),
    };
    let name = match row.fields.get(2).filter(|n| !n.is_empty()) {
        Some(n) => match Name::parse(n) {
            Ok(n) => Some(n),
            Err(m) => return outcome("error", Some(m)),
        },
        None => None,
    };
    match add_one(svc, org, event, inviter, &email, role, name.as_ref().map(Name::as_str), None).await {
        Ok(Added::User(_)) => outcome("added", None),
        Ok(Added::Invited { mailed: true, .. }) => outcome("invited", None),
        Ok(Added::Invited { mailed: false, .. }) => {
            outcome("invited", Some("Invited, but the mail could not be sent just now.".into()))
        }
        Err(AddFailure::Already) => outcome("already", None),
        Err(AddFailure::Full(max)) => outcome("error", Some(full(max))),
        Err(AddFailure::Db(e)) => {
            tracing::error!(error = %e, event_id = %event.id, "CSV import row failed");
            outcome("error", Some("Could not be saved just now; import this row again.".into()))
        }
    }
}

async fn run_import(
    svc: &Services,
    org: &Organization,
    event: &Event,
    inviter: &User,
    id: Uuid,
    rows: Vec<CsvRow>,
) {
    let mut report = Vec::with_capacity(rows.len());
    let mut last = tokio::time::Instant::now();
    for row in &rows {
        report.push(import_row(svc, org, event, inviter, row).await);
        if last.elapsed() >= Duration::from_millis(300) {
            last = tokio::time::Instant::now();
            if let Err(e) = svc.db.import_progress(id, report.len() as i64).await {
                tracing::warn!(error = %e, import_id = %id, "cannot record import progress");
            }
        }
    }
    let done = report.len() as i64;
    // In the activity log before the import shows as done: whoever sees it finished finds it
    // there too.
    let count = |what: &str| report.iter().filter(|r| r.outcome == what).count();
    let detail = format!("{} rows: {} added, {} invited", done, count("added"), count("invited"));
    audit::record(&svc.db, org.id, Some(inviter.id), "participants.imported", &event.name, Some(&detail))
        .await;
    // The report is the result: retry a few times so a brief outage does not lose it.
    for attempt in 0..5 {
        match svc.db.finish_import(id, "done", done, &report).await {
            Ok(()) => break,
            Err(e) => {
                tracing::warn!(error = %e, import_id = %id, attempt, "cannot save the import report");
                tokio::time::sleep(Duration::from_secs(1 << attempt)).await;
            }
        }
    }
    tracing::info!(event_id = %event.id, import_id = %id, rows = done, "CSV import finished");
}

/// Whether a running import stopped without finishing (Herald restarted meanwhile).
pub fn interrupted(import: &Import) -> bool {
    import.status == "running" && (Utc::now() - import.updated_at).num_seconds() > IMPORT_STALE_SECS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_with_header_quotes_and_blank_lines() {
        let rows = parse_csv(
            "\u{feff}Email,Role,Name\r\nada@example.org,speaker,\"Lovelace, Ada\"\r\n\r\n  bob@example.org  \n\"c\"\"d@x.org\",,\n",
        );
        let got: Vec<(usize, Vec<&str>)> =
            rows.iter().map(|r| (r.line, r.fields.iter().map(String::as_str).collect())).collect();
        assert_eq!(
            got,
            vec![
                (2, vec!["ada@example.org", "speaker", "Lovelace, Ada"]),
                (4, vec!["bob@example.org"]),
                (5, vec!["c\"d@x.org", "", ""]),
            ]
        );
        assert!(parse_csv("").is_empty());
        assert!(parse_csv("email\n").is_empty());
        let semi = parse_csv("email;role\nada@example.org;speaker\n");
        assert_eq!(
            semi.first().map(|r| r.fields.clone()),
            Some(vec!["ada@example.org".to_owned(), "speaker".to_owned()])
        );
        let multi = parse_csv("a@x.org,,\"Two\nlines\"\nb@x.org\n");
        assert_eq!(multi.iter().map(|r| r.line).collect::<Vec<_>>(), vec![1, 3], "a quoted line break");
    }

    #[test]
    fn roles_and_answers_parse() {
        assert_eq!(parse_role(""), Ok(ParticipantRole::Attendee));
        assert_eq!(parse_role(" Speaker "), Ok(ParticipantRole::Speaker));
        assert!(parse_role("boss").is_err());
        assert_eq!(parse_rsvp("GOING"), Ok(Rsvp::Going));
        assert!(parse_rsvp("pending").is_err());
    }
}
