//! `/panel/audyt/wizyty/{visit_id}`: a visit's decisions re-derived from its events
//! (`GET /api/v1/audit/study-visits/{id}/verify`) — consistent or not, how many decisions
//! were compared, each discrepancy, and each seat given by hand with who decided, why and
//! whether it checks out; and `/panel/audyt/wizyty/{visit_id}/terminy/{term_id}?chwila=…`:
//! the term's roster as it stood at that moment (`…/roster?at=`), replayed from the
//! events recorded up to then, not read from today's tables.
//!
//! The visit's title and terms come from the API's visit (`GET /api/v1/study-visits/{id}`),
//! read after the verification so a visit the account may not see is 404 before anything
//! else is shown. The form on the visit's page picks a term and a moment;
//! `/panel/audyt/wizyty/{visit_id}/lista` only turns that choice into the roster's address
//! (a form cannot put the term in the path without JavaScript).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use domain::study_visit::{ApplicationStatus, Discrepancy, ManualDecisionCheck, TermStatus};
use domain::values::Institution;
use infra::accounts::User;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::super::api::Api;
use super::common::{
    at_query, failed, may_audit, read, replayed, user_of, AsStood, InstantField, Moment, Refusal,
    INSTANT_HINT,
};
use crate::http::page::{not_found, private, render};
use crate::http::polish;
use crate::http::state::AppState;

/// The API's visit, as far as these pages read it.
#[derive(Deserialize)]
struct Visit {
    title: String,
    #[serde(default)]
    terms: Vec<Term>,
}

#[derive(Deserialize)]
struct Term {
    term_id: Uuid,
    label: String,
}

/// The API's `VisitVerifyView`.
#[derive(Deserialize)]
struct Verification {
    consistent: bool,
    checked: u32,
    #[serde(default)]
    discrepancies: Vec<Discrepancy>,
    #[serde(default)]
    manual_decisions: Vec<ManualDecisionCheck>,
    position: i64,
}

pub struct DiscrepancyRow {
    pub term: String,
    pub application: String,
    pub expected: String,
    pub recorded: String,
    pub problem: Option<String>,
}

pub struct ManualRow {
    pub term: String,
    pub application: Uuid,
    pub decided_by: String,
    pub reason: String,
    pub recorded_by: String,
    pub consistent: bool,
}

pub struct TermOption {
    pub term_id: Uuid,
    pub label: String,
}

#[derive(Template)]
#[template(path = "konsola/audyt_wizyta.html")]
struct VerifyPage {
    visit_id: Uuid,
    title: String,
    consistent: bool,
    checked: u32,
    position: i64,
    discrepancies: Vec<DiscrepancyRow>,
    manual: Vec<ManualRow>,
    terms: Vec<TermOption>,
    moment: InstantField,
    hint: &'static str,
    can_export: bool,
}

fn parse(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// The visit as the API gives it to `user` (waiting for the read model to reach
/// `min_position`), or the page to answer instead (404 for one not theirs).
async fn visit_of(
    api: &Api,
    user: &User,
    headers: &HeaderMap,
    visit_id: Uuid,
    min_position: Option<i64>,
) -> Result<Visit, Response> {
    let path = match min_position {
        Some(p) if p > 0 => format!("/api/v1/study-visits/{visit_id}?min_position={p}"),
        _ => format!("/api/v1/study-visits/{visit_id}"),
    };
    let answer = api.call(user, headers, Method::GET, &path, None).await;
    if !answer.status.is_success() {
        return Err(failed(&answer));
    }
    read(&answer)
}

fn term_label(terms: &[Term], id: Uuid) -> String {
    terms
        .iter()
        .find(|t| t.term_id == id)
        .map_or_else(|| format!("termin {id}"), |t| t.label.clone())
}

/// An actor id as the page says it.
fn actor(a: Option<String>) -> String {
    a.unwrap_or_else(|| "nikt nie został wskazany".to_owned())
}

pub async fn verify(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let Some(visit_id) = parse(&visit_id) else {
        return private(not_found());
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/audit/study-visits/{visit_id}/verify"),
            None,
        )
        .await;
    if !answer.status.is_success() {
        return failed(&answer);
    }
    let report: Verification = match read(&answer) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let visit = match visit_of(&api, &user, &headers, visit_id, Some(report.position)).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let page = VerifyPage {
        visit_id,
        consistent: report.consistent,
        checked: report.checked,
        position: report.position,
        discrepancies: report
            .discrepancies
            .into_iter()
            .map(|d| DiscrepancyRow {
                term: term_label(&visit.terms, d.term_id),
                application: d
                    .application_id
                    .map_or_else(|| "—".to_owned(), |a| a.to_string()),
                expected: d.expected,
                recorded: d.recorded,
                problem: d.problem,
            })
            .collect(),
        manual: report
            .manual_decisions
            .into_iter()
            .map(|m| ManualRow {
                term: term_label(&visit.terms, m.term_id),
                application: m.application_id,
                decided_by: actor(m.decided_by),
                reason: m.reason.unwrap_or_else(|| "nie podano powodu".to_owned()),
                recorded_by: actor(m.recorded_by),
                consistent: m.consistent,
            })
            .collect(),
        terms: visit
            .terms
            .into_iter()
            .map(|t| TermOption {
                term_id: t.term_id,
                label: t.label,
            })
            .collect(),
        title: visit.title,
        moment: InstantField::default(),
        hint: INSTANT_HINT,
        can_export: may_audit(&user),
    };
    private(render(StatusCode::OK, &page))
}

/// What the visit page's roster form sends.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Choice {
    termin: String,
    chwila: String,
}

/// The roster form's choice as the roster's own address.
pub async fn choose(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
    Query(c): Query<Choice>,
) -> Response {
    if let Err(res) = user_of(&state, &headers).await {
        return res;
    }
    let (Some(visit_id), Some(term_id)) = (parse(&visit_id), parse(c.termin.trim())) else {
        return private(not_found());
    };
    let query = serde_urlencoded::to_string([("chwila", c.chwila.as_str())]).unwrap_or_default();
    private(
        Redirect::to(&format!(
            "/panel/audyt/wizyty/{visit_id}/terminy/{term_id}?{query}"
        ))
        .into_response(),
    )
}

/// The API's roster (`RosterView`), as far as the page reads it.
#[derive(Deserialize)]
struct Roster {
    seats: u32,
    seats_left: u32,
    status: TermStatus,
    provisional: bool,
    #[serde(default)]
    allocated: Vec<Entry>,
    #[serde(default)]
    waitlist: Vec<Entry>,
    #[serde(default)]
    passed_over: Vec<Entry>,
    #[serde(default)]
    withdrawn: u32,
    position: i64,
    at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Entry {
    rank: u32,
    institution: Institution,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    rule: String,
    status: ApplicationStatus,
    waitlist_position: Option<u32>,
    reason: Option<String>,
    decided_by: Option<String>,
    offer_expires_at: Option<DateTime<Utc>>,
    /// Only for coordinators and admins, as the API decides.
    person: Option<Value>,
}

pub struct RosterRow {
    pub rank: u32,
    pub person: Option<String>,
    pub institution: String,
    pub nip: String,
    pub status: String,
    pub rule: &'static str,
    pub basis: String,
    /// Who gave the seat by hand and why.
    pub manual: Option<String>,
}

pub struct Section {
    pub title: &'static str,
    pub rows: Vec<RosterRow>,
}

pub struct RosterShown {
    pub at: String,
    pub status: &'static str,
    pub seats: u32,
    pub seats_left: u32,
    pub withdrawn: u32,
    pub provisional: bool,
    pub position: i64,
    pub with_people: bool,
    pub sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "konsola/audyt_lista.html")]
struct RosterPage {
    visit_id: Uuid,
    term_id: Uuid,
    title: String,
    term: String,
    moment: InstantField,
    hint: &'static str,
    roster: Option<RosterShown>,
}

/// The rule behind a decision (the API's `rule`), in words.
fn rule_label(rule: &str) -> &'static str {
    match rule {
        "all_within_seats" => "wszyscy mieszczą się w limicie miejsc",
        "rank_order" => "miejsce według kolejności w rankingu",
        "cap_fill" => "miejsce pozostałe po zastosowaniu limitu instytucji",
        "waitlist" => "zabrakło miejsc — lista rezerwowa",
        "institution_cap" => "limit osób z jednej instytucji",
        "promotion_below_cap" => "awans z listy rezerwowej (instytucja poniżej limitu)",
        "promotion_first_in_line" => "awans z listy rezerwowej (pierwszy w kolejce)",
        "manual" => "decyzja ręczna koordynatora",
        _ => "",
    }
}

fn person_of(p: &Value) -> String {
    match (
        p.get("first_name").and_then(Value::as_str),
        p.get("last_name").and_then(Value::as_str),
    ) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        _ => "(dane usunięte)".to_owned(),
    }
}

fn shown(roster: Roster) -> RosterShown {
    let with_people = roster
        .allocated
        .iter()
        .chain(&roster.waitlist)
        .chain(&roster.passed_over)
        .any(|e| e.person.is_some());
    let rows = |entries: Vec<Entry>| -> Vec<RosterRow> {
        entries
            .into_iter()
            .map(|e| RosterRow {
                rank: e.rank,
                person: e.person.as_ref().map(person_of),
                institution: e.institution.name.as_str().to_owned(),
                nip: e.institution.nip.as_str().to_owned(),
                status: match e.status {
                    ApplicationStatus::Offered => format!(
                        "oferta miejsca do {}",
                        e.offer_expires_at.map(polish::instant).unwrap_or_default()
                    ),
                    s => polish::application_status(s, e.waitlist_position),
                },
                rule: rule_label(&e.rule),
                basis: e.basis,
                manual: match (&e.decided_by, &e.reason) {
                    (Some(who), reason) => Some(format!(
                        "zdecydował(a): {who}; powód: {}",
                        reason.as_deref().unwrap_or("nie podano")
                    )),
                    _ => None,
                },
            })
            .collect()
    };
    RosterShown {
        at: roster.at.map(polish::instant).unwrap_or_default(),
        status: polish::term_status(roster.status),
        seats: roster.seats,
        seats_left: roster.seats_left,
        withdrawn: roster.withdrawn,
        provisional: roster.provisional,
        position: roster.position,
        with_people,
        sections: vec![
            Section {
                title: if roster.provisional {
                    "Mieszczą się w limicie miejsc (ranking wstępny)"
                } else {
                    "Zakwalifikowani"
                },
                rows: rows(roster.allocated),
            },
            Section {
                title: "Lista rezerwowa",
                rows: rows(roster.waitlist),
            },
            Section {
                title: "Pominięci — limit osób z instytucji",
                rows: rows(roster.passed_over),
            },
        ],
    }
}

pub async fn roster(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
    Query(asked): Query<AsStood>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (Some(visit_id), Some(term_id)) = (parse(&visit_id), parse(&term_id)) else {
        return private(not_found());
    };
    let visit = match visit_of(&api, &user, &headers, visit_id, None).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !visit.terms.iter().any(|t| t.term_id == term_id) {
        return private(not_found());
    }
    let mut page = RosterPage {
        visit_id,
        term_id,
        term: term_label(&visit.terms, term_id),
        title: visit.title,
        moment: InstantField::default(),
        hint: INSTANT_HINT,
        roster: None,
    };
    let (at, typed) = match asked.moment() {
        Moment::NotAsked => return private(render(StatusCode::OK, &page)),
        Moment::Invalid(field) => {
            page.moment = field;
            return private(render(StatusCode::BAD_REQUEST, &page));
        }
        Moment::At(at, field) => (at, field),
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!(
                "/api/v1/study-visits/{visit_id}/terms/{term_id}/roster?{}",
                at_query(at)
            ),
            None,
        )
        .await;
    match replayed::<Roster>(
        &answer,
        &typed.value,
        "W tej chwili tego terminu jeszcze nie było: żadne jego zdarzenie nie zostało wtedy zapisane. Podaj późniejszą chwilę.",
    ) {
        Ok(roster) => {
            page.moment = typed;
            page.roster = Some(shown(roster));
            private(render(StatusCode::OK, &page))
        }
        Err(Refusal::Form(field, status)) => {
            page.moment = field;
            private(render(status, &page))
        }
        Err(Refusal::Page(res)) => res,
    }
}
