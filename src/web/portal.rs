//! The portal frame for the current visitor: user, organizations, flash messages, CSRF token.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::csrf::CsrfToken;
use super::error::PageError;
use super::flash::Flashes;
use crate::web::session::{CurrentUser, MaybeUser};

/// What every portal page needs to render its frame.
#[derive(Debug, Clone)]
pub struct Portal {
    /// The signed-in user, if any.
    pub user: Option<CurrentUser>,
    /// The frame's data for the templates.
    pub shell: herald_templates::Shell,
}

impl Portal {
    /// The same frame with `slug` marked as the organization being viewed.
    pub fn in_org(mut self, slug: &str) -> Self {
        self.shell.current_org = Some(slug.to_owned());
        self
    }
}

impl FromRequestParts<AppState> for Portal {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let MaybeUser(user) = MaybeUser::from_request_parts(parts, state).await?;
        let csrf = parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default();
        let flashes = parts.extensions.get::<Flashes>().map(|f| f.0.clone()).unwrap_or_default();
        let orgs = match &user {
            Some(u) => state
                .db
                .organizations_of(u.user.id)
                .await?
                .into_iter()
                .map(|(org, role)| herald_templates::ShellOrg {
                    slug: org.slug,
                    name: org.name,
                    role: role.to_string(),
                })
                .collect(),
            None => Vec::new(),
        };
        let shell = herald_templates::Shell {
            user: user.as_ref().map(|u| herald_templates::ShellUser {
                name: u.user.display_name.clone(),
                email: u.user.email.clone(),
                verified: u.verified(),
            }),
            csrf,
            flashes,
            orgs,
            current_org: None,
            // Only operators can act on it (a confirmed address in HERALD_ADMIN_EMAILS).
            log_only_notice: state.apprise.is_none()
                && user.as_ref().is_some_and(|u| u.verified() && state.web.is_admin(&u.user.email)),
        };
        Ok(Self { user, shell })
    }
}
