//! The schedule as JSON: the entries of a year the caller may see, grouped by month.

use axum::extract::State;
use axum::Json;
use domain::cooperation_program::ActivityKind;
use domain::values::PlannedDate;
use projections::schedule::read::{self, Entry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{IntoParams, PartialSchema, ToSchema};
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
    #[param(minimum = 1990, maximum = 2100, example = 2020)]
    pub year: i32,
    /// Only this organizer (slug); tokens scoped to an organizer see only their own (another
    /// organizer's is answered as empty).
    pub organizer: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// A string schema admitting exactly `values`.
fn closed_set<V: Into<Value>>(
    description: &str,
    values: impl IntoIterator<Item = V>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Declares a schema (named as the type) of a closed set of strings.
macro_rules! closed_set {
    ($name:ident, $description:literal, $values:expr) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                closed_set($description, $values)
            }
        }

        impl ToSchema for $name {}
    };
}

closed_set!(
    ScheduleSource,
    "What an entry comes from: a programme's activity (`program`), a study visit's term (`study_visit`) or a network's meeting (`network`).",
    ["program", "study_visit", "network"]
);

// The kinds are the programmes' activity kinds, as the domain spells them: a visit's term is
// `study_visit`, a network's meeting `meeting`.
closed_set!(
    ScheduleKind,
    "The kind of the entry: a programme activity's kind; a study visit's term is `study_visit`, a network's meeting `meeting`.",
    ActivityKind::ALL.map(ActivityKind::as_str)
);

closed_set!(
    ScheduleStatus,
    "`planned`, `held` (an activity recorded as held, a term with attendance, every network meeting) or `cancelled`.",
    ["planned", "held", "cancelled"]
);

/// One thing in the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleEntry {
    /// Stable id of the entry (an activity, a term, a meeting): the iCalendar UID.
    #[serde(skip)]
    pub entry_id: Uuid,
    #[schema(value_type = ScheduleSource)]
    pub source: String,
    /// The programme, study visit or network it belongs to.
    pub source_id: Uuid,
    pub title: String,
    #[schema(value_type = ScheduleKind)]
    pub kind: String,
    /// When, at the precision recorded (a held activity: the days it took place).
    #[schema(value_type = crate::http::openapi::PlannedDate)]
    pub when: PlannedDate,
    #[schema(value_type = ScheduleStatus)]
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
    /// `YYYY-MM`: the entries start in it.
    #[schema(pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2020-05")]
    pub month: String,
    pub entries: Vec<ScheduleEntry>,
}

/// The calendar of a year.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    /// The year asked for.
    #[schema(minimum = 1990, maximum = 2100)]
    pub year: i32,
    /// The months with entries, in order (months without any are left out).
    pub months: Vec<ScheduleMonth>,
}

/// The schedule of a year across programmes, study visits and networks.
#[utoipa::path(get, path = "/api/v1/schedule", operation_id = "get_schedule", tag = "schedule", security(("bearer" = [])), params(ScheduleParams),
    responses(
        (status = 200, body = ScheduleView, description = "The year's entries the token may see, by month, in calendar order."),
        (status = 400, description = "`year` is missing or not between 1990 and 2100, or `min_position` is negative.")))]
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
            "out_of_range",
            "must be a year between 1990 and 2100",
        ));
    }
    wait_for(state, &["schedule"], p.min_position).await?;
    let organizer = match (auth.read_scope(), p.organizer.clone()) {
        (Some(own), Some(asked)) if own != asked => return Ok(Vec::new()),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let mut conn = state.reads().acquire().await?;
    let entries = read::year(&mut conn, p.year, organizer.as_deref()).await?;
    Ok(entries.into_iter().map(ScheduleEntry::from).collect())
}
