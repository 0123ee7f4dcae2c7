//! The home page, `/healthz` (process alive) and `/readyz` (dependencies, as JSON): the
//! database, Temporal and — unless Herald runs in log-only mode — the Apprise API.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::AppState;
use crate::temporal::LinkState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// One dependency's state.
#[derive(Debug, Serialize)]
struct CheckResult {
    ok: bool,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    version: &'static str,
    checks: Checks,
}

#[derive(Debug, Serialize)]
struct Checks {
    database: CheckResult,
    temporal: CheckResult,
    apprise: CheckResult,
}

impl Checks {
    fn all_ok(&self) -> bool {
        self.database.ok && self.temporal.ok && self.apprise.ok
    }
}

/// Shown when `HERALD_APPRISE_URL` is unset: a valid mode, so the check passes.
pub(crate) const LOG_ONLY: &str = "log-only mode (nothing is sent)";

async fn check_all(state: &AppState) -> Checks {
    let apprise_status = async {
        match &state.apprise {
            Some(client) => Some(client.status().await),
            None => None,
        }
    };
    let (db, temporal, apprise) = tokio::join!(state.db.ping(), state.temporal.check_now(), apprise_status);
    let database = match db {
        Ok(()) => CheckResult { ok: true, detail: format!("{} answering", state.db.backend()) },
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            CheckResult { ok: false, detail: format!("{} not answering", state.db.backend()) }
        }
    };
    // Anyone may ask: the answer names no internal address (the link logs its own failures).
    let temporal = match temporal {
        LinkState::Up => CheckResult { ok: true, detail: "connected".to_owned() },
        LinkState::Connecting => CheckResult { ok: false, detail: "connecting".to_owned() },
        LinkState::Down(reason) => {
            tracing::debug!(%reason, "readiness: Temporal is unreachable");
            CheckResult { ok: false, detail: "cannot reach Temporal (the server log says why)".to_owned() }
        }
    };
    let apprise = match apprise {
        None => CheckResult { ok: true, detail: LOG_ONLY.to_owned() },
        Some(Ok(())) => CheckResult { ok: true, detail: "answering".to_owned() },
        Some(Err(e)) => {
            tracing::warn!(error = %e, "readiness: Apprise API check failed");
            CheckResult { ok: false, detail: e.to_string() }
        }
    };
    Checks { database, temporal, apprise }
}

async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok").into_response()
}

/// Prometheus metrics, for a scraper that sends `Authorization: Bearer $HERALD_METRICS_TOKEN`.
/// Without the setting there is no such page (404); a wrong or missing token is a 401.
async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(token) = &state.web.metrics_token else {
        return super::error_response(StatusCode::NOT_FOUND);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let matches: bool = {
        use sha2::Digest as _;
        // Compared as digests, so the comparison takes the same time whatever matches.
        sha2::Sha256::digest(given.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
    };
    if !matches {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is needed\n",
        )
            .into_response();
    }
    let Some(handle) = crate::metrics::handle() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are off in this process (see the log)\n")
            .into_response();
    };
    let checks = check_all(&state).await;
    let (unsynced, oldest) = state.db.unsignalled_summary().await.unwrap_or((0, None));
    let age = oldest.map_or(0.0, |t| (chrono::Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0);
    crate::metrics::scrape_state(checks.database.ok, checks.temporal.ok, checks.apprise.ok, unsynced, age);
    handle.run_upkeep();
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        handle.render(),
    )
        .into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    let checks = check_all(&state).await;
    let ok = checks.all_ok();
    let body = Readiness {
        status: if ok { "ok" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        checks,
    };
    let code = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn home(State(state): State<AppState>, portal: super::portal::Portal) -> Response {
    let Some(user) = &portal.user else {
        return Html(herald_templates::home(&portal.shell).into_string()).into_response();
    };
    let now = chrono::Utc::now();
    let home = match crate::home::load(&state.db, &user.user, now).await {
        Ok(h) => h,
        Err(e) => return super::error::PageError::from(e).into_response(),
    };
    // An operator's address counts once it is confirmed (anyone can sign up with any address).
    let status = if user.verified() && state.web.is_admin(&user.user.email) {
        let checks = check_all(&state).await;
        let check = |name: &str, c: CheckResult| herald_templates::Check {
            name: name.into(),
            ok: c.ok,
            detail: c.detail,
        };
        Some(herald_templates::HomeStatus {
            version: env!("CARGO_PKG_VERSION"),
            checks: vec![
                check("Database", checks.database),
                check("Temporal", checks.temporal),
                check("Apprise API", checks.apprise),
            ],
        })
    } else {
        None
    };
    let viewer = user.user.viewer();
    let row = |h: &crate::home::HomeEvent, organizer: bool| herald_templates::HomeRow {
        href: if organizer {
            format!("/orgs/{}/events/{}", h.org_slug, h.event.id)
        } else {
            format!("/o/{}/e/{}", h.org_slug, h.event.slug)
        },
        name: h.event.name.clone(),
        when: viewer.span(h.event.starts_at, h.event.ends_at),
        org_name: h.org_name.clone(),
        badge: (h.event.status == crate::db::models::EventStatus::Draft).then_some("Draft"),
    };
    let c = home.checklist;
    let new_event = home.event_org.as_ref().map(|slug| format!("/orgs/{slug}/events/new"));
    let steps = if c.complete() {
        Vec::new()
    } else {
        let step = |label: &str, href: String, done: bool| herald_templates::Step {
            label: label.into(),
            href,
            done,
        };
        let events =
            home.event_org.as_ref().map_or_else(|| "/orgs".to_owned(), |s| format!("/orgs/{s}/events"));
        vec![
            step("Create an organization", "/orgs/new".into(), c.organization),
            step("Create your first event", new_event.clone().unwrap_or_else(|| "/orgs".into()), c.event),
            step("Publish it and share its link", events, c.published),
            step("Choose where we remind you", "/integrations".into(), c.channel),
        ]
    };
    let view = herald_templates::DashboardView {
        name: user.user.display_name.clone(),
        organized: home.organized.iter().map(|h| row(h, true)).collect(),
        joined: home.joined.iter().map(|h| row(h, false)).collect(),
        steps,
        new_event,
        status,
    };
    Html(herald_templates::dashboard(&portal.shell, &view).into_string()).into_response()
}
