//! The programme's commands (coordinator and admin): creating it, partners, activities,
//! feedback, the testing period, consultations and comments, the evaluation and closing.
//!
//! Why so thin: what a request may hold is checked in `requests`, and the path every
//! command takes (roles, organizer scope, metadata, the command bus) is the shared
//! `crate::http::command`; a handler only mints the id of what it creates, runs the command
//! and answers where it wrote.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use domain::cooperation_program::{CooperationProgram, CooperationProgramCommand};
use domain::values::{NonEmptyText, PlannedDate};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::requests::{
    ActivityRequest, CloseRequest, CommentRequest, ConsultationRequest, CreateRequest,
    EvaluateRequest, FeedbackRequest, Held, HeldRequest, JoiningPartner, NewActivity, NewComment,
    NewConsultation, NewFeedback, PartnerRequest, PartnerRequestSchema, ReasonRequest,
    RescheduleRequest, TestingPeriodRequest,
};
use crate::http::auth::Auth;
use crate::http::command::{self, Created, PositionResponse};
use crate::http::extract::{ApiJson, ApiPath};
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::Fields;

/// Create a cooperation programme or project.
#[utoipa::path(post, path = "/api/v1/programs", operation_id = "create_program", tag = "programs", request_body = CreateRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Created, description = "Created: the programme's `id`, and the `position` of its first event."),
        (status = 403, description = "An evaluator's token, or a coordinator naming another organizer."),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (an admin token must name the `organizer`); `errors` lists each.")))]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    // The organizer's error (or a coordinator naming another, 403) and the body's errors
    // are one answer, so both are checked into the same fields.
    let mut f = Fields::default();
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut f)?;
    let program = body.check(&mut f);
    let (organizer, program) = f.finish_with(|| Some((organizer?, program?)))?;
    let program_id = Uuid::now_v7();
    let cmd = program.command(program_id, organizer);
    command::create::<CooperationProgram>(&state, &auth, &meta, program_id, cmd).await
}

/// Answer of a partner joining.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerCreated {
    pub partner_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// An institution joins as a partner by its application card (409 when late).
#[utoipa::path(post, path = "/api/v1/programs/{id}/partners", operation_id = "join_partner", tag = "programs", request_body = PartnerRequestSchema,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = PartnerCreated, description = "The institution is a partner: its `partner_id`, and the `position` of the event."),
        (status = 409, description = "The date that counts for the channel is after the programme's partner application deadline, the institution (by NIP) is a partner already, or the programme is closed; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: the channel's counting date missing, or `delivered_on` before `sent_on` or `postmarked_on`); `errors` lists each.")))]
pub async fn join_partner(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PartnerRequest>,
) -> Result<(StatusCode, Json<PartnerCreated>), ApiError> {
    let partner: JoiningPartner = body.try_into()?;
    let partner_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::JoinPartner {
        partner_id,
        institution: partner.institution,
        card: partner.card,
    };
    let position = command::run::<CooperationProgram>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(PartnerCreated {
            partner_id,
            position,
        }),
    ))
}

/// Answer of a planned activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityCreated {
    pub activity_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Plan an activity.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities", operation_id = "plan_activity", tag = "programs", request_body = ActivityRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = ActivityCreated, description = "Planned: the activity's `activity_id`, and the `position` of the event."),
        (status = 409, description = "The programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn plan_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ActivityRequest>,
) -> Result<(StatusCode, Json<ActivityCreated>), ApiError> {
    let activity: NewActivity = body.try_into()?;
    let activity_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::PlanActivity(activity.planned_as(activity_id));
    let position = command::run::<CooperationProgram>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(ActivityCreated {
            activity_id,
            position,
        }),
    ))
}

/// Record that an activity took place.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/held", operation_id = "record_activity_held", tag = "programs",
    request_body = HeldRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Recorded as held; the schedule shows its actual days."),
        (status = 404, description = "No such programme or activity, or not this token's organizer's."),
        (status = 409, description = "The activity was held or cancelled already, or the programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn activity_held(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<HeldRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let held: Held = body.try_into()?;
    let cmd = CooperationProgramCommand::RecordActivityHeld {
        activity_id,
        starts_on: held.starts_on,
        ends_on: held.ends_on,
        participants_total: held.participants_total,
        institutions: held.institutions,
        notes: held.notes,
    };
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, cmd).await
}

/// Cancel a planned activity.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/cancel", operation_id = "cancel_activity", tag = "programs",
    request_body = ReasonRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Cancelled; it still counts as planned in the evaluation."),
        (status = 404, description = "No such programme or activity, or not this token's organizer's."),
        (status = 409, description = "The activity was held or cancelled already, or the programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn cancel_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let reason: NonEmptyText = body.try_into()?;
    let cmd = CooperationProgramCommand::CancelActivity {
        activity_id,
        reason,
    };
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, cmd).await
}

/// Move a planned activity to another date.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/reschedule", operation_id = "reschedule_activity", tag = "programs",
    request_body = RescheduleRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Moved to the new date."),
        (status = 404, description = "No such programme or activity, or not this token's organizer's."),
        (status = 409, description = "The activity was held or cancelled already, or the programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn reschedule_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<RescheduleRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let planned: PlannedDate = body.try_into()?;
    let cmd = CooperationProgramCommand::RescheduleActivity {
        activity_id,
        planned,
    };
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, cmd).await
}

/// Answer of recorded feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackCreated {
    pub feedback_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Record an opinion, proposal or suggestion.
#[utoipa::path(post, path = "/api/v1/programs/{id}/feedback", operation_id = "record_feedback", tag = "programs", request_body = FeedbackRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = FeedbackCreated, description = "Recorded: the feedback's `feedback_id`, and the `position` of the event."),
        (status = 409, description = "The programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn record_feedback(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> Result<(StatusCode, Json<FeedbackCreated>), ApiError> {
    let feedback: NewFeedback = body.try_into()?;
    let feedback_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::RecordFeedback {
        feedback_id,
        channel: feedback.channel,
        received_on: feedback.received_on,
        text: feedback.text,
        rating: feedback.rating,
        institution: feedback.institution,
    };
    let position = command::run::<CooperationProgram>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedbackCreated {
            feedback_id,
            position,
        }),
    ))
}

/// Set (or move) the end of the testing period.
#[utoipa::path(post, path = "/api/v1/programs/{id}/testing-period", operation_id = "set_testing_period", tag = "programs", request_body = TestingPeriodRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Set: the evaluation may be recorded from the day after `ends_on`."),
        (status = 409, description = "The programme was evaluated already (its testing period can no longer change), or it is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn set_testing_period(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TestingPeriodRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, body.try_into()?).await
}

/// Answer of an opened consultation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationCreated {
    pub consultation_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Open a consultation with its window.
#[utoipa::path(post, path = "/api/v1/programs/{id}/consultations", operation_id = "open_consultation", tag = "programs", request_body = ConsultationRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = ConsultationCreated, description = "Opened: the consultation's `consultation_id`, and the `position` of the event."),
        (status = 409, description = "The programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn open_consultation(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ConsultationRequest>,
) -> Result<(StatusCode, Json<ConsultationCreated>), ApiError> {
    let consultation: NewConsultation = body.try_into()?;
    let consultation_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::OpenConsultation {
        consultation_id,
        subject: consultation.subject,
        opens_on: consultation.opens_on,
        closes_on: consultation.closes_on,
    };
    let position = command::run::<CooperationProgram>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConsultationCreated {
            consultation_id,
            position,
        }),
    ))
}

/// Answer of a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentCreated {
    pub comment_id: Uuid,
    /// Global position of the event written.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Submit an institution's comment (409 outside the consultation's window).
#[utoipa::path(post, path = "/api/v1/programs/{id}/consultations/{consultation_id}/comments", operation_id = "submit_comment", tag = "programs",
    request_body = CommentRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("consultation_id" = Uuid, Path)),
    responses(
        (status = 201, body = CommentCreated, description = "Submitted: the comment's `comment_id`, and the `position` of the event."),
        (status = 404, description = "No such programme or consultation, or not this token's organizer's."),
        (status = 409, description = "`submitted_on` is outside the consultation's window, or the programme is closed; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn submit_comment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, consultation_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<CommentRequest>,
) -> Result<(StatusCode, Json<CommentCreated>), ApiError> {
    let comment: NewComment = body.try_into()?;
    let comment_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::SubmitConsultationComment {
        comment_id,
        consultation_id,
        institution: comment.institution,
        text: comment.text,
        submitted_on: comment.submitted_on,
    };
    let position = command::run::<CooperationProgram>(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentCreated {
            comment_id,
            position,
        }),
    ))
}

/// Record the evaluation (409 before the testing period ends).
#[utoipa::path(post, path = "/api/v1/programs/{id}/evaluation", operation_id = "evaluate_program", tag = "programs", request_body = EvaluateRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Recorded; `GET .../evaluation` shows the verdict with the figures."),
        (status = 409, description = "No testing period was set, it has not ended yet, the programme was evaluated already, or it is closed; or a request with the same `Idempotency-Key` is still being processed."),
        (status = 422, description = "Some fields are invalid (among them: a `manual_values` code that is not an indicator measured by hand); `errors` lists each.")))]
pub async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EvaluateRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, body.try_into()?).await
}

/// Close the programme (nothing can be recorded afterwards). The body may be empty.
// The body is declared optional by `super::body_optional` where the route is added.
#[utoipa::path(post, path = "/api/v1/programs/{id}/close", operation_id = "close_program", tag = "programs",
    request_body(content = CloseRequest, description = "Optional: an empty body, or only whitespace, closes without a reason."),
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = PositionResponse, description = "Closed: nothing more can be recorded about the programme."),
        (status = 409, description = "The programme is closed already; or a request with the same `Idempotency-Key` is still being processed.")))]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<PositionResponse>, ApiError> {
    let cmd = CloseRequest::from_body(&body)?.try_into()?;
    command::respond::<CooperationProgram>(&state, &auth, &meta, id, cmd).await
}
