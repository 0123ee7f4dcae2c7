//! `Idempotency-Key` for the API operations that create something (events, participants): one
//! parser for the header and one request fingerprint. The services store the key with what it
//! created and answer a retry with the same thing (or 409 when the key comes back with another
//! request).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use super::ApiError;
use crate::domain::FieldErrors;
use crate::secrets::hash_token;

/// The request's `Idempotency-Key`, if it sent one: 1 to 255 visible characters, else 422.
#[derive(Debug, Clone)]
pub(super) struct IdempotencyKey(pub(super) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get("idempotency-key") else { return Ok(Self(None)) };
        let key = raw.to_str().unwrap_or("").trim();
        if key.is_empty() || key.len() > 255 {
            return Err(ApiError::Invalid(FieldErrors::one(
                "Idempotency-Key",
                "Use 1 to 255 visible characters.",
            )));
        }
        Ok(Self(Some(key.to_owned())))
    }
}

/// What makes two requests "the same": what they act on (`scope`) and their body.
pub(super) fn fingerprint(scope: &str, body: &impl Serialize) -> Result<String, ApiError> {
    let body = serde_json::to_string(body).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(hash_token(&format!("{scope}\n{body}")))
}
