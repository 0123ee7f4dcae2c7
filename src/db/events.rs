//! `events` and `event_updates`: every change commits the event and its update row together,
//! then the workflow is signalled (commit first, signal second).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::models::{Event, EventStatus, EventUpdate, UpdateKind, Visibility};
use super::{Db, DbError, on_pool};

/// What it takes to create an event.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub org_id: Uuid,
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub location: Option<&'a str>,
    pub online_url: Option<&'a str>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: &'a str,
    pub visibility: Visibility,
    pub reminder_offsets: Vec<i64>,
    pub status: EventStatus,
    pub created_by: Option<Uuid>,
}

impl Db {
    /// Creates an event at revision 0; a published one gets its `published` update row too.
    #[instrument(skip_all)]
    pub async fn create_event(&self, new: &NewEvent<'_>) -> Result<Event, DbError> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let event: Event = sqlx::query_as(
                "INSERT INTO events (id, org_id, slug, name, description, location, online_url, starts_at, ends_at,
                    timezone, visibility, reminder_offsets, status, revision, workflow_id, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $16) RETURNING *",
            )
            .bind(id)
            .bind(new.org_id)
            .bind(new.slug)
            .bind(new.name)
            .bind(new.description)
            .bind(new.location)
            .bind(new.online_url)
            .bind(new.starts_at)
            .bind(new.ends_at)
            .bind(new.timezone)
            .bind(new.visibility.as_str())
            .bind(Json(&new.reminder_offsets))
            .bind(new.status.as_str())
            .bind(herald_workflows::workflow_id(id))
            .bind(new.created_by)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if new.status == EventStatus::Published {
                sqlx::query(
                    "INSERT INTO event_updates (id, event_id, revision, kind, payload, author_id, created_at)
                     VALUES ($1, $2, 0, $3, $4, $5, $6)",
                )
                .bind(Uuid::new_v4())
                .bind(id)
                .bind(UpdateKind::Published.as_str())
                .bind(Json(serde_json::json!({})))
                .bind(new.created_by)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(event)
        })
    }

    /// The event with this id.
    #[instrument(skip_all)]
    pub async fn event(&self, id: Uuid) -> Result<Option<Event>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM events WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Sets the event's status, bumps its revision and records the change, in one transaction.
    /// Returns the update row to signal.
    #[instrument(skip_all)]
    pub async fn change_event_status(
        &self,
        id: Uuid,
        status: EventStatus,
        kind: UpdateKind,
        payload: serde_json::Value,
        author: Option<Uuid>,
    ) -> Result<EventUpdate, DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let revision: i64 = sqlx::query_scalar(
                "UPDATE events SET status = $2, revision = revision + 1, updated_at = $3 WHERE id = $1 RETURNING revision",
            )
            .bind(id)
            .bind(status.as_str())
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(DbError::NotFound)?;
            let update: EventUpdate = sqlx::query_as(
                "INSERT INTO event_updates (id, event_id, revision, kind, payload, author_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            )
            .bind(Uuid::new_v4())
            .bind(id)
            .bind(revision)
            .bind(kind.as_str())
            .bind(Json(payload))
            .bind(author)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(update)
        })
    }

    /// Records that the event's workflow exists.
    #[instrument(skip_all)]
    pub async fn mark_workflow_started(&self, id: Uuid) -> Result<(), DbError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE events SET workflow_started_at = COALESCE(workflow_started_at, $2) WHERE id = $1",
        )
        .bind(id)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Published events that have not ended and whose workflow was never started.
    #[instrument(skip_all)]
    pub async fn events_missing_workflow(&self, limit: i64) -> Result<Vec<Event>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM events WHERE status = 'published' AND workflow_started_at IS NULL AND ends_at > $1
             ORDER BY starts_at LIMIT $2",
        )
        .bind(Utc::now())
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Updates not yet signalled to their workflow, oldest first.
    #[instrument(skip_all)]
    pub async fn unsignalled_updates(&self, limit: i64) -> Result<Vec<EventUpdate>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM event_updates WHERE signalled_at IS NULL ORDER BY created_at, revision LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// Marks an update (and any older ones of the same event) as signalled.
    #[instrument(skip_all)]
    pub async fn mark_signalled(&self, event_id: Uuid, revision: i64) -> Result<(), DbError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE event_updates SET signalled_at = $3 WHERE event_id = $1 AND revision <= $2 AND signalled_at IS NULL",
        )
        .bind(event_id)
        .bind(revision)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }
}

/// The workflow reads plans through this port.
impl herald_workflows::PlanStore for Db {
    fn load_plan(
        &self,
        event_id: Uuid,
    ) -> futures::future::BoxFuture<'_, anyhow::Result<Option<herald_workflows::EventPlan>>> {
        Box::pin(async move {
            let Some(event) = self.event(event_id).await? else {
                return Ok(None);
            };
            let status = match event.status {
                EventStatus::Draft => herald_workflows::EventStatus::Draft,
                EventStatus::Published => herald_workflows::EventStatus::Published,
                EventStatus::Cancelled => herald_workflows::EventStatus::Cancelled,
            };
            Ok(Some(herald_workflows::EventPlan {
                event_id,
                revision: event.revision,
                status,
                starts_at: event.starts_at,
                ends_at: event.ends_at,
                reminder_offsets: event.reminder_offsets.0,
            }))
        })
    }
}
