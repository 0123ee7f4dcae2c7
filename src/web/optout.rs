//! One-click opt-out: `/optout/{token}`, linked at the end of every message. GET shows what the
//! link is about and one button; POST stops the event's messages to that participant (also as
//! an RFC 8058 `List-Unsubscribe=One-Click` request), `…/resume` starts them again. The signed
//! token is the only authority needed (no session, no CSRF token: a mail client posts it), and
//! the action only ever stops or restarts messages to the person the link was sent to. The same
//! page lets them change their answer (`…/answer`), so guests without an account manage it too.
//!
//! A daily digest's `List-Unsubscribe` is `/digest-off/{token}` instead (it spans several
//! events): GET shows the digest and one button, POST turns the digest off, with the same kind
//! of signed token as the only authority.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use herald_templates::participants as pages;

use super::AppState;
use super::error::{html, refusal_page};
use super::portal::Portal;
use crate::domain::ServiceError;
use crate::participants::{self, OptOut};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/optout/{token}", get(show).post(stop))
        .route("/optout/{token}/resume", post(resume))
        .route("/optout/{token}/answer", post(answer))
        .route("/digest-off/{token}", get(show_digest).post(stop_digest))
}

fn digest_page(portal: &Portal, token: &str, view: &crate::quiet::QuietView, done: Option<&str>) -> Response {
    let v = pages::DigestOffView {
        digest_at: view.digest_at.as_deref(),
        done,
        action: &format!("/digest-off/{token}"),
    };
    html(StatusCode::OK, pages::digest_off(&portal.shell, &v))
}

async fn show_digest(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match crate::quiet::digest_by_link(&state.db, &state.keys, &token).await {
        Ok(view) => digest_page(&portal, &token, &view, None),
        Err(e) => refused(&portal, e),
    }
}

async fn stop_digest(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match crate::quiet::stop_digest_by_link(&state.db, &state.keys, &token).await {
        Ok(view) => digest_page(
            &portal,
            &token,
            &view,
            Some("Done: your daily digest is off. Notices now come on their own when they are due."),
        ),
        Err(e) => refused(&portal, e),
    }
}

fn page(portal: &Portal, token: &str, target: &OptOut, done: Option<&str>) -> Response {
    let stopped = target.participant.opted_out_at.is_some();
    let open = target.event.status == crate::db::models::EventStatus::Published
        && target.event.ends_at > chrono::Utc::now();
    let view = pages::OptOutView {
        event_name: &target.event.name,
        stopped,
        done,
        action: &format!("/optout/{token}"),
        answer: open.then(|| target.participant.rsvp.as_str()),
    };
    html(StatusCode::OK, pages::opt_out(&portal.shell, &view))
}

fn refused(portal: &Portal, e: ServiceError) -> Response {
    refusal_page(&portal.shell, e, Some(("/", "Go to Herald")))
}

async fn show(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match participants::opt_out_target(&state, &token).await {
        Ok(target) => page(&portal, &token, &target, None),
        Err(e) => refused(&portal, e),
    }
}

async fn stop(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match participants::set_opted_out(&state, &token, true).await {
        Ok(target) => {
            page(&portal, &token, &target, Some("Done: Herald sends you no more messages about this event."))
        }
        Err(e) => refused(&portal, e),
    }
}

#[derive(Debug, serde::Deserialize)]
struct AnswerInput {
    #[serde(default)]
    rsvp: String,
}

async fn answer(
    State(state): State<AppState>,
    portal: Portal,
    Path(token): Path<String>,
    axum::Form(input): axum::Form<AnswerInput>,
) -> Response {
    let rsvp = match participants::parse_rsvp(&input.rsvp) {
        Ok(r) => r,
        Err(message) => {
            let mut errors = crate::domain::FieldErrors::default();
            errors.add("rsvp", message);
            return refused(&portal, ServiceError::Invalid(errors));
        }
    };
    match participants::answer_by_link(&state, &token, rsvp).await {
        Ok(target) => {
            let done = format!(
                "Your answer is saved: {}.",
                herald_templates::participants::answer_words(rsvp.as_str())
            );
            page(&portal, &token, &target, Some(&done))
        }
        Err(e) => refused(&portal, e),
    }
}

async fn resume(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match participants::set_opted_out(&state, &token, false).await {
        Ok(target) => page(&portal, &token, &target, Some("Messages about this event are back on.")),
        Err(e) => refused(&portal, e),
    }
}
