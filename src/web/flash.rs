//! One-shot messages shown after a redirect ("Organization created"), carried in a signed cookie.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use herald_templates::FlashKind;

use super::{AppState, cookies};
use crate::secrets::constant_time_eq;

/// Messages that arrived with this request (in request extensions).
#[derive(Debug, Clone, Default)]
pub struct Flashes(pub Vec<(FlashKind, String)>);

fn kind_code(k: FlashKind) -> char {
    match k {
        FlashKind::Info => 'i',
        FlashKind::Success => 's',
        FlashKind::Warning => 'w',
        FlashKind::Error => 'e',
    }
}

fn encode(state: &AppState, kind: FlashKind, message: &str) -> String {
    let payload = format!("{}{}", kind_code(kind), message);
    let sig = state.keys.sign("flash", payload.as_bytes());
    format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(sig))
}

fn decode(state: &AppState, value: &str) -> Option<(FlashKind, String)> {
    let (payload, sig) = value.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    if !constant_time_eq(&sig, &state.keys.sign("flash", &payload)) {
        return None;
    }
    let text = String::from_utf8(payload).ok()?;
    let mut chars = text.chars();
    let kind = match chars.next()? {
        'i' => FlashKind::Info,
        's' => FlashKind::Success,
        'w' => FlashKind::Warning,
        'e' => FlashKind::Error,
        _ => return None,
    };
    Some((kind, chars.collect()))
}

/// Reads the flash cookie into [`Flashes`] and deletes it once shown (unless a new one is set).
pub async fn carry(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // API answers show no messages; a browser's flash waits for its next page.
    if super::is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let secure = state.web.secure_cookies();
    let incoming = cookies::get(req.headers(), cookies::FLASH, secure).map(str::to_owned);
    let flashes = incoming.as_deref().and_then(|v| decode(&state, v)).into_iter().collect();
    req.extensions_mut().insert(Flashes(flashes));
    let mut response = next.run(req).await;
    let sets_new = response.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        v.to_str().is_ok_and(|s| s.starts_with(&format!("{}=", cookies::full_name(cookies::FLASH, secure))))
    });
    // Keep it across redirects; drop it once a page has shown it.
    if incoming.is_some() && !sets_new && !response.status().is_redirection() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::clear(cookies::FLASH, state.web.secure_cookies()));
    }
    response
}

/// A 303 redirect to `to` that shows `message` on the next page.
pub fn redirect(state: &AppState, to: &str, kind: FlashKind, message: &str) -> Response {
    let cookie =
        cookies::set(cookies::FLASH, &encode(state, kind, message), Some(120), state.web.secure_cookies());
    (StatusCode::SEE_OTHER, [(header::LOCATION, super::safe_location(to))], [(header::SET_COOKIE, cookie)])
        .into_response()
}
