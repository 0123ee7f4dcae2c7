//! The private calendar feed of a user's joined events: `/feeds/{token}.ics`, managed on
//! `/account/calendar`.
//!
//! The token is 256 random bits, stored only as its SHA-256 like every other token, shown once
//! when made; making a new one replaces (so revokes) the old one. The path is masked in logs
//! ([`super::loggable_path`]). A revoked or unknown token is a plain 404.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Duration, Utc};
use herald_templates::FlashKind;
use herald_templates::participants::{self as pages, FeedView};

use super::error::PageError;
use super::portal::Portal;
use super::{AppState, flash};
use crate::auth::session::RequireUser;
use crate::auth::{hash_token, random_token};
use crate::db::models::{Event, User};

/// Joined events that ended up to this long ago stay in the feed.
const PAST_DAYS: i64 = 30;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/account/calendar", get(calendar_page).post(make_feed))
        .route("/account/calendar/revoke", post(revoke_feed))
        .route("/feeds/{file}", get(feed))
}

fn when(user: &User, t: DateTime<Utc>) -> String {
    let tz: chrono_tz::Tz = user.timezone.parse().unwrap_or(chrono_tz::UTC);
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

async fn calendar_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    let feed = state.db.calendar_feed(user.user.id).await?.map(|f| FeedView {
        created: when(&user.user, f.created_at),
        last_used: f.last_used_at.map(|t| when(&user.user, t)),
    });
    let markup = pages::calendar_page(&portal.shell, feed.as_ref(), None);
    Ok((StatusCode::OK, [(header::VARY, "HX-Request")], Html(markup.into_string())).into_response())
}

async fn make_feed(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    let token = random_token();
    let row = state.db.set_calendar_feed(user.user.id, &hash_token(&token)).await?;
    tracing::info!(user_id = %user.user.id, "calendar feed address made");
    let url = state.web.absolute(&format!("/feeds/{token}.ics"));
    let feed = FeedView { created: when(&user.user, row.created_at), last_used: None };
    // Shown right here, once: never in a redirect, a flash cookie, a cache or the log.
    let markup = pages::calendar_page(&portal.shell, Some(&feed), Some(&url));
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store"), (header::VARY, "HX-Request")],
        Html(markup.into_string()),
    )
        .into_response())
}

async fn revoke_feed(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
) -> Result<Response, PageError> {
    state.db.delete_calendar_feed(user.user.id).await?;
    tracing::info!(user_id = %user.user.id, "calendar feed revoked");
    Ok(flash::redirect(
        &state,
        "/account/calendar",
        FlashKind::Success,
        "The feed is off; its address no longer works.",
    ))
}

async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, PageError> {
    let token = file.strip_suffix(".ics").filter(|t| !t.is_empty()).ok_or(PageError::NotFound)?;
    let user_id = state.db.use_calendar_feed(&hash_token(token)).await?.ok_or(PageError::NotFound)?;
    let user = state.db.user_by_id(user_id).await?.ok_or(PageError::NotFound)?;
    let events = state.db.joined_events(user_id, Utc::now() - Duration::days(PAST_DAYS)).await?;
    let mut slugs: HashMap<uuid::Uuid, String> = HashMap::new();
    let mut items: Vec<(&Event, String)> = Vec::with_capacity(events.len());
    for e in &events {
        if let std::collections::hash_map::Entry::Vacant(slot) = slugs.entry(e.org_id) {
            slot.insert(state.db.organization_by_id(e.org_id).await?.map(|o| o.slug).unwrap_or_default());
        }
        let org = slugs.get(&e.org_id).map_or("", String::as_str);
        items.push((e, state.web.absolute(&format!("/o/{org}/e/{}", e.slug))));
    }
    let name = format!("Herald: {}'s events", user.display_name);
    let body = super::public::ical(Some(&name), &items, Utc::now());
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::HeaderName::from_static("x-robots-tag"), "noindex"),
        ],
        body,
    )
        .into_response())
}
