//! Rosters of visit terms: allocated, waiting list and passed over, each in rank order; the
//! provisional ranking while a term is open; `?at=` as it stood at an instant; CSV export.
//!
//! The live roster is read from the `applications` and `study_visits` read models; `?at=`
//! replays the visit's events up to that instant into the aggregate. Both produce the
//! domain's `Roster`, and the provisional ranking uses the domain's allocation function, so
//! there is one definition of the policy.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use chrono::{DateTime, Utc};
use domain::study_visit::allocation::{self, Candidate, Decision};
use domain::study_visit::{
    ApplicationStatus, DecisionBasis, Preference, Roster, RosterEntry, StudyVisit, StudyVisitEvent,
    TermStatus, PASSED_OVER_REASON,
};
use domain::values::{Institution, Nip, PreferenceCode};
use infra::personal_data::{self, PersonRecord};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::study_visits::{load_visit, VisitView};
use crate::http::auth::Auth;
use crate::http::consistency::{self, wait_for};
use crate::http::extract::{ApiPath, ApiQuery};
use crate::http::history::{history, replay};
use crate::http::problem::ApiError;
use crate::http::spreadsheet;
use crate::http::state::AppState;
use crate::http::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(roster))
        .routes(routes!(roster_csv))
}

/// Projections a roster reads.
pub const ROSTER_PROJECTIONS: &[&str] = &["study_visits", "applications"];

/// Parameters of the roster.
#[derive(Debug, Deserialize, IntoParams)]
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

#[derive(sqlx::FromRow)]
struct ApplicationRow {
    application_id: Uuid,
    subject_id: Uuid,
    institution: serde_json::Value,
    nip: String,
    submission_order: i64,
    status: String,
    basis: Option<serde_json::Value>,
    reason: Option<String>,
    attended: Option<bool>,
}

fn internal<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> ApiError + '_ {
    move |e| ApiError::Internal(format!("{what}: {e}"))
}

fn status_of(s: &str) -> Result<ApplicationStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned()))
        .map_err(internal("application status"))
}

fn term_status(s: &str) -> Result<TermStatus, ApiError> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(internal("term status"))
}

fn entry(
    row: &ApplicationRow,
    basis: &DecisionBasis,
    status: ApplicationStatus,
) -> Result<RosterEntry, ApiError> {
    Ok(RosterEntry {
        application_id: row.application_id,
        subject_id: row.subject_id,
        rank: basis.rank,
        institution: serde_json::from_value(row.institution.clone())
            .map_err(internal("institution"))?,
        preferences_met: basis.preferences_met.clone(),
        basis: basis.describe(),
        rule: basis.rule,
        // Only a manual decision carries a reason; the passed over get theirs later.
        reason: basis.reason.clone(),
        decided_by: basis.decided_by.clone(),
        waitlist_position: None,
        attended: row.attended,
        status,
    })
}

/// The roster of `term_id` from the read models.
pub async fn live_roster(
    state: &AppState,
    visit: &VisitView,
    term_id: Uuid,
) -> Result<Roster, ApiError> {
    let term: Option<(i32, String)> = sqlx::query_as(
        "SELECT seats, status FROM rm_study_visit_terms WHERE term_id = $1 AND visit_id = $2",
    )
    .bind(term_id)
    .bind(visit.id)
    .fetch_optional(&state.pool)
    .await?;
    let (seats, status) = term.ok_or_else(|| ApiError::NotFound("No such term.".into()))?;
    let status = term_status(&status)?;
    let seats = u32::try_from(seats).unwrap_or(0);
    let rows: Vec<ApplicationRow> = sqlx::query_as(
        "SELECT application_id, subject_id, institution, nip, submission_order, status, basis, reason, attended
           FROM rm_applications WHERE term_id = $1 ORDER BY submission_order",
    )
    .bind(term_id)
    .fetch_all(&state.pool)
    .await?;
    let withdrawn = rows.iter().filter(|r| r.status == "withdrawn").count() as u32;
    let mut roster = Roster {
        visit_id: visit.id,
        term_id,
        seats,
        status,
        provisional: status != TermStatus::Closed,
        allocated: vec![],
        waitlist: vec![],
        passed_over: vec![],
        withdrawn,
    };
    if roster.provisional {
        let preferences: Vec<Preference> =
            serde_json::from_value(visit.preferences.clone()).map_err(internal("preferences"))?;
        let mut lists: BTreeMap<PreferenceCode, BTreeSet<Nip>> = BTreeMap::new();
        let listed: Vec<(String, String)> =
            sqlx::query_as("SELECT code, nip FROM rm_preference_lists WHERE visit_id = $1")
                .bind(visit.id)
                .fetch_all(&state.pool)
                .await?;
        for (code, nip) in listed {
            if let (Ok(code), Ok(nip)) = (PreferenceCode::parse(&code), Nip::parse(&nip)) {
                lists.entry(code).or_default().insert(nip);
            }
        }
        let held_rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT a.nip, count(*) FROM rm_applications a JOIN rm_study_visit_terms t USING (term_id)
              WHERE a.visit_id = $1 AND a.term_id <> $2 AND t.status = 'closed' AND a.status = 'allocated'
              GROUP BY a.nip",
        )
        .bind(visit.id)
        .bind(term_id)
        .fetch_all(&state.pool)
        .await?;
        let held: HashMap<Nip, u32> = held_rows
            .into_iter()
            .filter_map(|(nip, n)| Nip::parse(&nip).ok().map(|nip| (nip, n as u32)))
            .collect();
        let live: Vec<&ApplicationRow> = rows.iter().filter(|r| r.status == "submitted").collect();
        let mut candidates = Vec::with_capacity(live.len());
        for r in &live {
            let nip = Nip::parse(&r.nip).map_err(|e| ApiError::Internal(e.message))?;
            let preferences_met = allocation::preferences_met(&nip, &preferences, &lists);
            candidates.push(Candidate {
                application_id: r.application_id,
                nip,
                order: r.submission_order as u64,
                preferences_met,
            });
        }
        let ranked = allocation::rank(candidates);
        let max = visit.max_per_institution.map(|m| m as u32);
        let outcome = allocation::allocate(&ranked, seats, max, &held);
        let by_id: HashMap<Uuid, &ApplicationRow> =
            live.iter().map(|r| (r.application_id, *r)).collect();
        let to_entries = |ds: &[Decision]| -> Result<Vec<RosterEntry>, ApiError> {
            ds.iter()
                .filter_map(|d| {
                    by_id
                        .get(&d.application_id)
                        .map(|r| entry(r, &d.basis, ApplicationStatus::Submitted))
                })
                .collect()
        };
        roster.allocated = to_entries(&outcome.allocated)?;
        roster.waitlist = to_entries(&outcome.waitlist)?;
        roster.passed_over = to_entries(&outcome.passed_over)?;
    } else {
        let mut decided = Vec::new();
        for r in &rows {
            if let Some(b) = &r.basis {
                let basis: DecisionBasis =
                    serde_json::from_value(b.clone()).map_err(internal("decision basis"))?;
                decided.push((r, basis));
            }
        }
        decided.sort_by_key(|(r, b)| (b.rank, r.submission_order));
        for (r, basis) in &decided {
            let status = status_of(&r.status)?;
            let mut e = entry(r, basis, status)?;
            match status {
                ApplicationStatus::Allocated => roster.allocated.push(e),
                ApplicationStatus::Waitlisted => roster.waitlist.push(e),
                ApplicationStatus::PassedOver => {
                    e.reason = Some(
                        r.reason
                            .clone()
                            .unwrap_or_else(|| PASSED_OVER_REASON.to_owned()),
                    );
                    roster.passed_over.push(e);
                }
                _ => {}
            }
        }
    }
    for (e, pos) in roster.waitlist.iter_mut().zip(1u32..) {
        e.waitlist_position = Some(pos);
    }
    for e in &mut roster.passed_over {
        if e.reason.is_none() {
            e.reason = Some(PASSED_OVER_REASON.to_owned());
        }
    }
    Ok(roster)
}

/// Replays a study visit's events (optionally only those recorded up to `at`), decoded
/// through the upcasters; answers the visit, its events and the position of the last one.
pub async fn replay_visit(
    state: &AppState,
    visit_id: Uuid,
    at: Option<DateTime<Utc>>,
) -> Result<(StudyVisit, Vec<StudyVisitEvent>, i64), ApiError> {
    let events = history::<StudyVisit>(state, &visit_id.to_string(), at, None).await?;
    let replayed = replay::<StudyVisit>(&events);
    Ok((
        replayed.aggregate,
        events.into_iter().map(|e| e.event).collect(),
        replayed.position,
    ))
}

/// Turns a domain roster into its API form, with people for coordinators.
pub fn view(
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

async fn build(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
    term_id: Uuid,
    params: &RosterParams,
) -> Result<RosterView, ApiError> {
    wait_for(state, ROSTER_PROJECTIONS, params.min_position).await?;
    let visit = load_visit(state, auth, id).await?;
    let (roster, position, at) = match &params.at {
        Some(at) => {
            let at = validate::instant(at).map_err(|e| ApiError::bad_param("at", e.message))?;
            let (replayed, _, position) = replay_visit(state, id, Some(at)).await?;
            let roster = replayed.roster(term_id).ok_or_else(|| {
                ApiError::NotFound("The term did not exist at that instant.".into())
            })?;
            (roster, position, Some(at))
        }
        None => (
            live_roster(state, &visit, term_id).await?,
            consistency::position(state, "applications").await?,
            None,
        ),
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
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, body = RosterView), (status = 400), (status = 401), (status = 404), (status = 503)))]
async fn roster(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((id, term_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(params): ApiQuery<RosterParams>,
) -> Result<Json<RosterView>, ApiError> {
    Ok(Json(build(&state, &auth, id, term_id, &params).await?))
}

/// The roster as CSV for spreadsheet programs (see `crate::http::spreadsheet`: UTF-8 with a BOM,
/// `;`-separated, formulas neutralised), one line per entry, lists in order.
#[utoipa::path(get, path = "/api/v1/study-visits/{id}/terms/{term_id}/roster.csv", tag = "rosters",
    security(("bearer" = [])), params(("id" = Uuid, Path), ("term_id" = Uuid, Path), RosterParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 400), (status = 401), (status = 404), (status = 503)))]
async fn roster_csv(
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
