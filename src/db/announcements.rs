//! Announcements (`announcements`): an organizer's own messages to an event's participants. Saving
//! or cancelling one bumps the event's revision with an `event_updates` row of kind `message` and
//! its outbox row, in one transaction, so the event's workflow reads its plan again.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::delivery::{Recipient, recipient_columns};
use super::models::{Event, EventUpdate, ParticipantRole, Rsvp, UpdateKind};
use super::{BeginWrite as _, Db, DbError, on_pool};

/// An organizer's message to some of an event's participants.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Announcement {
    pub id: Uuid,
    pub event_id: Uuid,
    pub author_id: Option<Uuid>,
    pub subject: String,
    /// Markdown.
    pub body: String,
    /// The answers it goes to (going, maybe, pending; never declined).
    pub answers: Json<Vec<Rsvp>>,
    /// The roles it goes to.
    pub roles: Json<Vec<ParticipantRole>>,
    /// When it goes (the moment it was saved, for one sent at once).
    pub send_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// When it was cancelled, before it went.
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// What it takes to save an announcement.
#[derive(Debug, Clone)]
pub struct NewAnnouncement<'a> {
    pub event_id: Uuid,
    pub author_id: Uuid,
    pub subject: &'a str,
    pub body: &'a str,
    pub answers: &'a [Rsvp],
    pub roles: &'a [ParticipantRole],
    pub send_at: DateTime<Utc>,
}

/// The answers and roles an announcement reaches, as query parameters.
#[derive(Debug, Clone, Copy, Default)]
pub struct Audience {
    pub going: bool,
    pub maybe: bool,
    pub pending: bool,
    pub organizer: bool,
    pub speaker: bool,
    pub volunteer: bool,
    pub attendee: bool,
}

impl Audience {
    /// The audience of these answers and roles.
    pub fn of(answers: &[Rsvp], roles: &[ParticipantRole]) -> Self {
        Self {
            going: answers.contains(&Rsvp::Going),
            maybe: answers.contains(&Rsvp::Maybe),
            pending: answers.contains(&Rsvp::Pending),
            organizer: roles.contains(&ParticipantRole::Organizer),
            speaker: roles.contains(&ParticipantRole::Speaker),
            volunteer: roles.contains(&ParticipantRole::Volunteer),
            attendee: roles.contains(&ParticipantRole::Attendee),
        }
    }
}

/// Bumps the event's revision and records a `message` update with its outbox row, in `tx`.
macro_rules! bump {
    ($tx:ident, $event_id:expr, $author:expr, $payload:expr, $now:expr) => {{
        let event: Event = sqlx::query_as(
            "UPDATE events SET revision = revision + 1, updated_at = $2 WHERE id = $1 RETURNING *",
        )
        .bind($event_id)
        .bind($now)
        .fetch_optional(&mut *$tx)
        .await?
        .ok_or(DbError::NotFound)?;
        let update: EventUpdate = sqlx::query_as(
            "INSERT INTO event_updates (id, event_id, revision, kind, payload, author_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind($event_id)
        .bind(event.revision)
        .bind(UpdateKind::Message.as_str())
        .bind(Json($payload))
        .bind($author)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(super::outbox::ENQUEUE)
            .bind($event_id)
            .bind::<i64>(event.revision)
            .bind($now)
            .bind($now + super::outbox::HANDOFF)
            .bind(herald_workflows::trace::current())
            .execute(&mut *$tx)
            .await?;
        (event, update)
    }};
}

impl Db {
    /// Saves an announcement with the event's revision bump, `message` update and outbox row,
    /// in one transaction.
    #[instrument(skip_all)]
    pub async fn create_announcement(
        &self,
        new: &NewAnnouncement<'_>,
    ) -> Result<(Announcement, Event, EventUpdate), DbError> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let announcement: Announcement = sqlx::query_as(
                "INSERT INTO announcements (id, event_id, author_id, subject, body, answers, roles, send_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
            )
            .bind(id)
            .bind(new.event_id)
            .bind(new.author_id)
            .bind(new.subject)
            .bind(new.body)
            .bind(Json(new.answers))
            .bind(Json(new.roles))
            .bind(new.send_at)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            let payload = serde_json::json!({ "announcement": id, "action": "created" });
            let (event, update) = bump!(tx, new.event_id, Some(new.author_id), payload, now);
            tx.commit().await?;
            Ok((announcement, event, update))
        })
    }

    /// Cancels an announcement that has not gone yet (its `send_at` is after `now`), with the
    /// event's revision bump; `None` when it went, is going or was cancelled already.
    #[instrument(skip_all)]
    pub async fn cancel_announcement(
        &self,
        id: Uuid,
        author: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Option<(Announcement, Event, EventUpdate)>, DbError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let cancelled: Option<Announcement> = sqlx::query_as(
                "UPDATE announcements SET cancelled_at = $2
                 WHERE id = $1 AND cancelled_at IS NULL AND send_at > $2 RETURNING *",
            )
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(announcement) = cancelled else {
                return Ok(None);
            };
            let payload = serde_json::json!({ "announcement": id, "action": "cancelled" });
            let (event, update) = bump!(tx, announcement.event_id, Some(author), payload, now);
            tx.commit().await?;
            Ok(Some((announcement, event, update)))
        })
    }

    /// One announcement.
    #[instrument(skip_all)]
    pub async fn announcement(&self, id: Uuid) -> Result<Option<Announcement>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM announcements WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The event's announcements, latest `send_at` first.
    #[instrument(skip_all)]
    pub async fn announcements_of(&self, event_id: Uuid) -> Result<Vec<Announcement>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM announcements WHERE event_id = $1 ORDER BY send_at DESC, created_at DESC",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Up to `limit` participants of `event_id` after `after` (by id) with an account, in
    /// `audience`.
    #[instrument(skip_all)]
    pub async fn audience(
        &self,
        event_id: Uuid,
        audience: Audience,
        after: Uuid,
        limit: i64,
    ) -> Result<Vec<Recipient>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            concat!("SELECT ", recipient_columns!(), "
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND p.id > $2
               AND ((p.rsvp = 'going' AND $4) OR (p.rsvp = 'maybe' AND $5) OR (p.rsvp = 'pending' AND $6))
               AND ((p.role = 'organizer' AND $7) OR (p.role = 'speaker' AND $8)
                    OR (p.role = 'volunteer' AND $9) OR (p.role = 'attendee' AND $10))
             ORDER BY p.id LIMIT $3"),
        )
        .bind(event_id)
        .bind(after)
        .bind(limit)
        .bind(audience.going)
        .bind(audience.maybe)
        .bind(audience.pending)
        .bind(audience.organizer)
        .bind(audience.speaker)
        .bind(audience.volunteer)
        .bind(audience.attendee)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The idempotency key and status of each of the event's `message` ledger rows.
    #[instrument(skip_all)]
    pub async fn message_outcomes(&self, event_id: Uuid) -> Result<Vec<(String, String)>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT idempotency_key, status FROM notifications WHERE event_id = $1 AND kind = 'message'",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}
