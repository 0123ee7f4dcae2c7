//! `event_participants` and `participant_channels`.

use chrono::Utc;
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::models::{Participant, ParticipantChannel, ParticipantRole, Rsvp};
use super::{Db, DbError, on_pool};

/// Who is being added to an event.
#[derive(Debug, Clone, Copy)]
pub enum Invitee<'a> {
    /// An existing user.
    User(Uuid),
    /// An address without an account yet (lower-cased).
    Email(&'a str),
}

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
        on_pool!(self, pool => sqlx::query_as(
            "INSERT INTO event_participants (id, event_id, user_id, invited_email, role, rsvp, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(event_id)
        .bind(user_id)
        .bind(email)
        .bind(role.as_str())
        .bind(rsvp.as_str())
        .bind(Utc::now())
        .fetch_one(pool)
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

    /// Sets a participant's answer.
    #[instrument(skip_all)]
    pub async fn set_rsvp(&self, participant_id: Uuid, rsvp: Rsvp) -> Result<(), DbError> {
        let done = on_pool!(self, pool => sqlx::query(
            "UPDATE event_participants SET rsvp = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(participant_id)
        .bind(rsvp.as_str())
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Replaces the channels a participant uses for the event, in one transaction.
    #[instrument(skip_all)]
    pub async fn set_participant_channels(
        &self,
        participant_id: Uuid,
        channels: &[(Uuid, Vec<String>)],
    ) -> Result<Vec<ParticipantChannel>, DbError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
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
}
