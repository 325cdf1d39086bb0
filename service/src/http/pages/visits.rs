//! `GET /wizyty[?organizer=ID]`: the open recruitments; `GET /wizyty/{visit_id}`: a visit,
//! who may apply and which preferences count, its terms with their dates (or "planowany:
//! połowa lipca 2022"), seats, deadlines and state, and the form of each open term.
//! Everything is public: what a ROPS announces, nobody's personal data.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use domain::study_visit::TermStatus;
use domain::values::InstitutionType;
use projections::study_visits::read::{self, Term, Visit};
use serde::Deserialize;
use uuid::Uuid;

use crate::http::page::{not_found, render, service_error};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// A term as the pages show it.
pub struct TermLine {
    pub id: Uuid,
    pub label: String,
    /// Its days, or what is planned.
    pub when: String,
    pub seats: u32,
    pub seats_left: u32,
    /// The recruitment deadline in words, or a dash.
    pub deadline: String,
    pub status: &'static str,
    /// Whether its form takes applications now.
    pub open: bool,
}

/// Whether `t` takes applications at `now`: open, and its deadline not passed.
pub fn takes_applications(t: &Term, now: chrono::DateTime<chrono::Utc>) -> bool {
    t.status == TermStatus::Open && t.recruitment_deadline.is_none_or(|d| now < d)
}

pub use crate::http::polish::term_when;

/// The term as shown on the pages.
pub fn term_line(t: &Term, now: chrono::DateTime<chrono::Utc>) -> TermLine {
    let open = takes_applications(t, now);
    TermLine {
        id: t.term_id,
        label: t.label.clone(),
        when: term_when(t),
        seats: t.seats,
        seats_left: t
            .seats
            .saturating_sub(u32::try_from(t.allocated).unwrap_or(0)),
        deadline: t
            .recruitment_deadline
            .map(polish::instant)
            .unwrap_or_else(|| "—".to_owned()),
        status: if t.status == TermStatus::Open && !open {
            "termin zgłoszeń minął"
        } else {
            polish::term_status(t.status)
        },
        open,
    }
}

/// A visit in the list, with its terms that take applications.
struct VisitCard {
    id: Uuid,
    title: String,
    destination: String,
    organizer: String,
    open_terms: Vec<TermLine>,
}

#[derive(Template)]
#[template(path = "strony/wizyty.html")]
struct OpenRecruitments {
    visits: Vec<VisitCard>,
}

/// `?organizer=`: one organizer's recruitments.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    organizer: Option<String>,
}

pub async fn open_recruitments(
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> Response {
    match list(&state, p.organizer.as_deref()).await {
        Ok(page) => render(StatusCode::OK, &page),
        Err(e) => service_error(e),
    }
}

async fn list(state: &AppState, organizer: Option<&str>) -> Result<OpenRecruitments, ApiError> {
    let mut conn = state.reads().acquire().await?;
    let visits = read::visits(&mut conn, organizer.filter(|o| !o.is_empty())).await?;
    let ids: Vec<Uuid> = visits.iter().map(|v| v.visit_id).collect();
    let terms = read::terms(&mut conn, &ids).await?;
    let now = state.clock.now();
    let cards = visits
        .into_iter()
        .map(|v| VisitCard {
            open_terms: terms
                .iter()
                .filter(|t| t.visit_id == v.visit_id && takes_applications(t, now))
                .map(|t| term_line(t, now))
                .collect(),
            id: v.visit_id,
            title: v.title,
            destination: v.destination,
            organizer: v.organizer,
        })
        .filter(|c| !c.open_terms.is_empty())
        .collect();
    Ok(OpenRecruitments { visits: cards })
}

#[derive(Template)]
#[template(path = "strony/wizyta.html")]
struct VisitPage {
    id: Uuid,
    title: String,
    destination: String,
    organizer: String,
    description: String,
    funding: Option<String>,
    eligible: Vec<String>,
    max_per_institution: Option<u32>,
    preferences: Vec<String>,
    terms: Vec<TermLine>,
}

/// Who may apply, in words: each eligible type, and for PES the kinds it admits.
pub fn eligible_types(v: &Visit) -> Vec<InstitutionType> {
    let mut types: Vec<InstitutionType> = v
        .eligible_institution_types
        .iter()
        .filter_map(|t| InstitutionType::parse(t).ok())
        .collect();
    if types.contains(&InstitutionType::PES) {
        for kind in InstitutionType::ALL {
            if kind.is_kind_of_pes() && !types.contains(&kind) {
                types.push(kind);
            }
        }
    }
    types
}

pub async fn visit(State(state): State<AppState>, Path(visit_id): Path<String>) -> Response {
    let Ok(visit_id) = Uuid::parse_str(&visit_id) else {
        return not_found();
    };
    match visit_page(&state, visit_id).await {
        Ok(Some(page)) => render(StatusCode::OK, &page),
        Ok(None) => not_found(),
        Err(e) => service_error(e),
    }
}

async fn visit_page(state: &AppState, visit_id: Uuid) -> Result<Option<VisitPage>, ApiError> {
    let mut conn = state.reads().acquire().await?;
    let Some(v) = read::visit(&mut conn, visit_id).await? else {
        return Ok(None);
    };
    let terms = read::terms(&mut conn, &[visit_id]).await?;
    let now = state.clock.now();
    Ok(Some(VisitPage {
        id: v.visit_id,
        funding: v.funding.as_ref().and_then(polish::funding_line),
        eligible: eligible_types(&v)
            .into_iter()
            .map(|t| polish::institution_type(t).to_owned())
            .collect(),
        max_per_institution: v.max_per_institution,
        preferences: v
            .preferences
            .iter()
            .map(|p| p.label.as_str().to_owned())
            .collect(),
        terms: terms.iter().map(|t| term_line(t, now)).collect(),
        title: v.title,
        destination: v.destination,
        organizer: v.organizer,
        description: v.description,
    }))
}
