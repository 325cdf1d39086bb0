//! Placeholder: filled in by the console's networks pages.

use axum::Router;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
