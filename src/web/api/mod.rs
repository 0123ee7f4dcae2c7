//! The JSON API under `/api/v1`: bearer-token authentication, RFC 9457 problem responses, and
//! an OpenAPI document generated from the handlers (`/api/v1/openapi.json`).
//!
//! Each feature module exposes `routes() -> OpenApiRouter<AppState>`; they are merged here, so a
//! route cannot exist without being documented.

mod access;
pub mod announcements;
pub mod delivery;
pub mod events;
pub mod exports;
mod idempotency;
pub mod integrations;
pub mod me;
pub mod orgs;
pub mod participants;
pub mod rules;
pub mod tokens;
pub mod wording;

use axum::Json;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::AppState;
use crate::accounts;
use crate::db::DbError;
use crate::domain::{FieldErrors, ServiceError};
use crate::web::session::CurrentUser;

#[derive(OpenApi)]
#[openapi(
    info(title = "Herald API", description = "Durable event reminders. Authenticate with a personal API token: `Authorization: Bearer <token>`."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    components(schemas(Problem, FieldProblem))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal API token (Account → API tokens, or `herald token create`).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The answers every operation of a kind can give, added to the document wherever an
/// operation does not list them itself: 401 for every operation (all need a token), 404 where
/// the path names something, and 400, 413 and 422 where a body is sent.
struct StandardResponses;

impl Modify for StandardResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let named = path.contains('{');
            for operation in [&mut item.get, &mut item.put, &mut item.post, &mut item.patch, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let has_body = operation.request_body.is_some();
                let standard = [
                    (true, "401", "No token, or a token that is unknown, revoked or expired."),
                    (named, "404", "Nothing here, or nothing the caller may see."),
                    (
                        has_body,
                        "400",
                        "The body is not JSON of the expected shape (for example an array where an object is expected).",
                    ),
                    (has_body, "413", "The body is larger than 2 MiB."),
                    (has_body, "422", "Some fields are not valid; `errors` names each with what to fix."),
                ];
                for (applies, status, description) in standard {
                    if applies && !operation.responses.responses.contains_key(status) {
                        operation.responses.responses.insert(status.to_owned(), problem(description).into());
                    }
                }
            }
        }
    }
}

/// The API routes and their OpenAPI document.
pub fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (routes, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            me::routes()
                .merge(tokens::routes())
                .merge(orgs::routes())
                .merge(events::routes())
                .merge(delivery::routes())
                .merge(participants::routes())
                .merge(integrations::routes())
                .merge(exports::routes())
                .merge(wording::routes())
                .merge(announcements::routes())
                .merge(rules::routes()),
        )
        .split_for_parts();
    StandardResponses.modify(&mut doc);
    (routes, doc)
}

pub(super) fn router() -> Router<AppState> {
    let (routes, doc) = api_routes();
    let doc = std::sync::Arc::new(doc);
    routes
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/v1", get(|| async { ApiError::NotFound }))
        .route("/api/v1/{*rest}", axum::routing::any(|| async { ApiError::NotFound }))
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened and what to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For 422: each rejected field and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// One rejected field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field's name in the request body (dotted for nested fields).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Errors of API handlers, answered as `application/problem+json`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no or a bad bearer token.
    #[error("unauthorized")]
    Unauthorized,
    /// 403 with a reason (the caller can see the thing but not do this to it).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: nothing here, or nothing the caller may see.
    #[error("not found")]
    NotFound,
    /// 409 with a reason.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 400: the body is not valid JSON of the expected shape.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 413: the body is too large.
    #[error("payload too large")]
    TooLarge,
    /// 422: each bad field.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// 429 with when to try again.
    #[error("too many requests: {0}")]
    TooMany(String),
    /// 503 with a reason: an outside service could not do what was needed; nothing changed.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// 500: logged, never detailed.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => Self::NotFound,
            ServiceError::Forbidden(why) => Self::Forbidden(why),
            ServiceError::Conflict(why) => Self::Conflict(why),
            ServiceError::Invalid(fields) => Self::Invalid(fields),
            ServiceError::TooMany(why) => Self::TooMany(why),
            ServiceError::Unavailable(why) => Self::Unavailable(why),
            ServiceError::Internal(e) => Self::Internal(e),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => Self::NotFound,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::TooLarge;
        }
        Self::BadRequest(e.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail, errors) = match self {
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                Some("Send a personal API token as `Authorization: Bearer <token>`.".to_owned()),
                vec![],
            ),
            Self::Forbidden(why) => (StatusCode::FORBIDDEN, Some(why), vec![]),
            Self::NotFound => (StatusCode::NOT_FOUND, None, vec![]),
            Self::Conflict(why) => (StatusCode::CONFLICT, Some(why), vec![]),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, Some(why), vec![]),
            Self::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, Some("Send a body of at most 2 MiB.".to_owned()), vec![])
            }
            Self::TooMany(why) => (StatusCode::TOO_MANY_REQUESTS, Some(why), vec![]),
            Self::Unavailable(why) => (StatusCode::SERVICE_UNAVAILABLE, Some(why), vec![]),
            Self::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("Some fields are not valid; see `errors`.".to_owned()),
                fields.0.into_iter().map(|(field, message)| FieldProblem { field, message }).collect(),
            ),
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "API request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None, vec![])
            }
        };
        let problem = Problem {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The caller of an API route, authenticated by a personal API token.
#[derive(Debug, Clone)]
pub struct ApiUser(pub CurrentUser);

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        let user = accounts::tokens::authenticate(&state.db, token).await?.ok_or(ApiError::Unauthorized)?;
        Ok(Self(CurrentUser { user, session: None }))
    }
}

/// JSON body extractor whose rejections are problem documents. The body must be a JSON object:
/// serde would otherwise read an array as a struct's fields in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<serde_json::Value>::from_request(req, state).await?;
        let kind = match &value {
            serde_json::Value::Object(_) => None,
            serde_json::Value::Array(_) => Some("an array"),
            serde_json::Value::String(_) => Some("a string"),
            serde_json::Value::Number(_) => Some("a number"),
            serde_json::Value::Bool(_) => Some("a boolean"),
            serde_json::Value::Null => Some("null"),
        };
        if let Some(kind) = kind {
            return Err(ApiError::BadRequest(format!(
                "The body must be a JSON object; expected an object, got {kind}."
            )));
        }
        serde_json::from_value(value)
            .map(ApiJson)
            .map_err(|e| ApiError::BadRequest(format!("The body does not have the expected shape: {e}.")))
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}
