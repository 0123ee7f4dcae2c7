//! The private calendar feed of a user's joined events: `/feeds/{token}.ics`, managed on
//! `/account/calendar`.
//!
//! The token is 256 random bits, stored only as its SHA-256 like every other token, shown once
//! when made; making a new one replaces (so revokes) the old one. The path is masked in logs
//! ([`super::loggable_path`]). A revoked or unknown token is a plain 404.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use herald_templates::FlashKind;
use herald_templates::participants::{self as pages, FeedView};

use super::error::PageError;
use super::portal::Portal;
use super::{AppState, flash};
use crate::accounts::feeds;
use crate::db::models::{Event, User};
use crate::web::session::RequireUser;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/account/calendar", get(calendar_page).post(make_feed))
        .route("/account/calendar/revoke", post(revoke_feed))
        .route("/feeds/{file}", get(feed))
}

fn when(user: &User, t: DateTime<Utc>) -> String {
    user.viewer().moment(t)
}

async fn calendar_page(
    State(state): State<AppState>,
    RequireUser(user): RequireUser,
    portal: Portal,
) -> Result<Response, PageError> {
    let feed = feeds::current(&state.db, user.user.id).await?.map(|f| FeedView {
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
    let (row, token) = feeds::make(&state.db, user.user.id).await?;
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
    feeds::revoke(&state.db, user.user.id).await?;
    Ok(flash::redirect(
        &state,
        "/account/calendar",
        FlashKind::Success,
        "The feed is off; its address no longer works.",
    ))
}

async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, PageError> {
    let token = file.strip_suffix(".ics").filter(|t| !t.is_empty()).ok_or(PageError::NotFound)?;
    let content = feeds::open(&state.db, token).await?.ok_or(PageError::NotFound)?;
    let items: Vec<(&Event, String)> = content
        .events
        .iter()
        .map(|(e, org)| (e, state.web.absolute(&format!("/o/{org}/e/{}", e.slug))))
        .collect();
    let name = format!("Herald: {}'s events", content.owner.display_name);
    let body = crate::calendar::ics(Some(&name), &items);
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
