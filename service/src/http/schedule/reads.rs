//! The schedule as JSON: the entries of a year the caller may see, grouped by month.

use axum::extract::State;
use axum::Json;
use domain::values::PlannedDate;
use projections::schedule::read::{self, Entry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::wait_for;
use crate::http::extract::ApiQuery;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// Which year and whose.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleParams {
    /// The calendar year, e.g. 2020.
    pub year: i32,
    /// Only this organizer (slug); tokens scoped to an organizer see only their own.
    pub organizer: Option<String>,
    pub min_position: Option<i64>,
}

/// One thing in the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleEntry {
    /// Stable id of the entry (an activity, a term, a meeting): the iCalendar UID.
    #[serde(skip)]
    pub entry_id: Uuid,
    /// program | study_visit | network
    pub source: String,
    pub source_id: Uuid,
    pub title: String,
    pub kind: String,
    /// A PlannedDate: `{"day"}`, `{"from","to"}`, `{"month"}` or `{"month","part"}`.
    #[schema(value_type = Object)]
    pub when: PlannedDate,
    /// planned | held | cancelled
    pub status: String,
    #[serde(skip)]
    pub month: String,
}

impl From<Entry> for ScheduleEntry {
    fn from(e: Entry) -> Self {
        Self {
            entry_id: e.entry_id,
            source: e.source,
            source_id: e.source_id,
            title: e.title,
            kind: e.kind,
            when: e.when,
            status: e.status,
            month: e.month,
        }
    }
}

/// One month of the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleMonth {
    /// `YYYY-MM`
    pub month: String,
    pub entries: Vec<ScheduleEntry>,
}

/// The calendar of a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub year: i32,
    pub months: Vec<ScheduleMonth>,
}

/// The schedule of a year across programmes, study visits and networks.
#[utoipa::path(get, path = "/api/v1/schedule", operation_id = "get_schedule", tag = "schedule", security(("bearer" = [])), params(ScheduleParams),
    responses((status = 200, body = ScheduleView), (status = 400), (status = 401), (status = 503)))]
pub async fn schedule(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ScheduleParams>,
) -> Result<Json<ScheduleView>, ApiError> {
    let entries = entries(&state, &auth, &p).await?;
    let mut months: Vec<ScheduleMonth> = Vec::new();
    for e in entries {
        match months.last_mut() {
            Some(m) if m.month == e.month => m.entries.push(e),
            _ => months.push(ScheduleMonth {
                month: e.month.clone(),
                entries: vec![e],
            }),
        }
    }
    Ok(Json(ScheduleView {
        year: p.year,
        months,
    }))
}

/// The entries of the year the caller may see, in calendar order (shared with the
/// iCalendar export, so both answer the same scope).
pub async fn entries(
    state: &AppState,
    auth: &Auth,
    p: &ScheduleParams,
) -> Result<Vec<ScheduleEntry>, ApiError> {
    if !(1990..=2100).contains(&p.year) {
        return Err(ApiError::bad_param(
            "year",
            "must be a year between 1990 and 2100",
        ));
    }
    wait_for(state, &["schedule"], p.min_position).await?;
    let organizer = match (auth.read_scope(), p.organizer.clone()) {
        (Some(own), Some(asked)) if own != asked => return Ok(Vec::new()),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let mut conn = state.pool.acquire().await?;
    let entries = read::year(&mut conn, p.year, organizer.as_deref()).await?;
    Ok(entries.into_iter().map(ScheduleEntry::from).collect())
}
