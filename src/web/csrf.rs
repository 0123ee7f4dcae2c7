//! CSRF protection for every state-changing browser request.
//!
//! A random nonce lives in an HttpOnly cookie; the token is an HMAC under Herald's key of that
//! nonce and of the session cookie, so a token is good for one browser and one session only (a
//! token seen before sign-in does not work after it). It is rendered into forms (`_csrf`, also
//! inside multipart uploads) and sent by htmx as `X-CSRF-Token`, never in a URL. A cross-site
//! page can neither read the token nor compute it. `/api/` is exempt: it only accepts bearer
//! tokens, which browsers never attach by themselves.

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

/// Largest form body inspected for `_csrf`: a cover image (at most 2 MiB) with the multipart
/// framing around it; a CSV upload is at most 1 MiB. Larger bodies are refused with 413.
pub const MAX_FORM: usize = 3 * 1024 * 1024;

/// Issues the nonce cookie when missing, exposes the token, and rejects unsafe requests
/// without a matching token.
pub async fn protect(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // The API takes bearer tokens only and renders no form: no nonce cookie, no token.
    if super::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let secure = state.web.secure_cookies();
    let existing = cookies::get(req.headers(), cookies::CSRF, secure)
        .filter(|n| n.len() == 43 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(str::to_owned);
    let (nonce, fresh) = match existing {
        Some(n) => (n, false),
        None => (crate::secrets::random_token(), true),
    };
    let session = cookies::get(req.headers(), cookies::SESSION, secure).unwrap_or("");
    let token = URL_SAFE_NO_PAD.encode(state.keys.sign("csrf", format!("{nonce}|{session}").as_bytes()));
    req.extensions_mut().insert(CsrfToken(token.clone()));

    let unsafe_method =
        !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    // `/optout/` and `/digest-off/` links carry their own signed token (mail clients post
    // them, RFC 8058).
    let exempt = req.uri().path().starts_with("/optout/") || req.uri().path().starts_with("/digest-off/");
    if unsafe_method && !exempt {
        let declared =
            req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_FORM) {
            return finish(too_large(), fresh, &nonce, &state);
        }
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

/// Finds the token in the header, a url-encoded form body or a multipart body (never the
/// query: a URL ends up in logs and histories); returns the request with its body restored.
async fn check(req: Request, expected: &str) -> (bool, Option<Request>) {
    let matches = |candidate: &str| constant_time_eq(candidate.as_bytes(), expected.as_bytes());
    if let Some(h) = req.headers().get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return (matches(h), Some(req));
    }
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let boundary = multer::parse_boundary(&content_type).ok();
    if !content_type.starts_with("application/x-www-form-urlencoded") && boundary.is_none() {
        return (false, Some(req));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM).await else { return (false, None) };
    let found = match boundary {
        None => form_value(&bytes, "_csrf"),
        Some(boundary) => multipart_value(bytes.clone(), boundary, "_csrf").await,
    };
    let ok = found.is_some_and(|v| matches(&v));
    (ok, Some(Request::from_parts(parts, Body::from(bytes))))
}

/// The text of the multipart field `key`, when it comes before any file.
async fn multipart_value(bytes: axum::body::Bytes, boundary: String, key: &str) -> Option<String> {
    let stream = futures::stream::once(async move { Ok::<_, std::convert::Infallible>(bytes) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some(key) {
            return field.text().await.ok();
        }
        if field.file_name().is_some() {
            return None;
        }
    }
    None
}

fn form_value(encoded: &[u8], key: &str) -> Option<String> {
    url::form_urlencoded::parse(encoded).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// A body over [`MAX_FORM`]: said plainly, not as an expired form.
fn too_large() -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        axum::response::Html(
            herald_templates::error_page(
                413,
                "This upload is too large",
                "Herald accepts files of at most 2 MB (a CSV import at most 1 MiB). Go back and choose a smaller file.",
            )
            .into_string(),
        ),
    )
        .into_response()
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
