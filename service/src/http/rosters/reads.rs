//! The roster of a term and its CSV export: one read, live or as of an instant, turned into
//! the API's view (with people for the callers entitled to them).

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::study_visit::{ApplicationStatus, Roster, RosterEntry};
use domain::values::{Institution, PreferenceCode};
use infra::personal_data::{self, PersonRecord};
use projections::applications::{self, read::ROSTER_MODELS, Applications};
use projections::study_visits::{self, StudyVisits};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::problem::ApiError;
use crate::http::spreadsheet;
use crate::http::state::AppState;
use crate::http::validate;

/// Parameters of the roster.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RosterParams {
    /// RFC 3339 instant: the roster as it stood then (replayed from the events).
    pub at: Option<String>,
    pub min_position: Option<i64>,
}

/// A person as shown to coordinators; `{"erased": true}` once erased.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum PersonView {
    Known {
        first_name: String,
        last_name: String,
        email: String,
    },
    Erased {
        erased: bool,
    },
}

/// One line of a roster.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterEntryView {
    pub application_id: Uuid,
    pub rank: u32,
    #[schema(value_type = Object)]
    pub institution: Institution,
    #[schema(value_type = Vec<String>)]
    pub preferences_met: Vec<PreferenceCode>,
    /// Why this decision, in words.
    pub basis: String,
    /// The rule of DOMAIN.md that decided it.
    pub rule: String,
    #[schema(value_type = String)]
    pub status: ApplicationStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist_position: Option<u32>,
    /// `institution_cap` for the passed over; the coordinator's reason for a seat given by hand.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who gave a seat by hand (an actor id: a token id, never a name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attended: Option<bool>,
    /// Only for coordinator and admin tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<PersonView>,
}

/// The roster of a term (API.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterView {
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub seats: u32,
    pub seats_left: u32,
    pub status: String,
    pub provisional: bool,
    pub allocated: Vec<RosterEntryView>,
    pub waitlist: Vec<RosterEntryView>,
    pub passed_over: Vec<RosterEntryView>,
    pub withdrawn: u32,
    /// Seats held per institution (NIP) in this term.
    pub per_institution: BTreeMap<String, u32>,
    pub position: i64,
    /// Set when the roster was replayed as of an instant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// Turns a domain roster into its API form, with people for coordinators.
fn view(
    roster: &Roster,
    people: Option<&HashMap<Uuid, PersonRecord>>,
    position: i64,
    at: Option<DateTime<Utc>>,
) -> RosterView {
    let person = |id: Uuid| {
        people.map(|p| match p.get(&id) {
            Some(r) => PersonView::Known {
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
                email: r.email.clone(),
            },
            None => PersonView::Erased { erased: true },
        })
    };
    let entries = |es: &[RosterEntry]| -> Vec<RosterEntryView> {
        es.iter()
            .map(|e| RosterEntryView {
                application_id: e.application_id,
                rank: e.rank,
                institution: e.institution.clone(),
                preferences_met: e.preferences_met.clone(),
                basis: e.basis.clone(),
                rule: e.rule.as_str().to_owned(),
                status: e.status,
                waitlist_position: e.waitlist_position,
                reason: e.reason.clone(),
                decided_by: e.decided_by.clone(),
                attended: e.attended,
                person: person(e.application_id),
            })
            .collect()
    };
    let mut per_institution = BTreeMap::new();
    for e in &roster.allocated {
        *per_institution
            .entry(e.institution.nip.as_str().to_owned())
            .or_insert(0) += 1;
    }
    RosterView {
        visit_id: roster.visit_id,
        term_id: roster.term_id,
        seats: roster.seats,
        seats_left: roster.seats_left(),
        status: serde_json::to_value(roster.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        provisional: roster.provisional,
        allocated: entries(&roster.allocated),
        waitlist: entries(&roster.waitlist),
        passed_over: entries(&roster.passed_over),
        withdrawn: roster.withdrawn,
        per_institution,
        position,
        at,
    }
}

/// The roster `params` ask for: live, or as it stood at `params.at`, replayed from the
/// visit's events recorded up to then into copies of the read models and read with the same
/// query. The visit must be one the caller may read now (else 404, whatever `at` says).
async fn build(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    term_id: Uuid,
    params: &RosterParams,
) -> Result<RosterView, ApiError> {
    wait_for(state, ROSTER_MODELS, params.min_position).await?;
    let mut conn = state.pool.acquire().await?;
    match study_visits::read::visit(&mut conn, id).await? {
        Some(v) if auth.can_read(&v.organizer) => {}
        _ => return Err(ApiError::NotFound("No such study visit.".into())),
    }
    let (roster, position, at) = match &params.at {
        Some(at) => {
            drop(conn);
            let at = validate::instant(at).map_err(|e| ApiError::bad_param("at", e.message))?;
            let events = infra::feed::aggregate_events(
                &state.pool,
                projections::events::STUDY_VISIT,
                &id.to_string(),
                Some(at),
                None,
            )
            .await?;
            let mut replayed =
                projections::replay(&state.pool, &[&StudyVisits, &Applications], events).await?;
            // No term (or no visit yet) in what had been recorded by then.
            let roster = applications::read::roster(replayed.conn(), id, term_id)
                .await?
                .ok_or_else(|| {
                    ApiError::NotFound("The term did not exist at that instant.".into())
                })?;
            (roster, replayed.position, Some(at))
        }
        None => {
            let roster = applications::read::roster(&mut conn, id, term_id)
                .await?
                .ok_or_else(|| ApiError::NotFound("No such term.".into()))?;
            drop(conn);
            let position = consistency::position(state, applications::read::MODEL).await?;
            (roster, position, None)
        }
    };
    let people = if auth.sees_personal_data() {
        let ids: Vec<Uuid> = roster
            .allocated
            .iter()
            .chain(&roster.waitlist)
            .chain(&roster.passed_over)
            .map(|e| e.application_id)
            .collect();
        Some(personal_data::people(&state.pool, &ids).await?)
    } else {
        None
    };
    Ok(view(&roster, people.as_ref(), position, at))
}

/// The roster of a term (provisional while open).
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster", operation_id = "get_roster", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, body = RosterView), (status = 400), (status = 401), (status = 404), (status = 503)))]
pub(super) async fn roster(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Json<RosterView>, ApiError> {
    Ok(Json(build(&state, &auth, id, term_id, &params).await?))
}

/// The roster as CSV for spreadsheet programs (UTF-8 with a BOM, `;`-separated, formulas
/// neutralised), one line per entry, lists in order.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster.csv", operation_id = "get_roster_csv", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 401), (status = 404), (status = 503)))]
pub(super) async fn roster_csv(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Response, ApiError> {
    let r = build(&state, &auth, id, term_id, &params).await?;
    let mut w = spreadsheet::writer();
    let mut header = vec![
        "list",
        "rank",
        "waitlist_position",
        "application_id",
        "institution_name",
        "institution_type",
        "nip",
        "preferences_met",
        "rule",
        "basis",
        "reason",
        "attended",
    ];
    if auth.sees_personal_data() {
        header.extend(["first_name", "last_name", "email"]);
    }
    spreadsheet::write(&mut w, &header)?;
    for (list, entries) in [
        ("allocated", &r.allocated),
        ("waitlist", &r.waitlist),
        ("passed_over", &r.passed_over),
    ] {
        for e in entries {
            let mut rec = vec![
                list.to_owned(),
                e.rank.to_string(),
                e.waitlist_position
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                e.application_id.to_string(),
                spreadsheet::text(e.institution.name.as_str()).into_owned(),
                e.institution.kind.as_str().to_owned(),
                e.institution.nip.as_str().to_owned(),
                e.preferences_met
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                e.rule.clone(),
                spreadsheet::text(&e.basis).into_owned(),
                spreadsheet::text(e.reason.as_deref().unwrap_or_default()).into_owned(),
                e.attended.map(|a| a.to_string()).unwrap_or_default(),
            ];
            if auth.sees_personal_data() {
                match &e.person {
                    Some(PersonView::Known {
                        first_name,
                        last_name,
                        email,
                    }) => rec.extend([
                        spreadsheet::text(first_name).into_owned(),
                        spreadsheet::text(last_name).into_owned(),
                        spreadsheet::text(email).into_owned(),
                    ]),
                    _ => rec.extend(["(erased)".to_owned(), String::new(), String::new()]),
                }
            }
            spreadsheet::write(&mut w, &rec)?;
        }
    }
    spreadsheet::download(w, &format!("roster-{term_id}.csv"))
}
