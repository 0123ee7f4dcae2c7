//! `/api/v1/orgs…`: organizations, members and invitations.

use utoipa_axum::router::OpenApiRouter;

use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
