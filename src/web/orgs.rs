//! Organization pages: list and create, members, invitations, roles, leaving.

use axum::Router;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
}
