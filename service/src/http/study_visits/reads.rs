//! The visits list and a visit's detail, from the `study_visits` read model, each visit with
//! its terms; scoped to the organizers the caller may read.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use projections::study_visits::read::{self, Term, Visit, MODEL};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for, Consistency};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A term as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermView {
    pub term_id: Uuid,
    pub label: String,
    pub seats: i32,
    /// planned | scheduled | open | closed | cancelled
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub planned: Option<serde_json::Value>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub recruitment_deadline: Option<DateTime<Utc>>,
    /// The deadline as people read it (Europe/Warsaw).
    pub recruitment_deadline_local: Option<String>,
    /// Live applications (submitted and not withdrawn).
    pub candidates: i32,
    pub allocated: i32,
    pub seats_left: i32,
}

/// A visit with its terms.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub organizer: String,
    pub title: String,
    pub destination: String,
    pub description: String,
    pub eligible_institution_types: Vec<String>,
    pub max_per_institution: Option<i32>,
    #[schema(value_type = Vec<Object>)]
    pub preferences: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub funding: Option<serde_json::Value>,
    pub announced_at: DateTime<Utc>,
    pub terms: Vec<TermView>,
}

/// Visits list.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    pub visits: Vec<VisitView>,
    pub position: i64,
}

/// Filters of the visits list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this organizer's visits.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

/// A value as the API names it (its serde name: `open`, `planned`, …).
fn api_name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A value of the read model as the JSON it was stored as.
fn json<T: Serialize>(what: &str, v: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::Internal(format!("{what}: {e}")))
}

fn term_view(t: Term) -> Result<TermView, ApiError> {
    let seats = i32::try_from(t.seats).unwrap_or(i32::MAX);
    Ok(TermView {
        term_id: t.term_id,
        label: t.label,
        seats,
        status: api_name(&t.status),
        planned: t.planned.as_ref().map(|p| json("planned", p)).transpose()?,
        starts_on: t.starts_on,
        ends_on: t.ends_on,
        recruitment_deadline: t.recruitment_deadline,
        recruitment_deadline_local: t.recruitment_deadline.map(|d| {
            d.with_timezone(&chrono_tz::Europe::Warsaw)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        }),
        candidates: t.candidates,
        allocated: t.allocated,
        // A seat given by hand may take a term above its seat count: none left, not fewer.
        seats_left: (seats - t.allocated).max(0),
    })
}

/// `visit` with its `terms`, in their order.
fn visit_view(visit: Visit, terms: Vec<Term>) -> Result<VisitView, ApiError> {
    Ok(VisitView {
        id: visit.visit_id,
        organizer: visit.organizer,
        title: visit.title,
        destination: visit.destination,
        description: visit.description,
        eligible_institution_types: visit.eligible_institution_types,
        max_per_institution: visit
            .max_per_institution
            .map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
        preferences: json("preferences", &visit.preferences)?,
        funding: visit
            .funding
            .as_ref()
            .map(|f| json("funding", f))
            .transpose()?,
        announced_at: visit.announced_at,
        terms: terms.into_iter().map(term_view).collect::<Result<_, _>>()?,
    })
}

/// List the visits the caller may read.
#[utoipa::path(get, path = "/api/v1/study-visits", operation_id = "list_study_visits", tag = "study visits", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = VisitList), (status = 401), (status = 503)))]
pub(super) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<VisitList>, ApiError> {
    wait_for(&state, &[MODEL], params.min_position).await?;
    let organizer = match (auth.read_scope(), params.organizer) {
        // Another organizer's visits are not there for this caller: an empty list, not 403.
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(VisitList {
                visits: vec![],
                position: 0,
            }))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let mut conn = state.pool.acquire().await?;
    let visits = read::visits(&mut conn, organizer.as_deref()).await?;
    let ids: Vec<Uuid> = visits.iter().map(|v| v.visit_id).collect();
    let mut terms: HashMap<Uuid, Vec<Term>> = HashMap::new();
    for t in read::terms(&mut conn, &ids).await? {
        terms.entry(t.visit_id).or_default().push(t);
    }
    drop(conn);
    let visits = visits
        .into_iter()
        .map(|v| {
            let own = terms.remove(&v.visit_id).unwrap_or_default();
            visit_view(v, own)
        })
        .collect::<Result<_, _>>()?;
    let position = consistency::position(&state, MODEL).await?;
    Ok(Json(VisitList { visits, position }))
}

/// One visit with its terms.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}", operation_id = "get_study_visit", tag = "study visits", security(("bearer" = [])),
    params(("id" = Uuid, Path), Consistency), responses((status = 200, body = VisitView), (status = 404), (status = 503)))]
pub(super) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<VisitView>, ApiError> {
    wait_for(&state, &[MODEL], c.min_position).await?;
    let mut conn = state.pool.acquire().await?;
    let visit = match read::visit(&mut conn, id).await? {
        Some(v) if auth.can_read(&v.organizer) => v,
        // Another organizer's visit answers like one that does not exist.
        _ => return Err(ApiError::NotFound("No such study visit.".into())),
    };
    let terms = read::terms(&mut conn, &[id]).await?;
    Ok(Json(visit_view(visit, terms)?))
}
