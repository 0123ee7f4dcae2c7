//! `events` and `event_updates`: every change commits the event, its update row and its outbox
//! row together, then the workflow is signalled (commit first, signal second).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use tracing::instrument;
use uuid::Uuid;

use super::BeginWrite as _;
use super::models::{Event, EventCover, EventStatus, EventUpdate, UpdateKind, Visibility};
use super::rules::EventRules;
use super::{Db, DbError, on_pool};
use crate::domain::changes::{Change, ChangeSet, Field, Timing};

/// An event as one user sees it ([`Db::event_seen_by`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventSeenBy {
    #[sqlx(flatten)]
    pub event: Event,
    /// The organization's slug.
    pub org_slug: String,
    /// The user's role in the organization, if a member (as stored).
    pub member_role: Option<String>,
    /// The user takes part.
    pub participant: bool,
    /// An invitation to the user's verified address waits for their answer.
    pub invited: bool,
    /// A committed change has not reached the workflow yet.
    pub unsynced: bool,
}

/// Writes the outbox row of a change inside its transaction (see [`super::outbox`]).
macro_rules! enqueue {
    ($tx:ident, $event_id:expr, $revision:expr, $now:expr) => {
        sqlx::query(super::outbox::ENQUEUE)
            .bind($event_id)
            // Always i64: the statement is prepared once per connection for every caller.
            .bind::<i64>($revision)
            .bind($now)
            .bind($now + super::outbox::HANDOFF)
            .bind(herald_workflows::trace::current())
            .execute(&mut *$tx)
            .await?
    };
}

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
        self.create_event_with(new, Notices::default(), None).await
    }

    /// Creates an event at revision 0 with its notice settings; a published one gets its
    /// `published` update row too. With `idempotency`, the key is stored in the same transaction
    /// (a duplicate key is a [`DbError::Conflict`] and creates nothing).
    #[instrument(skip_all)]
    pub async fn create_event_with(
        &self,
        new: &NewEvent<'_>,
        notices: Notices,
        idempotency: Option<&IdempotencyKey<'_>>,
    ) -> Result<Event, DbError> {
        self.create_event_with_rules(new, notices, &EventRules::default(), idempotency).await
    }

    /// [`Db::create_event_with`], with the event's per-role reminders and follow-up.
    #[instrument(skip_all)]
    pub async fn create_event_with_rules(
        &self,
        new: &NewEvent<'_>,
        notices: Notices,
        rules: &EventRules,
        idempotency: Option<&IdempotencyKey<'_>>,
    ) -> Result<Event, DbError> {
        let now = Utc::now();
        let id = Uuid::new_v4();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let event: Event = sqlx::query_as(
                "INSERT INTO events (id, org_id, slug, name, description, location, online_url, starts_at, ends_at,
                    timezone, visibility, reminder_offsets, status, revision, workflow_id, created_by, created_at, updated_at,
                    notify_reminders, notify_changes, notify_cancellation, role_reminders, follow_up_after, follow_up_link)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $14, $15, $16, $16, $17, $18, $19,
                    $20, $21, $22) RETURNING *",
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
            .bind(notices.reminders)
            .bind(notices.changes)
            .bind(notices.cancellation)
            .bind(Json(&rules.role_reminders))
            .bind(rules.follow_up_after)
            .bind(&rules.follow_up_link)
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
                enqueue!(tx, id, 0, now);
            }
            if let Some(key) = idempotency {
                sqlx::query(
                    "INSERT INTO idempotency_keys (user_id, key, request_hash, event_id, created_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(key.user_id)
                .bind(key.key)
                .bind(key.request_hash)
                .bind(id)
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

    /// The event `id` with what decides whether `user_id` may see it and how it stands, in one
    /// query (an API read): its organization's slug, the user's role there, whether they take
    /// part or have an invitation waiting at their verified address, and whether a change is
    /// still to be told to its workflow.
    #[instrument(skip_all, fields(%id))]
    pub async fn event_seen_by(&self, id: Uuid, user_id: Uuid) -> Result<Option<EventSeenBy>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT e.*, o.slug AS org_slug,
                (SELECT m.role FROM memberships m WHERE m.org_id = e.org_id AND m.user_id = $2) AS member_role,
                EXISTS (SELECT 1 FROM event_participants p WHERE p.event_id = e.id AND p.user_id = $2) AS participant,
                EXISTS (SELECT 1 FROM event_participants p JOIN users u ON u.email = p.invited_email
                        WHERE p.event_id = e.id AND p.user_id IS NULL AND u.id = $2
                          AND u.verified_at IS NOT NULL) AS invited,
                EXISTS (SELECT 1 FROM event_updates x
                        WHERE x.event_id = e.id AND x.signalled_at IS NULL) AS unsynced
             FROM events e JOIN organizations o ON o.id = e.org_id
             WHERE e.id = $1",
        )
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// Lets visitors answer the event without an account, or not.
    #[instrument(skip_all, fields(%event_id))]
    pub async fn set_event_guests(&self, event_id: Uuid, on: bool) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query("UPDATE events SET guests = $2, updated_at = $3 WHERE id = $1")
            .bind(event_id)
            .bind(on)
            .bind(Utc::now()))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// Lets the public page say how many are going and maybe, or not.
    #[instrument(skip_all, fields(%event_id))]
    pub async fn set_event_show_attendee_count(&self, event_id: Uuid, on: bool) -> Result<(), DbError> {
        let done = on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE events SET show_attendee_count = $2, updated_at = $3 WHERE id = $1",
        )
            .bind(event_id)
            .bind(on)
            .bind(Utc::now()))
            .await
            .map(|r| r.rows_affected()))?;
        if done == 0 { Err(DbError::NotFound) } else { Ok(()) }
    }

    /// How many participants answered going, and maybe.
    #[instrument(skip_all, fields(%event_id))]
    pub async fn rsvp_counts(&self, event_id: Uuid) -> Result<(i64, i64), DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT COUNT(CASE WHEN rsvp = 'going' THEN 1 END), COUNT(CASE WHEN rsvp = 'maybe' THEN 1 END)
             FROM event_participants WHERE event_id = $1",
        )
        .bind(event_id)
        .fetch_one(pool)
        .await
        .map_err(DbError::from))
    }

    /// Sets (or replaces) the event's cover image.
    #[instrument(skip_all, fields(%event_id, bytes = bytes.len()))]
    pub async fn set_event_cover(
        &self,
        event_id: Uuid,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "INSERT INTO event_covers (event_id, content_type, bytes, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (event_id) DO UPDATE SET content_type = excluded.content_type, bytes = excluded.bytes,
                 updated_at = excluded.updated_at",
        )
        .bind(event_id)
        .bind(content_type)
        .bind(bytes)
        .bind(Utc::now()))
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// The event's cover image, if it has one.
    #[instrument(skip_all, fields(%event_id))]
    pub async fn event_cover(&self, event_id: Uuid) -> Result<Option<EventCover>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM event_covers WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// When the event's cover image was last set, if it has one (without loading its bytes).
    #[instrument(skip_all, fields(%event_id))]
    pub async fn event_cover_updated_at(&self, event_id: Uuid) -> Result<Option<DateTime<Utc>>, DbError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT updated_at FROM event_covers WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// Removes the event's cover image; whether there was one.
    #[instrument(skip_all, fields(%event_id))]
    pub async fn delete_event_cover(&self, event_id: Uuid) -> Result<bool, DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query("DELETE FROM event_covers WHERE event_id = $1")
            .bind(event_id))
            .await
            .map(|r| r.rows_affected() > 0)
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
            let mut tx = pool.begin_write().await?;
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
            enqueue!(tx, id, revision, now);
            tx.commit().await?;
            Ok(update)
        })
    }

    /// Records that the event's workflow exists, and when it wakes if it was started with a
    /// delay (`wakes_at`; kept from the first start recorded).
    #[instrument(skip_all)]
    pub async fn mark_workflow_started(
        &self,
        id: Uuid,
        wakes_at: Option<DateTime<Utc>>,
    ) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE events SET workflow_wakes_at = CASE WHEN workflow_started_at IS NULL THEN $3 ELSE workflow_wakes_at END,
                 workflow_started_at = COALESCE(workflow_started_at, $2)
             WHERE id = $1",
        )
        .bind(id)
        .bind(Utc::now())
        .bind(wakes_at)
        )
        .await
        .map(|_| ())
        .map_err(DbError::from))
    }

    /// Records that the event's workflow, started asleep, was woken (by a signal-with-start).
    #[instrument(skip_all)]
    pub async fn mark_workflow_awake(&self, id: Uuid) -> Result<(), DbError> {
        on_pool!(self, pool => super::write_one!(pool, sqlx::query(
            "UPDATE events SET workflow_wakes_at = NULL WHERE id = $1 AND workflow_wakes_at IS NOT NULL",
        )
        .bind(id)
        )
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

    /// How many saved changes are not yet signalled, and when the oldest was saved.
    #[instrument(skip_all)]
    pub async fn unsignalled_summary(&self) -> Result<(i64, Option<DateTime<Utc>>), DbError> {
        on_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_updates WHERE signalled_at IS NULL")
                .fetch_one(pool)
                .await?;
            let oldest: Option<DateTime<Utc>> = sqlx::query_scalar(
                "SELECT created_at FROM event_updates WHERE signalled_at IS NULL ORDER BY created_at LIMIT 1",
            )
            .fetch_optional(pool)
            .await?;
            Ok((n, oldest))
        })
    }

    /// Records that the event's workflow knows every change up to `revision`, in one write:
    /// the updates are marked signalled and their outbox rows deleted.
    #[instrument(skip_all)]
    pub async fn mark_told(&self, event_id: Uuid, revision: i64) -> Result<(), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE event_updates SET signalled_at = $3
                 WHERE event_id = $1 AND revision <= $2 AND signalled_at IS NULL",
            )
            .bind(event_id)
            .bind(revision)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sync_outbox WHERE event_id = $1 AND revision <= $2")
                .bind(event_id)
                .bind(revision)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Which notices participants of an event get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notices {
    /// Reminders before the start.
    pub reminders: bool,
    /// A notice when the time, place or link changes.
    pub changes: bool,
    /// A notice when the event is cancelled.
    pub cancellation: bool,
}

impl Default for Notices {
    fn default() -> Self {
        Self { reminders: true, changes: true, cancellation: true }
    }
}

/// An API caller's `Idempotency-Key` for a create request, with a hash of the request body.
#[derive(Debug, Clone)]
pub struct IdempotencyKey<'a> {
    /// Whose key it is (keys are per user).
    pub user_id: Uuid,
    /// The key as sent.
    pub key: &'a str,
    /// A hash of the request (same key, different body is refused).
    pub request_hash: &'a str,
}

/// An event's editable fields, validated (by `events::validate`): what a new event is made from
/// and everything an edit may change (all fields are written, the differences are recorded).
#[derive(Debug, Clone)]
pub struct EventFields {
    pub name: String,
    pub description: String,
    pub location: Option<String>,
    pub online_url: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub timezone: String,
    pub visibility: Visibility,
    pub reminder_offsets: Vec<i64>,
    /// Per-role reminders and the follow-up.
    pub rules: EventRules,
    pub notices: Notices,
    pub status: EventStatus,
}

impl EventFields {
    /// The event's current values, to start an edit from.
    pub fn of(event: &Event) -> Self {
        Self {
            name: event.name.clone(),
            description: event.description.clone(),
            location: event.location.clone(),
            online_url: event.online_url.clone(),
            starts_at: event.starts_at,
            ends_at: event.ends_at,
            timezone: event.timezone.name().to_owned(),
            visibility: event.visibility,
            reminder_offsets: event.reminder_offsets.0.clone(),
            rules: EventRules {
                role_reminders: event.role_reminders.0.clone(),
                follow_up_after: event.follow_up_after,
                follow_up_link: event.follow_up_link.clone(),
            },
            notices: Notices {
                reminders: event.notify_reminders,
                changes: event.notify_changes,
                cancellation: event.notify_cancellation,
            },
            status: event.status,
        }
    }
}

/// What changed between two versions of an event, as stored in `event_updates.payload`.
pub fn diff(old: &Event, new: &EventFields) -> ChangeSet {
    let time_of =
        |starts_at, ends_at, timezone: &str| Timing { starts_at, ends_at, timezone: timezone.to_owned() };
    let mut fields = Vec::new();
    for (changed, field) in [
        (old.name != new.name, Field::Name),
        (old.description != new.description, Field::Description),
        (old.visibility != new.visibility, Field::Visibility),
        (
            old.reminder_offsets.0 != new.reminder_offsets
                || old.role_reminders.0 != new.rules.role_reminders,
            Field::Reminders,
        ),
        (
            (old.notify_reminders, old.notify_changes, old.notify_cancellation)
                != (new.notices.reminders, new.notices.changes, new.notices.cancellation)
                || (old.follow_up_after, &old.follow_up_link)
                    != (new.rules.follow_up_after, &new.rules.follow_up_link),
            Field::Notices,
        ),
    ] {
        if changed {
            fields.push(field);
        }
    }
    fn change<T: PartialEq>(old: T, new: T) -> Option<Change<T>> {
        (old != new).then_some(Change { old, new })
    }
    ChangeSet {
        time: change(
            time_of(old.starts_at, old.ends_at, old.timezone.name()),
            time_of(new.starts_at, new.ends_at, &new.timezone),
        ),
        place: change(old.location.clone(), new.location.clone()),
        link: change(old.online_url.clone(), new.online_url.clone()),
        status: change(old.status.as_str().to_owned(), new.status.as_str().to_owned()),
        fields,
    }
}

impl Db {
    /// Writes `changes` to the event, bumps its revision and records what changed (old → new) in
    /// an `event_updates` row, in one transaction. `kind` is `published` when a draft is
    /// published, `cancelled` when it is cancelled, else `updated`. Returns the event as saved
    /// and the update row to signal.
    #[instrument(skip_all)]
    pub async fn update_event(
        &self,
        id: Uuid,
        changes: &EventFields,
        author: Option<Uuid>,
    ) -> Result<(Event, EventUpdate), DbError> {
        let now = Utc::now();
        on_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let old: Event = sqlx::query_as("SELECT * FROM events WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(DbError::NotFound)?;
            let payload = diff(&old, changes).to_stored();
            let kind = match (old.status, changes.status) {
                (EventStatus::Draft, EventStatus::Published) => UpdateKind::Published,
                (a, EventStatus::Cancelled) if a != EventStatus::Cancelled => UpdateKind::Cancelled,
                _ => UpdateKind::Updated,
            };
            let event: Event = sqlx::query_as(
                "UPDATE events SET name = $2, description = $3, location = $4, online_url = $5, starts_at = $6,
                    ends_at = $7, timezone = $8, visibility = $9, reminder_offsets = $10, notify_reminders = $11,
                    notify_changes = $12, notify_cancellation = $13, status = $14, revision = revision + 1,
                    updated_at = $15, role_reminders = $16, follow_up_after = $17, follow_up_link = $18
                 WHERE id = $1 RETURNING *",
            )
            .bind(id)
            .bind(&changes.name)
            .bind(&changes.description)
            .bind(&changes.location)
            .bind(&changes.online_url)
            .bind(changes.starts_at)
            .bind(changes.ends_at)
            .bind(&changes.timezone)
            .bind(changes.visibility.as_str())
            .bind(Json(&changes.reminder_offsets))
            .bind(changes.notices.reminders)
            .bind(changes.notices.changes)
            .bind(changes.notices.cancellation)
            .bind(changes.status.as_str())
            .bind(now)
            .bind(Json(&changes.rules.role_reminders))
            .bind(changes.rules.follow_up_after)
            .bind(&changes.rules.follow_up_link)
            .fetch_one(&mut *tx)
            .await?;
            let update: EventUpdate = sqlx::query_as(
                "INSERT INTO event_updates (id, event_id, revision, kind, payload, author_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *",
            )
            .bind(Uuid::new_v4())
            .bind(id)
            .bind(event.revision)
            .bind(kind.as_str())
            .bind(Json(payload))
            .bind(author)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            enqueue!(tx, id, event.revision, now);
            tx.commit().await?;
            Ok((event, update))
        })
    }

    /// Deletes the event (its updates, participants and ledger go with it).
    #[instrument(skip_all)]
    pub async fn delete_event(&self, id: Uuid) -> Result<(), DbError> {
        on_pool!(self, pool => {
            let done = super::write_one!(pool, sqlx::query("DELETE FROM events WHERE id = $1").bind(id)).await?;
            if done.rows_affected() == 0 { Err(DbError::NotFound) } else { Ok(()) }
        })
    }

    /// An organization's events by start time (then id), optionally only those ending after
    /// `from`, starting before `to`, and after the `(starts_at, id)` cursor; drafts only with
    /// `include_drafts`.
    #[instrument(skip_all)]
    pub async fn org_events(
        &self,
        org_id: Uuid,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        after: Option<(DateTime<Utc>, Uuid)>,
        include_drafts: bool,
        limit: i64,
    ) -> Result<Vec<Event>, DbError> {
        let (after_at, after_id) = after.map_or((None, None), |(a, i)| (Some(a), Some(i)));
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM events WHERE org_id = $1 AND ($2 OR status <> 'draft')
               AND ($3 IS NULL OR ends_at > $3) AND ($4 IS NULL OR starts_at < $4)
               AND ($5 IS NULL OR starts_at > $5 OR (starts_at = $5 AND id > $6))
             ORDER BY starts_at, id LIMIT $7",
        )
        .bind(org_id)
        .bind(include_drafts)
        .bind(from)
        .bind(to)
        .bind(after_at)
        .bind(after_id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The event `slug` of an organization.
    #[instrument(skip_all)]
    pub async fn event_by_slug(&self, org_id: Uuid, slug: &str) -> Result<Option<Event>, DbError> {
        on_pool!(self, pool => sqlx::query_as("SELECT * FROM events WHERE org_id = $1 AND slug = $2")
            .bind(org_id)
            .bind(slug)
            .fetch_optional(pool)
            .await
            .map_err(DbError::from))
    }

    /// The event's change history, newest first.
    #[instrument(skip_all)]
    pub async fn event_updates(&self, event_id: Uuid) -> Result<Vec<EventUpdate>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT * FROM event_updates WHERE event_id = $1 ORDER BY revision DESC",
        )
        .bind(event_id)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// The event a user's idempotency key created, with the stored request hash.
    #[instrument(skip_all)]
    pub async fn idempotent_event(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<(String, Uuid)>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT request_hash, event_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(user_id)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(DbError::from))
    }

    /// The events a user organizes (in organizations where they are an owner, admin or organizer)
    /// that are not cancelled and end after `since`, drafts included, by start.
    #[instrument(skip_all)]
    pub async fn organized_events(
        &self,
        user_id: Uuid,
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Event>, DbError> {
        on_pool!(self, pool => sqlx::query_as(
            "SELECT e.* FROM events e JOIN memberships m ON m.org_id = e.org_id
             WHERE m.user_id = $1 AND m.role IN ('owner', 'admin', 'organizer')
               AND e.status <> 'cancelled' AND e.ends_at > $2
             ORDER BY e.starts_at, e.id LIMIT $3",
        )
        .bind(user_id)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(DbError::from))
    }

    /// How many events, and how many of them published (or since cancelled), the organizations
    /// a user manages events in have ever had.
    #[instrument(skip_all)]
    pub async fn organized_event_counts(&self, user_id: Uuid) -> Result<(i64, i64), DbError> {
        on_pool!(self, pool => {
            let (all, published): (i64, i64) = sqlx::query_as(
                "SELECT COUNT(*), COUNT(CASE WHEN e.status <> 'draft' THEN 1 END)
                 FROM events e JOIN memberships m ON m.org_id = e.org_id
                 WHERE m.user_id = $1 AND m.role IN ('owner', 'admin', 'organizer')",
            )
            .bind(user_id)
            .fetch_one(pool)
            .await?;
            Ok((all, published))
        })
    }

    /// Whether the event's workflow has unsignalled updates.
    #[instrument(skip_all)]
    pub async fn event_unsynced(&self, event_id: Uuid) -> Result<bool, DbError> {
        on_pool!(self, pool => {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM event_updates WHERE event_id = $1 AND signalled_at IS NULL",
            )
            .bind(event_id)
            .fetch_one(pool)
            .await?;
            Ok(n > 0)
        })
    }
}
