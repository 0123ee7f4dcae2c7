//! One-click opt-out: `/optout/{token}`, linked at the end of every message. GET shows what the
//! link is about and one button; POST stops the event's messages to that participant (also as
//! an RFC 8058 `List-Unsubscribe=One-Click` request), `…/resume` starts them again. The signed
//! token is the only authority needed (no session, no CSRF token: a mail client posts it), and
//! the action only ever stops or restarts messages to the person the link was sent to.

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
    Router::new().route("/optout/{token}", get(show).post(stop)).route("/optout/{token}/resume", post(resume))
}

fn page(portal: &Portal, token: &str, target: &OptOut, done: Option<&str>) -> Response {
    let stopped = target.participant.opted_out_at.is_some();
    html(
        StatusCode::OK,
        pages::opt_out(&portal.shell, &target.event.name, stopped, done, &format!("/optout/{token}")),
    )
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

async fn resume(State(state): State<AppState>, portal: Portal, Path(token): Path<String>) -> Response {
    match participants::set_opted_out(&state, &token, false).await {
        Ok(target) => page(&portal, &token, &target, Some("Messages about this event are back on.")),
        Err(e) => refused(&portal, e),
    }
}
