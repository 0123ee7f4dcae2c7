//! The request of a signed-in member about one of their organizations (`{slug}` in the path),
//! as one extractor that the organization, event and participant pages build on. Not signed
//! in: sign in first. Not a member: 404, before any form is read, so nobody learns that the
//! organization exists.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use uuid::Uuid;

use super::AppState;
use super::error::PageError;
use super::portal::Portal;
use super::session::{CurrentUser, RequireUser};
use crate::domain::ServiceError;
use crate::orgs::{self, OrgAccess};

/// A member, their access, the page chrome (set to the organization) and the path's parameters.
pub(super) struct Membership {
    pub(super) portal: Portal,
    pub(super) user: CurrentUser,
    pub(super) access: OrgAccess,
    /// The heading and tabs every organization page shows.
    pub(super) header: herald_templates::orgs::OrgHeader,
    params: HashMap<String, String>,
}

impl Membership {
    /// The UUID named `name` in the path, if the route has one; 404 when it is malformed.
    pub(super) fn uuid(&self, name: &str) -> Result<Option<Uuid>, PageError> {
        self.params.get(name).map(|raw| Uuid::parse_str(raw).map_err(|_| PageError::NotFound)).transpose()
    }
}

impl FromRequestParts<AppState> for Membership {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let RequireUser(user) =
            RequireUser::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::NotFound.into_response())?;
        let slug = params.get("slug").ok_or_else(|| PageError::NotFound.into_response())?;
        let access = orgs::access(&state.db, slug, user.user.id).await.map_err(|e| {
            match e {
                ServiceError::NotFound => PageError::NotFound,
                other => PageError::Internal(anyhow::anyhow!(other)),
            }
            .into_response()
        })?;
        let portal = Portal::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?
            .in_org(&access.org.slug);
        let header = herald_templates::orgs::OrgHeader {
            slug: access.org.slug.clone(),
            name: access.org.name.clone(),
            role: access.role.to_string(),
            manages_members: access.manages_members(),
            is_owner: access.is_owner(),
            manages_events: crate::events::manages_events(access.role),
            public_url: state.web.absolute(&format!("/o/{}", access.org.slug)),
        };
        Ok(Self { portal, user, access, header, params })
    }
}
