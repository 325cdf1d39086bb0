//! Audit for evaluators: the event history in commit order, the state of an aggregate at a
//! past moment, and the re-derivation of every allocation decision of a visit.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::study_visit::{verify, StudyVisit, StudyVisitEvent, VerifyReport};
use infra::feed::{self, AuditFilter, StoredEvent};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::rosters::replay_visit;
use crate::auth::Auth;
use crate::extract::{ApiPath, ApiQuery};
use crate::problem::ApiError;
use crate::state::AppState;
use crate::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(events))
        .routes(routes!(verify_visit))
        .routes(routes!(state_at))
}

/// Paging and filters of the event history.
#[derive(Debug, Deserialize, IntoParams)]
pub struct EventsParams {
    /// Position of the last event already seen (0 = from the start).
    pub after: Option<i64>,
    /// At most this many events (1–1000, default 100).
    pub limit: Option<i64>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// Answer only once the event at this position is in the commit-ordered history (waits up to 5 s).
    pub min_position: Option<i64>,
}

/// One stored event.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
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
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page.
    pub next_after: i64,
}

const AGGREGATE_TYPES: &[&str] = &["StudyVisit", "CooperationProgram", "Network"];

/// The event history in commit order (scoped to the token's organizer).
#[utoipa::path(get, path = "/api/v1/audit/events", tag = "audit", security(("bearer" = [])), params(EventsParams),
    responses((status = 200, body = EventsPage), (status = 400), (status = 401)))]
async fn events(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Json<EventsPage>, ApiError> {
    let after = p.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_param("after", "must be 0 or more"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_param("limit", "must be between 1 and 1000"));
    }
    if let Some(t) = &p.aggregate_type {
        if !AGGREGATE_TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad_param(
                "aggregate_type",
                "must be StudyVisit, CooperationProgram or Network",
            ));
        }
    }
    if let Some(position) = p.min_position {
        let deadline = tokio::time::Instant::now() + state.read_wait;
        while !feed::is_settled(&state.pool, position).await? {
            if tokio::time::Instant::now() >= deadline {
                return Err(ApiError::Unavailable {
                    detail: format!(
                        "Position {position} is not yet in the history; retry shortly."
                    ),
                    retry_after_secs: 1,
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(15)).await;
        }
    }
    let filter = AuditFilter {
        organizer: auth.read_scope(),
        aggregate_type: p.aggregate_type,
        aggregate_id: p.aggregate_id,
    };
    let page = feed::audit_page(&state.pool, after, limit, &filter).await?;
    let next_after = page.last().map_or(after, |e| e.position);
    Ok(Json(EventsPage {
        events: page.into_iter().map(AuditEvent::from).collect(),
        next_after,
    }))
}

async fn visible_visit(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    at: Option<DateTime<Utc>>,
) -> Result<(StudyVisit, Vec<StudyVisitEvent>, i64), ApiError> {
    let (visit, events, position) = replay_visit(state, id, at).await?;
    // Check against the full history's owner, so `?at=` before announcement is still scoped.
    let owner = match visit.organizer() {
        Some(o) => Some(o.as_str().to_owned()),
        None => replay_visit(state, id, None)
            .await?
            .0
            .organizer()
            .map(|o| o.as_str().to_owned()),
    };
    match owner {
        Some(o) if auth.can_read(&o) => Ok((visit, events, position)),
        _ => Err(ApiError::NotFound("No such study visit.".into())),
    }
}

/// Replay a visit and re-derive every allocation and promotion decision.
#[utoipa::path(get, path = "/api/v1/audit/study-visits/{id}/verify", tag = "audit", security(("bearer" = [])),
    params(("id" = Uuid, Path)), responses((status = 200, body = Object), (status = 404)))]
async fn verify_visit(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (_, events, _) = visible_visit(&state, &auth, id, None).await?;
    let report: VerifyReport = verify(&events);
    Ok(Json(serde_json::json!({
        "consistent": report.discrepancies.is_empty(),
        "checked": report.checked,
        "discrepancies": report.discrepancies,
    })))
}

/// Which moment to replay to.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StateParams {
    /// RFC 3339 instant.
    pub at: Option<String>,
    /// Aggregate sequence number.
    pub sequence: Option<i64>,
}

/// An aggregate as it stood.
#[derive(Debug, Serialize, ToSchema)]
pub struct StateView {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// The state of an aggregate at an instant or sequence, replayed from its events.
#[utoipa::path(get, path = "/api/v1/audit/{aggregate_type}/{id}/state", tag = "audit", security(("bearer" = [])),
    params(("aggregate_type" = String, Path), ("id" = String, Path), StateParams),
    responses((status = 200, body = StateView), (status = 400), (status = 404)))]
async fn state_at(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((aggregate_type, id)): ApiPath<(String, String)>,
    ApiQuery(p): ApiQuery<StateParams>,
) -> Result<Json<StateView>, ApiError> {
    if aggregate_type != "StudyVisit" && aggregate_type != "study-visits" {
        return Err(ApiError::NotFound(format!(
            "No audit state for aggregate type {aggregate_type}."
        )));
    }
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound("No such study visit.".into()))?;
    let at =
        p.at.as_deref()
            .map(validate::instant)
            .transpose()
            .map_err(|e| ApiError::bad_param("at", e.message))?;
    if matches!(p.sequence, Some(s) if s < 0) {
        return Err(ApiError::bad_param("sequence", "must be 0 or more"));
    }
    // Scope check first (on the whole history), then the replay the caller asked for.
    visible_visit(&state, &auth, id, None).await?;
    let stored =
        feed::aggregate_events(&state.pool, "StudyVisit", &id.to_string(), at, p.sequence).await?;
    let mut visit = StudyVisit::default();
    let mut sequence = 0;
    for e in stored {
        let event: StudyVisitEvent = serde_json::from_value(e.payload).map_err(|err| {
            ApiError::Internal(format!("stored event does not deserialize: {err}"))
        })?;
        cqrs_es::Aggregate::apply(&mut visit, event);
        sequence = e.sequence;
    }
    Ok(Json(StateView {
        aggregate_type: "StudyVisit".into(),
        aggregate_id: id.to_string(),
        sequence,
        state: serde_json::to_value(&visit).map_err(|e| ApiError::Internal(e.to_string()))?,
    }))
}
