//! Participant pages: the organizer's Participants section of `/orgs/{slug}/events/{id}` (add
//! by email, roles, removal), the CSV import with its progress page, and the RSVP and leave
//! actions of the public event page `/o/{org}/e/{event}`.
//!
//! The rules live in [`crate::participants`]. Organizer routes answer 404 to non-members (and
//! for drafts to members who do not manage events), 403 to members who do not manage events.

use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use herald_templates::FlashKind;
use herald_templates::participants::{
    self as pages, ChannelOption, CurrentAnswer, ImportLine, ImportView, ParticipantLine,
    ParticipantsSection, RsvpView,
};
use serde::Deserialize;
use uuid::Uuid;

use super::error::{PageError, html, refusal_page};
use super::membership::Membership;
use super::portal::Portal;
use super::{AppState, flash};
use crate::db::models::{EventStatus, Rsvp};
use crate::db::participants::ChannelRow;
use crate::domain::ServiceError;
use crate::events;
use crate::orgs::OrgAccess;
use crate::participants::{self, Added, EventView, ImportError, MAX_IMPORT_BYTES, rsvp_label};
use crate::web::session::{CurrentUser, MaybeUser};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/events/{id}/participants", get(add_page).post(add))
        .route("/orgs/{slug}/events/{id}/participants/{participant}/role", post(set_role))
        .route("/orgs/{slug}/events/{id}/participants/{participant}/remove", get(remove_page).post(remove))
        .route(
            "/orgs/{slug}/events/{id}/participants/import",
            get(import_page).post(import).layer(DefaultBodyLimit::max(2 * MAX_IMPORT_BYTES)),
        )
        .route("/orgs/{slug}/events/{id}/participants/import/{import}", get(progress))
        .route("/o/{org}/e/{event}/rsvp", post(rsvp))
        .route("/o/{org}/e/{event}/guest", post(guest_answer))
        .route("/guest/{token}", get(confirm_guest))
        .route("/o/{org}/e/{event}/leave", post(leave))
}

/// A signed-in member's request about one event of their organization; 404 for anyone else.
struct OrgEvent {
    portal: Portal,
    user: CurrentUser,
    access: OrgAccess,
    view: EventView,
    /// The `{participant}` or `{import}` of the path, if any (404 when not a UUID).
    item: Option<Uuid>,
}

impl FromRequestParts<AppState> for OrgEvent {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let not_found = || PageError::NotFound.into_response();
        let m = Membership::from_request_parts(parts, state).await?;
        let id = m.uuid("id").map_err(IntoResponse::into_response)?.ok_or_else(not_found)?;
        let item = match m.uuid("participant").map_err(IntoResponse::into_response)? {
            Some(p) => Some(p),
            None => m.uuid("import").map_err(IntoResponse::into_response)?,
        };
        let event = events::load(&state.db, &m.access, id).await.map_err(|e| match e {
            ServiceError::Internal(e) => PageError::Internal(e).into_response(),
            _ => not_found(),
        })?;
        let view = EventView {
            org: m.access.org.clone(),
            event,
            member: Some(m.access.role),
            participant: None,
            invitation: None,
        };
        Ok(Self { portal: m.portal, user: m.user, access: m.access, view, item })
    }
}

impl OrgEvent {
    fn event_href(&self) -> String {
        format!("/orgs/{}/events/{}", self.access.org.slug, self.view.event.id)
    }

    fn base(&self) -> String {
        format!("{}/participants", self.event_href())
    }

    fn failure(&self, e: ServiceError) -> Response {
        let href = self.event_href();
        refusal_page(&self.portal.shell, e, Some((href.as_str(), "Back to the event")))
    }

    fn forbid(&self) -> Option<Response> {
        (!self.view.manages()).then(|| {
            self.failure(ServiceError::Forbidden(
                "Only owners, admins and organizers manage participants.".into(),
            ))
        })
    }
}

/// A channel in words: "Phone (tags: sms, urgent)" or "Phone (every address)".
fn channel_words(c: &ChannelRow) -> String {
    if c.tags.0.is_empty() {
        format!("{} (every address)", c.name)
    } else {
        format!("{} (tags: {})", c.name, c.tags.0.join(", "))
    }
}

/// The Participants section of the organizer's event page; `None` for members who do not
/// manage events.
pub(super) async fn section_for(
    state: &AppState,
    access: &OrgAccess,
    event: &crate::db::models::Event,
) -> Result<Option<ParticipantsSection>, PageError> {
    if !events::manages_events(access.role) {
        return Ok(None);
    }
    let rows = state.db.participant_rows(event.id).await?;
    let channels = state.db.event_channel_rows(event.id).await?;
    let reach = participants::reachability(&state.db, event.id, &rows, &channels).await?;
    let mut counts: Vec<(Rsvp, usize)> = Vec::new();
    for r in &rows {
        match counts.iter_mut().find(|(k, _)| *k == r.rsvp) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.rsvp, 1)),
        }
    }
    counts.sort_by_key(|(k, _)| Rsvp::ALL.iter().position(|x| x == k));
    let counts = counts
        .iter()
        .map(|(k, n)| format!("{n} {}", rsvp_label(*k).to_lowercase()))
        .collect::<Vec<_>>()
        .join(" · ");
    let lines = rows
        .iter()
        .map(|r| ParticipantLine {
            id: r.id.to_string(),
            name: r.name().to_owned(),
            email: r.address().to_owned(),
            invited: r.user_id.is_none(),
            role: r.role.to_string(),
            rsvp: rsvp_label(r.rsvp).to_owned(),
            channels: channels.iter().filter(|c| c.participant_id == r.id).map(channel_words).collect(),
            reached_through: match reach.get(&r.id) {
                Some(participants::Reach::Through(names)) => names.clone(),
                _ => Vec::new(),
            },
            unreachable: match reach.get(&r.id) {
                Some(participants::Reach::Not(why)) => Some((*why).to_owned()),
                _ => None,
            },
        })
        .collect();
    let reached = reach.values().filter(|r| r.reachable()).count();
    Ok(Some(ParticipantsSection {
        base: format!("/orgs/{}/events/{}/participants", access.org.slug, event.id),
        rows: lines,
        counts: format!("{} in all: {counts}. {reached} of {} will be told.", rows.len(), rows.len()),
        open: event.status != EventStatus::Cancelled,
    }))
}

// --- Organizer actions ---

#[derive(Debug, Default, Deserialize)]
struct AddInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

fn add_form_page(
    e: &OrgEvent,
    input: &AddInput,
    errors: &crate::domain::FieldErrors,
    status: StatusCode,
) -> Response {
    let role = if input.role.is_empty() { "attendee" } else { input.role.as_str() };
    html(
        status,
        pages::add_page(
            &e.portal.shell,
            &e.view.event.name,
            &e.event_href(),
            &e.base(),
            &input.email,
            role,
            &errors.0,
        ),
    )
}

async fn add_page(e: OrgEvent) -> Response {
    if let Some(r) = e.forbid() {
        return r;
    }
    add_form_page(&e, &AddInput::default(), &crate::domain::FieldErrors::default(), StatusCode::OK)
}

async fn add(State(state): State<AppState>, e: OrgEvent, Form(input): Form<AddInput>) -> Response {
    let result = participants::add(
        &state,
        Some(e.access.role),
        &e.view.org,
        &e.view.event,
        &e.user.user,
        &input.email,
        &input.role,
        None,
    )
    .await;
    let back = format!("{}#participants", e.event_href());
    match result {
        Ok(Added::User(_)) => flash::redirect(
            &state,
            &back,
            FlashKind::Success,
            &format!("{} is added.", input.email.trim().to_lowercase()),
        ),
        Ok(Added::Invited { mailed: true, .. }) => flash::redirect(
            &state,
            &back,
            FlashKind::Success,
            &format!(
                "We sent {} an invitation. They take part once they answer it; nothing is sent to them before.",
                input.email.trim().to_lowercase()
            ),
        ),
        Ok(Added::Invited { mailed: false, .. }) => flash::redirect(
            &state,
            &back,
            FlashKind::Warning,
            "The invitation is saved, but we could not send the email just now.",
        ),
        Err(ServiceError::Invalid(errors)) => {
            add_form_page(&e, &input, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(ServiceError::Conflict(why)) => {
            let mut errors = crate::domain::FieldErrors::default();
            errors.add("email", why);
            add_form_page(&e, &input, &errors, StatusCode::CONFLICT)
        }
        Err(other) => e.failure(other),
    }
}

#[derive(Debug, Default, Deserialize)]
struct RoleInput {
    #[serde(default)]
    role: String,
}

async fn set_role(State(state): State<AppState>, e: OrgEvent, Form(input): Form<RoleInput>) -> Response {
    let Some(id) = e.item else { return PageError::NotFound.into_response() };
    match participants::set_role(&state.db, &e.view, Some(e.user.user.id), id, &input.role).await {
        Ok(p) => flash::redirect(
            &state,
            &format!("{}#participants", e.event_href()),
            FlashKind::Success,
            &format!("The role is now {}.", participants::role_label(p.role).to_lowercase()),
        ),
        Err(err) => e.failure(err),
    }
}

/// Asks before removing: "Remove Ada from Rust night? They stop getting its notices." The
/// page's button posts to [`remove`] (which also works on its own, without this page).
async fn remove_page(State(state): State<AppState>, e: OrgEvent) -> Response {
    let Some(id) = e.item else { return PageError::NotFound.into_response() };
    if let Some(r) = e.forbid() {
        return r;
    }
    let name = match state.db.participant_row(id).await {
        Ok(Some(r)) if r.event_id == e.view.event.id => r.name().to_owned(),
        Ok(_) => return PageError::NotFound.into_response(),
        Err(err) => return PageError::from(err).into_response(),
    };
    let event = &e.view.event.name;
    html(
        StatusCode::OK,
        herald_templates::orgs::confirm(
            &e.portal.shell,
            &format!("Remove {name} from {event}?"),
            "They stop getting its notices. You can add them again later.",
            &format!("{}/{id}/remove", e.base()),
            &format!("Remove {name}"),
            &format!("{}#participants", e.event_href()),
        ),
    )
}

async fn remove(State(state): State<AppState>, e: OrgEvent) -> Response {
    let Some(id) = e.item else { return PageError::NotFound.into_response() };
    if let Some(r) = e.forbid() {
        return r;
    }
    let who = match state.db.participant_row(id).await {
        Ok(Some(r)) if r.event_id == e.view.event.id => r.address().to_owned(),
        Ok(_) => return PageError::NotFound.into_response(),
        Err(err) => return PageError::from(err).into_response(),
    };
    match participants::remove(&state.db, &e.view, e.user.user.id, id).await {
        Ok(_) => flash::redirect(
            &state,
            &format!("{}#participants", e.event_href()),
            FlashKind::Success,
            &format!("{who} is no longer a participant."),
        ),
        Err(err) => e.failure(err),
    }
}

// --- CSV import ---

fn import_action(e: &OrgEvent) -> String {
    format!("{}/import", e.base())
}

async fn import_page(e: OrgEvent) -> Response {
    if let Some(r) = e.forbid() {
        return r;
    }
    html(
        StatusCode::OK,
        pages::import_page(&e.portal.shell, &e.view.event.name, &e.event_href(), &import_action(&e), None),
    )
}

/// The uploaded file's bytes, stopping past the limit; `Err(true)` when too large.
async fn read_file(mut multipart: Multipart) -> Result<Vec<u8>, bool> {
    let mut out = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.status() == StatusCode::PAYLOAD_TOO_LARGE),
        };
        if field.name() != Some("file") {
            continue;
        }
        let mut field = field;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    out.extend_from_slice(&chunk);
                    if out.len() > MAX_IMPORT_BYTES {
                        return Err(true);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(e.status() == StatusCode::PAYLOAD_TOO_LARGE),
            }
        }
    }
}

async fn import(
    State(state): State<AppState>,
    e: OrgEvent,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    if let Some(r) = e.forbid() {
        return r;
    }
    let again = |status: StatusCode, message: &str| {
        html(
            status,
            pages::import_page(
                &e.portal.shell,
                &e.view.event.name,
                &e.event_href(),
                &import_action(&e),
                Some(message),
            ),
        )
    };
    let Ok(multipart) = multipart else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, "Choose a CSV file to import.");
    };
    let bytes = match read_file(multipart).await {
        Ok(b) => b,
        Err(true) => return again(StatusCode::PAYLOAD_TOO_LARGE, &ImportError::TooLarge.to_string()),
        Err(false) => {
            return again(StatusCode::BAD_REQUEST, "The upload did not arrive completely; try again.");
        }
    };
    match participants::start_import(&state, &e.view, &e.user.user, &bytes).await {
        Ok(import) => {
            (StatusCode::SEE_OTHER, [(header::LOCATION, format!("{}/import/{}", e.base(), import.id))])
                .into_response()
        }
        Err(ImportError::TooLarge) => {
            again(StatusCode::PAYLOAD_TOO_LARGE, &ImportError::TooLarge.to_string())
        }
        Err(ImportError::Unreadable(why)) => again(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Err(ImportError::Event(err)) => e.failure(err),
    }
}

fn outcome_words(outcome: &str) -> &'static str {
    match outcome {
        "added" => "Added",
        "invited" => "Invited by email",
        "already" => "Already a participant",
        _ => "Error",
    }
}

async fn progress(State(state): State<AppState>, e: OrgEvent, headers: HeaderMap) -> Response {
    if let Some(r) = e.forbid() {
        return r;
    }
    let Some(id) = e.item else { return PageError::NotFound.into_response() };
    let import = match state.db.import_of(e.view.event.id, id).await {
        Ok(Some(i)) => i,
        Ok(None) => return PageError::NotFound.into_response(),
        Err(err) => return PageError::from(err).into_response(),
    };
    let interrupted = participants::interrupted(&import);
    let report = &import.report.0;
    let mut tally: Vec<(&str, usize)> = Vec::new();
    for r in report {
        let word = match r.outcome.as_str() {
            "added" => "added",
            "invited" => "invited",
            "already" => "already participants",
            _ => "errors",
        };
        match tally.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => tally.push((word, 1)),
        }
    }
    let view = ImportView {
        href: format!("{}/import/{}", e.base(), import.id),
        event_href: e.event_href(),
        event_name: e.view.event.name.clone(),
        total: import.total,
        done: import.done,
        running: import.status == "running" && !interrupted,
        interrupted,
        summary: tally.iter().map(|(w, n)| format!("{n} {w}")).collect::<Vec<_>>().join(" · "),
        rows: report
            .iter()
            .map(|r| ImportLine {
                row: r.row,
                email: r.email.clone(),
                outcome: outcome_words(&r.outcome).to_owned(),
                message: r.message.clone(),
            })
            .collect(),
    };
    let markup = if headers.contains_key("hx-request") {
        pages::import_progress(&view)
    } else {
        pages::import_page_progress(&e.portal.shell, &view)
    };
    (
        StatusCode::OK,
        [(header::VARY, "HX-Request"), (header::CACHE_CONTROL, "no-store")],
        Html(markup.into_string()),
    )
        .into_response()
}

// --- The public page: RSVP and leave ---

/// The RSVP card for the visitor of the public page `page_path`.
pub(super) async fn rsvp_view(
    state: &AppState,
    portal: &Portal,
    view: &EventView,
    page_path: &str,
) -> Result<RsvpView, PageError> {
    let back: String = url::form_urlencoded::byte_serialize(format!("{page_path}#rsvp").as_bytes()).collect();
    let mut v = RsvpView {
        action: format!("{page_path}/rsvp"),
        leave_action: format!("{page_path}/leave"),
        add_channel: format!("/integrations/new?next={back}"),
        ..Default::default()
    };
    let Some(user) = &portal.user else {
        let next = url::form_urlencoded::byte_serialize(page_path.as_bytes()).collect::<String>();
        v.sign_in_href = Some(format!("/signin?next={next}"));
        if participants::guests_welcome(&view.event) {
            v.guest_action = Some(format!("{page_path}/guest"));
        }
        return Ok(v);
    };
    let event = &view.event;
    v.verify_first = user.user.verified_at.is_none();
    if event.status == EventStatus::Cancelled {
        v.closed = Some("This event is cancelled.".into());
    } else if event.ends_at <= chrono::Utc::now() {
        v.closed = Some("This event has ended.".into());
    }
    let mine = match &view.participant {
        Some(p) => state.db.channel_rows_of(p.id).await?,
        None => Vec::new(),
    };
    if let Some(invitation) = &view.invitation {
        v.invited_as = Some(participants::role_label(invitation.role).to_lowercase());
    }
    if let Some(p) = &view.participant {
        v.current = Some(CurrentAnswer {
            rsvp: p.rsvp.to_string(),
            rsvp_label: rsvp_label(p.rsvp).to_owned(),
            role: participants::role_label(p.role).to_owned(),
            channels: mine.iter().map(channel_words).collect(),
        });
    }
    let (default_tags, _) = state.db.notification_defaults(user.user.id).await?;
    let chosen_before = view.participant.is_some() && !mine.is_empty();
    v.channels = state
        .db
        .integrations_of(user.user.id)
        .await?
        .into_iter()
        .filter(|i| i.enabled && i.verified_at.is_some())
        .map(|i| {
            let row = mine.iter().find(|c| c.integration_id == i.id);
            let (checked, tags) = match (chosen_before, row) {
                (true, Some(c)) => (true, c.tags.0.join(", ")),
                (true, None) => (false, default_tags.join(", ")),
                (false, _) => (true, default_tags.join(", ")),
            };
            ChannelOption { id: i.id.to_string(), name: i.name, checked, tags }
        })
        .collect();
    v.reminder = super::public::reminder_note(state, portal, view, chrono::Utc::now()).await?;
    // Someone who may answer and has not: the one sentence says what answering does.
    if v.reminder.is_none()
        && view.participant.is_none()
        && !v.verify_first
        && v.closed.is_none()
        && event.status == EventStatus::Published
    {
        v.reminder = Some(herald_templates::events::ReminderNote::AnswerFirst);
    }
    Ok(v)
}

fn page_of(org: &str, event: &str) -> String {
    format!("/o/{org}/e/{event}")
}

/// Sends an anonymous visitor to sign in, coming back to the event page.
#[derive(Debug, Deserialize)]
struct GuestInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    rsvp: String,
}

/// A visitor answers without an account: the link to confirm goes to the address given.
async fn guest_answer(
    State(state): State<AppState>,
    super::session::ClientIp(ip): super::session::ClientIp,
    Path((org, slug)): Path<(String, String)>,
    Form(input): Form<GuestInput>,
) -> Response {
    let page = page_of(&org, &slug);
    let view = match participants::view_by_slug(&state.db, &org, &slug, None).await {
        Ok(v) => v,
        Err(e) => return refusal(&state, &page, e),
    };
    let page = page_of(&view.org.slug, &view.event.slug);
    match participants::guest_answer(&state, &view, &input.name, &input.email, &input.rsvp, ip).await {
        // The same answer for every address: nobody learns who uses Herald.
        Ok(email) => flash::redirect(
            &state,
            &format!("{page}#rsvp"),
            FlashKind::Success,
            &format!(
                "Almost done: we sent a link to {email}. Open it to confirm your answer; Herald then emails you the reminders."
            ),
        ),
        Err(e) => refusal(&state, &page, e),
    }
}

/// Follows the link a guest was mailed: they take part, signed in on this browser.
async fn confirm_guest(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match participants::confirm_guest_answer(&state, &token).await {
        Ok(Some(done)) => {
            let page = page_of(&done.org.slug, &done.event.slug);
            let emailed = matches!(state.db.email_integration_of(done.user_id).await, Ok(Some(_)));
            let message = if emailed {
                format!(
                    "You're in: {}. Herald emails you the reminders and any change; every message has a link to stop them.",
                    rsvp_label(done.rsvp)
                )
            } else {
                format!("You're in: {}.", rsvp_label(done.rsvp))
            };
            let mut response = flash::redirect(&state, &format!("{page}#rsvp"), FlashKind::Success, &message);
            if portal.user.is_none() {
                match crate::accounts::start_session(&state.db, done.user_id).await {
                    Ok(session) => {
                        response
                            .headers_mut()
                            .append(header::SET_COOKIE, super::session::cookie(&state, &session));
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot sign a confirmed guest in"),
                }
            }
            response
        }
        Ok(None) => html(
            StatusCode::BAD_REQUEST,
            herald_templates::accounts::message(
                &portal.shell,
                "This link does not work",
                "Links to confirm an answer work once and for two days. Answer again on the event's page to get a new one.",
                Some(("/", "Go to Herald")),
            ),
        ),
        Err(e) => refusal_page(&portal.shell, e, Some(("/", "Go to Herald"))),
    }
}

fn sign_in_first(page: &str) -> Response {
    let next = url::form_urlencoded::byte_serialize(page.as_bytes()).collect::<String>();
    (StatusCode::SEE_OTHER, [(header::LOCATION, format!("/signin?next={next}"))]).into_response()
}

fn refusal(state: &AppState, page: &str, e: ServiceError) -> Response {
    let back = format!("{page}#rsvp");
    match e {
        ServiceError::NotFound => PageError::NotFound.into_response(),
        ServiceError::Internal(e) => PageError::Internal(e).into_response(),
        ServiceError::Forbidden(why)
        | ServiceError::Conflict(why)
        | ServiceError::TooMany(why)
        | ServiceError::Unavailable(why) => flash::redirect(state, &back, FlashKind::Error, &why),
        ServiceError::Invalid(fields) => {
            let why = fields.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            flash::redirect(state, &back, FlashKind::Error, &why)
        }
    }
}

/// With htmx: the RSVP card again, saying how the answer went (the page is not reloaded).
async fn rsvp_card(
    state: &AppState,
    portal: &Portal,
    org: &str,
    slug: &str,
    kind: FlashKind,
    message: &str,
) -> Response {
    let user = portal.user.as_ref().map(|u| u.user.id);
    let view = match participants::view_by_slug(&state.db, org, slug, user).await {
        Ok(v) => v,
        Err(e) => return PageError::from(e).into_response(),
    };
    let page = page_of(&view.org.slug, &view.event.slug);
    match rsvp_view(state, portal, &view, &page).await {
        Ok(mut v) => {
            v.message = Some((kind, message.to_owned()));
            (
                StatusCode::OK,
                [(header::VARY, "HX-Request"), (header::CACHE_CONTROL, "no-store")],
                Html(pages::rsvp_section(&portal.shell, &v).into_string()),
            )
                .into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn rsvp(
    State(state): State<AppState>,
    portal: Portal,
    headers: HeaderMap,
    Path((org, slug)): Path<(String, String)>,
    Form(input): Form<Vec<(String, String)>>,
) -> Response {
    let page = page_of(&org, &slug);
    let Some(user) = portal.user.clone() else { return sign_in_first(&page) };
    let view = match participants::view_by_slug(&state.db, &org, &slug, Some(user.user.id)).await {
        Ok(v) => v,
        Err(e) => return refusal(&state, &page, e),
    };
    let (org, slug) = (view.org.slug.clone(), view.event.slug.clone());
    let page = page_of(&org, &slug);
    let htmx = headers.contains_key("hx-request");
    // Without JavaScript: back to the page with a message; with htmx: the card, in place.
    let answer_with = async |kind: FlashKind, message: &str| {
        if htmx {
            rsvp_card(&state, &portal, &org, &slug, kind, message).await
        } else {
            flash::redirect(&state, &format!("{page}#rsvp"), kind, message)
        }
    };
    // What to say about a refusal in the card; `Err` for what is no answer to give there.
    let refused = |e: ServiceError| match e {
        ServiceError::NotFound | ServiceError::Internal(_) => Err(e),
        ServiceError::Invalid(fields) => {
            Ok(fields.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" "))
        }
        ServiceError::Forbidden(why)
        | ServiceError::Conflict(why)
        | ServiceError::TooMany(why)
        | ServiceError::Unavailable(why) => Ok(why),
    };
    let get = |k: &str| input.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let answer = match participants::parse_rsvp(get("rsvp").unwrap_or("")) {
        Ok(a) => a,
        Err(m) => return answer_with(FlashKind::Error, &m).await,
    };
    let channels = if get("channels_shown").is_some() {
        let raw: Vec<(String, Vec<String>)> = input
            .iter()
            .filter(|(k, _)| k == "channel")
            .map(|(_, id)| {
                let tags =
                    get(&format!("tags_{id}")).map(crate::integrations::split_tags).unwrap_or_default();
                (id.clone(), tags)
            })
            .collect();
        match participants::check_channels(&state.db, user.user.id, "channels", &raw).await {
            Ok(c) => Some(c),
            Err(e) => {
                return match refused(e) {
                    Ok(why) => answer_with(FlashKind::Error, &why).await,
                    Err(e) => refusal(&state, &page, e),
                };
            }
        }
    } else {
        None
    };
    match participants::rsvp(&state, &view, &user.user, answer, channels).await {
        Ok((p, joined)) => {
            let what = if joined { "You joined the event" } else { "Your answer is saved" };
            let words = pages::answer_words(&p.rsvp.to_string());
            answer_with(FlashKind::Success, &format!("{what}: {words}.")).await
        }
        Err(e) => match refused(e) {
            Ok(why) => answer_with(FlashKind::Error, &why).await,
            Err(e) => refusal(&state, &page, e),
        },
    }
}

async fn leave(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path((org, slug)): Path<(String, String)>,
) -> Response {
    let page = page_of(&org, &slug);
    let Some(user) = user else { return sign_in_first(&page) };
    let view = match participants::view_by_slug(&state.db, &org, &slug, Some(user.user.id)).await {
        Ok(v) => v,
        Err(e) => return refusal(&state, &page, e),
    };
    let page = page_of(&view.org.slug, &view.event.slug);
    if view.participant.is_none() {
        return flash::redirect(&state, &page, FlashKind::Info, "You are not taking part in this event.");
    }
    match participants::leave(&state.db, &view).await {
        // A private event may no longer be visible: go to the organization's page.
        Ok(_) => {
            let to =
                if view.event.visibility == crate::db::models::Visibility::Private && view.member.is_none() {
                    format!("/o/{}", view.org.slug)
                } else {
                    page
                };
            flash::redirect(&state, &to, FlashKind::Success, &format!("You left {}.", view.event.name))
        }
        Err(e) => refusal(&state, &page, e),
    }
}
