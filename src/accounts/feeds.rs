//! A user's private calendar feed of the events they joined (`/feeds/{token}.ics`).
//!
//! The token is 256 random bits, stored only as its SHA-256 like every other token, shown once
//! when made; making a new one replaces (so revokes) the old one.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::db::Db;
use crate::db::models::{Event, User};
use crate::db::participants::CalendarFeed;
use crate::domain::ServiceError;
use crate::secrets::{hash_token, random_token};

/// Joined events that ended up to this long ago stay in the feed.
pub const PAST_DAYS: i64 = 30;

/// The user's feed, if they made one.
pub async fn current(db: &Db, user_id: Uuid) -> Result<Option<CalendarFeed>, ServiceError> {
    Ok(db.calendar_feed(user_id).await?)
}

/// Makes a new feed address (revoking the old one): the row and the token, shown once.
pub async fn make(db: &Db, user_id: Uuid) -> Result<(CalendarFeed, String), ServiceError> {
    let token = random_token();
    let row = db.set_calendar_feed(user_id, &hash_token(&token)).await?;
    tracing::info!(%user_id, "calendar feed address made");
    Ok((row, token))
}

/// Switches the feed off; its address stops working.
pub async fn revoke(db: &Db, user_id: Uuid) -> Result<(), ServiceError> {
    db.delete_calendar_feed(user_id).await?;
    tracing::info!(%user_id, "calendar feed revoked");
    Ok(())
}

/// What a feed shows: its owner and their joined events, each with its organization's slug.
#[derive(Debug)]
pub struct FeedContent {
    /// Whose feed it is.
    pub owner: User,
    /// Joined events (ended up to [`PAST_DAYS`] ago), with the organization slug for links.
    pub events: Vec<(Event, String)>,
}

/// The feed behind `token` (and notes its use); `None` for an unknown or revoked one.
pub async fn open(db: &Db, token: &str) -> Result<Option<FeedContent>, ServiceError> {
    let Some(user_id) = db.use_calendar_feed(&hash_token(token)).await? else { return Ok(None) };
    let Some(owner) = db.user_by_id(user_id).await? else { return Ok(None) };
    let joined = db.joined_events(user_id, Utc::now() - Duration::days(PAST_DAYS)).await?;
    let mut slugs: HashMap<Uuid, String> = HashMap::new();
    let mut events = Vec::with_capacity(joined.len());
    for e in joined {
        if let std::collections::hash_map::Entry::Vacant(slot) = slugs.entry(e.org_id) {
            slot.insert(db.organization_by_id(e.org_id).await?.map(|o| o.slug).unwrap_or_default());
        }
        let slug = slugs.get(&e.org_id).cloned().unwrap_or_default();
        events.push((e, slug));
    }
    Ok(Some(FeedContent { owner, events }))
}
