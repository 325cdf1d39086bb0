//! The programme's reads: the programmes list, one programme with everything recorded about
//! it, and its evaluation, live or as it stood at an instant (`?at=`).
//!
//! Why the views live here and the queries do not: the `programs` read model owns its SQL
//! (`projections::programs::read`) and answers types of its own; this module only decides
//! who may see what and how it is presented (the API's JSON and its OpenAPI schemas). The
//! evaluation `?at=` is answered by the same queries over the read model replayed from the
//! programme's events up to that instant (`projections::replay`), so the past and the
//! present are computed by one code path.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::cooperation_program::evaluation;
use domain::cooperation_program::{CooperationProgram, Evaluation, Indicator};
use domain::values::{Institution, PlannedDate};
use projections::programs::read::{self, RecordedEvaluation};
use projections::programs::Programs;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::requests::{EvaluationParams, ListParams};
use super::schemas;
use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for, Consistency};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::history::{not_yet, visible_history};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate;

/// The projections the programme reads wait for.
pub const PROGRAM_PROJECTIONS: &[&str] = &["programs"];

/// The 404 of a programme that is not there for the caller: unknown and another
/// organizer's alike, so a token cannot probe what exists elsewhere.
fn no_such_programme() -> ApiError {
    ApiError::NotFound("No such programme.".into())
}

/// A programme's period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// An indicator with its target, as the programme was created with it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorView {
    #[schema(pattern = r"^[a-z0-9_]+$", min_length = 1, max_length = 64)]
    pub code: String,
    pub label: String,
    pub target: u64,
    #[schema(value_type = schemas::Measure)]
    pub measure: String,
}

impl From<Indicator> for IndicatorView {
    fn from(i: Indicator) -> Self {
        Self {
            code: i.code.to_string(),
            label: i.label.to_string(),
            target: i.target,
            measure: i.measure.to_string(),
        }
    }
}

/// The evaluation as recorded by `POST .../evaluation` (the figures are in
/// `GET .../evaluation`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedEvaluationView {
    #[schema(value_type = schemas::Verdict)]
    pub verdict: String,
    /// Trimmed; empty when none was given.
    pub summary: String,
    /// Values of the indicators measured by hand, by code.
    pub manual_values: BTreeMap<String, u64>,
    pub recommendations: Vec<String>,
    /// The service's date when it was recorded.
    pub evaluated_on: NaiveDate,
}

impl From<RecordedEvaluation> for RecordedEvaluationView {
    fn from(e: RecordedEvaluation) -> Self {
        Self {
            verdict: e.verdict,
            summary: e.summary,
            manual_values: e.manual_values,
            recommendations: e.recommendations,
            evaluated_on: e.evaluated_on,
        }
    }
}

/// A programme as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramView {
    pub id: Uuid,
    /// The organizer (slug) it belongs to.
    #[schema(pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub organizer: String,
    pub title: String,
    #[schema(value_type = schemas::ProgramKind)]
    pub kind: String,
    pub period: PeriodView,
    pub goals: Vec<String>,
    pub indicators: Vec<IndicatorView>,
    /// Last day a partner's application card may count; null: no deadline.
    #[schema(required = true)]
    pub partner_application_deadline: Option<NaiveDate>,
    /// Last day of the testing period; null until set.
    #[schema(required = true)]
    pub testing_ends_on: Option<NaiveDate>,
    /// The evaluation as recorded; null until evaluated.
    #[schema(required = true)]
    pub evaluation: Option<RecordedEvaluationView>,
    #[schema(value_type = schemas::ProgramStatus)]
    pub status: String,
    /// The day it was closed; null while active.
    #[schema(required = true)]
    pub closed_on: Option<NaiveDate>,
    /// Why it was closed; null while active or when no reason was given.
    #[schema(required = true)]
    pub close_reason: Option<String>,
    /// When its creation was recorded.
    pub created_at: DateTime<Utc>,
}

impl From<read::Program> for ProgramView {
    fn from(p: read::Program) -> Self {
        Self {
            id: p.program_id,
            organizer: p.organizer,
            title: p.title,
            kind: p.kind,
            period: PeriodView {
                start: p.period_start,
                end: p.period_end,
            },
            goals: p.goals,
            indicators: p.indicators.into_iter().map(IndicatorView::from).collect(),
            partner_application_deadline: p.partner_application_deadline,
            testing_ends_on: p.testing_ends_on,
            evaluation: p.evaluation.map(RecordedEvaluationView::from),
            // Closing is the only way out of `active`.
            status: if p.closed_on.is_some() {
                "closed"
            } else {
                "active"
            }
            .to_owned(),
            closed_on: p.closed_on,
            close_reason: p.close_reason,
            created_at: p.created_at,
        }
    }
}

/// Programmes list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramList {
    pub programs: Vec<ProgramView>,
    /// The read model's position (0 when the list is empty because the organizer asked for
    /// is not the token's).
    #[schema(minimum = 0)]
    pub position: i64,
}

/// List the programmes the caller may read.
#[utoipa::path(get, path = "/api/v1/programs", operation_id = "list_programs", tag = "programs", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = ProgramList, description = "The programmes, oldest first.")))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<ProgramList>, ApiError> {
    wait_for(&state, PROGRAM_PROJECTIONS, params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        // Asking for another organizer's programmes is answered like asking for an
        // organizer without any: nothing, and nothing about whether they exist.
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(ProgramList {
                programs: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let mut conn = state.reads().acquire().await?;
    let programs = read::list(&mut conn, organizer.as_deref()).await?;
    drop(conn);
    let position = consistency::position(&state, "programs").await?;
    Ok(Json(ProgramList {
        programs: programs.into_iter().map(ProgramView::from).collect(),
        position,
    }))
}

/// A partner.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub partner_id: Uuid,
    #[schema(value_type = crate::http::openapi::Institution)]
    pub institution: Institution,
    #[schema(value_type = schemas::PartnerChannel)]
    pub channel: String,
    #[schema(required = true)]
    pub sent_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub postmarked_on: Option<NaiveDate>,
    #[schema(required = true)]
    pub delivered_on: Option<NaiveDate>,
    /// The date that counted for the channel.
    pub counted_on: NaiveDate,
}

impl From<read::Partner> for PartnerView {
    fn from(p: read::Partner) -> Self {
        Self {
            partner_id: p.partner_id,
            institution: p.institution,
            channel: p.channel,
            sent_on: p.sent_on,
            postmarked_on: p.postmarked_on,
            delivered_on: p.delivered_on,
            counted_on: p.counted_on,
        }
    }
}

/// An activity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityView {
    pub activity_id: Uuid,
    #[schema(value_type = schemas::ActivityKind)]
    pub kind: String,
    pub title: String,
    /// When it is planned, at the precision known.
    #[schema(value_type = crate::http::openapi::PlannedDate)]
    pub planned: PlannedDate,
    /// The month it is filed under (`YYYY-MM`): the one it starts in.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2020-09")]
    pub month: String,
    #[schema(required = true)]
    pub location: Option<String>,
    #[schema(required = true)]
    pub co_organizer: Option<String>,
    #[schema(value_type = schemas::ActivityStatus)]
    pub status: String,
    /// The first day it took place; null unless held.
    #[schema(required = true)]
    pub starts_on: Option<NaiveDate>,
    /// The last day it took place; null unless held.
    #[schema(required = true)]
    pub ends_on: Option<NaiveDate>,
    /// How many took part; null unless held.
    #[schema(required = true, minimum = 0)]
    pub participants_total: Option<i32>,
    /// The institutions that took part; null unless held.
    #[schema(value_type = Option<Vec<crate::http::openapi::Institution>>, required = true)]
    pub institutions: Option<Vec<Institution>>,
    /// Notes recorded when held; null unless held.
    #[schema(required = true)]
    pub notes: Option<String>,
    /// Why it was cancelled; null unless cancelled.
    #[schema(required = true)]
    pub cancel_reason: Option<String>,
}

impl From<read::Activity> for ActivityView {
    fn from(a: read::Activity) -> Self {
        Self {
            activity_id: a.activity_id,
            kind: a.kind,
            title: a.title,
            planned: a.planned,
            month: a.month,
            location: a.location,
            co_organizer: a.co_organizer,
            status: a.status,
            starts_on: a.starts_on,
            ends_on: a.ends_on,
            participants_total: a.participants_total,
            institutions: a.institutions,
            notes: a.notes,
            cancel_reason: a.cancel_reason,
        }
    }
}

/// Feedback.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackView {
    pub feedback_id: Uuid,
    #[schema(value_type = schemas::FeedbackChannel)]
    pub channel: String,
    pub received_on: NaiveDate,
    pub text: String,
    /// 1 to 5; null when none was given.
    #[schema(required = true, minimum = 1, maximum = 5)]
    pub rating: Option<i16>,
    /// The institution it came from; null when none was named.
    #[schema(value_type = Option<crate::http::openapi::Institution>, required = true)]
    pub institution: Option<Institution>,
}

impl From<read::Feedback> for FeedbackView {
    fn from(f: read::Feedback) -> Self {
        Self {
            feedback_id: f.feedback_id,
            channel: f.channel,
            received_on: f.received_on,
            text: f.text,
            rating: f.rating,
            institution: f.institution,
        }
    }
}

/// A consultation comment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentView {
    pub comment_id: Uuid,
    #[schema(value_type = crate::http::openapi::Institution)]
    pub institution: Institution,
    pub text: String,
    pub submitted_on: NaiveDate,
}

impl From<read::Comment> for CommentView {
    fn from(c: read::Comment) -> Self {
        Self {
            comment_id: c.comment_id,
            institution: c.institution,
            text: c.text,
            submitted_on: c.submitted_on,
        }
    }
}

/// A consultation with its comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsultationView {
    pub consultation_id: Uuid,
    pub subject: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub comments: Vec<CommentView>,
}

impl From<read::Consultation> for ConsultationView {
    fn from(c: read::Consultation) -> Self {
        Self {
            consultation_id: c.consultation_id,
            subject: c.subject,
            opens_on: c.opens_on,
            closes_on: c.closes_on,
            comments: c.comments.into_iter().map(CommentView::from).collect(),
        }
    }
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
    /// The read model's position this answer reflects.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// One programme with its partners, activities, feedback and consultations.
#[utoipa::path(get, path = "/api/v1/programs/{id}", operation_id = "get_program", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = ProgramDetail, description = "The programme with everything recorded about it.")))]
pub async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<ProgramDetail>, ApiError> {
    wait_for(&state, PROGRAM_PROJECTIONS, c.min_position).await?;
    let mut conn = state.reads().acquire().await?;
    let program = match read::program(&mut conn, id).await? {
        Some(p) if auth.can_read(&p.organizer) => p,
        _ => return Err(no_such_programme()),
    };
    let partners = read::partners(&mut conn, id).await?;
    let activities = read::activities(&mut conn, id).await?;
    let feedback = read::feedback(&mut conn, id).await?;
    let consultations = read::consultations(&mut conn, id).await?;
    drop(conn);
    let position = consistency::position(&state, "programs").await?;
    Ok(Json(ProgramDetail {
        program: program.into(),
        partners: partners.into_iter().map(PartnerView::from).collect(),
        activities: activities.into_iter().map(ActivityView::from).collect(),
        feedback: feedback.into_iter().map(FeedbackView::from).collect(),
        consultations: consultations
            .into_iter()
            .map(ConsultationView::from)
            .collect(),
        position,
    }))
}

/// An indicator's target against its actual value.
#[derive(Debug, Serialize, ToSchema)]
pub struct IndicatorResult {
    #[schema(pattern = r"^[a-z0-9_]+$", min_length = 1, max_length = 64)]
    pub code: String,
    pub label: String,
    pub target: u64,
    /// Computed from what was recorded by the indicator's measure; for `manual`, the value
    /// given in the evaluation (null before).
    #[schema(required = true)]
    pub actual: Option<u64>,
    /// actual ≥ target; null while the actual value is unknown.
    #[schema(required = true)]
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
    /// The same counts for each kind of activity planned at least once.
    #[schema(value_type = BTreeMap<schemas::ActivityKind, KindCounts>)]
    pub by_kind: BTreeMap<String, KindCounts>,
}

/// Feedback received.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackSummary {
    pub count: u64,
    /// Average of the ratings given (two decimals); null when none was given.
    #[schema(required = true, minimum = 1, maximum = 5)]
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
    /// The recorded verdict; null before the evaluation.
    #[schema(value_type = Option<schemas::Verdict>, required = true)]
    pub verdict: Option<String>,
    /// The read model's position this answer reflects (with `at`, the last event replayed).
    #[schema(minimum = 0)]
    pub position: i64,
    /// The instant asked for with `at`: present only then.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, format = DateTime, required = false)]
    pub at: Option<DateTime<Utc>>,
}

/// The API form of the domain's evaluation. Both the live answer and `?at=` read their facts
/// with `read::facts` and go through `domain::cooperation_program::evaluate` and then this,
/// so they can differ only by the rows they read (and by `position` and `at`).
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
#[utoipa::path(get, path = "/api/v1/programs/{id}/evaluation", operation_id = "get_program_evaluation", tag = "programs", security(("bearer" = [])),
    params(("id" = Uuid, Path), EvaluationParams),
    responses(
        (status = 200, body = EvaluationView, description = "The evaluation: live, or as it stood at `at`."),
        (status = 400, description = "`at` is not an RFC 3339 instant with its offset, or `min_position` is negative."),
        (status = 404, description = "No such programme, not this token's organizer's, or (with `at`) it did not exist yet then.")))]
pub async fn evaluation(
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
    match &params.at {
        Some(at) => {
            let at = validate::instant(at).map_err(|e| ApiError::bad_value("at", e))?;
            evaluation_at(state, auth, id, at).await
        }
        None => {
            let mut conn = state.reads().acquire().await?;
            match read::program(&mut conn, id).await? {
                Some(p) if auth.can_read(&p.organizer) => {}
                _ => return Err(no_such_programme()),
            }
            let facts = read::facts(&mut conn, id)
                .await?
                .ok_or_else(no_such_programme)?;
            drop(conn);
            let position = consistency::position(state, "programs").await?;
            Ok(evaluation_view(
                evaluation::evaluate(&facts),
                position,
                None,
            ))
        }
    }
}

/// The evaluation as it stood at `at`: the programme's events recorded up to then, applied
/// by the `programs` projection to a temporary copy of its tables, read with the same
/// `read::facts` as the live answer.
async fn evaluation_at(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<EvaluationView, ApiError> {
    // Whom it belongs to is taken from its whole history, as the audit does: a question
    // about a moment before it existed is scoped too, and a read model still behind
    // cannot hide a programme whose events are stored.
    visible_history::<CooperationProgram>(state, auth, id).await?;
    let events = infra::feed::aggregate_events(
        &state.pool,
        projections::programs::COOPERATION_PROGRAM,
        &id.to_string(),
        Some(at),
        None,
    )
    .await?;
    if events.is_empty() {
        return Err(not_yet::<CooperationProgram>(Some(at), None));
    }
    let mut replayed = projections::replay(&state.pool, &[&Programs], events).await?;
    let facts = read::facts(replayed.conn(), id)
        .await?
        .ok_or_else(|| not_yet::<CooperationProgram>(Some(at), None))?;
    Ok(evaluation_view(
        evaluation::evaluate(&facts),
        replayed.position,
        Some(at),
    ))
}
