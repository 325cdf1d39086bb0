//! The visits list and a visit's detail, from the `study_visits` read model, each visit with
//! its terms; scoped to the organizers the caller may read.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use domain::study_visit::{Funding, Preference, TermStatus};
use domain::values::PlannedDate;
use projections::study_visits::read::{self, Term, Visit, MODEL};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::schemas;
use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for, Consistency};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::state::{AppState, SiteInfo};
use crate::http::submission;

/// A term as listed. Every field is always present; the dates and the deadline are null
/// while the term is only planned.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermView {
    pub term_id: Uuid,
    /// How people call it, e.g. `I termin`.
    pub label: String,
    /// Seats on offer.
    #[schema(minimum = 1)]
    pub seats: i32,
    #[schema(value_type = crate::http::openapi::TermStatus)]
    pub status: TermStatus,
    /// When the term was planned for, while (and after) it was only planned; null for a
    /// term scheduled with its dates.
    #[schema(value_type = Option<crate::http::openapi::PlannedDate>, required = true)]
    pub planned: Option<PlannedDate>,
    /// The first day, once fixed.
    #[schema(required = true)]
    pub starts_on: Option<NaiveDate>,
    /// The last day, once fixed.
    #[schema(required = true)]
    pub ends_on: Option<NaiveDate>,
    /// When recruitment closes by itself, once fixed.
    #[schema(required = true)]
    pub recruitment_deadline: Option<DateTime<Utc>>,
    /// The deadline as people read it (Europe/Warsaw, `YYYY-MM-DD HH:MM`).
    #[schema(
        required = true,
        pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$",
        example = "2022-06-23 11:00"
    )]
    pub recruitment_deadline_local: Option<String>,
    /// Live applications (submitted and not withdrawn).
    #[schema(minimum = 0)]
    pub candidates: i32,
    /// Seats held (allocated, not released); a seat given by hand may take it above `seats`.
    #[schema(minimum = 0)]
    pub allocated: i32,
    /// Seats not taken (0 when `allocated` is at or above `seats`).
    #[schema(minimum = 0)]
    pub seats_left: i32,
}

/// A visit with its terms. Every field is always present.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    /// The organizer (slug) that runs it.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", example = "rops-torun")]
    pub organizer: String,
    pub title: String,
    pub destination: String,
    pub description: String,
    /// The institution types that may apply, in the order announced (a repeat counted once).
    #[schema(value_type = Vec<crate::http::openapi::InstitutionType>)]
    pub eligible_institution_types: Vec<String>,
    /// The cap on seats per institution across the visit; null = no cap.
    #[schema(required = true, minimum = 1, maximum = 1000)]
    pub max_per_institution: Option<i32>,
    /// The preferences in their order of importance.
    #[schema(value_type = Vec<schemas::Preference>)]
    pub preferences: Vec<Preference>,
    /// The EU funding reference; null when the visit is not project-funded.
    #[schema(value_type = Option<schemas::Funding>, required = true)]
    pub funding: Option<Funding>,
    /// When the announcement was recorded.
    pub announced_at: DateTime<Utc>,
    /// The information clause (RODO art. 13) its applicants are shown now: a client that
    /// takes applications must show `text` and may send `version` with them.
    pub information_clause: ClauseView,
    /// Hours a seat freed after the close is offered to the next person waiting; null:
    /// promotions allocate at once.
    #[schema(required = true, minimum = 1, maximum = 720)]
    pub offer_hours: Option<u32>,
    /// Its terms, in the order they were scheduled.
    pub terms: Vec<TermView>,
}

/// A visit's information clause.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClauseView {
    /// The version id applications record.
    pub version: String,
    /// The full text; an empty line separates paragraphs.
    pub text: String,
    /// Whether it is the service's default (the coordinator set none).
    pub default: bool,
}

/// Visits list.
#[derive(Debug, Serialize, ToSchema)]
pub struct VisitList {
    pub visits: Vec<VisitView>,
    /// Where the read model stood (0 when another organizer's visits were asked for).
    #[schema(minimum = 0)]
    pub position: i64,
}

/// Filters of the visits list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only this organizer's visits (a slug such as `rops-torun`). A token bound to
    /// another organizer gets an empty list.
    pub organizer: Option<String>,
    /// Answer only once the read model has processed this position (waits up to 5 s).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

fn term_view(t: Term) -> TermView {
    let seats = i32::try_from(t.seats).unwrap_or(i32::MAX);
    TermView {
        term_id: t.term_id,
        label: t.label,
        seats,
        status: t.status,
        planned: t.planned,
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
    }
}

/// `visit` with its `terms`, in their order.
fn visit_view(visit: Visit, terms: Vec<Term>, site: &SiteInfo) -> VisitView {
    let clause = submission::clause_of(&visit, site);
    VisitView {
        id: visit.visit_id,
        organizer: visit.organizer,
        title: visit.title,
        destination: visit.destination,
        description: visit.description,
        eligible_institution_types: visit.eligible_institution_types,
        max_per_institution: visit
            .max_per_institution
            .map(|m| i32::try_from(m).unwrap_or(i32::MAX)),
        preferences: visit.preferences,
        funding: visit.funding,
        announced_at: visit.announced_at,
        offer_hours: visit.offer_hours,
        information_clause: ClauseView {
            version: clause.version,
            text: clause.text,
            default: clause.default,
        },
        terms: terms.into_iter().map(term_view).collect(),
    }
}

/// List the visits the caller may read.
#[utoipa::path(get, path = "/api/v1/study-visits", operation_id = "list_study_visits", tag = "study visits", security(("bearer" = [])),
    params(ListParams), responses((status = 200, body = VisitList, description = "The visits of the organizers the token may read (all for an admin or an evaluator without an organizer), each with its terms.")))]
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
    let mut conn = state.reads().acquire().await?;
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
            visit_view(v, own, &state.site)
        })
        .collect();
    let position = consistency::position(&state, MODEL).await?;
    Ok(Json(VisitList { visits, position }))
}

/// One visit with its terms.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}", operation_id = "get_study_visit", tag = "study visits", security(("bearer" = [])),
    params(("id" = Uuid, Path), Consistency),
    responses((status = 200, body = VisitView, description = "The visit with its policy and its terms."),
        (status = 404, description = "No such visit, or another organizer's.")))]
pub(super) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(c): ApiQuery<Consistency>,
) -> Result<Json<VisitView>, ApiError> {
    wait_for(&state, &[MODEL], c.min_position).await?;
    let mut conn = state.reads().acquire().await?;
    let visit = match read::visit(&mut conn, id).await? {
        Some(v) if auth.can_read(&v.organizer) => v,
        // Another organizer's visit answers like one that does not exist.
        _ => return Err(ApiError::NotFound("No such study visit.".into())),
    };
    let terms = read::terms(&mut conn, &[id]).await?;
    Ok(Json(visit_view(visit, terms, &state.site)))
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use domain::study_visit::{Funding, Preference, PreferenceKind, TermStatus};
    use domain::values::{NonEmptyText, PlannedDate, PreferenceCode};
    use projections::study_visits::read::{Term, Visit};
    use uuid::Uuid;

    use super::visit_view;

    fn term(visit_id: Uuid, planned: Option<PlannedDate>, status: TermStatus) -> Term {
        let dated = planned.is_none();
        Term {
            visit_id,
            term_id: Uuid::now_v7(),
            label: "I termin".into(),
            seats: 25,
            status,
            planned,
            starts_on: dated
                .then(|| NaiveDate::from_ymd_opt(2022, 6, 27))
                .flatten(),
            ends_on: dated
                .then(|| NaiveDate::from_ymd_opt(2022, 6, 28))
                .flatten(),
            recruitment_deadline: dated.then(Utc::now),
            candidates: 30,
            allocated: 26,
        }
    }

    #[test]
    fn a_visit_with_dated_and_planned_terms_serializes_as_described() {
        let visit_id = Uuid::now_v7();
        let visit = |funding| Visit {
            visit_id,
            organizer: "rops-torun".into(),
            title: "Wizyta studyjna".into(),
            destination: "województwo wielkopolskie".into(),
            description: String::new(),
            eligible_institution_types: vec!["JST".into(), "PES".into()],
            max_per_institution: Some(2),
            preferences: vec![Preference {
                code: PreferenceCode::parse("new_to_project").expect("code"),
                label: NonEmptyText::parse("Nowe w projekcie").expect("label"),
                kind: PreferenceKind::NotListed,
            }],
            funding,
            announced_at: Utc::now(),
            information_clause: None,
            offer_hours: None,
        };
        let planned: Vec<PlannedDate> = [
            r#"{"day": "2020-02-07"}"#,
            r#"{"from": "2020-05-07", "to": "2020-05-08"}"#,
            r#"{"month": "2020-02"}"#,
            r#"{"month": "2020-09", "part": "late"}"#,
        ]
        .iter()
        .map(|p| serde_json::from_str(p).expect("a planned date"))
        .collect();
        let mut terms = vec![term(visit_id, None, TermStatus::Closed)];
        terms.extend(
            planned
                .into_iter()
                .map(|p| term(visit_id, Some(p), TermStatus::Planned)),
        );
        for funding in [None, Some(Funding::default())] {
            let v = serde_json::to_value(visit_view(
                visit(funding),
                terms.clone(),
                &crate::http::state::SiteInfo::default(),
            ))
            .expect("json");
            ::tests::contract::check_schema("VisitView", &v).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
