//! The dashboard page at `/` (Polish, for ROPS coordinators): plain HTML, CSS and JavaScript
//! embedded in the binary, so users need no build step and no second server. It reads the
//! JSON API like any other client, as the account signed in to the console (its session
//! cookie authenticates reads, `http::auth::session_principal`) or with an API token pasted
//! into it (kept in the tab's sessionStorage); it is not part of the API, so it is not in the
//! OpenAPI document.

use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;

use crate::http::state::AppState;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// The page and its two assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Html(INDEX) }))
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Assets change with the binary; a short cache keeps upgrades visible.
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
}
