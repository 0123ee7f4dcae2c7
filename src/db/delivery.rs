//! What the `deliver` activity reads: a notice's recipients at send time, their channels, and
//! the ledger as the organizer sees it.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use crate::domain::time::Viewer;
use crate::domain::{DateFormat, TimeZone};

use super::models::{DeliveryStatus, NoticeKind};
use super::{Db, DbError, on_pool};

/// A participant who receives a notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub participant_id: Uuid,
    pub user_id: Uuid,
    pub display_name: String,
    /// Their account's address (a calendar invitation names them by it).
    pub email: String,
    /// Their answer.
    #[sqlx(try_from = "String")]
    pub rsvp: super::models::Rsvp,
    #[sqlx(try_from = "String")]
    pub timezone: TimeZone,
    #[sqlx(try_from = "String")]
    pub date_format: DateFormat,
    pub reminder_tags: Json<Vec<String>>,
    pub urgent_tags: Json<Vec<String>>,
    /// When they stopped this event's messages (`None`: they get them).
    pub opted_out_at: Option<DateTime<Utc>>,
    /// Their role in the event now.
    #[sqlx(try_from = "String")]
    pub role: super::models::ParticipantRole,
    /// The reminders they chose among those offered (`None`: all of them, or their default).
    pub reminder_choice: Option<Json<Vec<i64>>>,
    /// Their preferred reminder times (`None`: none).
    pub reminder_default: Option<Json<Vec<i64>>>,
    /// Their own reminder times on this event: set for it, else their default own times
    /// (`None`: none).
    pub reminder_own: Option<Json<Vec<i64>>>,
}

impl Recipient {
    /// How this recipient reads times: their zone and date format.
    pub fn viewer(&self) -> Viewer {
        Viewer::new(self.timezone, self.date_format)
    }
}

/// One channel a recipient receives through: chosen for the event (`chosen`) or, when they chose
/// none, any of their active, confirmed integrations.
#[derive(Clone, sqlx::FromRow)]
pub struct RecipientChannel {
    pub participant_id: Uuid,
    pub integration_id: Uuid,
    pub config_key: String,
    pub tags: Json<Vec<String>>,
    pub chosen: bool,
    /// `apprise` or `email` (the built-in email channel).
    pub kind: String,
}

impl RecipientChannel {
    /// Whether this is the built-in email channel.
    pub fn is_email(&self) -> bool {
        self.kind == "email"
    }
}

impl std::fmt::Debug for RecipientChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecipientChannel")
            .field("participant_id", &self.participant_id)
            .field("integration_id", &self.integration_id)
            .field("tags", &self.tags.0)
            .field("chosen", &self.chosen)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The columns of a [`LedgerEntry`]: a ledger row with its recipient and channel.
const LEDGER_SELECT: &str =
    "SELECT n.id, n.kind, n.status, n.idempotency_key, n.due_at, n.sent_at, n.attempts, n.apprise_status,
            n.apprise_answer, n.updated_at, n.participant_id, u.display_name AS recipient_name,
            u.email AS recipient_email, n.integration_id, i.name AS integration_name
     FROM notifications n
     LEFT JOIN event_participants p ON p.id = n.participant_id
     LEFT JOIN users u ON u.id = p.user_id
     LEFT JOIN integrations i ON i.id = n.integration_id";

/// A ledger row with who and through what, for the organizer's pages and the API.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LedgerEntry {
    pub id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: NoticeKind,
    #[sqlx(try_from = "String")]
    pub status: DeliveryStatus,
    pub idempotency_key: String,
    pub due_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub attempts: i64,
    pub apprise_status: Option<i64>,
    pub apprise_answer: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub participant_id: Option<Uuid>,
    pub recipient_name: Option<String>,
    pub recipient_email: Option<String>,
    pub integration_id: Option<Uuid>,
    pub integration_name: Option<String>,
}

/// The columns of a [`Recipient`], over `event_participants p JOIN users u`: one list for every
/// query that reads recipients, so that none misses a field.
macro_rules! recipient_columns {
    () => {
        "p.id AS participant_id, u.id AS user_id, u.display_name, u.email, p.rsvp, u.timezone,
         u.date_format, u.reminder_tags, u.urgent_tags, p.opted_out_at, p.role, p.reminder_choice,
         u.reminder_default, COALESCE(p.reminder_own, u.reminder_own_default) AS reminder_own"
    };
}
pub(crate) use recipient_columns;

impl Db {
    /// Up to `limit` participants of `event_id` after `after` (by id) who have an account and
    /// whose answer is going or maybe — or, with `with_pending`, not given yet.
    #[instrument(skip_all)]
    pub async fn recipients(
        &self,
        event_id: Uuid,
        after: Uuid,
        limit: i64,
        with_pending: bool,
    ) -> Result<Vec<Recipient>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            concat!("SELECT ", recipient_columns!(), "
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND p.id > $2
               AND (p.rsvp IN ('going', 'maybe') OR ($4 AND p.rsvp = 'pending'))
             ORDER BY p.id LIMIT $3"),
        )
        .bind(event_id)
        .bind(after)
        .bind(limit)
        .bind(with_pending)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The participant `participant_id` as a recipient, when they have an account and their
    /// answer is going or maybe (a held notice released later goes to them as they are then).
    #[instrument(skip_all)]
    pub async fn recipient(&self, participant_id: Uuid) -> Result<Option<Recipient>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            concat!("SELECT ", recipient_columns!(), "
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.id = $1 AND p.rsvp IN ('going', 'maybe')"),
        )
        .bind(participant_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// The active, confirmed channels of the participants of `event_id` with ids in
    /// `(after, upto]`: the ones each chose for the event, and every one of theirs (`chosen` =
    /// false) for those who chose none.
    #[instrument(skip_all)]
    pub async fn recipient_channels(
        &self,
        event_id: Uuid,
        after: Uuid,
        upto: Uuid,
    ) -> Result<Vec<RecipientChannel>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT pc.participant_id, i.id AS integration_id, i.config_key, pc.tags, $4 AS chosen, i.kind
             FROM participant_channels pc
             JOIN event_participants p ON p.id = pc.participant_id
             JOIN integrations i ON i.id = pc.integration_id AND i.user_id = p.user_id
             WHERE p.event_id = $1 AND p.id > $2 AND p.id <= $3 AND i.enabled = $4 AND i.verified_at IS NOT NULL
             UNION ALL
             SELECT p.id AS participant_id, i.id AS integration_id, i.config_key, i.tags, $5 AS chosen, i.kind
             FROM event_participants p
             JOIN integrations i ON i.user_id = p.user_id
             WHERE p.event_id = $1 AND p.id > $2 AND p.id <= $3 AND i.enabled = $4 AND i.verified_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM participant_channels pc WHERE pc.participant_id = p.id)
             ORDER BY participant_id, integration_id",
        )
        .bind(event_id)
        .bind(after)
        .bind(upto)
        .bind(true)
        .bind(false)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// One participant's ledger rows, newest first.
    #[instrument(skip_all)]
    pub async fn ledger_of_participant(
        &self,
        participant_id: Uuid,
        limit: i64,
    ) -> Result<Vec<LedgerEntry>, DbError> {
        let sql =
            format!("{LEDGER_SELECT} WHERE n.participant_id = $1 ORDER BY n.due_at DESC, n.id LIMIT $2");
        on_pool!(self, pool => sqlx::query_as(&sql)
        .bind(participant_id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The event's ledger with recipients and channels, by due time then recipient.
    #[instrument(skip_all)]
    pub async fn ledger(&self, event_id: Uuid, limit: i64) -> Result<Vec<LedgerEntry>, DbError> {
        let sql = format!(
            "{LEDGER_SELECT} WHERE n.event_id = $1 ORDER BY n.due_at DESC, n.kind, u.display_name, n.id LIMIT $2"
        );
        on_pool!(self, pool => sqlx::query_as(&sql)
        .bind(event_id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}
