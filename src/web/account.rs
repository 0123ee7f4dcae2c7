//! The signed-in user's own pages: preferences and personal API tokens.

use axum::Router;

use super::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
}
