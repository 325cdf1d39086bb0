//! The applicant's view of their own application, opened with their key: its status and
//! rank as recorded, and while the term is open (or they wait after the close) where the
//! term's roster places them now.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use domain::study_visit::ApplicationStatus;
use projections::applications::read::{self, ROSTER_MODELS};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::applicant::applicant_visit;
use crate::http::consistency::{wait_for, Consistency};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The applicant's view of their application. Every field is always present.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationStatusView {
    pub application_id: Uuid,
    #[schema(value_type = crate::http::openapi::ApplicationStatus)]
    pub status: ApplicationStatus,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    /// Rank among the term's candidates (1 = first): provisional while the term is open;
    /// null when there is none (e.g. withdrawn before the close).
    #[schema(required = true)]
    pub rank: Option<u32>,
    /// The place on the waiting list (1 = next), while waiting for a seat; else null.
    #[schema(required = true, minimum = 1)]
    pub waitlist_position: Option<u32>,
    /// Until when the seat offered stands, while `status` is `offered` (accept or decline
    /// it with `…/offer/accept` or `…/offer/decline`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub offer_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The days of the term the person was recorded present on (empty before any record).
    pub days_present: Vec<chrono::NaiveDate>,
}

/// Follow one's own application (header `X-Applicant-Key`; a wrong key is 404).
#[utoipa::path(get, path = "/api/v1/applications/{application_id}", operation_id = "get_own_application", tag = "applications",
    params(("application_id" = Uuid, Path),
        ("X-Applicant-Key" = String, Header, description = "The key given with the application when it was submitted (`applicant_key`)."),
        Consistency),
    responses((status = 200, body = ApplicationStatusView, description = "Where the application stands: its status, and while it may still move, its place in the term's current ranking."),
        (status = 404, description = "No such application, or the key does not open it (a missing or wrong key answers like an unknown application)."),
        (status = 503, description = "The read model has not reached `min_position`, or has not recorded the fresh application yet; retry after `Retry-After` seconds.")))]
pub(super) async fn own_status(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(application_id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<ApplicationStatusView>, ApiError> {
    let visit_id = applicant_visit(&state, &headers, application_id).await?;
    wait_for(&state, ROSTER_MODELS, c.min_position).await?;
    let mut conn = state.reads().acquire().await?;
    // The key exists once the submission committed; the read model may not have it yet.
    let standing = read::standing(&mut conn, visit_id, application_id)
        .await?
        .ok_or_else(|| ApiError::Unavailable {
            detail: "The application is being recorded; retry shortly.".into(),
            retry_after_secs: 1,
        })?;
    let view = ApplicationStatusView {
        application_id,
        status: standing.application.status,
        visit_id,
        term_id: standing.application.term_id,
        rank: standing.rank,
        waitlist_position: standing.waitlist_position,
        offer_expires_at: standing.application.offer_expires_at,
        days_present: standing.days_present,
    };
    Ok(Json(view))
}
