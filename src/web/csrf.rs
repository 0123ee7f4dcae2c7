//! CSRF protection for every state-changing browser request.
//!
//! A random nonce lives in an HttpOnly cookie; the token is an HMAC of it under Herald's key,
//! rendered into forms (`_csrf`) and sent by htmx as `X-CSRF-Token`. A cross-site page can
//! neither read the token nor compute it. `/api/` is exempt: it only accepts bearer tokens,
//! which browsers never attach by themselves.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{AppState, cookies};
use crate::secrets::constant_time_eq;

/// The token for this request's forms (in request extensions).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// Largest form body inspected for `_csrf` (CSV uploads send the token in the header or query).
const MAX_FORM: usize = 2 * 1024 * 1024;

/// Issues the nonce cookie when missing, exposes the token, and rejects unsafe requests
/// without a matching token.
pub async fn protect(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookies::get(req.headers(), cookies::CSRF)
        .filter(|n| n.len() == 43 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_owned);
    let (nonce, fresh) = match existing {
        Some(n) => (n, false),
        None => (crate::secrets::random_token(), true),
    };
    let token = URL_SAFE_NO_PAD.encode(state.keys.sign("csrf", nonce.as_bytes()));
    req.extensions_mut().insert(CsrfToken(token.clone()));

    let unsafe_method =
        !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    if unsafe_method && !req.uri().path().starts_with("/api/") {
        let (ok, rebuilt) = check(req, &token).await;
        let Some(req) = rebuilt.filter(|_| ok) else {
            tracing::warn!("rejected a request without a valid CSRF token");
            return rejection();
        };
        return finish(next.run(req).await, fresh, &nonce, &state);
    }
    finish(next.run(req).await, fresh, &nonce, &state)
}

fn finish(mut response: Response, fresh: bool, nonce: &str, state: &AppState) -> Response {
    if fresh {
        // A year: the nonce carries no authority by itself.
        let cookie = cookies::set(cookies::CSRF, nonce, Some(365 * 24 * 3600), state.web.secure_cookies());
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Finds the token in the header, the query or a url-encoded form body; returns the request
/// with its body restored.
async fn check(req: Request, expected: &str) -> (bool, Option<Request>) {
    let matches = |candidate: &str| constant_time_eq(candidate.as_bytes(), expected.as_bytes());
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return (matches(h), Some(req));
    }
    if let Some(q) = req.uri().query()
        && let Some(v) = form_value(q.as_bytes(), "_csrf")
    {
        return (matches(&v), Some(req));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (false, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM).await else { return (false, None) };
    let ok = form_value(&bytes, "_csrf").is_some_and(|v| matches(&v));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

fn form_value(encoded: &[u8], key: &str) -> Option<String> {
    url::form_urlencoded::parse(encoded).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

fn rejection() -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::response::Html(
            herald_templates::error_page(
                403,
                "This form has expired",
                "For your safety, Herald only accepts forms it showed you itself. Go back, reload the page and try again.",
            )
            .into_string(),
        ),
    )
        .into_response()
}
