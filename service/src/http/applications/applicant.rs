//! The applicant's key: the secret given once at submission with which a person follows,
//! withdraws and answers for their own application without an account.

use axum::http::HeaderMap;
use infra::personal_data;
use uuid::Uuid;

use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub use crate::http::request::APPLICANT_KEY;

/// The visit of the application the `X-Applicant-Key` header opens; a missing or wrong key
/// answers 404, like an application that does not exist.
pub async fn applicant_visit(
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
