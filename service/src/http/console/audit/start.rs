//! `/panel/audyt`: where an evaluator starts — what each tool answers, in plain words, and
//! the way to it. A coordinator may open it too (the checks of their own visits,
//! programmes and networks are theirs as well), and is told up front that the store-wide
//! checks are for evaluators and admins instead of meeting a refusal later.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::common::{may_audit, user_of};
use crate::http::page::{private, render};
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "konsola/audyt.html")]
struct StartPage {
    can_audit: bool,
}

pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    private(render(
        StatusCode::OK,
        &StartPage {
            can_audit: may_audit(&user),
        },
    ))
}
