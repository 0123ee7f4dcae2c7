//! `/api/v1/orgs/{slug}/messages…`: the organization's wording of its notices (templates with
//! variables), the same rules as the Messages page ([`crate::wording`]): owners, admins and
//! organizers; a template that cannot be used is refused with 422 naming `subject` or `body`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::access::ApiOrg;
use super::{ApiError, ApiJson, Problem};
use crate::web::AppState;
use crate::wording::{self, KindWording, Wording};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_wording))
        .routes(routes!(save_wording, reset_wording))
        .routes(routes!(preview_wording))
}

/// The wording of one kind of notice.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiWording {
    /// `reminder`, `updated` (change notices), `cancelled` or `follow_up` (the thank-you after an event).
    pub kind: String,
    /// The subject template.
    pub subject: String,
    /// The body template.
    pub body: String,
    /// Whether it is the organization's own (false: Herald's wording).
    pub custom: bool,
}

impl From<KindWording> for ApiWording {
    fn from(k: KindWording) -> Self {
        Self {
            kind: k.kind.as_str().to_owned(),
            subject: k.wording.subject,
            body: k.wording.body,
            custom: k.custom,
        }
    }
}

/// A wording to save.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct WordingBody {
    /// The subject template, up to 200 characters.
    #[serde(default)]
    pub subject: String,
    /// The body template, up to 5,000 characters.
    #[serde(default)]
    pub body: String,
}

/// A wording to preview: the one given, or the one in use for what is left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PreviewBody {
    /// The subject template (absent: the one in use).
    pub subject: Option<String>,
    /// The body template (absent: the one in use).
    pub body: Option<String>,
    /// One of the organization's events to show it with (absent: its next event, or a sample).
    pub event_id: Option<Uuid>,
}

/// A message as the caller would get it, before Herald's footer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiPreview {
    /// The subject.
    pub subject: String,
    /// The body.
    pub body: String,
    /// The event it was shown with; `null` for a sample event.
    pub event: Option<String>,
}

fn kind_of(o: &ApiOrg) -> Result<crate::db::models::NoticeKind, ApiError> {
    Ok(wording::parse_kind(o.param("kind")?)?)
}

/// The wording of every kind of notice (owners, admins and organizers).
#[utoipa::path(get, path = "/orgs/{slug}/messages", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug")),
    responses((status = 200, body = [ApiWording]),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn list_wording(
    State(state): State<AppState>,
    o: ApiOrg,
) -> Result<ApiJson<Vec<ApiWording>>, ApiError> {
    let list = wording::list(&state, &o.access).await?;
    Ok(ApiJson(list.into_iter().map(ApiWording::from).collect()))
}

/// Saves the organization's wording of a kind of notice, once it passes the checks.
#[utoipa::path(put, path = "/orgs/{slug}/messages/{kind}", tag = "organizations", request_body = WordingBody,
    params(("slug" = String, Path, description = "The organization's slug"),
        ("kind" = String, Path, description = "reminder, updated, cancelled or follow_up")),
    responses((status = 200, body = ApiWording),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The template cannot be used: the problem, by field", body = Problem, content_type = "application/problem+json")))]
async fn save_wording(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(body): ApiJson<WordingBody>,
) -> Result<ApiJson<ApiWording>, ApiError> {
    let kind = kind_of(&o)?;
    let saved =
        wording::save(&state, &o.access, kind, Wording { subject: body.subject, body: body.body }).await?;
    Ok(ApiJson(saved.into()))
}

/// Goes back to Herald's wording of a kind of notice.
#[utoipa::path(delete, path = "/orgs/{slug}/messages/{kind}", tag = "organizations",
    params(("slug" = String, Path, description = "The organization's slug"),
        ("kind" = String, Path, description = "reminder, updated, cancelled or follow_up")),
    responses((status = 200, body = ApiWording),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn reset_wording(State(state): State<AppState>, o: ApiOrg) -> Result<ApiJson<ApiWording>, ApiError> {
    let kind = kind_of(&o)?;
    Ok(ApiJson(wording::reset(&state, &o.access, kind).await?.into()))
}

/// Renders a wording for the caller as reader, with one of the organization's events: what a
/// participant gets, before Herald's footer. Nothing is saved.
#[utoipa::path(post, path = "/orgs/{slug}/messages/{kind}/preview", tag = "organizations", request_body = PreviewBody,
    params(("slug" = String, Path, description = "The organization's slug"),
        ("kind" = String, Path, description = "reminder, updated, cancelled or follow_up")),
    responses((status = 200, body = ApiPreview),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organization, kind or event", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The template cannot be used", body = Problem, content_type = "application/problem+json")))]
async fn preview_wording(
    State(state): State<AppState>,
    o: ApiOrg,
    ApiJson(body): ApiJson<PreviewBody>,
) -> Result<ApiJson<ApiPreview>, ApiError> {
    let kind = kind_of(&o)?;
    let (current, _) = wording::wording_of(&state.db, o.access.org.id, kind).await?;
    let w =
        Wording { subject: body.subject.unwrap_or(current.subject), body: body.body.unwrap_or(current.body) };
    let p = wording::preview(&state, &o.access, kind, &w, body.event_id).await?;
    Ok(ApiJson(ApiPreview { subject: p.subject, body: p.body, event: p.event }))
}
