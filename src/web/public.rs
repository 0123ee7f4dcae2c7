//! Public pages: `/o/{org}` (an organization's upcoming public events), `/o/{org}/events.ics`
//! (the same as an iCalendar feed), `/o/{org}/e/{event}` (one event, with Open Graph tags and
//! the visitor's RSVP), `/o/{org}/e/{event}.ics` (the event as iCalendar) and
//! `/o/{org}/e/{event}/cover` (its cover image, under the same rules as its page).
//!
//! Public and unlisted events are for anyone with the link (only public ones are listed);
//! private ones only for members of the organization and the event's participants; drafts for
//! nobody here ([`crate::participants::may_see`]). Anything else is a 404, the same as an event
//! that does not exist.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use herald_templates::events::{self as pages, PublicEvent, PublicRow, ReminderNote, ReminderTime};

use super::AppState;
use super::error::PageError;
use super::portal::Portal;
use crate::db::models::{Event, EventStatus, Organization, Rsvp, Visibility};
use crate::domain::ServiceError;
use crate::domain::time::Viewer;
use crate::events;
use crate::participants::{self, EventView};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/o/{org}", get(org_page))
        .route("/o/{org}/events.ics", get(org_feed))
        .route("/o/{org}/e/{event}", get(event_page))
        .route("/o/{org}/e/{event}/cover", get(cover))
}

async fn org_page(State(state): State<AppState>, portal: Portal, Path(slug): Path<String>) -> Response {
    let org = match state.db.organization_by_slug(&slug).await {
        Ok(Some(o)) => o,
        Ok(None) => return PageError::NotFound.into_response(),
        Err(e) => return PageError::from(e).into_response(),
    };
    let list = match state.db.org_events(org.id, Some(Utc::now()), None, None, false, 200).await {
        Ok(l) => l,
        Err(e) => return PageError::from(e).into_response(),
    };
    let rows: Vec<PublicRow> = list
        .iter()
        .filter(|e| e.status == EventStatus::Published && e.visibility == Visibility::Public)
        .map(|e| PublicRow {
            href: format!("/o/{}/e/{}", org.slug, e.slug),
            name: e.name.clone(),
            when: viewer_of(&portal, e).span(e.starts_at, e.ends_at),
            datetime: e.starts_at.to_rfc3339(),
            place: e.location.clone().or_else(|| e.online_url.as_ref().map(|_| "Online".to_owned())),
        })
        .collect();
    let feed_path = format!("/o/{}/events.ics", org.slug);
    let feed_url = state.web.absolute(&feed_path);
    let view = pages::PublicOrg {
        name: org.name.clone(),
        description: org.description.clone(),
        webcal_href: webcal(&feed_url),
        feed_href: feed_path,
        feed_url,
    };
    Html(pages::public_org(&portal.shell, &view, &rows).into_string()).into_response()
}

/// The `webcal://` form of a feed's address: calendar apps open it as a subscription.
fn webcal(url: &str) -> String {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or(url);
    format!("webcal://{rest}")
}

/// How the visitor reads `e`'s times: their own zone and format when signed in, else the
/// event's zone with the month in words.
fn viewer_of(portal: &Portal, e: &Event) -> Viewer {
    portal.user.as_ref().map_or_else(|| Viewer::stranger(e.timezone), |u| u.user.viewer())
}

/// The event `slug` of `org` if the visitor may see it.
pub(super) async fn visible_event(
    state: &AppState,
    portal: &Portal,
    org: &str,
    slug: &str,
) -> Result<EventView, PageError> {
    let user = portal.user.as_ref().map(|u| u.user.id);
    participants::view_by_slug(&state.db, org, slug, user).await.map_err(|e| match e {
        ServiceError::Internal(e) => PageError::Internal(e),
        _ => PageError::NotFound,
    })
}

/// An iCalendar response named `file`.
fn calendar_response(file: &str, body: String) -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response()
}

/// `/o/{org}/events.ics`: the organization's upcoming public events (cancelled ones too, marked
/// cancelled, so calendars that subscribed drop them).
async fn org_feed(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let org = match state.db.organization_by_slug(&slug).await {
        Ok(Some(o)) => o,
        Ok(None) => return PageError::NotFound.into_response(),
        Err(e) => return PageError::from(e).into_response(),
    };
    let list = match state.db.org_events(org.id, Some(Utc::now()), None, None, false, 500).await {
        Ok(l) => l,
        Err(e) => return PageError::from(e).into_response(),
    };
    let items: Vec<(&Event, String)> = list
        .iter()
        .filter(|e| e.status != EventStatus::Draft && e.visibility == Visibility::Public)
        .map(|e| (e, state.web.absolute(&format!("/o/{}/e/{}", org.slug, e.slug))))
        .collect();
    calendar_response(&format!("{}.ics", org.slug), crate::calendar::ics(Some(&org.name), &items))
}

async fn event_page(
    State(state): State<AppState>,
    portal: Portal,
    Path((org, event)): Path<(String, String)>,
) -> Response {
    let (slug, ics) = match event.strip_suffix(".ics") {
        Some(s) => (s, true),
        None => (event.as_str(), false),
    };
    let view = match visible_event(&state, &portal, &org, slug).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let (org, event): (&Organization, &Event) = (&view.org, &view.event);
    let page_path = format!("/o/{}/e/{}", org.slug, event.slug);
    let url = state.web.absolute(&page_path);
    if ics {
        return calendar_response(
            &format!("{}.ics", event.slug),
            crate::calendar::ics(None, &[(event, url)]),
        );
    }
    let rsvp = match super::participants::rsvp_view(&state, &portal, &view, &page_path).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let viewer = viewer_of(&portal, event);
    let in_event_zone = viewer.in_zone(event.timezone);
    let about = crate::calendar::plain_text(&event.description);
    let summary: String = format!(
        "{} · {}{}",
        in_event_zone.span(event.starts_at, event.ends_at),
        event.location.clone().unwrap_or_else(|| "online".into()),
        if about.is_empty() { String::new() } else { format!(" · {}", about.replace('\n', " ")) }
    )
    .chars()
    .take(300)
    .collect();
    let sent = match (&portal.user, &view.participant) {
        (Some(user), Some(p)) => {
            let viewer = user.user.viewer();
            Some(
                match participants::sent_to(&state.db, p.id).await {
                    Ok(rows) => rows,
                    Err(e) => return PageError::from(e).into_response(),
                }
                .into_iter()
                .map(|m| pages::SentToYou {
                    when: viewer.moment(m.at),
                    datetime: m.at.to_rfc3339(),
                    what: m.what.to_owned(),
                    channel: m.channel,
                    outcome: m.outcome,
                    delivered: m.delivered,
                })
                .collect(),
            )
        }
        _ => None,
    };
    let attendees = if event.show_attendee_count {
        match state.db.rsvp_counts(event.id).await {
            Ok((going, maybe)) => Some(format!("{going} going · {maybe} maybe")),
            Err(e) => return PageError::from(e).into_response(),
        }
    } else {
        None
    };
    let cover_path = match state.db.event_cover_updated_at(event.id).await {
        Ok(at) => at.map(|at| format!("{page_path}/cover?v={}", at.timestamp_millis())),
        Err(e) => return PageError::from(e).into_response(),
    };
    let (google_href, outlook_href) =
        (crate::calendar::google_link(event, &url), crate::calendar::outlook_link(event, &url));
    let view = PublicEvent {
        org_name: org.name.clone(),
        org_href: format!("/o/{}", org.slug),
        name: event.name.clone(),
        when_viewer: viewer.span(event.starts_at, event.ends_at),
        when_event: (viewer.zone != event.timezone)
            .then(|| in_event_zone.span(event.starts_at, event.ends_at)),
        location: event.location.clone(),
        directions_href: event.location.as_deref().map(crate::calendar::directions_link),
        online_url: event.online_url.clone(),
        attendees,
        og_image: cover_path.as_deref().map(|p| state.web.absolute(p)),
        cover_src: cover_path,
        description_html: events::render_markdown(&event.description),
        summary,
        url,
        ics_href: format!("{page_path}.ics"),
        google_href,
        outlook_href,
        cancelled: event.status == EventStatus::Cancelled,
        rsvp: Some(rsvp),
        sent,
    };
    Html(pages::public_event(&portal.shell, &view).into_string()).into_response()
}

/// `/o/{org}/e/{event}/cover`: the event's cover image, to whoever may see its page (never for
/// a draft; a private event's only for members and participants), with the type detected at
/// upload, `nosniff`, and a private cache (the page links it with a version that changes with
/// the image).
async fn cover(
    State(state): State<AppState>,
    portal: Portal,
    Path((org, event)): Path<(String, String)>,
) -> Response {
    let view = match visible_event(&state, &portal, &org, &event).await {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    let cover = match state.db.event_cover(view.event.id).await {
        Ok(Some(c)) => c,
        Ok(None) => return PageError::NotFound.into_response(),
        Err(e) => return PageError::from(e).into_response(),
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, cover.content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; sandbox".to_owned()),
        ],
        cover.bytes,
    )
        .into_response()
}

/// What the signed-in participant is told about their reminders: when (in their zone) and
/// through which channels, the way the workflow's `deliver` resolves them at send time (the
/// channels they chose for the event, or all of theirs when they chose none; only enabled and
/// confirmed ones). Nothing for visitors who are not participants, who declined, or when the
/// event is cancelled or over.
pub(super) async fn reminder_note(
    state: &AppState,
    portal: &Portal,
    view: &EventView,
    now: DateTime<Utc>,
) -> Result<Option<ReminderNote>, PageError> {
    let (Some(user), Some(participant)) = (&portal.user, &view.participant) else { return Ok(None) };
    let event = &view.event;
    if event.status != EventStatus::Published || event.ends_at <= now {
        return Ok(None);
    }
    match participant.rsvp {
        Rsvp::Declined => return Ok(None),
        Rsvp::Pending => return Ok(Some(ReminderNote::AnswerFirst)),
        Rsvp::Going | Rsvp::Maybe => {}
    }
    let mine = crate::rules::choice_of(&state.db, view).await?;
    if !event.notify_reminders {
        return Ok(Some(ReminderNote::Off));
    }
    // Only their own reminders: those of their role that they kept, and their own times.
    let mut upcoming: Vec<(i64, DateTime<Utc>)> = mine
        .effective
        .iter()
        .map(|o| (*o, event.starts_at - chrono::Duration::seconds(*o)))
        .filter(|(_, due)| *due > now)
        .collect();
    upcoming.sort_by_key(|(_, due)| *due);
    // Own times can still be added while the start is further than the latest one allowed.
    let can_add_own = event.starts_at - chrono::Duration::seconds(mine.own_range.0) > now;
    let own_text = |list: &[i64]| {
        if list.is_empty() {
            "none".to_owned()
        } else {
            list.iter().map(|o| crate::rules::short_offset(*o)).collect::<Vec<_>>().join(", ")
        }
    };
    let when_empty = if mine.own_default.is_empty() {
        "Leave empty for none.".to_owned()
    } else {
        format!("Leave empty for your usual ones: {}.", crate::rules::offsets_in_words(&mine.own_default))
    };
    let form = herald_templates::events::ReminderChoiceForm {
        action: format!("/o/{}/e/{}/reminders", view.org.slug, event.slug),
        csrf: portal.shell.csrf.clone(),
        options: mine
            .offered
            .iter()
            .map(|o| (*o, crate::events::describe_offset(*o), mine.effective.contains(o)))
            .collect(),
        chosen: mine.chosen.is_some(),
        own: mine.own.as_deref().map(own_text).unwrap_or_default(),
        own_help: format!(
            "Only you get them: up to {}, between {} and {} before the start, like 2h or 1d. Write none for none here. {when_empty}",
            crate::rules::MAX_OWN,
            crate::events::describe_offset(mine.own_range.0),
            crate::events::describe_offset(mine.own_range.1),
        ),
    };
    let ahead = !upcoming.is_empty()
        || mine.offered.iter().any(|o| event.starts_at - chrono::Duration::seconds(*o) > now);
    if !ahead {
        return Ok(Some(ReminderNote::NoneAhead { choice: can_add_own.then_some(form) }));
    }
    let choice = (can_add_own || mine.offered.len() > 1 || mine.chosen.is_some()).then_some(form);
    let chosen = state.db.channel_rows_of(participant.id).await?;
    let channels: Vec<String> = state
        .db
        .integrations_of(user.user.id)
        .await?
        .into_iter()
        .filter(|i| i.enabled && i.verified_at.is_some())
        .filter(|i| chosen.is_empty() || chosen.iter().any(|c| c.integration_id == i.id))
        .map(|i| i.name)
        .collect();
    let viewer = user.user.viewer();
    Ok(Some(ReminderNote::Scheduled {
        times: upcoming
            .iter()
            .map(|(_, due)| ReminderTime { when: viewer.moment(*due), datetime: due.to_rfc3339() })
            .collect(),
        zone: viewer.zone.name().to_owned(),
        channels,
        choice,
    }))
}
