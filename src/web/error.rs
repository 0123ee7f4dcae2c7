//! Errors of page handlers: a status page in the layout; internal details only in the log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::db::DbError;

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nothing here, or nothing the caller may see (never tells which).
    #[error("not found")]
    NotFound,
    /// Signed in, but not allowed.
    #[error("forbidden")]
    Forbidden,
    /// A bug or an outage; logged, shown as a generic 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbError> for PageError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            Self::NotFound => super::error_response(StatusCode::NOT_FOUND),
            Self::Forbidden => super::error_response(StatusCode::FORBIDDEN),
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                super::error_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }
}

/// Field-level problems in submitted input: `(field, message for the user)`.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// Keeps the value, or records the message under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// Records a message under `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push((field.to_owned(), message.into()));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
