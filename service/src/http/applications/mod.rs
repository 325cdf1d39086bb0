//! Applications to a visit's terms: the public form (no token), the applicant following and
//! withdrawing their own application with the key they were given, and the coordinator's
//! withdrawal, seat release, seat given by hand and attendance.
//!
//! A submission goes through `infra::applications::submit` (personal data written in the
//! transaction of the events); the other commands through the shared command path; the
//! applicant's status is read from the `applications` read model and, while it may still
//! move, from the term's roster (`projections::applications::read`).

mod commands;
mod reads;
mod requests;

use axum::http::HeaderMap;
use infra::personal_data;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub use requests::{INFORMATION_CLAUSE_VERSION, LEGAL_BASIS};

/// Header with which an applicant proves an application is theirs.
pub const APPLICANT_KEY: &str = "x-applicant-key";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(commands::submit))
        .routes(routes!(reads::own_status))
        .routes(routes!(commands::withdraw_own))
        .routes(routes!(commands::withdraw))
        .routes(routes!(commands::release_seat))
        .routes(routes!(commands::allocate_by_hand))
        .routes(routes!(commands::attendance))
}

/// The visit of the application the `X-Applicant-Key` header opens; a missing or wrong key
/// answers 404, like an application that does not exist.
async fn applicant_visit(
    state: &AppState,
    headers: &HeaderMap,
    application_id: Uuid,
) -> Result<Uuid, ApiError> {
    let key = headers
        .get(APPLICANT_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if key.is_empty() {
        return Err(ApiError::NotFound("No such application.".into()));
    }
    personal_data::applicant_visit(&state.pool, application_id, key)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such application.".into()))
}
