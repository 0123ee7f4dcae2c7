//! The web side: one [`AppState`], feature routers merged in [`build_app`], and the middleware
//! every request goes through (request id, tracing, panic catching).

mod account;
mod accounts;
mod announcements;
pub mod api;
pub mod cookies;
pub mod csrf;
pub mod error;
mod events;
mod feeds;
pub mod flash;
mod integrations;
mod membership;
mod optout;
mod orgs;
mod participants;
pub mod portal;
mod public;
mod rules;
pub mod server;
pub mod session;
mod static_files;
mod status;
mod wording;

use std::time::Duration;

use std::sync::Arc;

use crate::config::WebConfig;
use crate::services::Services;
use axum::Router;
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Everything a handler may need: the services' context, and the web's own settings. Cloned
/// for every request by each middleware that takes the state, so it is two shared pointers
/// (cloning [`Services`] itself copies its URLs and settings). It dereferences to
/// [`Services`], so a handler passes `&state` where a service wants `&Services`.
#[derive(Clone, Debug)]
pub struct AppState {
    /// What the services work with.
    pub services: Arc<Services>,
    /// Web settings (public URL, proxies, mail URL).
    pub web: Arc<WebConfig>,
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// The whole application as a router, ready to serve.
pub fn build_app(state: AppState) -> Router {
    Router::new()
        .merge(status::router())
        .merge(accounts::router())
        .merge(account::router())
        .merge(orgs::router())
        .merge(events::router())
        .merge(public::router())
        .merge(participants::router())
        .merge(feeds::router())
        .merge(optout::router())
        .merge(integrations::router())
        .merge(wording::router())
        .merge(announcements::router())
        .merge(rules::router())
        .merge(api::router())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(state.clone(), framed_errors))
        .layer(axum::middleware::from_fn_with_state(state.clone(), flash::carry))
        .layer(axum::middleware::from_fn_with_state(state.clone(), csrf::protect))
        // Static files need neither cookies nor CSRF checks.
        .merge(static_files::router())
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(state, private_responses))
        .layer(axum::middleware::from_fn(measure))
        .layer(axum::middleware::map_response(security_headers))
        .layer(CatchPanicLayer::custom(|_| error_response(StatusCode::INTERNAL_SERVER_ERROR)))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %loggable_path(req.uri().path()))
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Counts the request and its duration by method, route template and status (`/metrics`).
async fn measure(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let method = match method {
        m @ (axum::http::Method::GET
        | axum::http::Method::POST
        | axum::http::Method::PUT
        | axum::http::Method::PATCH
        | axum::http::Method::DELETE
        | axum::http::Method::HEAD
        | axum::http::Method::OPTIONS) => m.to_string(),
        _ => "other".to_owned(),
    };
    crate::metrics::http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Content Security Policy: only Herald's own scripts and styles (no inline code), no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// Headers every response carries: CSP, no sniffing, no framing, no referrer leaks.
async fn security_headers(mut response: Response) -> Response {
    use axum::http::HeaderValue;
    use axum::http::header;
    let headers = response.headers_mut();
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CSP));
    headers.entry(header::X_CONTENT_TYPE_OPTIONS).or_insert(HeaderValue::from_static("nosniff"));
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    response
}

/// A signed-in caller's answers are theirs alone: never stored by a browser or a proxy cache
/// (unless the handler chose, as static files do). Behind https, browsers are told to use
/// https only.
async fn private_responses(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{HeaderValue, header};
    let signed_in = cookies::get(req.headers(), cookies::SESSION, state.web.secure_cookies()).is_some()
        || req.headers().contains_key(header::AUTHORIZATION);
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if signed_in {
        headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    }
    if state.web.base_url.scheme() == "https" {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// Whether `path` is under the JSON API (`/api/`), which the browser-only middleware
/// (CSRF nonce, flash messages, framed error pages) leaves alone.
pub(crate) fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Paths whose next segment is a secret (mailed single-use links, private calendar feeds):
/// logged as `…/***`.
const SECRET_PATH_PREFIXES: &[&str] =
    &["/verify/", "/password/reset/", "/invitations/", "/feeds/", "/optout/", "/digest-off/", "/guest/"];

/// The request path as it may appear in logs: secrets in mailed links are masked.
pub(crate) fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match SECRET_PATH_PREFIXES.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) if path.len() > prefix.len() && path != "/verify/resend" => {
            let rest = &path[prefix.len()..];
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            format!("{prefix}***{tail}").into()
        }
        _ => path.into(),
    }
}

/// `to` if it is a path on this site, else `/`: never redirect to another host.
pub(crate) fn safe_location(to: &str) -> String {
    let local = to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && to.bytes().all(|b| b.is_ascii_graphic());
    if local { to.to_owned() } else { "/".to_owned() }
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND)
}

/// Marks a response made by [`error_response`]: a status page without the visitor's frame.
#[derive(Debug, Clone, Copy)]
struct BareErrorPage(StatusCode);

/// A "not found" or "not allowed" page keeps the visitor's frame (their name, organizations,
/// sign-out form) when they are signed in: [`error_response`] cannot know who asks, so the
/// page is rendered again here with the [`portal::Portal`] of the request.
async fn framed_errors(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::extract::FromRequestParts;
    // API errors are problem documents, never pages.
    if is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let (headers, extensions, uri) = (parts.headers.clone(), parts.extensions.clone(), parts.uri.clone());
    let response = next.run(axum::extract::Request::from_parts(parts, body)).await;
    let Some(BareErrorPage(status)) = response.extensions().get::<BareErrorPage>().copied() else {
        return response;
    };
    if !matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN)
        || cookies::get(&headers, cookies::SESSION, state.web.secure_cookies()).is_none()
    {
        return response;
    }
    let mut again = Request::new(());
    *again.headers_mut() = headers;
    *again.extensions_mut() = extensions;
    *again.uri_mut() = uri;
    let (mut parts, ()) = again.into_parts();
    match portal::Portal::from_request_parts(&mut parts, &state).await {
        Ok(portal) if portal.user.is_some() => {
            let (title, message) = error_words(status);
            let page = herald_templates::pages::error_page_in(&portal.shell, status.as_u16(), title, message);
            let mut framed = (status, Html(page.into_string())).into_response();
            for (name, value) in response.headers() {
                if *name != axum::http::header::CONTENT_LENGTH {
                    framed.headers_mut().insert(name.clone(), value.clone());
                }
            }
            framed
        }
        _ => response,
    }
}

/// The title and sentence of the error page for `status`.
fn error_words(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "There is nothing at this address. It may have moved, or the link may be mistyped.",
        ),
        StatusCode::FORBIDDEN => ("Not allowed", "You do not have access to this page."),
        StatusCode::REQUEST_TIMEOUT => {
            ("Took too long", "The server took too long to answer. Please try again.")
        }
        _ => (
            "Something went wrong",
            "Herald hit an unexpected problem. It has been logged; please try again in a moment.",
        ),
    }
}

/// A full error page in the layout for `status`.
pub(crate) fn error_response(status: StatusCode) -> Response {
    let (title, message) = error_words(status);
    let mut response =
        (status, Html(herald_templates::error_page(status.as_u16(), title, message).into_string()))
            .into_response();
    response.extensions_mut().insert(BareErrorPage(status));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailed_link_secrets_are_masked_in_logs() {
        assert_eq!(loggable_path("/verify/abc123"), "/verify/***");
        assert_eq!(loggable_path("/password/reset/abc"), "/password/reset/***");
        assert_eq!(loggable_path("/invitations/tok/accept"), "/invitations/***/accept");
        assert_eq!(loggable_path("/verify/resend"), "/verify/resend");
        assert_eq!(loggable_path("/feeds/secret-token.ics"), "/feeds/***");
        assert_eq!(loggable_path("/orgs/acme"), "/orgs/acme");
    }

    #[test]
    fn redirects_stay_on_this_site() {
        assert_eq!(safe_location("/orgs?x=1"), "/orgs?x=1");
        for bad in ["https://evil.example", "//evil.example", "/\\evil.example", "orgs", "/ä"] {
            assert_eq!(safe_location(bad), "/", "{bad}");
        }
    }
}
