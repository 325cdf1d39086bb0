//! Cooperation programmes: creating them, partners, activities (planned one by one or
//! imported from a CSV schedule, held, cancelled, rescheduled), feedback, the testing period,
//! consultations and comments, the evaluation and closing (coordinator); the programmes list,
//! detail and evaluation (reads).

pub mod exports;

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::cooperation_program::evaluation;
use domain::cooperation_program::{
    ActivityKind, ApplicationCard, Channel, CooperationProgram, CooperationProgramCommand,
    Evaluation, EvaluationFacts, FeedbackChannel, Indicator, Measure, Period, PlannedActivity,
    ProgramKind, Verdict,
};
use domain::values::{NonEmptyText, PlannedDate, PreferenceCode, ValueError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::command::PositionResponse;
use crate::http::consistency::{self, wait_for, Consistency};
use crate::http::extract::{parse_json, ApiJson, ApiPath, ApiQuery};
use crate::http::history::{not_yet, visible_history};
use crate::http::institution::InstitutionRequest;
use crate::http::problem::{ApiError, FieldError};
use crate::http::request::RequestMeta;
use crate::http::state::AppState;
use crate::http::validate::{self, Fields};

/// The projections the programme reads wait for.
pub const PROGRAM_PROJECTIONS: &[&str] = &["programs"];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(detail))
        .routes(routes!(join_partner))
        .routes(routes!(plan_activity))
        .routes(routes!(activity_held))
        .routes(routes!(cancel_activity))
        .routes(routes!(reschedule_activity))
        .routes(routes!(record_feedback))
        .routes(routes!(set_testing_period))
        .routes(routes!(open_consultation))
        .routes(routes!(submit_comment))
        .routes(routes!(evaluate, evaluation))
        .routes(routes!(close))
        .routes(routes!(import_schedule))
        .merge(exports::router())
}

/// Runs a programme command for an authenticated coordinator or admin.
pub async fn command(
    state: &AppState,
    auth: &Auth,
    meta: &RequestMeta,
    program_id: Uuid,
    cmd: CooperationProgramCommand,
) -> Result<i64, ApiError> {
    crate::http::command::run::<CooperationProgram>(state, auth, meta, program_id, cmd).await
}

fn opt_date(f: &mut Fields, field: &str, v: &Option<String>) -> Option<NaiveDate> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .and_then(|s| f.date(field, s))
}

/// A PlannedDate in its JSON form, or as Polish text (`"Koniec września 2020"`).
fn planned_field(f: &mut Fields, field: &str, v: &Value) -> Option<PlannedDate> {
    let parsed = match v {
        Value::String(s) => PlannedDate::parse_polish(s),
        other => serde_json::from_value::<PlannedDate>(other.clone())
            .map_err(|e| ValueError::new(e.to_string())),
    };
    f.check(field, parsed)
}

// ---------------------------------------------------------------------------------------
// Creating a programme
// ---------------------------------------------------------------------------------------

/// The period a programme covers.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PeriodRequest {
    /// `YYYY-MM-DD`.
    pub start: String,
    /// `YYYY-MM-DD`.
    pub end: String,
}

/// An indicator with its target.
#[derive(Debug, Deserialize, ToSchema)]
pub struct IndicatorRequest {
    pub code: String,
    pub label: String,
    pub target: i64,
    /// participants_total, activities_held, activities_held:<kind>, distinct_institutions,
    /// partners, feedback_received or manual.
    pub measure: String,
}

/// Body of `POST /api/v1/programs`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateRequest {
    pub title: String,
    /// `cooperation_programme` or `project`.
    pub kind: String,
    pub period: PeriodRequest,
    #[serde(default)]
    pub goals: Vec<String>,
    #[serde(default)]
    pub indicators: Vec<IndicatorRequest>,
    /// Last day a partner's application card may count (`YYYY-MM-DD`); null = no deadline.
    #[serde(default)]
    pub partner_application_deadline: Option<String>,
    /// Organizer (slug); required for admin tokens, implied by a coordinator's token.
    #[serde(default)]
    pub organizer: Option<String>,
}

/// Answer of `POST /api/v1/programs`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
    pub position: i64,
}

/// Create a cooperation programme or project.
#[utoipa::path(post, path = "/api/v1/programs", tag = "programs", request_body = CreateRequest,
    security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, body = crate::http::problem::Problem), (status = 401), (status = 403), (status = 422, body = crate::http::problem::Problem)))]
async fn create(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiJson(body): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let mut f = Fields::default();
    let organizer = auth.organizer_for_new(body.organizer.as_deref(), &mut f)?;
    let title = f.check("title", NonEmptyText::parse(&body.title));
    let kind = f.check("kind", ProgramKind::parse(&body.kind));
    let start = f.date("period.start", &body.period.start);
    let end = f.date("period.end", &body.period.end);
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            f.fail("period.end", "must not be before period.start");
        }
    }
    let goals: Vec<NonEmptyText> = body
        .goals
        .iter()
        .enumerate()
        .filter_map(|(i, g)| f.check(&format!("goals[{i}]"), NonEmptyText::parse_max(g, 2000)))
        .collect();
    let mut indicators = Vec::new();
    let mut codes = Vec::new();
    for (i, r) in body.indicators.iter().enumerate() {
        let code = f.check(
            &format!("indicators[{i}].code"),
            PreferenceCode::parse(&r.code),
        );
        if let Some(c) = &code {
            if codes.contains(c) {
                f.fail(
                    &format!("indicators[{i}].code"),
                    "is used by another indicator",
                );
            }
            codes.push(c.clone());
        }
        let label = f.check(
            &format!("indicators[{i}].label"),
            NonEmptyText::parse(&r.label),
        );
        let target = match u64::try_from(r.target) {
            Ok(t) => Some(t),
            Err(_) => {
                f.fail(&format!("indicators[{i}].target"), "must be 0 or more");
                None
            }
        };
        let measure = f.check(
            &format!("indicators[{i}].measure"),
            Measure::parse(&r.measure),
        );
        if let (Some(code), Some(label), Some(target), Some(measure)) =
            (code, label, target, measure)
        {
            indicators.push(Indicator {
                code,
                label,
                target,
                measure,
            });
        }
    }
    let deadline = opt_date(
        &mut f,
        "partner_application_deadline",
        &body.partner_application_deadline,
    );
    f.finish()?;
    let (Some(organizer), Some(title), Some(kind), Some(start), Some(end)) =
        (organizer, title, kind, start, end)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let program_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::CreateProgram {
        program_id,
        organizer,
        title,
        kind,
        period: Period { start, end },
        goals,
        indicators,
        partner_application_deadline: deadline,
    };
    // The new programme has no owner yet: the organizer in the command is the one checked above.
    let ctx = meta.context(auth.actor(), None, cmd.name());
    let done = state
        .programs
        .execute(&program_id.to_string(), cmd, &ctx)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: program_id,
            position: done.position,
        }),
    ))
}

// ---------------------------------------------------------------------------------------
// Partners
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/partners`: the date that counts depends on the
/// channel (email → `sent_on`, post → `postmarked_on`, in_person → `delivered_on`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PartnerRequest {
    pub institution: InstitutionRequest,
    /// email, post or in_person.
    pub channel: String,
    #[serde(default)]
    pub sent_on: Option<String>,
    #[serde(default)]
    pub postmarked_on: Option<String>,
    #[serde(default)]
    pub delivered_on: Option<String>,
}

/// Answer of a partner joining.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerCreated {
    pub partner_id: Uuid,
    pub position: i64,
}

/// An institution joins as a partner by its application card (409 when late).
#[utoipa::path(post, path = "/api/v1/programs/{id}/partners", tag = "programs", request_body = PartnerRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = PartnerCreated), (status = 404), (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn join_partner(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PartnerRequest>,
) -> Result<(StatusCode, Json<PartnerCreated>), ApiError> {
    let mut f = Fields::default();
    let inst = body.institution.check(&mut f, "institution");
    let channel = f.check("channel", Channel::parse(&body.channel));
    let sent_on = opt_date(&mut f, "sent_on", &body.sent_on);
    let postmarked_on = opt_date(&mut f, "postmarked_on", &body.postmarked_on);
    let delivered_on = opt_date(&mut f, "delivered_on", &body.delivered_on);
    if let Some(c) = channel {
        let given = match c {
            Channel::Email => &body.sent_on,
            Channel::Post => &body.postmarked_on,
            Channel::InPerson => &body.delivered_on,
        };
        if given.as_deref().is_none_or(|s| s.trim().is_empty()) {
            f.fail(
                c.counting_field(),
                format!(
                    "is required for channel {}: it is the date that counts",
                    c.as_str()
                ),
            );
        }
    }
    f.finish()?;
    let (Some(inst), Some(channel)) = (inst, channel) else {
        return Err(ApiError::validated_field_missing());
    };
    let partner_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::JoinPartner {
        partner_id,
        institution: inst,
        card: ApplicationCard {
            channel,
            sent_on,
            postmarked_on,
            delivered_on,
        },
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(PartnerCreated {
            partner_id,
            position,
        }),
    ))
}

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/activities`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ActivityRequest {
    /// consultation, forum, study_visit, training, conference, meeting, committee_sitting,
    /// monitoring_meeting, publication, gala or other.
    pub kind: String,
    pub title: String,
    /// A PlannedDate (`{"day": "2020-02-07"}`, `{"month": "2020-09", "part": "late"}`, …) or
    /// Polish text such as `"Koniec września 2020"`.
    #[schema(value_type = Object)]
    pub planned: Value,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub co_organizer: Option<String>,
}

/// Answer of a planned activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityCreated {
    pub activity_id: Uuid,
    pub position: i64,
}

/// Plan an activity.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities", tag = "programs", request_body = ActivityRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = ActivityCreated), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn plan_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ActivityRequest>,
) -> Result<(StatusCode, Json<ActivityCreated>), ApiError> {
    let mut f = Fields::default();
    let kind = f.check("kind", ActivityKind::parse(&body.kind));
    let title = f.check("title", NonEmptyText::parse(&body.title));
    let planned = planned_field(&mut f, "planned", &body.planned);
    let location = f.optional_text("location", &body.location, 500);
    let co_organizer = f.optional_text("co_organizer", &body.co_organizer, 500);
    f.finish()?;
    let (Some(kind), Some(title), Some(planned)) = (kind, title, planned) else {
        return Err(ApiError::validated_field_missing());
    };
    let activity_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::PlanActivity(PlannedActivity {
        activity_id,
        kind,
        title,
        planned,
        location,
        co_organizer,
    });
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(ActivityCreated {
            activity_id,
            position,
        }),
    ))
}

/// Body of `POST .../activities/{activity_id}/held`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct HeldRequest {
    pub starts_on: String,
    pub ends_on: String,
    pub participants_total: i64,
    #[serde(default)]
    pub institutions: Vec<InstitutionRequest>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Record that an activity took place.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/held", tag = "programs",
    request_body = HeldRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn activity_held(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<HeldRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let starts_on = f.date("starts_on", &body.starts_on);
    let ends_on = f.date("ends_on", &body.ends_on);
    if let (Some(s), Some(e)) = (starts_on, ends_on) {
        if e < s {
            f.fail("ends_on", "must not be before starts_on");
        }
    }
    let participants = match u32::try_from(body.participants_total) {
        Ok(n) if n <= 1_000_000 => Some(n),
        _ => {
            f.fail("participants_total", "must be between 0 and 1000000");
            None
        }
    };
    let institutions: Vec<_> = body
        .institutions
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.check(&mut f, &format!("institutions[{i}]")))
        .collect();
    let notes = f
        .optional_text("notes", &body.notes, 5000)
        .unwrap_or_default();
    f.finish()?;
    let (Some(starts_on), Some(ends_on), Some(participants_total)) =
        (starts_on, ends_on, participants)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let cmd = CooperationProgramCommand::RecordActivityHeld {
        activity_id,
        starts_on,
        ends_on,
        participants_total,
        institutions,
        notes,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// Body of a cancellation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReasonRequest {
    pub reason: String,
}

/// Cancel a planned activity.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/cancel", tag = "programs",
    request_body = ReasonRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn cancel_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<ReasonRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let reason = f.check("reason", NonEmptyText::parse(&body.reason));
    f.finish()?;
    let reason = reason.ok_or_else(ApiError::validated_field_missing)?;
    let cmd = CooperationProgramCommand::CancelActivity {
        activity_id,
        reason,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// Body of a rescheduling.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RescheduleRequest {
    /// The new PlannedDate (JSON form or Polish text).
    #[schema(value_type = Object)]
    pub planned: Value,
}

/// Move a planned activity to another date.
#[utoipa::path(post, path = "/api/v1/programs/{id}/activities/{activity_id}/reschedule", tag = "programs",
    request_body = RescheduleRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("activity_id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn reschedule_activity(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, activity_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<RescheduleRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let planned = planned_field(&mut f, "planned", &body.planned);
    f.finish()?;
    let planned = planned.ok_or_else(ApiError::validated_field_missing)?;
    let cmd = CooperationProgramCommand::RescheduleActivity {
        activity_id,
        planned,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

// ---------------------------------------------------------------------------------------
// Feedback, testing period, consultations
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/feedback`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedbackRequest {
    /// email, post, in_person, phone, online_form, survey, meeting or other.
    pub channel: String,
    pub received_on: String,
    pub text: String,
    /// 1..5, or null.
    #[serde(default)]
    pub rating: Option<i64>,
    #[serde(default)]
    pub institution: Option<InstitutionRequest>,
}

/// Answer of recorded feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackCreated {
    pub feedback_id: Uuid,
    pub position: i64,
}

/// Record an opinion, proposal or suggestion.
#[utoipa::path(post, path = "/api/v1/programs/{id}/feedback", tag = "programs", request_body = FeedbackRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = FeedbackCreated), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn record_feedback(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<FeedbackRequest>,
) -> Result<(StatusCode, Json<FeedbackCreated>), ApiError> {
    let mut f = Fields::default();
    let channel = f.check("channel", FeedbackChannel::parse(&body.channel));
    let received_on = f.date("received_on", &body.received_on);
    let text = f.check("text", NonEmptyText::parse_max(&body.text, 10_000));
    let rating = match body.rating {
        None => None,
        Some(r) if (1..=5).contains(&r) => u8::try_from(r).ok(),
        Some(_) => {
            f.fail("rating", "must be between 1 and 5, or null");
            None
        }
    };
    let inst = match &body.institution {
        None => Some(None),
        Some(r) => r.check(&mut f, "institution").map(Some),
    };
    f.finish()?;
    let (Some(channel), Some(received_on), Some(text), Some(institution)) =
        (channel, received_on, text, inst)
    else {
        return Err(ApiError::validated_field_missing());
    };
    let feedback_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::RecordFeedback {
        feedback_id,
        channel,
        received_on,
        text,
        rating,
        institution,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(FeedbackCreated {
            feedback_id,
            position,
        }),
    ))
}

/// Body of `POST /api/v1/programs/{id}/testing-period`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TestingPeriodRequest {
    /// Last day of testing (`YYYY-MM-DD`); the evaluation may be recorded from the next day.
    pub ends_on: String,
}

/// Set (or move) the end of the testing period.
#[utoipa::path(post, path = "/api/v1/programs/{id}/testing-period", tag = "programs", request_body = TestingPeriodRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn set_testing_period(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TestingPeriodRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let ends_on = f.date("ends_on", &body.ends_on);
    f.finish()?;
    let ends_on = ends_on.ok_or_else(ApiError::validated_field_missing)?;
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        CooperationProgramCommand::SetTestingPeriod { ends_on },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

/// Body of `POST /api/v1/programs/{id}/consultations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConsultationRequest {
    pub subject: String,
    pub opens_on: String,
    pub closes_on: String,
}

/// Answer of an opened consultation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationCreated {
    pub consultation_id: Uuid,
    pub position: i64,
}

/// Open a consultation with its window.
#[utoipa::path(post, path = "/api/v1/programs/{id}/consultations", tag = "programs", request_body = ConsultationRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 201, body = ConsultationCreated), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn open_consultation(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ConsultationRequest>,
) -> Result<(StatusCode, Json<ConsultationCreated>), ApiError> {
    let mut f = Fields::default();
    let subject = f.check("subject", NonEmptyText::parse(&body.subject));
    let opens_on = f.date("opens_on", &body.opens_on);
    let closes_on = f.date("closes_on", &body.closes_on);
    if let (Some(o), Some(c)) = (opens_on, closes_on) {
        if c < o {
            f.fail("closes_on", "must not be before opens_on");
        }
    }
    f.finish()?;
    let (Some(subject), Some(opens_on), Some(closes_on)) = (subject, opens_on, closes_on) else {
        return Err(ApiError::validated_field_missing());
    };
    let consultation_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::OpenConsultation {
        consultation_id,
        subject,
        opens_on,
        closes_on,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConsultationCreated {
            consultation_id,
            position,
        }),
    ))
}

/// Body of a consultation comment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    pub institution: InstitutionRequest,
    pub text: String,
    pub submitted_on: String,
}

/// Answer of a comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentCreated {
    pub comment_id: Uuid,
    pub position: i64,
}

/// Submit an institution's comment (409 outside the consultation's window).
#[utoipa::path(post, path = "/api/v1/programs/{id}/consultations/{consultation_id}/comments", tag = "programs",
    request_body = CommentRequest, security(("bearer" = [])), params(("id" = Uuid, Path), ("consultation_id" = Uuid, Path)),
    responses((status = 201, body = CommentCreated), (status = 404), (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn submit_comment(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath((id, consultation_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<CommentRequest>,
) -> Result<(StatusCode, Json<CommentCreated>), ApiError> {
    let mut f = Fields::default();
    let inst = body.institution.check(&mut f, "institution");
    let text = f.check("text", NonEmptyText::parse_max(&body.text, 10_000));
    let submitted_on = f.date("submitted_on", &body.submitted_on);
    f.finish()?;
    let (Some(institution), Some(text), Some(submitted_on)) = (inst, text, submitted_on) else {
        return Err(ApiError::validated_field_missing());
    };
    let comment_id = Uuid::now_v7();
    let cmd = CooperationProgramCommand::SubmitConsultationComment {
        comment_id,
        consultation_id,
        institution,
        text,
        submitted_on,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok((
        StatusCode::CREATED,
        Json(CommentCreated {
            comment_id,
            position,
        }),
    ))
}

// ---------------------------------------------------------------------------------------
// Evaluation and closing
// ---------------------------------------------------------------------------------------

/// Body of `POST /api/v1/programs/{id}/evaluation`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluateRequest {
    /// achieved, partially_achieved or not_achieved.
    pub verdict: String,
    #[serde(default)]
    pub summary: String,
    /// Values of the indicators measured by hand, by code.
    #[serde(default)]
    pub manual_values: BTreeMap<String, i64>,
    #[serde(default)]
    pub recommendations: Vec<String>,
}

/// Record the evaluation (409 before the testing period ends).
#[utoipa::path(post, path = "/api/v1/programs/{id}/evaluation", tag = "programs", request_body = EvaluateRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409, body = crate::http::problem::Problem), (status = 422, body = crate::http::problem::Problem)))]
async fn evaluate(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<EvaluateRequest>,
) -> Result<Json<PositionResponse>, ApiError> {
    let mut f = Fields::default();
    let verdict = f.check("verdict", Verdict::parse(&body.verdict));
    if body.summary.chars().count() > 20_000 {
        f.fail("summary", "must be at most 20000 characters");
    }
    let mut manual_values = BTreeMap::new();
    for (code, value) in &body.manual_values {
        let field = format!("manual_values.{code}");
        let code = f.check(&field, PreferenceCode::parse(code));
        let value = match u64::try_from(*value) {
            Ok(v) => Some(v),
            Err(_) => {
                f.fail(&field, "must be 0 or more");
                None
            }
        };
        if let (Some(c), Some(v)) = (code, value) {
            manual_values.insert(c, v);
        }
    }
    let recommendations: Vec<NonEmptyText> = body
        .recommendations
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            f.check(
                &format!("recommendations[{i}]"),
                NonEmptyText::parse_max(r, 5000),
            )
        })
        .collect();
    f.finish()?;
    let verdict = verdict.ok_or_else(ApiError::validated_field_missing)?;
    let cmd = CooperationProgramCommand::Evaluate {
        verdict,
        summary: body.summary.trim().to_owned(),
        manual_values,
        recommendations,
    };
    let position = command(&state, &auth, &meta, id, cmd).await?;
    Ok(Json(PositionResponse { position }))
}

/// Optional body of `POST /api/v1/programs/{id}/close`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CloseRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Close the programme (nothing can be recorded afterwards). The body may be empty.
#[utoipa::path(post, path = "/api/v1/programs/{id}/close", tag = "programs", request_body = CloseRequest,
    security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = PositionResponse), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn close(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> Result<Json<PositionResponse>, ApiError> {
    let body: CloseRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CloseRequest::default()
    } else {
        parse_json(&body)?
    };
    let mut f = Fields::default();
    let reason = body
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .and_then(|r| f.check("reason", NonEmptyText::parse(r)));
    f.finish()?;
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        CooperationProgramCommand::Close { reason },
    )
    .await?;
    Ok(Json(PositionResponse { position }))
}

// ---------------------------------------------------------------------------------------
// Schedule import
// ---------------------------------------------------------------------------------------

/// Query of the schedule import.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportParams {
    /// The year for dates written without one (`Koniec września` in a schedule "na 2020 rok").
    pub year: Option<i32>,
}

/// One refused row of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportError {
    /// Line of the CSV file (the header is line 1).
    pub line: u64,
    pub message: String,
}

/// Answer of an import.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Activities planned.
    pub imported: usize,
    /// Always empty on success: a bad row refuses the whole import (422).
    pub errors: Vec<ImportError>,
    pub position: i64,
}

const COLUMNS: [&str; 5] = ["date", "title", "kind", "location", "co_organizer"];

/// Reads the CSV schedule into activities, or every bad row with its line.
fn parse_schedule(text: &str, year: Option<i32>) -> Result<Vec<PlannedActivity>, Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(vec![ImportError {
                line: 1,
                message: format!("the header cannot be read: {e}"),
            }])
        }
    };
    let mut errors = Vec::new();
    let mut column = BTreeMap::new();
    for (i, h) in headers.iter().enumerate() {
        let name = h.trim().to_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            errors.push(ImportError {
                line: 1,
                message: format!(
                    "unknown column '{h}'; the header is date,title,kind,location,co_organizer"
                ),
            });
        } else if column.insert(name.clone(), i).is_some() {
            errors.push(ImportError {
                line: 1,
                message: format!("the column '{name}' appears twice"),
            });
        }
    }
    for required in ["date", "title"] {
        if !column.contains_key(required) {
            errors.push(ImportError {
                line: 1,
                message: format!(
                    "the header has no '{required}' column; it is date,title,kind,location,co_organizer"
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut activities = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(n as u64 + 2, |p| p.line());
                errors.push(ImportError {
                    line,
                    message: format!("the row cannot be read: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(n as u64 + 2, |p| p.line());
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        if record.len() > headers.len() {
            errors.push(ImportError {
                line,
                message: format!(
                    "the row has {} fields but the header only {}",
                    record.len(),
                    headers.len()
                ),
            });
            continue;
        }
        let get = |name: &str| {
            column
                .get(name)
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .unwrap_or("")
        };
        let mut row_errors = Vec::new();
        let date = get("date");
        let planned = match year {
            Some(y) => PlannedDate::parse_polish_in_year(date, y),
            None => PlannedDate::parse_polish(date),
        }
        .map_err(|e| row_errors.push(format!("date: {e}")))
        .ok();
        let title = NonEmptyText::parse(get("title"))
            .map_err(|e| row_errors.push(format!("title: {e}")))
            .ok();
        let kind = match get("kind") {
            "" => Some(ActivityKind::Other),
            k => ActivityKind::parse(k)
                .map_err(|e| row_errors.push(format!("kind: {e}")))
                .ok(),
        };
        let optional = |v: &str| (!v.is_empty()).then(|| v.to_owned());
        let location = optional(get("location"));
        let co_organizer = optional(get("co_organizer"));
        for (name, v) in [("location", &location), ("co_organizer", &co_organizer)] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 500) {
                row_errors.push(format!("{name}: must be at most 500 characters"));
            }
        }
        match (planned, title, kind) {
            (Some(planned), Some(title), Some(kind)) if row_errors.is_empty() => {
                activities.push(PlannedActivity {
                    activity_id: Uuid::now_v7(),
                    kind,
                    title,
                    planned,
                    location,
                    co_organizer,
                });
            }
            _ => errors.push(ImportError {
                line,
                message: row_errors.join("; "),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if activities.is_empty() {
        return Err(vec![ImportError {
            line: 1,
            message: "the schedule has no rows below its header".to_owned(),
        }]);
    }
    Ok(activities)
}

/// Import a schedule (harmonogram) as CSV with the header `date,title,kind,location,co_organizer`,
/// dates written as people write them (`7.02.2020`, `7-8.05.2020`, `Luty 2020`,
/// `Koniec września 2020`); an empty kind is `other`. All or nothing: any bad row answers 422
/// listing every bad row as `line N`, and nothing is planned.
#[utoipa::path(post, path = "/api/v1/programs/{id}/schedule/import", tag = "programs",
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    params(("id" = Uuid, Path), ImportParams),
    responses((status = 200, body = ImportResult), (status = 400, body = crate::http::problem::Problem), (status = 404), (status = 409), (status = 422, body = crate::http::problem::Problem)))]
async fn import_schedule(
    State(state): State<AppState>,
    auth: Auth,
    meta: RequestMeta,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportResult>, ApiError> {
    auth.command_scope()?;
    if let Some(y) = params.year {
        if !(1000..=9999).contains(&y) {
            return Err(ApiError::bad_param("year", "must be a year of four digits"));
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") {
        return Err(ApiError::BadRequest {
            detail: "Send the schedule as text/csv with the header date,title,kind,location,co_organizer."
                .into(),
            errors: vec![],
        });
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest {
        detail: "The schedule must be UTF-8 text.".into(),
        errors: vec![],
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let activities = parse_schedule(text, params.year).map_err(|errors| {
        ApiError::invalid(
            errors
                .into_iter()
                .map(|e| FieldError::new(format!("line {}", e.line), e.message))
                .collect(),
        )
    })?;
    let imported = activities.len();
    let position = command(
        &state,
        &auth,
        &meta,
        id,
        CooperationProgramCommand::ImportSchedule { activities },
    )
    .await?;
    Ok(Json(ImportResult {
        imported,
        errors: vec![],
        position,
    }))
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

#[derive(Debug, sqlx::FromRow)]
struct ProgramRow {
    program_id: Uuid,
    organizer: String,
    title: String,
    kind: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    goals: Value,
    indicators: Value,
    partner_application_deadline: Option<NaiveDate>,
    testing_ends_on: Option<NaiveDate>,
    evaluation: Option<Value>,
    closed_on: Option<NaiveDate>,
    close_reason: Option<String>,
    created_at: DateTime<Utc>,
}

const PROGRAM_COLUMNS: &str =
    "program_id, organizer, title, kind, period_start, period_end, goals, indicators,
    partner_application_deadline, testing_ends_on, evaluation, closed_on, close_reason, created_at";

/// A programme's period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A programme as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: Uuid,
    pub organizer: String,
    pub title: String,
    /// cooperation_programme | project
    pub kind: String,
    pub period: PeriodView,
    #[schema(value_type = Vec<String>)]
    pub goals: Value,
    /// `[{code, label, target, measure}]`
    #[schema(value_type = Vec<Object>)]
    pub indicators: Value,
    pub partner_application_deadline: Option<NaiveDate>,
    /// Last day of the testing period, once set.
    pub testing_ends_on: Option<NaiveDate>,
    /// `{verdict, summary, manual_values, recommendations, evaluated_on}` once evaluated.
    #[schema(value_type = Option<Object>)]
    pub evaluation: Option<Value>,
    /// active | closed
    pub status: String,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<ProgramRow> for ProgramView {
    fn from(r: ProgramRow) -> Self {
        Self {
            id: r.program_id,
            organizer: r.organizer,
            title: r.title,
            kind: r.kind,
            period: PeriodView {
                start: r.period_start,
                end: r.period_end,
            },
            goals: r.goals,
            indicators: r.indicators,
            partner_application_deadline: r.partner_application_deadline,
            testing_ends_on: r.testing_ends_on,
            evaluation: r.evaluation,
            status: if r.closed_on.is_some() {
                "closed"
            } else {
                "active"
            }
            .to_owned(),
            closed_on: r.closed_on,
            close_reason: r.close_reason,
            created_at: r.created_at,
        }
    }
}

/// Programmes list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramList {
    pub programs: Vec<ProgramView>,
    pub position: i64,
}

/// Filters of the programmes list.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Only this organizer's programmes.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

/// List the programmes the caller may read.
#[utoipa::path(get, path = "/api/v1/programs", tag = "programs", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = ProgramList), (status = 401), (status = 503)))]
async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ProgramList>, ApiError> {
    wait_for(&state, PROGRAM_PROJECTIONS, params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(ProgramList {
                programs: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let rows: Vec<ProgramRow> = sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM rm_programs WHERE ($1::text IS NULL OR organizer = $1) ORDER BY created_at DESC"
    ))
    .bind(organizer)
    .fetch_all(&state.pool)
    .await?;
    let position = consistency::position(&state, "programs").await?;
    Ok(Json(ProgramList {
        programs: rows.into_iter().map(ProgramView::from).collect(),
        position,
    }))
}

async fn load_program(state: &AppState, auth: &Auth, id: Uuid) -> Result<ProgramRow, ApiError> {
    let row: Option<ProgramRow> = sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM rm_programs WHERE program_id = $1"
    ))
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    match row {
        Some(r) if auth.can_read(&r.organizer) => Ok(r),
        _ => Err(ApiError::NotFound("No such programme.".into())),
    }
}

/// A partner.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PartnerView {
    pub partner_id: Uuid,
    #[schema(value_type = Object)]
    pub institution: Value,
    /// email | post | in_person
    pub channel: String,
    pub sent_on: Option<NaiveDate>,
    pub postmarked_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    /// The date that counted for the channel.
    pub counted_on: NaiveDate,
}

/// An activity.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ActivityView {
    pub activity_id: Uuid,
    pub kind: String,
    pub title: String,
    /// The PlannedDate at its precision.
    #[schema(value_type = Object)]
    pub planned: Value,
    /// The month it is filed under (`YYYY-MM`).
    #[sqlx(rename = "planned_month")]
    pub month: String,
    pub location: Option<String>,
    pub co_organizer: Option<String>,
    /// planned | held | cancelled
    pub status: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub participants_total: Option<i32>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub institutions: Option<Value>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    #[serde(skip)]
    #[allow(dead_code)]
    pub position: i64,
}

/// Feedback.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct FeedbackView {
    pub feedback_id: Uuid,
    pub channel: String,
    pub received_on: NaiveDate,
    pub text: String,
    pub rating: Option<i16>,
    #[schema(value_type = Option<Object>)]
    pub institution: Option<Value>,
}

/// A consultation comment.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CommentView {
    pub comment_id: Uuid,
    #[serde(skip)]
    #[allow(dead_code)]
    pub consultation_id: Uuid,
    #[schema(value_type = Object)]
    pub institution: Value,
    pub text: String,
    pub submitted_on: NaiveDate,
}

/// A consultation with its comments.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct ConsultationView {
    pub consultation_id: Uuid,
    pub subject: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    #[sqlx(skip)]
    pub comments: Vec<CommentView>,
}

/// One programme with everything recorded about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramDetail {
    #[serde(flatten)]
    pub program: ProgramView,
    pub partners: Vec<PartnerView>,
    /// In date order (first day, then precision).
    pub activities: Vec<ActivityView>,
    pub feedback: Vec<FeedbackView>,
    pub consultations: Vec<ConsultationView>,
    pub position: i64,
}

/// One programme with its partners, activities, feedback and consultations.
#[utoipa::path(get, path = "/api/v1/programs/{id}", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path), Consistency), responses((status = 200, body = ProgramDetail), (status = 404), (status = 503)))]
async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<ProgramDetail>, ApiError> {
    wait_for(&state, PROGRAM_PROJECTIONS, c.min_position).await?;
    let program = load_program(&state, &auth, id).await?;
    let partners: Vec<PartnerView> = sqlx::query_as(
        "SELECT partner_id, institution, channel, sent_on, postmarked_on, delivered_on, counted_on
           FROM rm_program_partners WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let mut activities: Vec<ActivityView> = sqlx::query_as(
        "SELECT activity_id, kind, title, planned, planned_month, location, co_organizer, status, starts_on,
                ends_on, participants_total, institutions, notes, cancel_reason, position
           FROM rm_program_activities WHERE program_id = $1 ORDER BY planned_first_day, position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    activities.sort_by_cached_key(|a| {
        (
            serde_json::from_value::<PlannedDate>(a.planned.clone()).ok(),
            a.position,
        )
    });
    let feedback: Vec<FeedbackView> = sqlx::query_as(
        "SELECT feedback_id, channel, received_on, text, rating, institution
           FROM rm_program_feedback WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let mut consultations: Vec<ConsultationView> = sqlx::query_as(
        "SELECT consultation_id, subject, opens_on, closes_on
           FROM rm_program_consultations WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    let comments: Vec<CommentView> = sqlx::query_as(
        "SELECT comment_id, consultation_id, institution, text, submitted_on
           FROM rm_program_comments WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&state.pool)
    .await?;
    for comment in comments {
        if let Some(c) = consultations
            .iter_mut()
            .find(|c| c.consultation_id == comment.consultation_id)
        {
            c.comments.push(comment);
        }
    }
    let position = consistency::position(&state, "programs").await?;
    Ok(Json(ProgramDetail {
        program: program.into(),
        partners,
        activities,
        feedback,
        consultations,
        position,
    }))
}

/// An indicator's target against its actual value.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorResult {
    pub code: String,
    pub label: String,
    pub target: u64,
    /// Computed from what was recorded by the indicator's measure; for `manual`, the value
    /// given in the evaluation (null before).
    pub actual: Option<u64>,
    /// actual ≥ target; null while the actual value is unknown.
    pub achieved: Option<bool>,
}

/// Activities of one kind.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct KindCounts {
    pub planned: u64,
    pub held: u64,
    pub cancelled: u64,
}

/// Activities planned vs held.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityCounts {
    /// Every activity ever planned.
    pub planned: u64,
    pub held: u64,
    pub cancelled: u64,
    pub by_kind: BTreeMap<String, KindCounts>,
}

/// Feedback received.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackSummary {
    pub count: u64,
    /// Average of the ratings given (two decimals); null when none was given.
    pub average_rating: Option<f64>,
}

/// The programme evaluation (API.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct EvaluationView {
    pub indicators: Vec<IndicatorResult>,
    pub activities: ActivityCounts,
    /// Participants of held activities.
    pub participants_total: u64,
    /// Institutions (by NIP) in held activities, each counted once.
    pub distinct_institutions: u64,
    pub partners: u64,
    pub feedback: FeedbackSummary,
    /// achieved | partially_achieved | not_achieved; null before the evaluation.
    pub verdict: Option<String>,
    pub position: i64,
    /// Set when the evaluation was replayed as of an instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// Parameters of the evaluation.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EvaluationParams {
    /// RFC 3339 instant: the evaluation as it stood then, replayed from the events recorded
    /// at or before it (instead of read from today's read model).
    pub at: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    pub min_position: Option<i64>,
}

/// The API form of the domain's evaluation. Both the live answer and `?at=` go through
/// `domain::cooperation_program::evaluate` and then this, so they can differ only by the
/// facts they start from (and by `position` and `at`).
fn evaluation_view(e: Evaluation, position: i64, at: Option<DateTime<Utc>>) -> EvaluationView {
    EvaluationView {
        indicators: e
            .indicators
            .into_iter()
            .map(|i| IndicatorResult {
                code: i.code,
                label: i.label,
                target: i.target,
                actual: i.actual,
                achieved: i.achieved,
            })
            .collect(),
        activities: ActivityCounts {
            planned: e.activities.planned,
            held: e.activities.held,
            cancelled: e.activities.cancelled,
            by_kind: e
                .by_kind
                .into_iter()
                .map(|(kind, t)| {
                    (
                        kind,
                        KindCounts {
                            planned: t.planned,
                            held: t.held,
                            cancelled: t.cancelled,
                        },
                    )
                })
                .collect(),
        },
        participants_total: e.participants_total,
        distinct_institutions: e.distinct_institutions,
        partners: e.partners,
        feedback: FeedbackSummary {
            count: e.feedback.count,
            average_rating: e.feedback.average_rating,
        },
        verdict: e.verdict,
        position,
        at,
    }
}

/// Each indicator's target vs actual, activities planned vs held, participants, partners,
/// feedback and the verdict. With `?at=` the evaluation as it stood at that instant,
/// replayed from the events recorded up to it; `position` is then that of the last event
/// replayed (404 when the programme did not exist yet).
#[utoipa::path(get, path = "/api/v1/programs/{id}/evaluation", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path), EvaluationParams),
    responses((status = 200, body = EvaluationView), (status = 400), (status = 401), (status = 404), (status = 503)))]
async fn evaluation(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(params): ApiQuery<EvaluationParams>,
) -> Result<Json<EvaluationView>, ApiError> {
    Ok(Json(evaluation_of(&state, &auth, id, &params).await?))
}

/// The evaluation as `GET .../evaluation` answers it (live, or `?at=` replayed), for the
/// JSON answer and the CSV export alike.
pub async fn evaluation_of(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    params: &EvaluationParams,
) -> Result<EvaluationView, ApiError> {
    wait_for(state, PROGRAM_PROJECTIONS, params.min_position).await?;
    if let Some(at) = &params.at {
        let at = validate::instant(at).map_err(|e| ApiError::bad_param("at", e.message))?;
        let events = visible_history::<CooperationProgram>(state, auth, id).await?;
        let then: Vec<_> = events.iter().filter(|e| e.within(Some(at), None)).collect();
        if then.is_empty() {
            return Err(not_yet::<CooperationProgram>(Some(at), None));
        }
        let facts = EvaluationFacts::from_events(then.iter().map(|e| &e.event));
        let position = then.iter().map(|e| e.position).max().unwrap_or(0);
        return Ok(evaluation_view(
            evaluation::evaluate(&facts),
            position,
            Some(at),
        ));
    }
    load_program(state, auth, id).await?;
    let mut conn = state.pool.acquire().await?;
    let facts = projections::programs::read::facts(&mut conn, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("No such programme.".into()))?;
    drop(conn);
    let position = consistency::position(state, "programs").await?;
    Ok(evaluation_view(
        evaluation::evaluate(&facts),
        position,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_rows_are_read_with_their_lines() {
        let csv = "date,title,kind,location,co_organizer\n7.02.2020,Spotkanie monitoringowe OWES,monitoring_meeting,Olsztyn,\n\nKoniec września,Wydanie Biuletynu,,,\n";
        let rows = parse_schedule(csv, Some(2020)).expect("parsed");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].kind, ActivityKind::Other);
        assert_eq!(rows[1].planned.to_polish(), "Koniec września 2020");
        let bad = "date,title,kind\n7.02.2020,A,meeting\n31.02.2020,B,meeting\nLuty 2020,,party\n";
        let errors = parse_schedule(bad, None).expect_err("bad rows");
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert!(errors[1].message.contains("title"), "{errors:?}");
        assert!(errors[1].message.contains("kind"), "{errors:?}");
        assert!(parse_schedule("when,what\n", None).is_err());
        assert!(parse_schedule("date,title\n", None).is_err());
    }
}
