//! Commands on applications: the public submission (through the infra use case that records
//! the applicant's data with the events), the applicant's own withdrawal (by key), and the
//! coordinator's withdrawal, release, seat given by hand and attendance (through the shared
//! command path).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use domain::study_visit::{StudyVisit, StudyVisitCommand, Withdrawer};
use domain::values::NonEmptyText;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::applicant::applicant_visit;
use super::requests::{AllocateRequest, Attendance, AttendanceRequest, ReleaseRequest};
use crate::http::auth::Auth;
use crate::http::command::{self, PositionResponse};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::limits::SubmissionQuota;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::submission::{self, Applicant, ApplicationRequest, NewIds};

/// Answer to a submitted application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationCreated {
    /// The new application's id.
    pub application_id: Uuid,
    /// Global position of the last event written.
    #[schema(minimum = 0)]
    pub position: i64,
    /// The applicant's secret with which they follow and withdraw the application (header
    /// `X-Applicant-Key`); shown once, never again (the service keeps only its hash).
    #[schema(pattern = "^[A-Za-z0-9_-]{32}$")]
    pub applicant_key: String,
}

/// Submit an application (public: no token).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/terms/{term_id}/applications", operation_id = "submit_application", tag = "applications",
    request_body = ApplicationRequest, params(("id" = Uuid, Path), ("term_id" = Uuid, Path)),
    responses((status = 201, body = ApplicationCreated, description = "Recorded: the application's id and the applicant's key (shown once)."),
        (status = 404, description = "No such visit or term."),
        (status = 409, description = "The term's recruitment is not open (`recruitment_not_open`), its deadline has passed (`deadline_passed`), or the same e-mail already holds a live application for this visit (`duplicate_application`); or a request with the same `Idempotency-Key` is still being carried out."),
        (status = 422, description = "Some fields are invalid (a NIP's check digit, an institution type the visit does not admit, consent not given, …); `errors` names each."),
        (status = 429, description = "Too many submissions from this client address in the last minute; retry after `Retry-After` seconds."),
        (status = 503, description = "The database is unavailable, or too many simultaneous applications from this address; retry after `Retry-After` seconds.")))]
pub(super) async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    // Before the body: a client over its allowance is refused without reading it.
    _quota: SubmissionQuota,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ApplicationRequest>,
) -> Result<(StatusCode, Json<ApplicationCreated>), ApiError> {
    let applicant: Applicant = body.try_into()?;
    let ids = NewIds::fresh(&state.forms);
    let application_id = ids.application_id;
    let submitted = submission::submit(&state, &meta, id, term_id, applicant, ids).await?;
    Ok((
        StatusCode::CREATED,
        Json(ApplicationCreated {
            application_id,
            position: submitted.position,
            applicant_key: submitted.applicant_key,
        }),
    ))
}

/// Withdraw one's own application (header `X-Applicant-Key`).
#[utoipa::path(post, path = "/api/v1/applications/{application_id}/withdraw", operation_id = "withdraw_own_application", tag = "applications",
    params(("application_id" = Uuid, Path),
        ("X-Applicant-Key" = String, Header, description = "The key given with the application when it was submitted (`applicant_key`).")),
    responses((status = 200, body = PositionResponse, description = "Withdrawn; a seat it held goes to the first eligible person waiting."),
        (status = 404, description = "No such application, or the key does not open it (a missing or wrong key answers like an unknown application)."),
        (status = 409, description = "Already withdrawn, or its seat released (`already_withdrawn`); or a request with the same `Idempotency-Key` is still being carried out."),
        (status = 400, description = "The `Idempotency-Key` is empty or longer than 200 characters."),
        (status = 422, description = "The `Idempotency-Key` was used before with another body.")))]
pub(super) async fn withdraw_own(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(application_id): ApiPath<Uuid>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::WithdrawApplication {
        application_id,
        by: Withdrawer::Applicant,
    };
    as_applicant(&state, &headers, &meta, application_id, cmd).await
}

/// Runs `cmd` for the applicant whose key (header `X-Applicant-Key`) opens `application_id`.
async fn as_applicant(
    state: &AppState,
    headers: &HeaderMap,
    meta: &RequestMeta,
    application_id: Uuid,
    cmd: StudyVisitCommand,
) -> Result<Json<PositionResponse>, ApiError> {
    let visit_id = applicant_visit(state, headers, application_id).await?;
    // The key proved the application theirs: no token, no organizer scope; the actor names
    // the application, never the person.
    let ctx = meta.context(format!("applicant:{application_id}"), None, cmd.name());
    let done = state
        .visits
        .execute(&visit_id.to_string(), cmd, &ctx)
        .await?;
    Ok(Json(PositionResponse {
        position: done.position,
    }))
}

/// Accept the seat offered to one's application before the offer expires (header
/// `X-Applicant-Key`).
#[utoipa::path(post, path = "/api/v1/applications/{application_id}/offer/accept", operation_id = "accept_offer", tag = "applications",
    params(("application_id" = Uuid, Path),
        ("X-Applicant-Key" = String, Header, description = "The key given with the application when it was submitted (`applicant_key`).")),
    responses((status = 200, body = PositionResponse, description = "Accepted: the seat is theirs."),
        (status = 404, description = "No such application, or the key does not open it."),
        (status = 409, description = "No offer stands (`no_offer`), or it expired (`offer_expired`); or a request with the same `Idempotency-Key` is still being carried out.")))]
pub(super) async fn accept_offer(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(application_id): ApiPath<Uuid>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::AcceptOffer { application_id };
    as_applicant(&state, &headers, &meta, application_id, cmd).await
}

/// Decline the seat offered to one's application: it goes to the next person waiting, and
/// the application waits where it was (header `X-Applicant-Key`).
#[utoipa::path(post, path = "/api/v1/applications/{application_id}/offer/decline", operation_id = "decline_offer", tag = "applications",
    params(("application_id" = Uuid, Path),
        ("X-Applicant-Key" = String, Header, description = "The key given with the application when it was submitted (`applicant_key`).")),
    responses((status = 200, body = PositionResponse, description = "Declined: the seat is offered to the next person waiting."),
        (status = 404, description = "No such application, or the key does not open it."),
        (status = 409, description = "No offer stands (`no_offer`); or a request with the same `Idempotency-Key` is still being carried out.")))]
pub(super) async fn decline_offer(
    State(state): State<AppState>,
    headers: HeaderMap,
    meta: RequestMeta,
    ApiPath(application_id): ApiPath<Uuid>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::DeclineOffer { application_id };
    as_applicant(&state, &headers, &meta, application_id, cmd).await
}

/// Withdraw an application (coordinator).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/withdraw", operation_id = "withdraw_application", tag = "applications",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "Withdrawn; a seat it held goes to the first eligible person waiting."),
        (status = 409, description = "Already withdrawn, or its seat released (`already_withdrawn`); or a request with the same `Idempotency-Key` is still being carried out."),
        (status = 400, description = "The `Idempotency-Key` is empty or longer than 200 characters."),
        (status = 422, description = "The `Idempotency-Key` was used before with another body.")))]
pub(super) async fn withdraw(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = StudyVisitCommand::WithdrawApplication {
        application_id,
        by: Withdrawer::Coordinator,
    };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Release an allocated seat; the first eligible person waiting is promoted.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/release-seat", operation_id = "release_seat", tag = "applications",
    request_body = ReleaseRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "Released; the first eligible person waiting (if any) was promoted to the seat."),
        (status = 409, description = "The application holds no seat (`no_seat`); or a request with the same `Idempotency-Key` is still being carried out.")))]
pub(super) async fn release_seat(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReleaseRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let reason: NonEmptyText = body.try_into()?;
    let cmd = StudyVisitCommand::ReleaseSeat {
        application_id,
        reason,
        by: auth.actor(),
    };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Give a seat by hand, after the close, to an application on the waiting list or passed
/// over (a coordinator's decision outside the policy's order). It may take the term above
/// its seat count; while it is above, a seat given back promotes nobody. The decision event
/// names the rule `manual`, the reason and who decided (the token's actor id).
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/allocate", operation_id = "allocate_seat_by_hand", tag = "applications",
    request_body = AllocateRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "The seat given; the decision is recorded with the rule `manual`, the reason and who decided."),
        (status = 409, description = "The application is not waiting in a closed term (`not_waiting`); or a request with the same `Idempotency-Key` is still being carried out.")))]
pub(super) async fn allocate_by_hand(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<AllocateRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    // The role first: an evaluator is refused whatever it sent.
    auth.command_scope()?;
    let reason: NonEmptyText = body.try_into()?;
    let cmd = StudyVisitCommand::AllocateSeatManually {
        application_id,
        reason,
        // The same actor id the pipeline stamps on the event's metadata.
        by: auth.actor(),
    };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}

/// Record whether an allocated participant was present: on one `day` of the term, or
/// (without `day`) on every day.
#[utoipa::path(post, path = "/api/v1/study-visits/{id}/applications/{application_id}/attendance", operation_id = "record_attendance", tag = "applications",
    request_body = AttendanceRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse, description = "Recorded."),
        (status = 422, description = "`day` is not a date, or not one of the term's days (`day_outside_term`)."),
        (status = 409, description = "The application holds no seat in a closed term (`no_seat`); or a request with the same `Idempotency-Key` is still being carried out.")))]
pub(super) async fn attendance(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, application_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<AttendanceRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let Attendance { day, attended } = body.try_into()?;
    let cmd = StudyVisitCommand::RecordAttendance {
        application_id,
        day,
        attended,
    };
    command::respond::<StudyVisit>(&state, &auth, &meta, id, cmd).await
}
