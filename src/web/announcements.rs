//! "Write to participants" (`/orgs/{slug}/events/{id}/announcements`): the form for an
//! announcement with a live preview (htmx posts the form as the organizer types; without
//! JavaScript the Preview button does the same with a whole page), and the event's
//! announcements, past and scheduled, with their delivery outcomes and a way to cancel a
//! scheduled one.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use herald_templates::FlashKind;
use herald_templates::announcements::{AnnouncementRow, ComposeForm, PreviewView, page, preview_fragment};
use uuid::Uuid;

use super::AppState;
use super::error::{PageError, html, refusal_page};
use super::flash;
use super::membership::Membership;
use crate::announcements::{self, ANSWERS, Listed, Outcomes, ROLES, RawDraft, State as AState};
use crate::db::models::{Event, ParticipantRole, Rsvp};
use crate::domain::ServiceError;
use crate::domain::time::Viewer;
use crate::orgs::OrgAccess;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/events/{id}/announcements", get(show).post(create))
        .route("/orgs/{slug}/events/{id}/announcements/preview", post(preview))
        .route("/orgs/{slug}/events/{id}/announcements/{aid}/cancel", post(cancel))
}

/// The form as submitted.
#[derive(Debug, Default, Clone)]
struct Submitted {
    subject: String,
    body: String,
    answers: Vec<String>,
    roles: Vec<String>,
    later: bool,
    send_at: String,
    recipient: Option<Uuid>,
}

impl Submitted {
    fn parse(fields: Vec<(String, String)>) -> Self {
        let mut s = Self::default();
        for (k, v) in fields {
            match k.as_str() {
                "subject" => s.subject = v,
                "body" => s.body = v,
                "answers" => s.answers.push(v),
                "roles" => s.roles.push(v),
                "when" => s.later = v == "later",
                "send_at" => s.send_at = v,
                "recipient" => s.recipient = Uuid::parse_str(&v).ok(),
                _ => {}
            }
        }
        s
    }

    /// The draft for the service; a local time that cannot be read is a problem with `send_at`.
    fn raw(&self, event: &Event) -> Result<RawDraft, String> {
        let send_at = if self.later {
            let local = crate::events::parse_local(&self.send_at)
                .map_err(|_| "Choose the date and time to send it at, or send it now.".to_owned())?;
            Some(crate::events::resolve_local(local, event.timezone.0)?)
        } else {
            None
        };
        Ok(RawDraft {
            subject: self.subject.clone(),
            body: self.body.clone(),
            answers: self.answers.clone(),
            roles: self.roles.clone(),
            send_at,
        })
    }

    fn form(&self, event: &Event, errors: Vec<(String, String)>) -> ComposeForm {
        ComposeForm {
            subject: self.subject.clone(),
            body: self.body.clone(),
            answers: ANSWERS
                .iter()
                .map(|a| {
                    (
                        a.as_str().to_owned(),
                        answer_label(*a).to_owned(),
                        self.answers.iter().any(|x| x == a.as_str()),
                    )
                })
                .collect(),
            roles: ROLES
                .iter()
                .map(|r| {
                    (
                        r.as_str().to_owned(),
                        role_label(*r).to_owned(),
                        self.roles.iter().any(|x| x == r.as_str()),
                    )
                })
                .collect(),
            later: self.later,
            send_at: self.send_at.clone(),
            timezone: event.timezone.name().to_owned(),
            errors,
        }
    }
}

/// A new form: to everyone going or maybe going, now.
fn fresh() -> Submitted {
    Submitted {
        answers: vec!["going".into(), "maybe".into()],
        roles: ROLES.iter().map(|r| r.as_str().to_owned()).collect(),
        ..Submitted::default()
    }
}

fn answer_label(a: Rsvp) -> &'static str {
    match a {
        Rsvp::Going => "Going",
        Rsvp::Maybe => "Maybe",
        Rsvp::Pending => "Not answered yet",
        Rsvp::Declined => "Can't go",
    }
}

fn role_label(r: ParticipantRole) -> &'static str {
    match r {
        ParticipantRole::Speaker => "Speakers",
        ParticipantRole::Volunteer => "Volunteers",
        ParticipantRole::Attendee => "Attendees",
        ParticipantRole::Organizer => "Organizers",
    }
}

/// "speakers and volunteers who are going or maybe going".
fn audience(l: &Listed) -> String {
    let roles: Vec<String> = l.announcement.roles.0.iter().map(|r| role_label(*r).to_lowercase()).collect();
    let answers: Vec<&str> = l
        .announcement
        .answers
        .0
        .iter()
        .map(|a| match a {
            Rsvp::Going => "going",
            Rsvp::Maybe => "maybe going",
            _ => "who have not answered yet",
        })
        .collect();
    format!(
        "{} ({})",
        join_words(&roles),
        join_words(&answers.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    )
}

fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn outcomes(o: &Outcomes, state: AState) -> String {
    let parts: Vec<String> = [
        (o.sent, "sent"),
        (o.partial, "partly sent"),
        (o.pending, "waiting"),
        (o.failed, "failed"),
        (o.expired, "too late"),
        (o.skipped, "not sent (no channel, or they stopped this event's messages)"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} {w}"))
    .collect();
    match (parts.is_empty(), state) {
        (true, AState::Scheduled) => "Not sent yet.".to_owned(),
        (true, AState::Cancelled) => "Cancelled before it went.".to_owned(),
        (true, AState::Sent) => "Going out now.".to_owned(),
        (false, _) => format!("{}.", parts.join(", ")),
    }
}

async fn preview_view(
    state: &AppState,
    m: &Membership,
    event: &Event,
    s: &Submitted,
) -> Result<PreviewView, ServiceError> {
    // The time is checked when sending, not while writing.
    let raw = RawDraft {
        subject: s.subject.clone(),
        body: s.body.clone(),
        answers: s.answers.clone(),
        roles: s.roles.clone(),
        send_at: None,
    };
    let mut found = announcements::preview(state, &m.access, event, &raw, s.recipient).await;
    if let Err(ServiceError::Invalid(e)) = &found
        && e.0.iter().any(|(f, _)| f == "recipient")
    {
        // The person chosen before is no longer among those it goes to: the first who is.
        found = announcements::preview(state, &m.access, event, &raw, None).await;
    }
    match found {
        Ok(p) => {
            let chosen = p.reader.as_ref().map(|r| r.participant_id);
            Ok(PreviewView {
                readers: p
                    .readers
                    .iter()
                    .map(|(id, name)| (id.to_string(), name.clone(), Some(*id) == chosen))
                    .collect(),
                subject: p.subject,
                text: p.text,
                html: p.html,
                reach: p.reach.describe(),
                problem: None,
            })
        }
        Err(ServiceError::Invalid(e)) => Ok(PreviewView {
            problem: Some(format!(
                "The preview shows once the message is complete: {}",
                e.0.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" ")
            )),
            ..PreviewView::default()
        }),
        Err(other) => Err(other),
    }
}

fn rows(slug: &str, viewer: Viewer, event: &Event, list: &[Listed]) -> Vec<AnnouncementRow> {
    let base = format!("/orgs/{slug}/events/{}/announcements", event.id);
    list.iter()
        .map(|l| AnnouncementRow {
            subject: l.announcement.subject.clone(),
            state: match l.state {
                AState::Scheduled => "Scheduled",
                AState::Sent => "Sent",
                AState::Cancelled => "Cancelled",
            }
            .to_owned(),
            when: viewer.moment(l.announcement.send_at),
            datetime: l.announcement.send_at.to_rfc3339(),
            audience: audience(l),
            outcomes: outcomes(&l.outcomes, l.state),
            cancel_url: (l.state == AState::Scheduled)
                .then(|| format!("{base}/{}/cancel", l.announcement.id)),
        })
        .collect()
}

async fn render(
    state: &AppState,
    m: &Membership,
    event: &Event,
    s: &Submitted,
    errors: Vec<(String, String)>,
) -> Result<herald_templates::Markup, ServiceError> {
    let list = announcements::list(state, &m.access, event).await?;
    let preview = preview_view(state, m, event, s).await?;
    let event_href = format!("/orgs/{}/events/{}", m.access.org.slug, event.id);
    let action = format!("{event_href}/announcements");
    Ok(page(
        &m.portal.shell,
        &event_href,
        &event.name,
        &action,
        &s.form(event, errors),
        &preview,
        &rows(&m.access.org.slug, m.user.user.viewer(), event, &list),
    ))
}

async fn load(state: &AppState, m: &Membership) -> Result<Event, Response> {
    let id = m
        .uuid("id")
        .map_err(IntoResponse::into_response)?
        .ok_or_else(|| PageError::NotFound.into_response())?;
    crate::events::load(&state.db, &m.access, id).await.map_err(|e| failure(m, e))
}

fn failure(m: &Membership, e: ServiceError) -> Response {
    let back = format!("/orgs/{}/events", m.access.org.slug);
    refusal_page(&m.portal.shell, e, Some((&back, "Back to the events")))
}

async fn show(State(state): State<AppState>, m: Membership) -> Response {
    let event = match load(&state, &m).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    match render(&state, &m, &event, &fresh(), Vec::new()).await {
        Ok(markup) => html(StatusCode::OK, markup),
        Err(e) => failure(&m, e),
    }
}

async fn create(
    State(state): State<AppState>,
    m: Membership,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let event = match load(&state, &m).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let s = Submitted::parse(fields);
    let page_url = format!("/orgs/{}/events/{}/announcements", m.access.org.slug, event.id);
    let result = match s.raw(&event) {
        Ok(raw) => announcements::create(&state, &m.access, &event, &raw).await.map(Some),
        Err(problem) => Err(ServiceError::Invalid(crate::domain::FieldErrors::one("send_at", problem))),
    };
    match result {
        Ok(Some((l, _))) => {
            let said = match l.state {
                AState::Scheduled => format!(
                    "“{}” is scheduled for {}.",
                    l.announcement.subject,
                    m.user.user.viewer().moment(l.announcement.send_at)
                ),
                _ => format!("“{}” is on its way.", l.announcement.subject),
            };
            flash::redirect(&state, &page_url, FlashKind::Success, &said)
        }
        Ok(None) => flash::redirect(&state, &page_url, FlashKind::Success, "Saved."),
        Err(ServiceError::Invalid(errors)) => match render(&state, &m, &event, &s, errors.0).await {
            Ok(markup) => html(StatusCode::UNPROCESSABLE_ENTITY, markup),
            Err(e) => failure(&m, e),
        },
        Err(e) => failure(&m, e),
    }
}

async fn preview(
    State(state): State<AppState>,
    m: Membership,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let event = match load(&state, &m).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let s = Submitted::parse(fields);
    if headers.contains_key("hx-request") {
        return match preview_view(&state, &m, &event, &s).await {
            Ok(p) => html(StatusCode::OK, preview_fragment(&p)),
            Err(e) => failure(&m, e),
        };
    }
    match render(&state, &m, &event, &s, Vec::new()).await {
        Ok(markup) => html(StatusCode::OK, markup),
        Err(e) => failure(&m, e),
    }
}

async fn cancel(State(state): State<AppState>, m: Membership) -> Response {
    let event = match load(&state, &m).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let aid = match m.uuid("aid") {
        Ok(Some(a)) => a,
        _ => return PageError::NotFound.into_response(),
    };
    let page_url = format!("/orgs/{}/events/{}/announcements", m.access.org.slug, event.id);
    match announcements::cancel(&state, &m.access, &event, aid).await {
        Ok(l) => flash::redirect(
            &state,
            &page_url,
            FlashKind::Success,
            &format!("“{}” is cancelled: it will not be sent.", l.announcement.subject),
        ),
        Err(e) => failure(&m, e),
    }
}

/// The event's announcements for its page (those who manage events; nobody else sees them).
pub(super) async fn rows_for(
    state: &AppState,
    access: &OrgAccess,
    viewer: Viewer,
    event: &Event,
) -> Vec<AnnouncementRow> {
    if !crate::events::manages_events(access.role) {
        return Vec::new();
    }
    match announcements::list(state, access, event).await {
        Ok(list) => rows(&access.org.slug, viewer, event, &list),
        Err(e) => {
            tracing::warn!(event_id = %event.id, error = %e, "cannot list the event's announcements");
            Vec::new()
        }
    }
}
