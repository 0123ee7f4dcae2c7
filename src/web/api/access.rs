//! Who may touch what, as extractors: the caller's membership of the organization `{slug}`
//! ([`ApiOrg`]) and an event `{id}` with the caller's access to its organization
//! ([`ApiEventRef`]). Both answer 404 to anyone who may not see the thing, before any body is
//! read, so a bad body tells nothing either.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use uuid::Uuid;

use super::{ApiError, ApiUser};
use crate::db::models::Event;
use crate::events;
use crate::orgs::{self, OrgAccess};
use crate::web::AppState;
use crate::web::session::CurrentUser;

/// The path's parameters by name; an unparsable path names nothing (404).
pub(super) async fn path_params(
    parts: &mut Parts,
    state: &AppState,
) -> Result<HashMap<String, String>, ApiError> {
    let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::NotFound)?;
    Ok(params)
}

/// A UUID from the path parameters; a missing or malformed one names nothing: 404.
pub(super) fn uuid_param(params: &HashMap<String, String>, name: &str) -> Result<Uuid, ApiError> {
    params.get(name).and_then(|raw| Uuid::parse_str(raw).ok()).ok_or(ApiError::NotFound)
}

/// The caller's access to the organization named by `{slug}`; 404 unless a member.
pub(super) struct ApiOrg {
    pub(super) caller: CurrentUser,
    pub(super) access: OrgAccess,
    params: HashMap<String, String>,
}

impl ApiOrg {
    /// A UUID from the path (`user_id`, `id`); a malformed one names nothing: 404.
    pub(super) fn id(&self, name: &str) -> Result<Uuid, ApiError> {
        uuid_param(&self.params, name)
    }

    /// A text parameter of the path (`kind`); absent: 404.
    pub(super) fn param(&self, name: &str) -> Result<&str, ApiError> {
        self.params.get(name).map(String::as_str).ok_or(ApiError::NotFound)
    }
}

impl FromRequestParts<AppState> for ApiOrg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(caller) = ApiUser::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let slug = params.get("slug").ok_or(ApiError::NotFound)?;
        let access = orgs::access(&state.db, slug, caller.user.id).await?;
        Ok(Self { caller, access, params })
    }
}

/// The event `{id}` and the caller's access to its organization; 404 unless a member.
pub(super) struct ApiEventRef {
    pub(super) access: OrgAccess,
    pub(super) event: Event,
}

impl FromRequestParts<AppState> for ApiEventRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ApiUser(caller) = ApiUser::from_request_parts(parts, state).await?;
        let params = path_params(parts, state).await?;
        let id = uuid_param(&params, "id")?;
        let (access, event) = events::load_for_user(&state.db, id, caller.user.id).await?;
        Ok(Self { access, event })
    }
}

/// The event id `{id}` of the path, nothing more: the handler checks the caller's access itself
/// (in one read with the event). A malformed id names nothing: 404.
pub(super) struct ApiEventId(pub(super) Uuid);

impl FromRequestParts<AppState> for ApiEventId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(uuid_param(&path_params(parts, state).await?, "id")?))
    }
}
