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
    AnnounceFor, AnnounceRequest, Announcement, ClauseRequest, DatesRequest, NewTerm, OfferHours,
    OfferHoursRequest, PreferenceListRequest, ReasonRequest, TermRequest,
};
use crate::http::auth::Auth;
use crate::http::command::{self, Created, PositionResponse};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// Announce a study visit with its allocation policy (coordinator for its own organizer,
/// or admin naming one).
#[utoipa::path(post, path = "/api/v1/study-visits", operation_id = "announce_study_visit", tag = "study visits", request_body = AnnounceRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Created, description = "Announced: the new visit's `id`, and the `position` to read it with `?min_position=`."),
        (status = 403, description = "An evaluator's token, or a coordinator naming another organizer."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being carried out (or was, and its answer was lost).")))]
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
    let created = command::create::<StudyVisit>(
        &state,
        &auth,
        &meta,
        visit_id,
        announcement.command(visit_id),
    )
    .await?;
    // The clause and the offers are events of their own, right after the announcement: a
    // visit announced before they existed has the same history with them set later.
    let (status, Json(mut created)) = created;
    let follow_up = [
        announcement
            .clause
            .map(|clause| StudyVisitCommand::SetInformationClause { clause }),
        announcement
            .offer_hours
            .map(|h| StudyVisitCommand::SetOfferHours {
                offer_hours: Some(h),
            }),
    ];
    for cmd in follow_up.into_iter().flatten() {
        created.position = command::run::<StudyVisit>(&state, &auth, &meta, visit_id, cmd).await?;
    }
    Ok((status, Json(created)))
}

/// Set the information clause (RODO art. 13) the visit's applicants are shown from now on.
/// Applications already recorded keep the version they accepted; a form opened before the
/// change is refused when sent (409 `information_clause_changed`) and shows the new text.
#[utoipa::path(put, path = "/api/v1/study-visits/{id}/information-clause", operation_id = "set_information_clause", tag = "study visits",
    request_body = ClauseRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "The clause set (the same clause again changes nothing)."),
        (status = 404, description = "No such visit (or another organizer's)."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being carried out."),
        (status = 422, description = "A field is invalid, or the version already names another text (`information_clause_version_taken`).")))]
pub(super) async fn set_information_clause(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ClauseRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let clause = body.try_into()?;
    let cmd = StudyVisitCommand::SetInformationClause { clause };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Set how long a freed seat is offered to the first person waiting (API.md "Seat offers"):
/// seats freed from now on follow it; an offer already standing keeps its deadline.
#[utoipa::path(put, path = "/api/v1/study-visits/{id}/offer-hours", operation_id = "set_offer_hours", tag = "study visits",
    request_body = OfferHoursRequest, security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "Set (the same hours again change nothing)."),
        (status = 404, description = "No such visit (or another organizer's)."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being carried out."),
        (status = 422, description = "`offer_hours` is not between 1 and 720.")))]
pub(super) async fn set_offer_hours(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<OfferHoursRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let OfferHours(offer_hours) = body.try_into()?;
    let cmd = StudyVisitCommand::SetOfferHours { offer_hours };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Replace the list of NIPs of a preference (allowed until the first term closes).
#[utoipa::path(put, path = "/api/v1/study-visits/{id}/preferences/{code}/institutions", operation_id = "replace_preference_list", tag = "study visits",
    request_body = PreferenceListRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path), ("code" = String, Path, description = "The preference's code, e.g. `cus_declared` (a code no visit could have is 404).", pattern = "^[a-z0-9_]{1,64}$")),
    responses((status = 200, body = PositionResponse, description = "The list replaced."),
        (status = 404, description = "No such visit (or another organizer's), or the visit has no preference with this code."),
        (status = 409, description = "A term of the visit has closed: the lists are frozen (`preferences_frozen`); or a request with the same `Idempotency-Key` is still being carried out.")))]
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
    /// The new term's id.
    pub term_id: Uuid,
    /// Global position of the last event written: pass it as `?min_position=` to read
    /// this write.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Schedule a term, dated or only planned.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms", operation_id = "schedule_term", tag = "study visits", request_body = TermRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = TermCreated, description = "Scheduled: the new term's `term_id`."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being carried out (or was, and its answer was lost).")))]
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
    responses((status = 200, body = PositionResponse, description = "The dates fixed; the term can open."),
        (status = 409, description = "Recruitment has opened (or the term closed or was cancelled): its dates can no longer change (`term_not_editable`); or a request with the same `Idempotency-Key` is still being carried out.")))]
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
    responses((status = 200, body = PositionResponse, description = "Recruitment open: the public may apply until the deadline."),
        (status = 409, description = "The term cannot open: its dates are not fixed (`dates_not_fixed`), it is open, closed or cancelled already, or its deadline has passed; or a request with the same `Idempotency-Key` is still being carried out."),
        (status = 400, description = "The `Idempotency-Key` is empty or longer than 200 characters."),
        (status = 422, description = "The `Idempotency-Key` was used before with another body.")))]
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
    responses((status = 200, body = PositionResponse, description = "Closed: the allocation is recorded (seats, waiting list, passed over)."),
        (status = 409, description = "The term's recruitment is not open (`recruitment_not_open`); or a request with the same `Idempotency-Key` is still being carried out."),
        (status = 400, description = "The `Idempotency-Key` is empty or longer than 200 characters."),
        (status = 422, description = "The `Idempotency-Key` was used before with another body.")))]
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
    responses((status = 200, body = PositionResponse, description = "Cancelled."),
        (status = 409, description = "The term's recruitment has closed, or the term is cancelled already; or a request with the same `Idempotency-Key` is still being carried out.")))]
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
