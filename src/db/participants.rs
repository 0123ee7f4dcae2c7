//! `event_participants` and `participant_channels`; participant CSV `imports`; private
//! `calendar_feeds`.
//!
//! An invited address (no account yet) is linked to its user when that user verifies the very
//! address: see [`Db::mark_user_verified`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::events::IdempotencyKey;
use super::models::{Event, Participant, ParticipantChannel, ParticipantRole, Rsvp};
use super::{Db, DbError, on_pool};

/// A participant as listed for organizers: with the user's name and address, or the invited ones.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ParticipantRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub user_id: Option<Uuid>,
    pub invited_email: Option<String>,
    pub invited_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub role: ParticipantRole,
    #[sqlx(try_from = "String")]
    pub rsvp: Rsvp,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The user's display name (none for an invited address).
    pub display_name: Option<String>,
    /// The user's address (none for an invited address).
    pub email: Option<String>,
    /// When they stopped the event's messages.
    pub opted_out_at: Option<DateTime<Utc>>,
}

/// One of a user's participations, with its event and organization.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Participation {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_name: String,
    pub org_name: String,
    pub starts_at: DateTime<Utc>,
    #[sqlx(try_from = "String")]
    pub timezone: crate::domain::TimeZone,
    #[sqlx(try_from = "String")]
    pub role: ParticipantRole,
    #[sqlx(try_from = "String")]
    pub rsvp: Rsvp,
    pub opted_out_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ParticipantRow {
    /// The address: the user's, or the invited one.
    pub fn address(&self) -> &str {
        self.email.as_deref().or(self.invited_email.as_deref()).unwrap_or("")
    }

    /// The name to show: the user's, the one given at invitation, or the address.
    pub fn name(&self) -> &str {
        self.display_name.as_deref().or(self.invited_name.as_deref()).unwrap_or_else(|| self.address())
    }
}

/// One channel of a participant as organizers see it: the integration's name and the tags,
/// never its URLs or key.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChannelRow {
    pub participant_id: Uuid,
    pub integration_id: Uuid,
    pub name: String,
    pub tags: Json<Vec<String>>,
}

/// One row of a CSV import's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOutcome {
    /// Line number in the file (1 is the first line, a header counts).
    pub row: usize,
    /// The address as given.
    pub email: String,
    /// `added`, `invited`, `already` or `error`.
    pub outcome: String,
    /// Why, for errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A CSV import of participants.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Import {
    pub id: Uuid,
    pub event_id: Uuid,
    pub created_by: Option<Uuid>,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub report: Json<Vec<ImportOutcome>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A user's private calendar feed (only the token's hash is stored).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CalendarFeed {
    pub user_id: Uuid,
    pub token_hash: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

const ROW_SELECT: &str =
    "SELECT p.id, p.event_id, p.user_id, p.invited_email, p.invited_name, p.role, p.rsvp,
        p.created_at, p.updated_at, u.display_name, u.email, p.opted_out_at
     FROM event_participants p LEFT JOIN users u ON u.id = p.user_id";

/// Who is being added to an event.
#[derive(Debug, Clone, Copy)]
pub enum Invitee<'a> {
    /// An existing user.
    User(Uuid),
    /// An address without an account yet (lower-cased).
    Email(&'a str),
}

/// An outbox row asking the workflow of participant `$1`'s event to read its plan again (at
/// `$2`, `refresh` `$3`), only when the plan depends on them: they have quiet hours or a digest
/// (early reminders, held notices) or own reminder times (the plan's reminders), and the event
/// is published, its workflow started and not over.
const REFRESH_FOR_PARTICIPANT: &str = super::outbox::refresh_plans_where!(
    "p.id = $1 AND (u.quiet_start IS NOT NULL OR u.digest_at IS NOT NULL
                    OR u.reminder_own_default IS NOT NULL OR p.reminder_own IS NOT NULL)"
);

impl Db {
    /// Adds a participant. Adding the same user or address twice is [`DbError::Conflict`].
    #[instrument(skip_all)]
    pub async fn add_participant(
        &self,
        event_id: Uuid,
        who: Invitee<'_>,
        role: ParticipantRole,
        rsvp: Rsvp,
    ) -> Result<Participant, DbError> {
        let (user_id, email) = match who {
            Invitee::User(id) => (Some(id), None),
            Invitee::Email(e) => (None, Some(e)),
        };
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO event_participants (id, event_id, user_id, invited_email, role, rsvp, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(event_id)
        .bind(user_id)
        .bind(email)
        .bind(role.as_str())
        .bind(rsvp.as_str())
        .bind(Utc::now()), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// Adds a participant, with the name given for an invited address and, for the API, the
    /// idempotency key stored in the same transaction (a duplicate key or participant is a
    /// [`DbError::Conflict`] and adds nothing).
    #[instrument(skip_all)]
    pub async fn add_participant_with(
        &self,
        event_id: Uuid,
        who: Invitee<'_>,
        role: ParticipantRole,
        invited_name: Option<&str>,
        idempotency: Option<&IdempotencyKey<'_>>,
    ) -> Result<Participant, DbError> {
        let (user_id, email) = match who {
            Invitee::User(id) => (Some(id), None),
            Invitee::Email(e) => (None, Some(e)),
        };
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let p: Participant = sqlx::query_as(
                "INSERT INTO event_participants (id, event_id, user_id, invited_email, invited_name, role, rsvp, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) RETURNING *",
            )
            .bind(Uuid::new_v4())
            .bind(event_id)
            .bind(user_id)
            .bind(email)
            .bind(invited_name)
            .bind(role.as_str())
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(k) = idempotency {
                sqlx::query(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, event_id, participant_id, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(k.user_id)
                .bind(k.key)
                .bind(k.request_hash)
                .bind(event_id)
                .bind(p.id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(p)
        })
    }

    /// What a user's idempotency key stands for: (request hash, participant it created, if any).
    #[instrument(skip_all)]
    pub async fn idempotent_participant(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<(String, Option<Uuid>)>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT request_hash, participant_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// One participant.
    #[instrument(skip_all)]
    pub async fn participant(&self, id: Uuid) -> Result<Option<Participant>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM event_participants WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The user's participation in the event, if any.
    #[instrument(skip_all)]
    pub async fn participant_of(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Participant>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM event_participants WHERE event_id = $1 AND user_id = $2",
        )
        .bind(event_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// The invitation of `email` (no account yet) to the event, if any.
    #[instrument(skip_all)]
    pub async fn invited_participant(
        &self,
        event_id: Uuid,
        email: &str,
    ) -> Result<Option<Participant>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM event_participants WHERE event_id = $1 AND invited_email = $2",
        )
        .bind(event_id)
        .bind(email)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// How many participants (and pending invitations) the event has.
    #[instrument(skip_all)]
    pub async fn participant_count(&self, event_id: Uuid) -> Result<i64, DbError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT COUNT(*) FROM event_participants WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(pool)
            .await
            .map_err(DbError::from))
    }

    /// An invitation to the event waiting for `user_id`: sent to the user's verified address
    /// and not accepted yet.
    #[instrument(skip_all)]
    pub async fn invitation_for_user(
        &self,
        event_id: Uuid,
        user_id: Uuid,
    ) -> Result<Option<Participant>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT p.* FROM event_participants p JOIN users u ON u.email = p.invited_email
             WHERE p.event_id = $1 AND p.user_id IS NULL AND u.id = $2 AND u.verified_at IS NOT NULL",
        )
        .bind(event_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Makes the invitation `id` the user's participation (they accepted it by answering);
    /// false when it is not waiting any more.
    #[instrument(skip_all)]
    pub async fn accept_event_invitation(&self, id: Uuid, user_id: Uuid) -> Result<bool, DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE event_participants SET user_id = $2, invited_email = NULL, updated_at = $3
             WHERE id = $1 AND user_id IS NULL",
        )
        .bind(id)
        .bind(user_id)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The active, confirmed channels of every participant of the event with an account, as
    /// (participant id, integration id, channel name).
    #[instrument(skip_all)]
    pub async fn participants_active_channels(
        &self,
        event_id: Uuid,
    ) -> Result<Vec<(Uuid, Uuid, String)>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT p.id, i.id, i.name FROM event_participants p JOIN integrations i ON i.user_id = p.user_id
             WHERE p.event_id = $1 AND i.enabled = $2 AND i.verified_at IS NOT NULL
             ORDER BY p.id, i.name",
        )
        .bind(event_id)
        .bind(true)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Stops (`Some(when)`) or resumes (`None`) the event's messages to participant `id`.
    #[instrument(skip_all, fields(%id))]
    pub async fn set_opted_out(&self, id: Uuid, at: Option<DateTime<Utc>>) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE event_participants SET opted_out_at = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(at)
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Stores a guest's answer waiting for the link mailed to `email` (its token's hash).
    #[instrument(skip_all)]
    pub async fn create_guest_answer(
        &self,
        event_id: Uuid,
        email: &str,
        name: &str,
        rsvp: Rsvp,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "INSERT INTO guest_answers (id, event_id, email, name, rsvp, token_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::new_v4())
        .bind(event_id)
        .bind(email)
        .bind(name)
        .bind(rsvp.as_str())
        .bind(token_hash)
        .bind(Utc::now())
        .bind(expires_at))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Uses the guest answer with this token hash, once and before it expires: (event id,
    /// address, name, answer), or `None`.
    #[instrument(skip_all)]
    pub async fn use_guest_answer(
        &self,
        token_hash: &str,
    ) -> Result<Option<(Uuid, String, String, String)>, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "UPDATE guest_answers SET used_at = $2
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING event_id, email, name, rsvp",
        )
        .bind(token_hash)
        .bind(now), fetch_optional)
        .await
        .map_err(DbError::from))
    }

    /// The event's participants with names and addresses, oldest first.
    #[instrument(skip_all)]
    pub async fn participant_rows(&self, event_id: Uuid) -> Result<Vec<ParticipantRow>, DbError> {
        let sql = format!("{ROW_SELECT} WHERE p.event_id = $1 ORDER BY p.created_at, p.id");
        on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(event_id)
            .fetch_all(pool)
            .await
            .map_err(DbError::from))
    }

    /// One participant with name and address.
    #[instrument(skip_all)]
    pub async fn participant_row(&self, id: Uuid) -> Result<Option<ParticipantRow>, DbError> {
        let sql = format!("{ROW_SELECT} WHERE p.id = $1");
        on_pool!(self, pool => sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The channels of every participant of the event, by integration name.
    #[instrument(skip_all)]
    pub async fn event_channel_rows(&self, event_id: Uuid) -> Result<Vec<ChannelRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT c.participant_id, c.integration_id, i.name, c.tags
             FROM participant_channels c
             JOIN event_participants p ON p.id = c.participant_id
             JOIN integrations i ON i.id = c.integration_id
             WHERE p.event_id = $1 ORDER BY i.name, i.id",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// One participant's channels, by integration name.
    #[instrument(skip_all)]
    pub async fn channel_rows_of(&self, participant_id: Uuid) -> Result<Vec<ChannelRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT c.participant_id, c.integration_id, i.name, c.tags
             FROM participant_channels c JOIN integrations i ON i.id = c.integration_id
             WHERE c.participant_id = $1 ORDER BY i.name, i.id",
        )
        .bind(participant_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Changes a participant's role.
    #[instrument(skip_all)]
    pub async fn set_participant_role(&self, id: Uuid, role: ParticipantRole) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE event_participants SET role = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(role.as_str())
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Removes a participant (and their channels for the event).
    #[instrument(skip_all)]
    pub async fn delete_participant(&self, id: Uuid) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM event_participants WHERE id = $1")
            .bind(id))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// The events a user takes part in (not declined; no drafts) that end after `since`, by start.
    #[instrument(skip_all)]
    pub async fn joined_events(&self, user_id: Uuid, since: DateTime<Utc>) -> Result<Vec<Event>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT e.* FROM events e JOIN event_participants p ON p.event_id = e.id
             WHERE p.user_id = $1 AND p.rsvp <> 'declined' AND e.status <> 'draft' AND e.ends_at > $2
             ORDER BY e.starts_at, e.id LIMIT 1000",
        )
        .bind(user_id)
        .bind(since)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    // --- CSV imports ---

    /// Records a new running import of `total` rows.
    #[instrument(skip_all)]
    pub async fn create_import(
        &self,
        event_id: Uuid,
        created_by: Uuid,
        total: i64,
    ) -> Result<Import, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO imports (id, event_id, created_by, status, total, done, report, created_at, updated_at)
             VALUES ($1, $2, $3, 'running', $4, 0, $5, $6, $6) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(event_id)
        .bind(created_by)
        .bind(total)
        .bind(Json(Vec::<ImportOutcome>::new()))
        .bind(Utc::now()), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// Records how many rows are done.
    #[instrument(skip_all)]
    pub async fn import_progress(&self, id: Uuid, done: i64) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("UPDATE imports SET done = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(done)
            .bind(Utc::now()))
            .await
            .map(|_| ())
            .map_err(DbError::from))
    }

    /// Ends an import with its report (`status` is `done` or `failed`).
    #[instrument(skip_all)]
    pub async fn finish_import(
        &self,
        id: Uuid,
        status: &str,
        done: i64,
        report: &[ImportOutcome],
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE imports SET status = $2, done = $3, report = $4, updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(status)
        .bind(done)
        .bind(Json(report))
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// An import of the event.
    #[instrument(skip_all)]
    pub async fn import_of(&self, event_id: Uuid, id: Uuid) -> Result<Option<Import>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM imports WHERE id = $1 AND event_id = $2")
            .bind(id)
            .bind(event_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    // --- Calendar feeds ---

    /// Sets the user's feed token (replacing, so revoking, any earlier one).
    #[instrument(skip_all)]
    pub async fn set_calendar_feed(&self, user_id: Uuid, token_hash: &str) -> Result<CalendarFeed, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_as(
            "INSERT INTO calendar_feeds (user_id, token_hash, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,
                created_at = excluded.created_at, last_used_at = NULL
             RETURNING *",
        )
        .bind(user_id)
        .bind(token_hash)
        .bind(Utc::now()), fetch_one)
        .await
        .map_err(DbError::from))
    }

    /// The user's feed, if they have one.
    #[instrument(skip_all)]
    pub async fn calendar_feed(&self, user_id: Uuid) -> Result<Option<CalendarFeed>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM calendar_feeds WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Revokes the user's feed.
    #[instrument(skip_all)]
    pub async fn delete_calendar_feed(&self, user_id: Uuid) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM calendar_feeds WHERE user_id = $1")
            .bind(user_id))
            .await
            .map(|_| ())
            .map_err(DbError::from))
    }

    /// The owner of the feed whose token hashes to `token_hash`, noting the use.
    #[instrument(skip_all)]
    pub async fn use_calendar_feed(&self, token_hash: &str) -> Result<Option<Uuid>, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query_scalar(
            "UPDATE calendar_feeds SET last_used_at = $2 WHERE token_hash = $1 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(Utc::now()), fetch_optional)
        .await
        .map_err(DbError::from))
    }

    /// The event's participants, oldest first.
    #[instrument(skip_all)]
    pub async fn participants(&self, event_id: Uuid) -> Result<Vec<Participant>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM event_participants WHERE event_id = $1 ORDER BY created_at, id",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Sets a participant's answer; with `refresh`, in the same transaction, asks the event's
    /// workflow to read its plan again when the participant's settings shape it (see
    /// [`REFRESH_FOR_PARTICIPANT`]).
    #[instrument(skip_all)]
    pub async fn set_rsvp(&self, participant_id: Uuid, rsvp: Rsvp, refresh: bool) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE event_participants SET rsvp = $2, updated_at = $3 WHERE id = $1",
            )
            .bind(participant_id)
            .bind(rsvp.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DbError::NotFound);
            }
            if refresh {
                let asked = sqlx::query(REFRESH_FOR_PARTICIPANT)
                    .bind(participant_id)
                    .bind(now)
                    .bind(true)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if asked > 0 {
                    tracing::debug!(%participant_id, "the event's workflow will read its plan again");
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Asks the workflow of participant `participant_id`'s event to read its plan again when
    /// their settings shape it (see [`REFRESH_FOR_PARTICIPANT`]); whether it was asked.
    #[instrument(skip_all)]
    pub async fn refresh_for_participant(&self, participant_id: Uuid) -> Result<bool, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(REFRESH_FOR_PARTICIPANT)
            .bind(participant_id)
            .bind(Utc::now())
            .bind(true))
            .await
            .map(|r| r.rows_affected() > 0)
            .map_err(DbError::from))
    }

    /// Replaces the channels a participant uses for the event, in one transaction.
    #[instrument(skip_all)]
    pub async fn set_participant_channels(
        &self,
        participant_id: Uuid,
        channels: &[(Uuid, Vec<String>)],
    ) -> Result<Vec<ParticipantChannel>, DbError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM participant_channels WHERE participant_id = $1")
                .bind(participant_id)
                .execute(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(channels.len());
            for (integration_id, tags) in channels {
                let row: ParticipantChannel = sqlx::query_as(
                    "INSERT INTO participant_channels (participant_id, integration_id, tags) VALUES ($1, $2, $3) RETURNING *",
                )
                .bind(participant_id)
                .bind(integration_id)
                .bind(Json(tags))
                .fetch_one(&mut *tx)
                .await?;
                out.push(row);
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    /// Every event `user_id` takes part in, with the event and its organization, newest start
    /// first (the personal data download).
    #[instrument(skip_all)]
    pub async fn participations_of(&self, user_id: Uuid) -> Result<Vec<Participation>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT p.id, p.event_id, e.name AS event_name, o.name AS org_name, e.starts_at, e.timezone,
                    p.role, p.rsvp, p.opted_out_at, p.created_at, p.updated_at
             FROM event_participants p
             JOIN events e ON e.id = p.event_id
             JOIN organizations o ON o.id = e.org_id
             WHERE p.user_id = $1
             ORDER BY e.starts_at DESC, p.id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}
