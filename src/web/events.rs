//! Organizer pages for events under `/orgs/{slug}/events`: the list with filters, create, the
//! detail page with the change history, edit, duplicate, cancel and delete (with confirmation).
//!
//! The rules live in [`crate::events`]; a non-member gets 404, a member who does not manage
//! events 403 for the management pages, bad input the form again with 422.

use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, Utc};
use herald_templates::FlashKind;
use herald_templates::delivery as delivery_pages;
use herald_templates::events::{self as pages, EventDetail, EventFormView, EventRow, HistoryRow};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageError, html, refusal_page};
use super::membership::Membership;
use super::portal::Portal;
use super::{AppState, flash};
use crate::db::events::Notices;
use crate::db::models::{DeliveryStatus, Event, EventStatus, NoticeKind};
use crate::domain::FieldErrors;
use crate::domain::ServiceError;
use crate::domain::changes::{ChangeSet, Timing};
use crate::domain::time::{self, Viewer};
use crate::events::{self, CoverError, FORM_NAMES, MAX_COVER_BYTES, RawEvent, SyncState};
use crate::orgs::OrgAccess;
use crate::web::session::CurrentUser;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/events", get(list).post(create))
        .route("/orgs/{slug}/events/new", get(new_page))
        .route("/orgs/{slug}/events/{id}", get(detail))
        .route("/orgs/{slug}/events/{id}/deliveries", get(deliveries))
        .route("/orgs/{slug}/events/{id}/export/{file}", get(export))
        .route("/orgs/{slug}/events/{id}/edit", get(edit_page).post(edit))
        .route("/orgs/{slug}/events/{id}/duplicate", post(duplicate))
        .route("/orgs/{slug}/events/{id}/guests", post(set_guests))
        .route("/orgs/{slug}/events/{id}/attendee-count", post(set_attendee_count))
        .route(
            "/orgs/{slug}/events/{id}/cover",
            post(upload_cover).layer(DefaultBodyLimit::max(super::csrf::MAX_FORM)),
        )
        .route("/orgs/{slug}/events/{id}/cover/delete", post(remove_cover))
        .route("/orgs/{slug}/events/{id}/publish", post(publish))
        .route("/orgs/{slug}/events/{id}/cancel", get(cancel_page).post(cancel))
        .route("/orgs/{slug}/events/{id}/delete", get(delete_page).post(delete))
}

/// A signed-in member's request for one organization's events; 404 for anyone else.
struct InOrg {
    portal: Portal,
    user: CurrentUser,
    access: OrgAccess,
    header: herald_templates::orgs::OrgHeader,
    id: Option<Uuid>,
}

impl FromRequestParts<AppState> for InOrg {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let m = Membership::from_request_parts(parts, state).await?;
        let id = m.uuid("id").map_err(IntoResponse::into_response)?;
        Ok(Self { portal: m.portal, user: m.user, access: m.access, header: m.header, id })
    }
}

impl InOrg {
    fn base(&self) -> String {
        format!("/orgs/{}/events", self.access.org.slug)
    }

    fn viewer(&self) -> Viewer {
        self.user.user.viewer()
    }

    fn manages(&self) -> bool {
        events::manages_events(self.access.role)
    }

    fn failure(&self, e: ServiceError) -> Response {
        let base = self.base();
        let back = Some((base.as_str(), "Back to the events"));
        refusal_page(&self.portal.shell, e, back)
    }

    async fn event(&self, state: &AppState) -> Result<Event, Response> {
        let id = self.id.ok_or_else(|| PageError::NotFound.into_response())?;
        events::load(&state.db, &self.access, id).await.map_err(|e| self.failure(e))
    }

    /// The 403 answer for a member who does not manage events; `None` for those who do.
    fn forbid(&self) -> Option<Response> {
        (!self.manages()).then(|| {
            self.failure(ServiceError::Forbidden("Only owners, admins and organizers manage events.".into()))
        })
    }
}

/// The redirect after a save. A save waits only briefly for Temporal: when it is reachable and
/// merely busy, the workflow is being told right now, which is no news for the organizer.
fn flash_after(state: &AppState, to: &str, done: &str, synced: SyncState) -> Response {
    let reachable = events::scheduler_reachable(state);
    match synced {
        SyncState::Pending if !reachable => {
            flash::redirect(state, to, FlashKind::Warning, events::PENDING_MESSAGE)
        }
        SyncState::Synced | SyncState::Pending => flash::redirect(state, to, FlashKind::Success, done),
    }
}

// --- List ---

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    filter: String,
}

/// Which list an event is on: upcoming (drafts too, badged), started and past, drafts, cancelled.
fn on_list(e: &Event, filter: &str, now: DateTime<Utc>) -> bool {
    match filter {
        "past" => e.status == EventStatus::Published && e.starts_at <= now,
        "drafts" => e.status == EventStatus::Draft,
        "cancelled" => e.status == EventStatus::Cancelled,
        _ => e.status != EventStatus::Cancelled && e.starts_at > now,
    }
}

async fn list(State(state): State<AppState>, org: InOrg, Query(q): Query<ListQuery>) -> Response {
    let filter = match q.filter.as_str() {
        "past" | "drafts" | "cancelled" => q.filter.as_str(),
        _ => "upcoming",
    };
    let all = match state.db.org_events(org.access.org.id, None, None, None, org.manages(), 1000).await {
        Ok(e) => e,
        Err(e) => return PageError::from(e).into_response(),
    };
    let now = Utc::now();
    let counts: Vec<usize> =
        pages::FILTERS.iter().map(|(f, _)| all.iter().filter(|e| on_list(e, f, now)).count()).collect();
    let mut rows: Vec<&Event> = all.iter().filter(|e| on_list(e, filter, now)).collect();
    if filter == "past" {
        rows.reverse();
    }
    let viewer = org.viewer();
    let rows: Vec<EventRow> = rows
        .into_iter()
        .map(|e| EventRow {
            id: e.id.to_string(),
            name: e.name.clone(),
            when: viewer.span(e.starts_at, e.ends_at),
            status: e.status.to_string(),
            visibility: e.visibility.to_string(),
        })
        .collect();
    html(StatusCode::OK, pages::list(&org.portal.shell, &org.header, filter, &counts, &rows, org.manages()))
}

// --- The form ---

/// The event form as submitted.
#[derive(Debug, Default, Deserialize)]
struct EventInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    online_url: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    custom_reminders: String,
    #[serde(default)]
    status: String,
    remind_1w: Option<String>,
    remind_1d: Option<String>,
    remind_1h: Option<String>,
    remind_15m: Option<String>,
    notify_reminders: Option<String>,
    notify_changes: Option<String>,
    notify_cancellation: Option<String>,
    #[serde(default)]
    remind_speaker: String,
    #[serde(default)]
    remind_volunteer: String,
    #[serde(default)]
    remind_attendee: String,
    #[serde(default)]
    remind_organizer: String,
    #[serde(default)]
    follow_up_after: String,
    #[serde(default)]
    follow_up_link: String,
}

/// Preset checkboxes: (form name, seconds).
const PRESET_NAMES: [&str; 4] = ["remind_1w", "remind_1d", "remind_1h", "remind_15m"];

impl EventInput {
    /// The per-role reminder texts, by role.
    fn role_texts(&self) -> Vec<(crate::db::models::ParticipantRole, String)> {
        use crate::db::models::ParticipantRole as R;
        vec![
            (R::Speaker, self.remind_speaker.clone()),
            (R::Volunteer, self.remind_volunteer.clone()),
            (R::Attendee, self.remind_attendee.clone()),
            (R::Organizer, self.remind_organizer.clone()),
        ]
    }

    fn presets(&self) -> [bool; 4] {
        [&self.remind_1w, &self.remind_1d, &self.remind_1h, &self.remind_15m].map(|o| o.is_some())
    }

    /// The end as entered, or one hour after a readable start when it was left empty.
    fn end_or_default(&self) -> String {
        if !self.end.trim().is_empty() {
            return self.end.clone();
        }
        events::parse_local(&self.start)
            .map(|start| (start + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    }

    /// Whether the start, read in the chosen zone, is at or before `now` (`false` when it cannot
    /// be read: validation reports that).
    fn start_has_passed(&self, now: DateTime<Utc>) -> bool {
        let (Ok(local), Ok(tz)) = (events::parse_local(&self.start), events::parse_timezone(&self.timezone))
        else {
            return false;
        };
        events::resolve_local(local, tz).is_ok_and(|t| t <= now)
    }

    fn raw(&self) -> RawEvent {
        let offsets = self
            .presets()
            .iter()
            .zip(events::PRESETS)
            .filter(|(on, _)| **on)
            .map(|(_, (secs, _))| *secs)
            .collect();
        RawEvent {
            name: self.name.clone(),
            description: self.description.clone(),
            location: self.location.clone(),
            online_url: self.online_url.clone(),
            start: self.start.clone(),
            end: self.end_or_default(),
            timezone: self.timezone.clone(),
            visibility: self.visibility.clone(),
            reminder_offsets: offsets,
            custom_reminders: self.custom_reminders.clone(),
            rules: crate::rules::RawRules {
                role_texts: self.role_texts().into_iter().map(|(r, t)| (r.as_str().to_owned(), t)).collect(),
                follow_up_text: self.follow_up_after.clone(),
                follow_up_link: self.follow_up_link.clone(),
                form: true,
                ..Default::default()
            },
            notices: Notices {
                reminders: self.notify_reminders.is_some(),
                changes: self.notify_changes.is_some(),
                cancellation: self.notify_cancellation.is_some(),
            },
            status: self.status.clone(),
        }
    }

    fn view(&self, may_be_draft: bool) -> EventFormView {
        EventFormView {
            name: self.name.clone(),
            description: self.description.clone(),
            start: self.start.clone(),
            end: self.end.clone(),
            timezone: self.timezone.clone(),
            location: self.location.clone(),
            online_url: self.online_url.clone(),
            visibility: self.visibility.clone(),
            presets: preset_view(self.presets()),
            custom_reminders: self.custom_reminders.clone(),
            role_reminders: self
                .role_texts()
                .into_iter()
                .map(|(r, t)| (format!("remind_{}", r.as_str()), crate::rules::role_plural(r).to_owned(), t))
                .collect(),
            follow_up_after: self.follow_up_after.clone(),
            follow_up_link: self.follow_up_link.clone(),
            notify_reminders: self.notify_reminders.is_some(),
            notify_changes: self.notify_changes.is_some(),
            notify_cancellation: self.notify_cancellation.is_some(),
            status: self.status.clone(),
            may_be_draft,
            zones: time::zone_names(),
        }
    }
}

fn preset_view(on: [bool; 4]) -> Vec<(String, String, bool)> {
    PRESET_NAMES
        .iter()
        .zip(events::PRESETS)
        .zip(on)
        .map(|((name, (_, label)), on)| ((*name).to_owned(), (*label).to_owned(), on))
        .collect()
}

/// Short text for a custom offset: 30m, 2h, 3d, 45s.
fn short_offset(secs: i64) -> String {
    if secs % 86_400 == 0 {
        format!("{}d", secs / 86_400)
    } else if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

fn view_of(event: &Event) -> EventFormView {
    let local = |t: DateTime<Utc>| time::form_value(t, event.timezone);
    let offsets = &event.reminder_offsets.0;
    let on = preset_on(offsets);
    let custom: Vec<String> = offsets
        .iter()
        .filter(|o| !events::PRESETS.iter().any(|(p, _)| p == *o))
        .map(|o| short_offset(*o))
        .collect();
    EventFormView {
        name: event.name.clone(),
        description: event.description.clone(),
        start: local(event.starts_at),
        end: local(event.ends_at),
        timezone: event.timezone.name().to_owned(),
        location: event.location.clone().unwrap_or_default(),
        online_url: event.online_url.clone().unwrap_or_default(),
        visibility: event.visibility.to_string(),
        presets: preset_view(on),
        custom_reminders: custom.join(", "),
        role_reminders: role_fields(&event.role_reminders.0),
        follow_up_after: event.follow_up_after.map(crate::rules::short_offset).unwrap_or_default(),
        follow_up_link: event.follow_up_link.clone().unwrap_or_default(),
        notify_reminders: event.notify_reminders,
        notify_changes: event.notify_changes,
        notify_cancellation: event.notify_cancellation,
        status: event.status.to_string(),
        may_be_draft: event.status == EventStatus::Draft,
        zones: time::zone_names(),
    }
}

/// The per-role reminder fields of the form: (name, label, text).
fn role_fields(rules: &std::collections::BTreeMap<String, Vec<i64>>) -> Vec<(String, String, String)> {
    crate::rules::ROLES
        .iter()
        .map(|r| {
            (
                format!("remind_{}", r.as_str()),
                crate::rules::role_plural(*r).to_owned(),
                crate::rules::role_text(rules, *r),
            )
        })
        .collect()
}

/// Which presets are among `offsets`.
fn preset_on(offsets: &[i64]) -> [bool; 4] {
    let mut out = [false; 4];
    for (slot, (secs, _)) in out.iter_mut().zip(events::PRESETS) {
        *slot = offsets.contains(secs);
    }
    out
}

fn form_response(
    org: &InOrg,
    title: &str,
    action: &str,
    view: &EventFormView,
    errors: &FieldErrors,
    status: StatusCode,
) -> Response {
    html(
        status,
        pages::form(
            &org.portal.shell,
            &org.access.org.slug,
            title,
            action,
            view,
            &errors.0,
            events::AMBIGUOUS_HELP,
        ),
    )
}

async fn new_page(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    // The organization's defaults for new events, when it set some.
    let defaults = match state.db.event_defaults(org.access.org.id).await {
        Ok(d) => d,
        Err(e) => return PageError::from(e).into_response(),
    };
    let (presets, custom) = match &defaults {
        Some(d) => (
            preset_on(&d.reminder_offsets.0),
            d.reminder_offsets
                .0
                .iter()
                .filter(|o| !events::PRESETS.iter().any(|(p, _)| p == *o))
                .map(|o| short_offset(*o))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => ([false, true, true, false], String::new()),
    };
    let d = defaults.unwrap_or_default();
    let view = EventFormView {
        timezone: org.user.user.timezone.name().to_owned(),
        visibility: "public".into(),
        presets: preset_view(presets),
        custom_reminders: custom,
        role_reminders: role_fields(&d.role_reminders.0),
        follow_up_after: d.follow_up_after.map(crate::rules::short_offset).unwrap_or_default(),
        follow_up_link: d.follow_up_link.clone().unwrap_or_default(),
        notify_reminders: true,
        notify_changes: true,
        notify_cancellation: true,
        status: "draft".into(),
        may_be_draft: true,
        zones: time::zone_names(),
        ..Default::default()
    };
    form_response(&org, "New event", &org.base(), &view, &FieldErrors::default(), StatusCode::OK)
}

async fn create(State(state): State<AppState>, org: InOrg, Form(input): Form<EventInput>) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let refused = |errors: &FieldErrors| {
        form_response(
            &org,
            "New event",
            &org.base(),
            &input.view(true),
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    // Every problem at once: a past start is reported beside the others.
    let past = input.start_has_passed(Utc::now());
    let mut errors = match events::validate(&input.raw(), FORM_NAMES) {
        Ok(fields) if !past => {
            return match events::create(&state, &org.access, &fields, None).await {
                Ok((event, synced)) => {
                    let done = if event.status == EventStatus::Published {
                        "The event is published. Share its link below; reminders go out as planned."
                    } else {
                        "The draft is saved. Nobody sees it and no reminder goes out until you publish it."
                    };
                    flash_after(&state, &format!("{}/{}", org.base(), event.id), done, synced)
                }
                Err(e) => org.failure(e),
            };
        }
        Ok(_) => FieldErrors::default(),
        Err(errors) => errors,
    };
    if past {
        errors.add("start", "This time has passed: choose a start in the future.");
    }
    refused(&errors)
}

async fn edit_page(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let action = format!("{}/{}/edit", org.base(), event.id);
    form_response(
        &org,
        &format!("Edit {}", event.name),
        &action,
        &view_of(&event),
        &FieldErrors::default(),
        StatusCode::OK,
    )
}

async fn edit(State(state): State<AppState>, org: InOrg, Form(input): Form<EventInput>) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let action = format!("{}/{}/edit", org.base(), event.id);
    let title = format!("Edit {}", event.name);
    let may_be_draft = event.status == EventStatus::Draft;
    let fields = match events::validate(&input.raw(), FORM_NAMES) {
        Ok(f) => f,
        Err(errors) => {
            return form_response(
                &org,
                &title,
                &action,
                &input.view(may_be_draft),
                &errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    match events::edit(&state, &org.access, event.id, &fields).await {
        Ok((event, synced)) => {
            flash_after(&state, &format!("{}/{}", org.base(), event.id), "The changes are saved.", synced)
        }
        Err(ServiceError::Invalid(errors)) => form_response(
            &org,
            &title,
            &action,
            &input.view(may_be_draft),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => org.failure(e),
    }
}

// --- Detail ---

fn history_lines(changes: &ChangeSet, viewer: Viewer) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(c) = &changes.time {
        let span = |t: &Timing| viewer.in_zone(t.timezone.clone().into()).span(t.starts_at, t.ends_at);
        lines.push(format!("Time: {} → {}", span(&c.old), span(&c.new)));
    }
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
    if let Some(c) = &changes.place {
        lines.push(format!("Place: {} → {}", text(&c.old), text(&c.new)));
    }
    if let Some(c) = &changes.link {
        lines.push(format!("Online link: {} → {}", text(&c.old), text(&c.new)));
    }
    if let Some(c) = &changes.status {
        lines.push(format!("Status: {} → {}", c.old, c.new));
    }
    if !changes.fields.is_empty() {
        let names: Vec<&str> = changes.fields.iter().map(|f| f.as_str()).collect();
        lines.push(format!("Also changed: {}", names.join(", ")));
    }
    lines
}

async fn detail(State(state): State<AppState>, org: InOrg) -> Response {
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let updates = match state.db.event_updates(event.id).await {
        Ok(u) => u,
        Err(e) => return PageError::from(e).into_response(),
    };
    let synced = match events::sync_state(&state.db, &event).await {
        Ok(s) => s,
        Err(e) => return org.failure(e),
    };
    let cover_at = match state.db.event_cover_updated_at(event.id).await {
        Ok(c) => c,
        Err(e) => return PageError::from(e).into_response(),
    };
    let viewer = org.viewer();
    let in_event_zone = viewer.in_zone(event.timezone);
    let notices: Vec<&str> = [
        (event.notify_reminders, "reminders"),
        (event.notify_changes, "changes"),
        (event.notify_cancellation, "cancellation"),
    ]
    .into_iter()
    .filter_map(|(on, w)| on.then_some(w))
    .collect();
    let view = EventDetail {
        id: event.id.to_string(),
        name: event.name.clone(),
        status: event.status.to_string(),
        visibility: event.visibility.to_string(),
        when_viewer: viewer.span(event.starts_at, event.ends_at),
        when_event: (viewer.zone != event.timezone)
            .then(|| in_event_zone.span(event.starts_at, event.ends_at)),
        location: event.location.clone(),
        online_url: event.online_url.clone(),
        description_html: events::render_markdown(&event.description),
        reminders: if event.role_reminders.0.is_empty() {
            let mut list: Vec<String> = event
                .reminder_offsets
                .0
                .iter()
                .map(|o| format!("{} before", events::describe_offset(*o)))
                .collect();
            list.extend(crate::rules::follow_up_in_words(&event).map(|f| format!("after the event: {f}")));
            list
        } else {
            crate::rules::in_words(&event)
        },
        notices: if notices.is_empty() { "nothing".into() } else { notices.join(", ") },
        guests: (event.visibility != crate::db::models::Visibility::Private).then_some(event.guests),
        show_attendee_count: event.show_attendee_count,
        has_cover: cover_at.is_some(),
        // The preview comes from the public address, which serves nothing for a draft.
        cover_src: cover_at.filter(|_| event.status != EventStatus::Draft).map(|at| {
            format!("/o/{}/e/{}/cover?v={}", org.access.org.slug, event.slug, at.timestamp_millis())
        }),
        announce_href: (org.manages()
            && event.status == EventStatus::Published
            && event.ends_at > Utc::now())
        .then(|| format!("{}/{}/announcements", org.base(), event.id)),
        announcements: super::announcements::rows_for(&state, &org.access, org.viewer(), &event).await,
        public_href: (event.status != EventStatus::Draft)
            .then(|| format!("/o/{}/e/{}", org.access.org.slug, event.slug)),
        share_url: (event.status != EventStatus::Draft)
            .then(|| state.web.absolute(&format!("/o/{}/e/{}", org.access.org.slug, event.slug))),
        history: updates
            .iter()
            .map(|u| HistoryRow {
                when: viewer.moment(u.created_at),
                kind: u.kind.to_string(),
                lines: history_lines(&u.changes(), in_event_zone),
            })
            .collect(),
        pending: (synced == SyncState::Pending && org.manages()).then(|| events::PENDING_MESSAGE.to_owned()),
        can_manage: org.manages(),
        can_delete: event.status == EventStatus::Draft || event.ends_at <= Utc::now(),
        editable: event.status != EventStatus::Cancelled,
        deliveries_url: org.manages().then(|| format!("{}/{}/deliveries", org.base(), event.id)),
        export_base: org.manages().then(|| format!("{}/{}/export", org.base(), event.id)),
        participants: match super::participants::section_for(&state, &org.access, &event).await {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        },
    };
    html(StatusCode::OK, pages::detail(&org.portal.shell, &org.access.org.slug, &view))
}

/// How soon the deliveries fragment should look again: every 3 s while something is being
/// delivered, pending or due within ten minutes; every minute while the next reminder is further
/// away; never once nothing is left to come.
fn poll_after(schedule: &crate::schedule::Schedule, pending: usize, now: DateTime<Utc>) -> Option<u32> {
    use herald_workflows::Phase;
    let busy = pending > 0 || matches!(schedule.phase, Some(Phase::Loading | Phase::Delivering));
    let next = schedule.upcoming.first().map(|n| n.due_at);
    if busy || next.is_some_and(|due| due - now <= chrono::Duration::minutes(10)) {
        Some(3)
    } else if next.is_some()
        || matches!(
            schedule.source,
            crate::schedule::Source::Estimate(_) | crate::schedule::Source::Asleep(_)
        )
    {
        Some(60)
    } else {
        None
    }
}

/// The scheduled notices and the delivery ledger, as an htmx fragment (organizers only).
async fn deliveries(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let ledger = match state.db.ledger(event.id, 2_000).await {
        Ok(l) => l,
        Err(e) => return PageError::from(e).into_response(),
    };
    let now = Utc::now();
    let viewer = org.viewer();
    let schedule = crate::schedule::of(&state.temporal, &event, now).await;
    let source_note = match &schedule.source {
        crate::schedule::Source::Workflow => "From the event's running workflow.".to_owned(),
        crate::schedule::Source::Estimate(reason) => {
            format!("Estimated from the event, because {reason}; the workflow catches up when it can.")
        }
        crate::schedule::Source::Asleep(wake) => format!(
            "Planned from the event: nothing is due for a while, so its workflow rests until {}, \
             shortly before the first notice. Changes you make before then wake it at once.",
            viewer.moment(*wake)
        ),
        crate::schedule::Source::Nothing => match event.status {
            EventStatus::Draft => "A draft: nothing is scheduled until it is published.".to_owned(),
            EventStatus::Cancelled => "Cancelled: nothing more will be sent.".to_owned(),
            EventStatus::Published => "The event is over: nothing more will be sent.".to_owned(),
        },
    };
    let mut counts = delivery_pages::LedgerCounts::default();
    for row in &ledger {
        match row.status {
            DeliveryStatus::Sent => counts.sent += 1,
            DeliveryStatus::Partial => counts.partial += 1,
            DeliveryStatus::Pending => counts.pending += 1,
            DeliveryStatus::Failed => counts.failed += 1,
            DeliveryStatus::Expired => counts.expired += 1,
            DeliveryStatus::Skipped => counts.skipped += 1,
            DeliveryStatus::Uncertain => counts.uncertain += 1,
        }
    }
    let view = delivery_pages::DeliveryView {
        poll_url: format!("{}/{}/deliveries", org.base(), event.id),
        poll_secs: poll_after(&schedule, counts.pending, now),
        source_note,
        upcoming: schedule
            .upcoming
            .iter()
            .map(|n| delivery_pages::UpcomingRow {
                what: match n.kind.as_str() {
                    "announcement" => "Announcement".to_owned(),
                    "held" => "Messages held for someone's quiet hours or digest".to_owned(),
                    "reminder" => match crate::rules::audience(&event, n.offset).as_str() {
                        "everyone" => format!("Reminder, {} before", events::describe_offset(n.offset)),
                        who => format!("Reminder, {} before, for {who}", events::describe_offset(n.offset)),
                    },
                    "follow_up" => "Follow-up: a thank-you to those going".to_owned(),
                    other => other.to_owned(),
                },
                when: viewer.moment(n.due_at),
                datetime: n.due_at.to_rfc3339(),
            })
            .collect(),
        // The Temporal UI is an operator's tool.
        workflow_url: schedule
            .workflow_url
            .filter(|_| org.user.verified() && state.web.is_admin(&org.user.user.email)),
        ledger: ledger
            .iter()
            .map(|r| delivery_pages::LedgerRow {
                recipient: r.recipient_name.clone().unwrap_or_else(|| "(removed participant)".into()),
                channel: r.integration_name.clone().unwrap_or_else(|| "no channel".into()),
                notice: match r.kind {
                    NoticeKind::Reminder => "Reminder",
                    NoticeKind::Updated => "Change notice",
                    NoticeKind::Cancelled => "Cancellation",
                    NoticeKind::Message | NoticeKind::FollowUp => "Message",
                }
                .to_owned(),
                due: viewer.moment(r.due_at),
                status: r.status.as_str().to_owned(),
                detail: r.apprise_answer.clone(),
                attempts: r.attempts,
            })
            .collect(),
        counts,
    };
    html(StatusCode::OK, delivery_pages::fragment(&view))
}

/// `…/export/participants.csv|json` and `…/export/deliveries.csv|json`: the files, for the
/// organizers of the event's organization; anyone else gets 404.
async fn export(
    State(state): State<AppState>,
    org: InOrg,
    axum::extract::Path(params): axum::extract::Path<std::collections::HashMap<String, String>>,
) -> Response {
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    let file = params.get("file").map(String::as_str).unwrap_or_default();
    let Some((what, format)) =
        file.split_once('.').and_then(|(w, f)| Some((w, crate::exports::Format::parse(f)?)))
    else {
        return PageError::NotFound.into_response();
    };
    let event = match crate::exports::event_for(&state.db, &org.access, id).await {
        Ok(e) => e,
        Err(e) => return org.failure(e),
    };
    let made = match what {
        "participants" => crate::exports::participants_file(&state.db, &event, format).await,
        "deliveries" => crate::exports::deliveries_file(&state.db, &event, format).await,
        _ => return PageError::NotFound.into_response(),
    };
    match made {
        Ok(f) => super::api::exports::attachment(f),
        Err(e) => org.failure(e),
    }
}

// --- Duplicate, cancel, delete ---

/// Confirmation field of destructive forms.
#[derive(Debug, Default, Deserialize)]
struct ConfirmInput {
    #[serde(default)]
    confirm: String,
}

#[derive(Debug, Deserialize)]
struct GuestsInput {
    #[serde(default)]
    guests: String,
}

/// Lets visitors answer without an account, or not.
async fn set_guests(State(state): State<AppState>, org: InOrg, Form(input): Form<GuestsInput>) -> Response {
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    let on = input.guests == "on";
    match events::set_guests(&state, &org.access, id, on).await {
        Ok(_) => flash::redirect(
            &state,
            &format!("{}/{id}", org.base()),
            FlashKind::Success,
            if on {
                "Visitors can answer without an account, with a name and an email address they confirm."
            } else {
                "Visitors now need an account to answer."
            },
        ),
        Err(e) => org.failure(e),
    }
}

#[derive(Debug, Deserialize)]
struct AttendeeCountInput {
    #[serde(default)]
    show_attendee_count: String,
}

/// Shows how many are going and maybe on the public page, or not.
async fn set_attendee_count(
    State(state): State<AppState>,
    org: InOrg,
    Form(input): Form<AttendeeCountInput>,
) -> Response {
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    let on = input.show_attendee_count == "on";
    match events::set_show_attendee_count(&state, &org.access, id, on).await {
        Ok(_) => flash::redirect(
            &state,
            &format!("{}/{id}", org.base()),
            FlashKind::Success,
            if on {
                "The event's page now says how many are going and maybe (never who)."
            } else {
                "The event's page no longer says how many are going."
            },
        ),
        Err(e) => org.failure(e),
    }
}

/// The uploaded `cover` field's bytes, stopping past the limit; `Err(true)` when too large.
async fn read_cover(mut multipart: Multipart) -> Result<Vec<u8>, bool> {
    let mut out = Vec::new();
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.status() == StatusCode::PAYLOAD_TOO_LARGE),
        };
        if field.name() != Some("cover") {
            continue;
        }
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    out.extend_from_slice(&chunk);
                    if out.len() > MAX_COVER_BYTES {
                        return Err(true);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e.status() == StatusCode::PAYLOAD_TOO_LARGE),
            }
        }
    }
}

/// Sets the event's cover image from the upload form (PNG, JPEG or WebP, at most 2 MB).
async fn upload_cover(
    State(state): State<AppState>,
    org: InOrg,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    let back = format!("{}/{id}", org.base());
    let refuse = |status: StatusCode, why: &str| {
        html(
            status,
            herald_templates::accounts::message(
                &org.portal.shell,
                "The cover image was not saved",
                why,
                Some((back.as_str(), "Back to the event")),
            ),
        )
    };
    let choose = "Choose an image file (PNG, JPEG or WebP, at most 2 MB) to upload.";
    let Ok(multipart) = multipart else { return refuse(StatusCode::UNPROCESSABLE_ENTITY, choose) };
    let bytes = match read_cover(multipart).await {
        Ok(b) if b.is_empty() => return refuse(StatusCode::UNPROCESSABLE_ENTITY, choose),
        Ok(b) => b,
        Err(true) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, &CoverError::TooLarge.to_string()),
        Err(false) => {
            return refuse(StatusCode::BAD_REQUEST, "The upload did not arrive completely; try again.");
        }
    };
    match events::set_cover(&state, &org.access, id, &bytes).await {
        Ok(()) => flash::redirect(
            &state,
            &back,
            FlashKind::Success,
            "The cover image is saved. It shows on the event's page and in link previews.",
        ),
        Err(e @ CoverError::TooLarge) => refuse(StatusCode::PAYLOAD_TOO_LARGE, &e.to_string()),
        Err(e @ CoverError::NotAnImage) => refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, &e.to_string()),
        Err(CoverError::Event(e)) => org.failure(e),
    }
}

/// Removes the event's cover image.
async fn remove_cover(State(state): State<AppState>, org: InOrg) -> Response {
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    match events::remove_cover(&state, &org.access, id).await {
        Ok(removed) => flash::redirect(
            &state,
            &format!("{}/{id}", org.base()),
            FlashKind::Success,
            if removed { "The cover image is removed." } else { "The event has no cover image." },
        ),
        Err(e) => org.failure(e),
    }
}

async fn publish(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    match events::publish(&state, &org.access, id).await {
        Ok((event, synced)) => flash_after(
            &state,
            &format!("{}/{}", org.base(), event.id),
            "The event is published. Share its link below; reminders go out as planned.",
            synced,
        ),
        Err(e) => org.failure(e),
    }
}

async fn duplicate(State(state): State<AppState>, org: InOrg) -> Response {
    let Some(id) = org.id else { return PageError::NotFound.into_response() };
    match events::duplicate(&state, &org.access, id).await {
        Ok(copy) => flash::redirect(
            &state,
            &format!("{}/{}/edit", org.base(), copy.id),
            FlashKind::Success,
            "A draft copy is made; adjust it and publish it when ready.",
        ),
        Err(e) => org.failure(e),
    }
}

fn confirm_page(org: &InOrg, event: &Event, what: &str) -> Response {
    let base = format!("{}/{}", org.base(), event.id);
    let (title, text, button) = if what == "cancel" {
        (
            format!("Cancel {}?", event.name),
            "Participants who chose to be told get a cancellation notice and no further reminders. This cannot be undone.",
            "Cancel the event",
        )
    } else {
        (
            format!("Delete {}?", event.name),
            "The event and its history are deleted for good.",
            "Delete the event",
        )
    };
    html(
        StatusCode::OK,
        herald_templates::orgs::confirm(
            &org.portal.shell,
            &title,
            text,
            &format!("{base}/{what}"),
            button,
            &base,
        ),
    )
}

async fn cancel_page(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    match org.event(&state).await {
        Ok(e) => confirm_page(&org, &e, "cancel"),
        Err(r) => r,
    }
}

async fn cancel(State(state): State<AppState>, org: InOrg, Form(input): Form<ConfirmInput>) -> Response {
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    if input.confirm != "yes" {
        return confirm_page(&org, &event, "cancel");
    }
    match events::cancel(&state, &org.access, event.id).await {
        Ok((event, synced)) => {
            flash_after(&state, &format!("{}/{}", org.base(), event.id), "The event is cancelled.", synced)
        }
        Err(e) => org.failure(e),
    }
}

async fn delete_page(State(state): State<AppState>, org: InOrg) -> Response {
    if let Some(r) = org.forbid() {
        return r;
    }
    match org.event(&state).await {
        Ok(e) => confirm_page(&org, &e, "delete"),
        Err(r) => r,
    }
}

async fn delete(State(state): State<AppState>, org: InOrg, Form(input): Form<ConfirmInput>) -> Response {
    let event = match org.event(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    if input.confirm != "yes" {
        return confirm_page(&org, &event, "delete");
    }
    match events::delete(&state, &org.access, event.id).await {
        Ok(()) => {
            flash::redirect(&state, &org.base(), FlashKind::Success, &format!("{} is deleted.", event.name))
        }
        Err(e) => org.failure(e),
    }
}
