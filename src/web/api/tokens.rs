//! `/api/v1/me/tokens…`: personal API tokens.

use utoipa_axum::router::OpenApiRouter;

use crate::web::AppState;

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
