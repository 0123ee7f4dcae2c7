//! A signed-in person's home: the events they organize and take part in, and the first steps of
//! a new organizer (organization → event → publish and share → a channel of their own).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::models::{Event, EventStatus, Organization, User};
use crate::db::{Db, DbError};

/// How many upcoming events of each kind the home page lists.
pub const LIMIT: i64 = 20;

/// An event on the home page with the organization it belongs to.
#[derive(Debug, Clone)]
pub struct HomeEvent {
    /// The event.
    pub event: Event,
    /// Its organization's URL slug.
    pub org_slug: String,
    /// Its organization's name.
    pub org_name: String,
}

/// The setup steps, each done or not, in the order a new organizer takes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checklist {
    /// They belong to an organization.
    pub organization: bool,
    /// One of their organizations has an event.
    pub event: bool,
    /// One of those events is published (people can see it and answer).
    pub published: bool,
    /// They have a confirmed, switched-on channel.
    pub channel: bool,
}

impl Checklist {
    /// Whether every step is done (the checklist is then not shown).
    pub fn complete(&self) -> bool {
        self.organization && self.event && self.published && self.channel
    }
}

/// Everything the home page shows a signed-in person.
#[derive(Debug, Clone, Default)]
pub struct Home {
    /// Upcoming events they organize, drafts included, by start.
    pub organized: Vec<HomeEvent>,
    /// Upcoming events they take part in (not declined), by start.
    pub joined: Vec<HomeEvent>,
    /// Their first steps.
    pub checklist: Checklist,
    /// The slug of their first organization they may create events in, for "New event".
    pub event_org: Option<String>,
}

/// Loads `user`'s home as of `now`.
pub async fn load(db: &Db, user: &User, now: DateTime<Utc>) -> Result<Home, DbError> {
    let orgs = db.organizations_of(user.id).await?;
    let organized = db.organized_events(user.id, now, LIMIT).await?;
    let mut joined = db.joined_events(user.id, now).await?;
    joined.truncate(LIMIT as usize);
    let (all, published) = db.organized_event_counts(user.id).await?;
    let channel = db.integrations_of(user.id).await?.iter().any(|i| i.enabled && i.verified_at.is_some());

    let mut names: HashMap<Uuid, Organization> = orgs.iter().map(|(o, _)| (o.id, o.clone())).collect();
    for e in &joined {
        if !names.contains_key(&e.org_id)
            && let Some(org) = db.organization_by_id(e.org_id).await?
        {
            names.insert(org.id, org);
        }
    }
    let with_org = |events: Vec<Event>| -> Vec<HomeEvent> {
        events
            .into_iter()
            .filter_map(|event| {
                let org = names.get(&event.org_id)?;
                Some(HomeEvent { org_slug: org.slug.clone(), org_name: org.name.clone(), event })
            })
            .collect()
    };
    let event_org =
        orgs.iter().find(|(_, role)| crate::events::manages_events(*role)).map(|(o, _)| o.slug.clone());
    let organized_ids: Vec<Uuid> = organized.iter().map(|e| e.id).collect();
    Ok(Home {
        checklist: Checklist {
            organization: !orgs.is_empty(),
            event: all > 0,
            published: published > 0,
            channel,
        },
        organized: with_org(organized),
        joined: with_org(joined)
            .into_iter()
            .filter(|h| h.event.status != EventStatus::Draft && !organized_ids.contains(&h.event.id))
            .collect(),
        event_org,
    })
}
