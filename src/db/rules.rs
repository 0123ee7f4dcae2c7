//! Rules per audience as stored: an event's per-role reminder schedules and follow-up (columns
//! of `events`, written with the event's other fields), an organization's defaults for new
//! events (`org_event_defaults`), and the reminder choices of participants and users.
//!
//! The rules themselves (what is valid, who gets what) live in [`crate::rules`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::{Db, DbError, on_pool};

/// An event's rules besides its `reminder_offsets` (which every role without its own schedule
/// gets).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventRules {
    /// Reminder offsets (seconds before the start) by role name (`speaker`, …), replacing the
    /// event's for that role.
    pub role_reminders: BTreeMap<String, Vec<i64>>,
    /// The follow-up after the event: seconds after the end (`None`: no follow-up).
    pub follow_up_after: Option<i64>,
    /// The follow-up's feedback link (https).
    pub follow_up_link: Option<String>,
}

/// An organization's defaults for its new events.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct EventDefaults {
    /// Reminders for everyone, seconds before the start.
    pub reminder_offsets: Json<Vec<i64>>,
    /// Per-role schedules, like [`EventRules::role_reminders`].
    pub role_reminders: Json<BTreeMap<String, Vec<i64>>>,
    /// Seconds after the end (`None`: no follow-up).
    pub follow_up_after: Option<i64>,
    /// The follow-up's feedback link.
    pub follow_up_link: Option<String>,
}

impl EventDefaults {
    /// The rules a new event starts with.
    pub fn rules(&self) -> EventRules {
        EventRules {
            role_reminders: self.role_reminders.0.clone(),
            follow_up_after: self.follow_up_after,
            follow_up_link: self.follow_up_link.clone(),
        }
    }
}

impl Db {
    /// The organization's defaults for new events (`None`: it set none).
    #[instrument(skip_all)]
    pub async fn event_defaults(&self, org_id: Uuid) -> Result<Option<EventDefaults>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_offsets, role_reminders, follow_up_after, follow_up_link
             FROM org_event_defaults WHERE org_id = $1",
        )
        .bind(org_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Saves the organization's defaults for new events.
    #[instrument(skip_all)]
    pub async fn save_event_defaults(&self, org_id: Uuid, d: &EventDefaults) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "INSERT INTO org_event_defaults (org_id, reminder_offsets, role_reminders, follow_up_after, follow_up_link, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (org_id) DO UPDATE SET reminder_offsets = $2, role_reminders = $3,
                 follow_up_after = $4, follow_up_link = $5, updated_at = $6",
        )
        .bind(org_id)
        .bind(&d.reminder_offsets)
        .bind(&d.role_reminders)
        .bind(d.follow_up_after)
        .bind(&d.follow_up_link)
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// The reminders a participant chose among those offered to them (`None`: all of them).
    #[instrument(skip_all)]
    pub async fn reminder_choice(&self, participant_id: Uuid) -> Result<Option<Vec<i64>>, DbError> {
        let row: Option<(Option<Json<Vec<i64>>>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_choice FROM event_participants WHERE id = $1",
        )
        .bind(participant_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(c,)| c).map(|c| c.0))
    }

    /// Sets a participant's reminder choice (`None`: all offered).
    #[instrument(skip_all)]
    pub async fn set_reminder_choice(
        &self,
        participant_id: Uuid,
        choice: Option<&[i64]>,
    ) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE event_participants SET reminder_choice = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(participant_id)
        .bind(choice.map(Json))
        .bind(Utc::now()))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// The reminder times a user prefers for events where they choose none (`None`: all offered).
    #[instrument(skip_all)]
    pub async fn reminder_default(&self, user_id: Uuid) -> Result<Option<Vec<i64>>, DbError> {
        let row: Option<(Option<Json<Vec<i64>>>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_default FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(c,)| c).map(|c| c.0))
    }

    /// Sets a user's preferred reminder times (`None`: all offered).
    #[instrument(skip_all)]
    pub async fn set_reminder_default(&self, user_id: Uuid, offsets: Option<&[i64]>) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE users SET reminder_default = $2 WHERE id = $1",
        )
        .bind(user_id)
        .bind(offsets.map(Json)))
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// A participant's own reminder times on their event (`None`: their default own times).
    #[instrument(skip_all)]
    pub async fn own_reminders(&self, participant_id: Uuid) -> Result<Option<Vec<i64>>, DbError> {
        let row: Option<(Option<Json<Vec<i64>>>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_own FROM event_participants WHERE id = $1",
        )
        .bind(participant_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(c,)| c).map(|c| c.0))
    }

    /// Sets a participant's own reminder times (`None`: their default own times) and, in the
    /// same transaction, asks the event's workflow to read its plan again (an outbox row with
    /// `refresh`) when it runs: the plan's reminders include everyone's own times.
    #[instrument(skip_all)]
    pub async fn set_own_reminders(&self, participant_id: Uuid, own: Option<&[i64]>) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE event_participants SET reminder_own = $2, reminder_own_at = $3, updated_at = $3 WHERE id = $1",
            )
            .bind(participant_id)
            .bind(own.map(Json))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DbError::NotFound);
            }
            sqlx::query(
                super::outbox::refresh_plans_where!("p.id = $1"),
            )
            .bind(participant_id)
            .bind(now)
            .bind(true)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The reminder times a user adds on every event where they set none of their own.
    #[instrument(skip_all)]
    pub async fn own_reminder_default(&self, user_id: Uuid) -> Result<Option<Vec<i64>>, DbError> {
        let row: Option<(Option<Json<Vec<i64>>>,)> = on_pool!(self, pool => sqlx::query_as(
            "SELECT reminder_own_default FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await)?;
        Ok(row.and_then(|(c,)| c).map(|c| c.0))
    }

    /// Sets the reminder times a user adds on every event (`None`: none) and, in the same
    /// transaction, asks the workflows of their events still to come where these apply (they set
    /// no own times there) to read their plans again. Returns how many were asked.
    #[instrument(skip_all)]
    pub async fn set_own_reminder_default(&self, user_id: Uuid, own: Option<&[i64]>) -> Result<u64, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE users SET reminder_own_default = $2, reminder_own_default_at = $3, updated_at = $3 WHERE id = $1",
            )
            .bind(user_id)
            .bind(own.map(Json))
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Err(DbError::NotFound);
            }
            let refreshed = sqlx::query(
                super::outbox::refresh_plans_where!(
                    "p.user_id = $1 AND p.reminder_own IS NULL AND p.rsvp IN ('going', 'maybe')"
                ),
            )
            .bind(user_id)
            .bind(now)
            .bind(true)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(refreshed)
        })
    }

    /// The own reminder times of the participants of `event_id` who get reminders (going or
    /// maybe) and have some, set for the event or as their default.
    #[instrument(skip_all)]
    pub async fn own_times_in_event(&self, event_id: Uuid) -> Result<Vec<OwnTimesRow>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT p.id AS participant_id, p.created_at AS joined_at, p.reminder_own, p.reminder_own_at,
                    u.reminder_own_default, u.reminder_own_default_at
             FROM event_participants p JOIN users u ON u.id = p.user_id
             WHERE p.event_id = $1 AND p.rsvp IN ('going', 'maybe')
               AND (p.reminder_own IS NOT NULL OR u.reminder_own_default IS NOT NULL)",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }
}

/// One participant's own reminder times on an event, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnTimesRow {
    pub participant_id: Uuid,
    /// When they joined the event.
    pub joined_at: DateTime<Utc>,
    /// Set for this event (`None`: their default applies).
    pub reminder_own: Option<Json<Vec<i64>>>,
    pub reminder_own_at: Option<DateTime<Utc>>,
    /// Their default own times.
    pub reminder_own_default: Option<Json<Vec<i64>>>,
    pub reminder_own_default_at: Option<DateTime<Utc>>,
}
