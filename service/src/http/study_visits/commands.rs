//! The coordinator's commands on a visit and its terms: each handler turns its request into
//! domain values and hands the command to the shared command path.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::study_visit::{CloseTrigger, StudyVisit, StudyVisitCommand, TermDates};
use domain::values::{Nip, NonEmptyText, PreferenceCode};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::requests::{
    AnnounceFor, AnnounceRequest, Announcement, DatesRequest, NewTerm, PreferenceListRequest,
    ReasonRequest, TermRequest,
};
use crate::http::auth::Auth;
use crate::http::command::{self, Created, PositionResponse};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// Announce a study visit.
#[utoipa::path(post, path = "/api/v1/study-visits", operation_id = "announce_study_visit", tag = "study visits", request_body = AnnounceRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::http::problem::Problem), (status = 401), (status = 403), (status = 422, body = crate::http::problem::Problem)))]
pub(super) async fn announce(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<AnnounceRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    // The organizer first: naming another one is 403 whatever else the body holds.
    let mut fields = Fields::default();
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut fields)?;
    let announcement = Announcement::try_from(AnnounceFor {
        request: body,
        organizer,
        fields,
    })?;
    let visit_id = Uuid::now_v7();
    command::create::<StudyVisit>(
        &state,
        &auth,
        &meta,
        visit_id,
        announcement.command(visit_id),
    )
    .await
}

/// Replace the list of NIPs of a preference (allowed until the first term closes).
#[utoipa::path(put, path = "/api/v1/study-visits/{id}/preferences/{code}/institutions", operation_id = "replace_preference_list", tag = "study visits",
    request_body = PreferenceListRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path), ("code" = String, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn replace_preference_list(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, code)): ApiPath<(Uuid, String)>,
    ApiJson(body): ApiJson<PreferenceListRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    // A code that cannot be one names no preference of any visit.
    let code = PreferenceCode::parse(&code)
        .map_err(|_| ApiError::NotFound("No such preference.".into()))?;
    let nips: Vec<Nip> = body.try_into()?;
    let cmd = StudyVisitCommand::ReplacePreferenceList { code, nips };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Answer of `POST .../terms`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermCreated {
    pub term_id: Uuid,
    pub position: i64,
}

/// Schedule a term, dated or only planned.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms", operation_id = "schedule_term", tag = "study visits", request_body = TermRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = TermCreated), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn schedule_term(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TermRequest>,
) -> Result<(StatusCode, Json<TermCreated>), ApiError> {
    let term: NewTerm = body.try_into()?;
    let term_id = Uuid::now_v7();
    let position =
        command::run::<StudyVisit>(&state, &auth, &meta, id, term.command(term_id)).await?;
    Ok((StatusCode::CREATED, Json(TermCreated { term_id, position })))
}

/// Fix the dates and deadline of a planned term.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/dates", operation_id = "fix_term_dates", tag = "study visits",
    request_body = DatesRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn fix_term_dates(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<DatesRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let dates: TermDates = body.try_into()?;
    let cmd = StudyVisitCommand::FixTermDates { term_id, dates };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Open the recruitment of a dated term.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/open", operation_id = "open_recruitment", tag = "study visits",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409)))]
pub(super) async fn open_recruitment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::OpenRecruitment { term_id };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Close the recruitment by hand and record the allocation.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/close", operation_id = "close_recruitment", tag = "study visits",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409)))]
pub(super) async fn close_recruitment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::CloseRecruitment {
        term_id,
        trigger: CloseTrigger::Manual,
    };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Cancel a term that has not closed.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/cancel", operation_id = "cancel_term", tag = "study visits",
    request_body = ReasonRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422)))]
pub(super) async fn cancel_term(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let reason: NonEmptyText = body.try_into()?;
    let cmd = StudyVisitCommand::CancelTerm { term_id, reason };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}
