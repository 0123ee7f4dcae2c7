//! Exports: an event's participants and delivery ledger for the organizers of its organization
//! (CSV and JSON), everything Herald holds about a person (their data download), and the
//! deletion of an account.
//!
//! Exports show channel names, never their URLs or keys; the data download shows a person's
//! own channel URLs redacted. CSV cells that a spreadsheet would read as a formula get a
//! leading `'`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::Db;
use crate::db::delivery::LedgerEntry;
use crate::db::models::{Event, Role, User};
use crate::domain::{ServiceError, TimeZone};
use crate::events;
use crate::integrations::{Channels, redacted_entries};
use crate::orgs::OrgAccess;
use crate::participants::{self, Reach};
use crate::services::Services;

/// The most ledger rows one export carries (newest due first).
const LEDGER_LIMIT: i64 = 50_000;

/// CSV or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// `csv` or `json`; anything else is `None`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }

    /// The media type of the file.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Json => "application/json",
        }
    }
}

/// A finished export: its bytes, media type and file name.
#[derive(Debug, Clone)]
pub struct File {
    pub name: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return gets a leading `'`.
pub fn safe_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// `rows` as CSV under `header`, every cell made safe.
pub fn csv_of(header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, ServiceError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(anyhow::Error::from)?;
    for row in rows {
        w.write_record(row.iter().map(|c| safe_cell(c))).map_err(anyhow::Error::from)?;
    }
    w.into_inner().map_err(|e| ServiceError::Internal(anyhow::anyhow!("csv: {e}")))
}

/// `t` in RFC 3339, UTC.
fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `t` in RFC 3339 in the event's zone.
fn local(t: DateTime<Utc>, zone: TimeZone) -> String {
    t.with_timezone(&zone.0).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A file name part made of the event's slug (letters, digits and dashes only).
fn file_stem(event: &Event) -> String {
    let stem: String =
        event.slug.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(60).collect();
    if stem.is_empty() { "event".into() } else { stem }
}

/// Why a member who does not manage events gets no export.
const ORGANIZERS_ONLY: &str =
    "Only owners, admins and organizers export an event's participants and deliveries.";

/// The event `id` of the organization in `access`, for one of its organizers: another
/// organization's event is [`ServiceError::NotFound`], and a member who does not manage events
/// gets [`ServiceError::Forbidden`] (as for the deliveries).
pub async fn event_for(db: &Db, access: &OrgAccess, id: Uuid) -> Result<Event, ServiceError> {
    let event = events::load(db, access, id).await?;
    if !events::manages_events(access.role) {
        return Err(ServiceError::Forbidden(ORGANIZERS_ONLY.into()));
    }
    Ok(event)
}

/// The event `id` for `user_id`, who must organize events in its organization: 404 outside it,
/// 403 for a member who does not manage events.
pub async fn event_for_user(db: &Db, id: Uuid, user_id: Uuid) -> Result<Event, ServiceError> {
    let (access, event) = events::load_for_user(db, id, user_id).await?;
    if !events::manages_events(access.role) {
        return Err(ServiceError::Forbidden(ORGANIZERS_ONLY.into()));
    }
    Ok(event)
}

/// The event an export is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedEvent {
    pub id: Uuid,
    pub name: String,
    /// The event's IANA time zone; the `…_local` times are in it.
    pub timezone: String,
    pub starts_at: String,
    pub starts_at_local: String,
}

fn exported_event(event: &Event) -> ExportedEvent {
    ExportedEvent {
        id: event.id,
        name: event.name.clone(),
        timezone: event.timezone.name().to_owned(),
        starts_at: utc(event.starts_at),
        starts_at_local: local(event.starts_at, event.timezone),
    }
}

/// One participant in the export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedParticipant {
    pub name: String,
    pub email: String,
    /// organizer, speaker, volunteer or attendee.
    pub role: String,
    /// pending, going, maybe or declined.
    pub rsvp: String,
    /// Whether notices reach them now.
    pub reachable: bool,
    /// The names of the channels notices reach them through.
    pub reached_through: Vec<String>,
    /// Why notices do not reach them, when they do not.
    pub unreachable_reason: Option<String>,
    /// When they stopped this event's messages.
    pub opted_out_at: Option<String>,
    /// When they were added, UTC.
    pub added_at: String,
    /// The same in the event's zone.
    pub added_at_local: String,
}

/// An event's participants export.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantsExport {
    pub event: ExportedEvent,
    pub participants: Vec<ExportedParticipant>,
}

/// The event's participants with their answers and reachability (names of channels only).
pub async fn participants(db: &Db, event: &Event) -> Result<ParticipantsExport, ServiceError> {
    let rows = db.participant_rows(event.id).await?;
    let channels = db.event_channel_rows(event.id).await?;
    let reach = participants::reachability(db, event.id, &rows, &channels).await?;
    let list = rows
        .iter()
        .map(|r| {
            let (reachable, reached_through, unreachable_reason) = match reach.get(&r.id) {
                Some(Reach::Through(names)) => (true, names.clone(), None),
                Some(Reach::Not(why)) => (false, Vec::new(), Some((*why).to_owned())),
                None => (false, Vec::new(), None),
            };
            ExportedParticipant {
                name: r.name().to_owned(),
                email: r.address().to_owned(),
                role: r.role.to_string(),
                rsvp: r.rsvp.to_string(),
                reachable,
                reached_through,
                unreachable_reason,
                opted_out_at: r.opted_out_at.map(utc),
                added_at: utc(r.created_at),
                added_at_local: local(r.created_at, event.timezone),
            }
        })
        .collect();
    Ok(ParticipantsExport { event: exported_event(event), participants: list })
}

/// The participants export as a file.
pub async fn participants_file(db: &Db, event: &Event, format: Format) -> Result<File, ServiceError> {
    let export = participants(db, event).await?;
    let body = match format {
        Format::Json => serde_json::to_vec_pretty(&export).map_err(anyhow::Error::from)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = export
                .participants
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        p.email.clone(),
                        p.role.clone(),
                        p.rsvp.clone(),
                        if p.reachable { "yes" } else { "no" }.to_owned(),
                        p.reached_through.join("; "),
                        p.unreachable_reason.clone().unwrap_or_default(),
                        p.opted_out_at.clone().unwrap_or_default(),
                        p.added_at.clone(),
                        p.added_at_local.clone(),
                    ]
                })
                .collect();
            csv_of(
                &[
                    "name",
                    "email",
                    "role",
                    "rsvp",
                    "reachable",
                    "reached_through",
                    "unreachable_reason",
                    "opted_out_at",
                    "added_at",
                    "added_at_local",
                ],
                &rows,
            )?
        }
    };
    Ok(File {
        name: format!("{}-participants.{}", file_stem(event), format.extension()),
        content_type: format.content_type(),
        body,
    })
}

/// One ledger row in the export: never a URL or a key, only the channel's name.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedDelivery {
    /// `reminder`, `updated`, `cancelled` or `message`.
    pub notice: String,
    /// When it was due, UTC.
    pub due_at: String,
    /// The same in the event's zone.
    pub due_at_local: String,
    /// The participant's name (none once they were removed).
    pub participant: Option<String>,
    /// The participant's address.
    pub email: Option<String>,
    /// The channel's name (none when they had none).
    pub channel: Option<String>,
    /// `pending`, `sent`, `partial`, `failed`, `expired` or `skipped`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// When the Apprise API accepted it, UTC.
    pub sent_at: Option<String>,
    /// What the Apprise API last answered, in words.
    pub last_answer: Option<String>,
}

fn exported_delivery(e: &LedgerEntry, zone: TimeZone) -> ExportedDelivery {
    ExportedDelivery {
        notice: e.kind.as_str().to_owned(),
        due_at: utc(e.due_at),
        due_at_local: local(e.due_at, zone),
        participant: e.recipient_name.clone(),
        email: e.recipient_email.clone(),
        channel: e.integration_name.clone(),
        status: e.status.as_str().to_owned(),
        attempts: e.attempts,
        sent_at: e.sent_at.map(utc),
        last_answer: e.apprise_answer.clone(),
    }
}

/// An event's delivery ledger export.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveriesExport {
    pub event: ExportedEvent,
    pub deliveries: Vec<ExportedDelivery>,
}

/// The event's delivery ledger, newest due first.
pub async fn deliveries(db: &Db, event: &Event) -> Result<DeliveriesExport, ServiceError> {
    let ledger = db.ledger(event.id, LEDGER_LIMIT).await?;
    Ok(DeliveriesExport {
        event: exported_event(event),
        deliveries: ledger.iter().map(|e| exported_delivery(e, event.timezone)).collect(),
    })
}

/// The ledger export as a file.
pub async fn deliveries_file(db: &Db, event: &Event, format: Format) -> Result<File, ServiceError> {
    let export = deliveries(db, event).await?;
    let body = match format {
        Format::Json => serde_json::to_vec_pretty(&export).map_err(anyhow::Error::from)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = export
                .deliveries
                .iter()
                .map(|d| {
                    vec![
                        d.notice.clone(),
                        d.due_at.clone(),
                        d.due_at_local.clone(),
                        d.participant.clone().unwrap_or_default(),
                        d.email.clone().unwrap_or_default(),
                        d.channel.clone().unwrap_or_default(),
                        d.status.clone(),
                        d.attempts.to_string(),
                        d.sent_at.clone().unwrap_or_default(),
                        d.last_answer.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            csv_of(
                &[
                    "notice",
                    "due_at",
                    "due_at_local",
                    "participant",
                    "email",
                    "channel",
                    "status",
                    "attempts",
                    "sent_at",
                    "last_answer",
                ],
                &rows,
            )?
        }
    };
    Ok(File {
        name: format!("{}-deliveries.{}", file_stem(event), format.extension()),
        content_type: format.content_type(),
        body,
    })
}

// --- Personal data ---

/// The account itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedProfile {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub verified_at: Option<String>,
    pub timezone: String,
    pub date_format: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A membership of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedMembership {
    pub organization: String,
    pub slug: String,
    pub role: String,
}

/// A participation in an event, with the answer and what was sent about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedParticipation {
    pub event: String,
    pub organization: String,
    pub starts_at: String,
    pub starts_at_local: String,
    pub role: String,
    /// The answer: pending, going, maybe or declined.
    pub rsvp: String,
    pub opted_out_at: Option<String>,
    pub added_at: String,
    pub answered_at: String,
    /// The ledger rows addressed to this participation, newest first.
    pub notifications: Vec<ExportedDelivery>,
}

/// One of the person's notification channels; its URLs with their secrets masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedChannel {
    pub name: String,
    /// `apprise` or `email` (the built-in one).
    pub kind: String,
    pub enabled: bool,
    pub confirmed_at: Option<String>,
    pub created_at: String,
    /// Each URL, redacted, with its tags.
    pub urls: Vec<ExportedUrl>,
}

/// A redacted URL and its tags.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedUrl {
    pub url: String,
    pub tags: Vec<String>,
}

/// A personal API token: its name and dates, never the token or its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedToken {
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// The private calendar feed, if there is one (its address is secret and not repeated here).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedFeed {
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// Everything Herald holds about one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalData {
    pub exported_at: String,
    pub profile: ExportedProfile,
    pub memberships: Vec<ExportedMembership>,
    pub participations: Vec<ExportedParticipation>,
    pub channels: Vec<ExportedChannel>,
    pub api_tokens: Vec<ExportedToken>,
    pub calendar_feed: Option<ExportedFeed>,
    /// Open sign-in sessions.
    pub sessions: i64,
}

/// Everything Herald holds about `user`, secrets left out or masked.
pub async fn personal_data(svc: &Services, user: &User) -> Result<PersonalData, ServiceError> {
    let db = &svc.db;
    let memberships = db
        .organizations_of(user.id)
        .await?
        .into_iter()
        .map(|(org, role)| ExportedMembership {
            organization: org.name,
            slug: org.slug,
            role: role.to_string(),
        })
        .collect();
    let mut participations = Vec::new();
    for p in db.participations_of(user.id).await? {
        let notifications = db
            .ledger_of_participant(p.id, LEDGER_LIMIT)
            .await?
            .iter()
            .map(|e| exported_delivery(e, p.timezone))
            .collect();
        participations.push(ExportedParticipation {
            event: p.event_name,
            organization: p.org_name,
            starts_at: utc(p.starts_at),
            starts_at_local: local(p.starts_at, p.timezone),
            role: p.role.to_string(),
            rsvp: p.rsvp.to_string(),
            opted_out_at: p.opted_out_at.map(utc),
            added_at: utc(p.created_at),
            answered_at: utc(p.updated_at),
            notifications,
        });
    }
    let channels = db
        .integrations_of(user.id)
        .await?
        .iter()
        .map(|i| ExportedChannel {
            name: i.name.clone(),
            kind: i.kind.clone(),
            enabled: i.enabled,
            confirmed_at: i.verified_at.map(utc),
            created_at: utc(i.created_at),
            urls: redacted_entries(&svc.keys, i)
                .into_iter()
                .map(|(url, tags)| ExportedUrl { url, tags })
                .collect(),
        })
        .collect();
    let api_tokens = db
        .api_tokens_of(user.id)
        .await?
        .into_iter()
        .map(|t| ExportedToken {
            name: t.name,
            created_at: utc(t.created_at),
            last_used_at: t.last_used_at.map(utc),
            expires_at: t.expires_at.map(utc),
            revoked_at: t.revoked_at.map(utc),
        })
        .collect();
    let calendar_feed = crate::accounts::feeds::current(db, user.id)
        .await?
        .map(|f| ExportedFeed { created_at: utc(f.created_at), last_used_at: f.last_used_at.map(utc) });
    Ok(PersonalData {
        exported_at: utc(Utc::now()),
        profile: ExportedProfile {
            id: user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            verified_at: user.verified_at.map(utc),
            timezone: user.timezone.name().to_owned(),
            date_format: user.date_format.as_str().to_owned(),
            created_at: utc(user.created_at),
            updated_at: utc(user.updated_at),
        },
        memberships,
        participations,
        channels,
        api_tokens,
        calendar_feed,
        sessions: db.session_count(user.id).await?,
    })
}

/// The data download as a file.
pub async fn personal_data_file(svc: &Services, user: &User) -> Result<File, ServiceError> {
    let data = personal_data(svc, user).await?;
    Ok(File {
        name: "herald-my-data.json".into(),
        content_type: Format::Json.content_type(),
        body: serde_json::to_vec_pretty(&data).map_err(anyhow::Error::from)?,
    })
}

// --- Deleting an account ---

/// The organizations `user` is the last owner of (they cannot leave them behind ownerless).
pub async fn last_owner_of(db: &Db, user: &User) -> Result<Vec<String>, ServiceError> {
    let mut names = Vec::new();
    for (org, role) in db.organizations_of(user.id).await? {
        if role == Role::Owner && db.owner_count(org.id).await? <= 1 {
            names.push(org.name);
        }
    }
    Ok(names)
}

/// Why an account cannot be deleted yet, naming the organizations.
fn last_owner_message(names: &[String]) -> String {
    let list = names.iter().map(|n| format!("“{n}”")).collect::<Vec<_>>().join(", ");
    let (one, them) =
        if names.len() == 1 { ("the last owner of", "it") } else { ("the last owner of", "each") };
    format!(
        "You are {one} {list}. Before deleting your account, make another member an owner of {them} \
         (on the organization's Members page) or delete the organization."
    )
}

/// What the activity says instead of a deleted account's address.
pub const DELETED_ACCOUNT: &str = "a deleted account";

/// Deletes `user`'s account: refused ([`ServiceError::Conflict`]) while they are the last owner
/// of an organization; otherwise their channels are deleted from the Apprise API (unless it is
/// locked) and from Herald, then the user with their sessions, API tokens, calendar feed,
/// memberships and participations (the organizers' ledgers keep the rows, without a name); the
/// activity keeps its entries with [`DELETED_ACCOUNT`] for the address, and invitations, guest
/// answers and failed sign-ins naming the address go.
pub async fn delete_account(svc: &Services, user: &User) -> Result<(), ServiceError> {
    let orgs = last_owner_of(&svc.db, user).await?;
    if !orgs.is_empty() {
        return Err(ServiceError::Conflict(last_owner_message(&orgs)));
    }
    let channels =
        Channels { db: &svc.db, keys: &svc.keys, apprise: svc.apprise.as_ref(), targets: svc.targets };
    channels.delete_all(user).await?;
    svc.db.delete_user(user.id).await?;
    svc.db.forget_address(&user.email, DELETED_ACCOUNT).await?;
    tracing::info!(user_id = %user.id, "account deleted");
    Ok(())
}
