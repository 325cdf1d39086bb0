//! Audit for evaluators: the event history in commit order, the state of any aggregate at a
//! past moment, the re-derivation of every allocation decision of a visit, and the check of
//! a programme's evaluation read model against its events.
//!
//! Every answer here is replayed from the stored events (decoded through
//! `domain::upcasting::decode`, so events of any version read alike), never from read-model
//! rows; the read model is only what the programme check compares against.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::cooperation_program::evaluation::{self, EvaluationDiscrepancy, EvaluationFacts};
use domain::cooperation_program::{CooperationProgram, CooperationProgramEvent};
use domain::network::Network;
use domain::study_visit::{verify_with_actors, ManualDecisionCheck, StudyVisit};
use infra::feed::{self, AuditFilter, Checkpoint, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

mod schemas;

use crate::http::auth::Auth;
use crate::http::consistency::wait_for_history;
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::history::{not_yet, replay, visible_history, Audited, Decoded, AGGREGATE_TYPES};
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(verify_visit))
        .routes(routes!(verify_program))
        .routes(routes!(state_at))
}

/// Paging and filters of the event history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// Position of the last event already seen (0 = from the start).
    #[param(minimum = 0, default = 0)]
    pub after: Option<i64>,
    /// At most this many events.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Only events of this aggregate type.
    #[param(value_type = Option<crate::http::openapi::AggregateType>)]
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate (its id).
    pub aggregate_id: Option<String>,
    /// Answer only once the event at this position is in the commit-ordered history (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// One stored event, as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    /// Global position: the order of commits (a later commit has a higher position).
    #[schema(minimum = 1)]
    pub position: i64,
    #[schema(value_type = crate::http::openapi::AggregateType)]
    pub aggregate_type: String,
    /// The aggregate's id (a UUID).
    pub aggregate_id: String,
    /// The event's place in its aggregate's stream (1 = its first event).
    #[schema(minimum = 1)]
    pub sequence: i64,
    /// The event type, e.g. `SeatAllocated` (docs/events.md lists them all).
    #[schema(example = "SeatAllocated")]
    pub event_type: String,
    /// The version of the event type's payload as stored (older versions are upcast when
    /// replayed, never rewritten).
    #[schema(pattern = "^[0-9]+$", example = "1")]
    pub event_version: String,
    #[schema(schema_with = schemas::payload)]
    pub payload: serde_json::Value,
    #[schema(value_type = schemas::EventMetadata)]
    pub metadata: serde_json::Value,
    /// When the event was committed.
    pub recorded_at: DateTime<Utc>,
}

impl From<StoredEvent> for AuditEvent {
    fn from(e: StoredEvent) -> Self {
        Self {
            position: e.position,
            aggregate_type: e.aggregate_type,
            aggregate_id: e.aggregate_id,
            sequence: e.sequence,
            event_type: e.event_type,
            event_version: e.event_version,
            payload: e.payload,
            metadata: e.metadata,
            recorded_at: e.recorded_at,
        }
    }
}

/// A page of the history.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsPage {
    /// In commit order.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page (`after` itself when the page is empty).
    #[schema(minimum = 0)]
    pub next_after: i64,
}

/// The event history in commit order (scoped to the token's organizer).
#[utoipa::path(get, path = "/api/v1/audit/events", operation_id = "list_audit_events", tag = "audit", security(("bearer" = [])), params(EventsParams),
    responses((status = 200, body = EventsPage, description = "The events after `after`, in commit order, of the organizers the token may read."),
        (status = 400, description = "`after` is negative, `limit` is not 1 to 1000, or `aggregate_type` is not one of the three."),
        (status = 503, description = "The event at `min_position` is not in the history yet; retry after `Retry-After` seconds.")))]
async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Json<EventsPage>, ApiError> {
    let after = p.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_param(
            "after",
            "negative_number",
            "must be 0 or more",
        ));
    }
    let limit = crate::http::problem::page_limit(p.limit)?;
    if let Some(t) = &p.aggregate_type {
        if !AGGREGATE_TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad_param(
                "aggregate_type",
                "aggregate_type_unknown",
                "must be StudyVisit, CooperationProgram or Network",
            ));
        }
    }
    if let Some(position) = p.min_position {
        wait_for_history(&state, position).await?;
    }
    let filter = AuditFilter {
        organizer: auth.read_scope(),
        aggregate_type: p.aggregate_type,
        aggregate_id: p.aggregate_id,
    };
    let page = feed::audit_page(state.reads(), after, limit, &filter).await?;
    let next_after = page.last().map_or(after, |e| e.position);
    Ok(Json(EventsPage {
        events: page.into_iter().map(AuditEvent::from).collect(),
        next_after,
    }))
}

// ---------------------------------------------------------------------------------------
// Study visits: re-deriving every decision
// ---------------------------------------------------------------------------------------

/// The re-derivation of a visit's decisions.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitVerifyView {
    /// True when every recorded decision is the one the policy gives (no discrepancies).
    pub consistent: bool,
    /// Decisions compared: each candidate at each close, each released seat, each manual decision.
    pub checked: u32,
    /// Each difference, in stream order.
    #[schema(value_type = Vec<schemas::AllocationDiscrepancy>)]
    pub discrepancies: Vec<domain::study_visit::Discrepancy>,
    /// Every seat given by hand: who decided (actor id), why, who recorded it, and whether it checks out.
    #[schema(value_type = Vec<schemas::ManualDecision>)]
    pub manual_decisions: Vec<ManualDecisionCheck>,
    /// Position of the last event replayed.
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Replay a visit and re-derive every allocation, promotion and manual decision.
#[utoipa::path(get, path = "/api/v1/audit/study-visits/{id}/verify", operation_id = "verify_study_visit", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = VisitVerifyView, description = "The visit replayed from its events and every decision re-derived and compared."),
        (status = 404, description = "No such visit, or another organizer's.")))]
async fn verify_visit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<VisitVerifyView>, ApiError> {
    let events = visible_history::<StudyVisit>(&state, &auth, id).await?;
    let position = events.iter().map(|e| e.position).max().unwrap_or(0);
    let with_actors: Vec<_> = events.into_iter().map(|e| (e.event, e.actor)).collect();
    let report = verify_with_actors(&with_actors);
    Ok(Json(VisitVerifyView {
        consistent: report.consistent(),
        checked: report.checked,
        discrepancies: report.discrepancies,
        manual_decisions: report.manual_decisions,
        position,
    }))
}

// ---------------------------------------------------------------------------------------
// Programmes: the evaluation read model against the events
// ---------------------------------------------------------------------------------------

/// The check of a programme's evaluation read model.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgramVerifyView {
    /// True when the read model agrees with the events everywhere.
    pub consistent: bool,
    /// Values compared: every indicator and every figure of the evaluation.
    pub checked: u32,
    /// Each difference: indicators first (in declared order), then the figures.
    #[schema(value_type = Vec<schemas::EvaluationDiscrepancy>)]
    pub discrepancies: Vec<EvaluationDiscrepancy>,
    /// Position of the last event compared (the read model had processed it).
    #[schema(minimum = 0)]
    pub position: i64,
    /// Events of the programme the read model had not processed yet (left out of the check).
    pub pending: u32,
}

/// Recompute each indicator (and each figure of the evaluation) of a programme from its
/// events and compare it with what the programme-evaluation read model holds.
///
/// The read model is read in one snapshot together with its checkpoint, and only the
/// events it had processed are replayed, so a command committed meanwhile is not mistaken
/// for a discrepancy. The check first waits (up to the read wait) for the read model to
/// reach the programme's latest event.
#[utoipa::path(get, path = "/api/v1/audit/cooperation-programs/{id}/verify", operation_id = "verify_program", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ProgramVerifyView, description = "Every indicator and figure recomputed from the events the read model had processed, and compared."),
        (status = 404, description = "No such programme, or another organizer's.")))]
async fn verify_program(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ProgramVerifyView>, ApiError> {
    let events = visible_history::<CooperationProgram>(&state, &auth, id).await?;
    if let Some(last) = events.iter().map(|e| e.position).max() {
        // Best effort: a read model still behind is checked as far as it got (`pending`).
        projections::runner::wait_for_position(state.reads(), &["programs"], last, state.read_wait)
            .await?;
    }
    let (checkpoint, in_model) =
        projections::programs::read::facts_as_processed(state.reads(), id).await?;
    let in_model = in_model.unwrap_or_default();

    let processed = |e: &&Decoded<CooperationProgramEvent>| {
        Checkpoint {
            tx_id: e.tx_id,
            position: e.position,
        } <= checkpoint
    };
    let replayed: Vec<&Decoded<CooperationProgramEvent>> =
        events.iter().filter(processed).collect();
    let from_events = EvaluationFacts::from_events(replayed.iter().map(|e| &e.event));
    let check = evaluation::compare(
        &evaluation::evaluate(&from_events),
        &evaluation::evaluate(&in_model),
    );
    Ok(Json(ProgramVerifyView {
        consistent: check.consistent(),
        checked: check.checked,
        discrepancies: check.discrepancies,
        position: replayed.iter().map(|e| e.position).max().unwrap_or(0),
        pending: u32::try_from(events.len() - replayed.len()).unwrap_or(u32::MAX),
    }))
}

// ---------------------------------------------------------------------------------------
// Any aggregate as it stood
// ---------------------------------------------------------------------------------------

/// Which moment to replay to (both may be given: the events meeting both are replayed).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StateParams {
    /// RFC 3339 instant (with its offset): the events recorded at or before it.
    #[param(value_type = Option<String>, format = DateTime, example = "2022-06-23T11:00:00+02:00")]
    pub at: Option<String>,
    /// Aggregate sequence number (1 = its first event): the events up to it.
    #[param(minimum = 0)]
    pub sequence: Option<i64>,
}

/// An aggregate as it stood.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateView {
    #[schema(value_type = crate::http::openapi::AggregateType)]
    pub aggregate_type: String,
    #[schema(format = Uuid)]
    pub aggregate_id: String,
    /// Sequence of the last event replayed.
    #[schema(minimum = 1)]
    pub sequence: i64,
    #[schema(schema_with = schemas::aggregate_state)]
    pub state: serde_json::Value,
    /// Global position of the last event replayed.
    #[schema(minimum = 1)]
    pub position: i64,
    /// When the last event replayed was recorded (always present: a moment before the
    /// first event is 404).
    #[schema(required = true)]
    pub recorded_at: Option<DateTime<Utc>>,
}

/// The aggregate type a path segment names: the type itself or its resource's path.
fn aggregate_type_of(segment: &str) -> Option<&'static str> {
    match segment {
        "StudyVisit" | "study-visits" => Some("StudyVisit"),
        "CooperationProgram" | "cooperation-programs" | "programs" => Some("CooperationProgram"),
        "Network" | "networks" => Some("Network"),
        _ => None,
    }
}

async fn state_of<A: Audited>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    at: Option<DateTime<Utc>>,
    sequence: Option<i64>,
) -> Result<StateView, ApiError> {
    let events = visible_history::<A>(state, auth, id).await?;
    let replayed = replay::<A>(events.iter().filter(|e| e.within(at, sequence)));
    if replayed.count == 0 {
        return Err(not_yet::<A>(at, sequence));
    }
    Ok(StateView {
        aggregate_type: A::TYPE.to_owned(),
        aggregate_id: id.to_string(),
        sequence: replayed.sequence,
        state: serde_json::to_value(&replayed.aggregate)
            .map_err(|e| ApiError::Internal(format!("state does not serialize: {e}")))?,
        position: replayed.position,
        recorded_at: replayed.recorded_at,
    })
}

/// The state of a study visit, programme or network at an instant or sequence, replayed
/// from its events. An unknown type or id, or another organizer's aggregate, is 404; so is
/// a moment before the aggregate's first event (it did not exist yet).
#[utoipa::path(get, path = "/api/v1/audit/{aggregate_type}/{id}/state", operation_id = "get_aggregate_state", tag = "audit", security(("bearer" = [])),
    params(("aggregate_type" = String, Path, description = "The aggregate type, or its resource's path: `StudyVisit` (`study-visits`), `CooperationProgram` (`cooperation-programs`, `programs`) or `Network` (`networks`); anything else is 404.",
            pattern = "^(StudyVisit|study-visits|CooperationProgram|cooperation-programs|programs|Network|networks)$"),
        ("id" = String, Path, format = Uuid, description = "The aggregate's id (anything but a UUID is 404)."), StateParams),
    responses((status = 200, body = StateView, description = "The aggregate replayed from its events up to `at` and/or `sequence` (all of them when neither is given)."),
        (status = 400, description = "`at` is not an RFC 3339 instant, or `sequence` is negative."),
        (status = 404, description = "No such aggregate type or aggregate, another organizer's, or a moment before its first event.")))]
async fn state_at(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((aggregate_type, id)): ApiPath<(String, String)>,
    ApiQuery(p): ApiQuery<StateParams>,
) -> Result<Json<StateView>, ApiError> {
    let Some(kind) = aggregate_type_of(&aggregate_type) else {
        return Err(ApiError::NotFound(format!(
            "No audit state for aggregate type {aggregate_type}; the types are StudyVisit, CooperationProgram and Network."
        )));
    };
    let at =
        p.at.as_deref()
            .map(validate::instant)
            .transpose()
            .map_err(|e| ApiError::bad_value("at", e))?;
    if matches!(p.sequence, Some(s) if s < 0) {
        return Err(ApiError::bad_param(
            "sequence",
            "negative_number",
            "must be 0 or more",
        ));
    }
    let Ok(id) = Uuid::parse_str(&id) else {
        return Err(ApiError::NotFound("No such aggregate.".into()));
    };
    let view = match kind {
        "StudyVisit" => state_of::<StudyVisit>(&state, &auth, id, at, p.sequence).await?,
        "CooperationProgram" => {
            state_of::<CooperationProgram>(&state, &auth, id, at, p.sequence).await?
        }
        _ => state_of::<Network>(&state, &auth, id, at, p.sequence).await?,
    };
    Ok(Json(view))
}
