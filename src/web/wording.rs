//! The organization's Messages page: the wording of reminders, change notices and
//! cancellations, each with a live preview (htmx posts the form as the organizer types; without
//! JavaScript the Preview button does the same with a whole page).

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use herald_templates::FlashKind;
use herald_templates::orgs::{WordingCard, messages, wording_preview};
use serde::Deserialize;

use super::AppState;
use super::error::{PageError, html, refusal_page};
use super::flash;
use super::membership::Membership;
use crate::db::models::NoticeKind;
use crate::domain::ServiceError;
use crate::wording::{self, Wording};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/messages", get(page))
        .route("/orgs/{slug}/messages/{kind}", post(save))
        .route("/orgs/{slug}/messages/{kind}/preview", post(preview))
        .route("/orgs/{slug}/messages/{kind}/reset", post(reset))
}

#[derive(Debug, Default, Deserialize)]
struct WordingForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
}

/// When each kind is sent, in words.
fn about(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Reminder => {
            "Sent at each reminder time you set on an event, to the people going or maybe going."
        }
        NoticeKind::Updated => "Sent when you change an event's time, place, link, name or description.",
        NoticeKind::FollowUp => {
            "Sent after an event that has a follow-up, to the people who were going: a thank-you, with the feedback link if you gave one."
        }
        _ => "Sent when you cancel an event.",
    }
}

/// One kind's wording as submitted, with the problems found in it.
type Edited = (NoticeKind, Wording, Vec<(String, String)>);

/// The page with every kind; `edited` replaces one card's wording (and errors) with what was
/// submitted.
async fn render_page(
    state: &AppState,
    m: &Membership,
    edited: Option<Edited>,
) -> Result<herald_templates::Markup, ServiceError> {
    let list = wording::list(state, &m.access).await?;
    let mut event = None;
    let mut cards = Vec::new();
    for k in list {
        let (shown, custom, errors) = match &edited {
            Some((kind, w, errors)) if *kind == k.kind => (w.clone(), k.custom, errors.clone()),
            _ => (k.wording.clone(), k.custom, Vec::new()),
        };
        let preview = match wording::preview(state, &m.access, k.kind, &shown, None).await {
            Ok(p) => {
                event = p.event.clone();
                Ok((p.subject, p.body))
            }
            Err(ServiceError::Invalid(e)) => Err(problem(&e.0)),
            Err(other) => return Err(other),
        };
        cards.push(WordingCard {
            kind: k.kind.as_str().to_owned(),
            label: wording::kind_label(k.kind).to_owned(),
            about: about(k.kind).to_owned(),
            subject: shown.subject,
            body: shown.body,
            custom,
            preview,
            errors,
        });
    }
    Ok(messages(&m.portal.shell, &m.header, &cards, &wording::VARIABLES, event.as_deref()))
}

fn problem(errors: &[(String, String)]) -> String {
    errors.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" ")
}

fn kind_of(raw: &str) -> Result<NoticeKind, Box<Response>> {
    wording::parse_kind(raw)
        .map_err(|_| Box::new(axum::response::IntoResponse::into_response(PageError::NotFound)))
}

async fn page(State(state): State<AppState>, m: Membership) -> Response {
    match render_page(&state, &m, None).await {
        Ok(markup) => html(StatusCode::OK, markup),
        Err(e) => refusal_page(&m.portal.shell, e, Some((&format!("/orgs/{}", m.access.org.slug), "Back"))),
    }
}

async fn save(
    State(state): State<AppState>,
    m: Membership,
    Path((_, kind)): Path<(String, String)>,
    Form(input): Form<WordingForm>,
) -> Response {
    let kind = match kind_of(&kind) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let w = Wording { subject: input.subject, body: input.body };
    let base = format!("/orgs/{}/messages", m.access.org.slug);
    match wording::save(&state, &m.access, kind, w.clone()).await {
        Ok(_) => flash::redirect(
            &state,
            &format!("{base}#wording-{}", kind.as_str()),
            FlashKind::Success,
            &format!("{} now use your wording.", wording::kind_label(kind)),
        ),
        Err(ServiceError::Invalid(errors)) => {
            match render_page(&state, &m, Some((kind, w, errors.0))).await {
                Ok(markup) => html(StatusCode::UNPROCESSABLE_ENTITY, markup),
                Err(e) => refusal_page(&m.portal.shell, e, Some((&base, "Back"))),
            }
        }
        Err(e) => refusal_page(&m.portal.shell, e, Some((&base, "Back"))),
    }
}

async fn preview(
    State(state): State<AppState>,
    m: Membership,
    Path((_, kind)): Path<(String, String)>,
    headers: HeaderMap,
    Form(input): Form<WordingForm>,
) -> Response {
    let kind = match kind_of(&kind) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let w = Wording { subject: input.subject, body: input.body };
    let base = format!("/orgs/{}/messages", m.access.org.slug);
    if headers.contains_key("hx-request") {
        // The fragment: the preview, or what stops it, in place.
        return match wording::preview(&state, &m.access, kind, &w, None).await {
            Ok(p) => html(
                StatusCode::OK,
                wording_preview(kind.as_str(), &Ok((p.subject, p.body)), p.event.as_deref()),
            ),
            Err(ServiceError::Invalid(e)) => {
                html(StatusCode::OK, wording_preview(kind.as_str(), &Err(problem(&e.0)), None))
            }
            Err(e) => refusal_page(&m.portal.shell, e, Some((&base, "Back"))),
        };
    }
    match render_page(&state, &m, Some((kind, w, Vec::new()))).await {
        Ok(markup) => html(StatusCode::OK, markup),
        Err(e) => refusal_page(&m.portal.shell, e, Some((&base, "Back"))),
    }
}

async fn reset(
    State(state): State<AppState>,
    m: Membership,
    Path((_, kind)): Path<(String, String)>,
) -> Response {
    let kind = match kind_of(&kind) {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let base = format!("/orgs/{}/messages", m.access.org.slug);
    match wording::reset(&state, &m.access, kind).await {
        Ok(_) => flash::redirect(
            &state,
            &format!("{base}#wording-{}", kind.as_str()),
            FlashKind::Success,
            &format!("{} use Herald's wording again.", wording::kind_label(kind)),
        ),
        Err(e) => refusal_page(&m.portal.shell, e, Some((&base, "Back"))),
    }
}
