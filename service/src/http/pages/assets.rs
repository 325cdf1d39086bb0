//! The pages' stylesheet and script, embedded in the binary: no build step, nothing from
//! another site, and a page always gets the assets of its own version.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("assets/strony.css");
const SCRIPT: &str = include_str!("assets/strony.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // An hour: a new version of the binary is picked up soon enough.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}
