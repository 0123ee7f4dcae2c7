//! How the web answers when something did not happen: [`PageError`] for a status page in the
//! layout, and [`refusal_page`], the one place a [`ServiceError`] becomes a page (the API's
//! twin is `ApiError::from`). Internal details go only to the log.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::db::DbError;
use crate::domain::ServiceError;

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

/// For handlers that show no form: anything but "not found" is unexpected there.
impl From<ServiceError> for PageError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(_) => Self::Forbidden,
            ServiceError::Internal(e) => Self::Internal(e),
            other => Self::Internal(anyhow::anyhow!("{other}")),
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

/// An HTML answer that varies with `HX-Request` (handlers give htmx a fragment).
pub(crate) fn html(status: StatusCode, markup: herald_templates::Markup) -> Response {
    (status, [(header::VARY, "HX-Request")], Html(markup.into_string())).into_response()
}

/// The page for a refused operation: its reason in words, with a way back. Field errors that
/// belong beside a form are rendered by that form's handler instead.
pub(crate) fn refusal_page(
    shell: &herald_templates::Shell,
    e: ServiceError,
    back: Option<(&str, &str)>,
) -> Response {
    let page = |status: StatusCode, title: &str, why: &str| {
        html(status, herald_templates::accounts::message(shell, title, why, back))
    };
    match e {
        ServiceError::NotFound => PageError::NotFound.into_response(),
        ServiceError::Forbidden(why) => page(StatusCode::FORBIDDEN, "Not allowed", &why),
        ServiceError::Conflict(why) => page(StatusCode::CONFLICT, "That cannot be done", &why),
        ServiceError::Invalid(fields) => {
            let why = fields.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" ");
            page(StatusCode::UNPROCESSABLE_ENTITY, "Please check", &why)
        }
        ServiceError::TooMany(why) => page(StatusCode::TOO_MANY_REQUESTS, "Please wait a moment", &why),
        ServiceError::Unavailable(why) => {
            page(StatusCode::SERVICE_UNAVAILABLE, "Not available right now", &why)
        }
        ServiceError::Internal(e) => PageError::Internal(e).into_response(),
    }
}
