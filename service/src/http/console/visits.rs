//! `/panel/wizyty/{visit_id}`: a visit in the console — its terms, their state, and for a
//! coordinator (or admin) opening and closing their recruitment; and
//! `/panel/wizyty/{visit_id}/terminy/{term_id}`: the term's roster with names (the
//! provisional ranking while open), the basis of every decision. Commands go through the
//! same command bus as the API's, with the signed-in account as the actor (`user:<id>`)
//! and its organizer as the scope, so another organizer's visit is 404 as in the API.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::study_visit::{
    ApplicationStatus, CloseTrigger, PreferenceKind, RosterEntry, StudyVisitCommand, TermStatus,
};
use infra::accounts::User;
use infra::tokens::Role;
use projections::study_visits::read as visits;
use serde::Deserialize;
use uuid::Uuid;

use super::scope;
use super::session;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;

/// What a term's row offers to do.
pub struct Action {
    pub path: &'static str,
    pub label: &'static str,
}

pub struct TermRow {
    pub term_id: Uuid,
    pub label: String,
    pub when: String,
    pub status: &'static str,
    pub seats: u32,
    pub candidates: i32,
    pub provisional: bool,
    pub action: Option<Action>,
    /// Whether its dates may be set or fixed (before the close).
    pub dates_editable: bool,
    pub planned_only: bool,
}

pub struct PreferenceRow {
    pub code: String,
    pub label: String,
    pub kind: &'static str,
    pub count: usize,
}

#[derive(Template)]
#[template(path = "konsola/wizyta.html")]
struct VisitPage {
    visit_id: Uuid,
    title: String,
    destination: String,
    organizer: String,
    terms: Vec<TermRow>,
    preferences: Vec<PreferenceRow>,
    /// How a freed seat is given, in words.
    offers: String,
    can_act: bool,
    csrf: String,
    notice: Option<String>,
}

pub struct RosterRow {
    pub application_id: Uuid,
    /// What a coordinator may decide about it: (path segment, label).
    pub action: Option<(&'static str, &'static str)>,
    pub rank: u32,
    pub person: String,
    pub institution: String,
    pub basis: String,
    pub status: String,
}

pub struct Section {
    pub title: &'static str,
    pub rows: Vec<RosterRow>,
}

#[derive(Template)]
#[template(path = "konsola/lista.html")]
struct RosterPage {
    visit_id: Uuid,
    term_id: Uuid,
    notice: Option<String>,
    visit_title: String,
    term_label: String,
    when: String,
    status: &'static str,
    seats: u32,
    seats_left: u32,
    provisional: bool,
    sections: Vec<Section>,
}

#[derive(Debug, Deserialize)]
pub struct VisitParams {
    zrobione: Option<String>,
    /// The position a change of the console wrote: the page waits for its read models.
    po: Option<i64>,
}

/// Whether `user` may change things (not an evaluator).
fn may_act(user: &User) -> bool {
    user.role != Role::Evaluator
}

fn parse(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

pub async fn visit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
    Query(p): Query<VisitParams>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    scope::settle(&state, p.po).await;
    let (visit_id, visit, terms) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let lists = async {
        let mut conn = state.pool.acquire().await?;
        visits::preference_lists(&mut conn, visit_id).await
    }
    .await;
    let lists = match lists {
        Ok(l) => l,
        Err(e) => return private(service_error(e.into())),
    };
    let (csrf, cookie) = csrf_for(&state.forms, &headers);
    let page = VisitPage {
        visit_id,
        title: visit.title,
        destination: visit.destination,
        organizer: visit.organizer,
        terms: terms
            .iter()
            .map(|t| TermRow {
                term_id: t.term_id,
                label: t.label.clone(),
                when: polish::term_when(t),
                status: polish::term_status(t.status),
                seats: t.seats,
                candidates: t.candidates,
                provisional: t.status != TermStatus::Closed,
                dates_editable: matches!(
                    t.status,
                    TermStatus::Planned | TermStatus::Scheduled | TermStatus::Open
                ),
                planned_only: t.status == TermStatus::Planned,
                action: match t.status {
                    TermStatus::Scheduled => Some(Action {
                        path: "otworz",
                        label: "Otwórz rekrutację",
                    }),
                    TermStatus::Open => Some(Action {
                        path: "zamknij",
                        label: "Zamknij rekrutację",
                    }),
                    _ => None,
                },
            })
            .collect(),
        offers: match visit.offer_hours {
            Some(h) => format!(
                "zwolnione miejsce dostaje w ofercie pierwsza osoba z listy rezerwowej i ma {h} {} na jej przyjęcie",
                polish::plural(u64::from(h), "godzinę", "godziny", "godzin")
            ),
            None => "zwolnione miejsce przypada od razu pierwszej osobie z listy rezerwowej".to_owned(),
        },
        preferences: visit
            .preferences
            .iter()
            .map(|p| PreferenceRow {
                code: p.code.as_str().to_owned(),
                label: p.label.as_str().to_owned(),
                kind: match p.kind {
                    PreferenceKind::Listed => "instytucje z listy",
                    PreferenceKind::NotListed => "instytucje spoza listy",
                },
                count: lists.get(&p.code).map_or(0, |l| l.len()),
            })
            .collect(),
        can_act: may_act(&user),
        csrf,
        notice: p.zrobione.map(|_| "Zapisano.".to_owned()),
    };
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}

/// What a term's action form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionBody {
    csrf: String,
}

pub async fn term_action(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path((visit_id, term_id, action)): Path<(String, String, String)>,
    body: Result<Form<ActionBody>, FormRejection>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (Some(visit_id), Some(term_id)) = (parse(&visit_id), parse(&term_id)) else {
        return private(not_found());
    };
    let back = format!("/panel/wizyty/{visit_id}");
    let token = body.map(|Form(b)| b.csrf).unwrap_or_default();
    if !csrf_sent(&state.forms, &headers, &token) {
        return private(render(
            StatusCode::FORBIDDEN,
            &Message::new(
                "Formularz wygasł",
                vec![
                    "Nic nie zostało zmienione. Otwórz stronę wizyty i spróbuj ponownie."
                        .to_owned(),
                ],
            )
            .next(back, "Wróć do wizyty"),
        ));
    }
    if !may_act(&user) {
        return private(render(
            StatusCode::FORBIDDEN,
            &Message::new(
                "Tylko do odczytu",
                vec!["Konto ewaluatora może przeglądać, ale niczego nie zmienia.".to_owned()],
            )
            .next(back, "Wróć do wizyty"),
        ));
    }
    let cmd = match action.as_str() {
        "otworz" => StudyVisitCommand::OpenRecruitment { term_id },
        "zamknij" => StudyVisitCommand::CloseRecruitment {
            term_id,
            trigger: CloseTrigger::Manual,
        },
        _ => return private(not_found()),
    };
    let ctx = meta.context(
        format!("user:{}", user.user_id),
        user.organizer.clone(),
        cmd.name(),
    );
    match state.visits.execute(&visit_id.to_string(), cmd, &ctx).await {
        Ok(done) => private(
            Redirect::to(&format!("{back}?zrobione=1&po={}", done.position)).into_response(),
        ),
        Err(e) => match ApiError::from(e) {
            ApiError::Conflict { code, detail } => private(render(
                StatusCode::CONFLICT,
                &Message::new(
                    "Nie można tego zrobić",
                    vec![crate::http::messages::refusal_pl(&code, &detail)],
                )
                .next(back, "Wróć do wizyty"),
            )),
            ApiError::NotFound(_) => private(not_found()),
            other => private(service_error(other)),
        },
    }
}

pub async fn roster(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
    Query(p): Query<VisitParams>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    scope::settle(&state, p.po).await;
    let (visit_id, visit, term, roster) =
        match scope::roster(&state, &user, &visit_id, &term_id).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    let term_id = term.term_id;
    // Names for coordinators and admins only, as in the API.
    let ids: Vec<Uuid> = roster
        .allocated
        .iter()
        .chain(&roster.waitlist)
        .chain(&roster.passed_over)
        .map(|e| e.application_id)
        .collect();
    let people = if user.role == Role::Evaluator {
        None
    } else {
        match infra::personal_data::people(&state.pool, &ids).await {
            Ok(p) => Some(p),
            Err(e) => return private(service_error(e.into())),
        }
    };
    let closed = !roster.provisional;
    let acts = may_act(&user);
    let prefs = visit.preferences.clone();
    let rows = |entries: &[RosterEntry]| -> Vec<RosterRow> {
        entries
            .iter()
            .map(|e| RosterRow {
                application_id: e.application_id,
                // Decisions are taken on the final list, after the close.
                action: match e.status {
                    _ if !closed || !acts => None,
                    ApplicationStatus::Allocated => Some(("zwolnij", "Zwolnij miejsce")),
                    ApplicationStatus::Waitlisted | ApplicationStatus::PassedOver => {
                        Some(("przyznaj", "Przyznaj miejsce"))
                    }
                    _ => None,
                },
                rank: e.rank,
                person: match &people {
                    None => "(dane osobowe widzi koordynator)".to_owned(),
                    Some(p) => p.get(&e.application_id).map_or_else(
                        || "(dane usunięte)".to_owned(),
                        |r| format!("{} {}", r.first_name, r.last_name),
                    ),
                },
                institution: format!(
                    "{} (NIP {})",
                    e.institution.name.as_str(),
                    e.institution.nip.as_str()
                ),
                basis: polish::basis(e, |code| {
                    prefs
                        .iter()
                        .find(|p| p.code.as_str() == code)
                        .map_or_else(|| code.to_owned(), |p| p.label.as_str().to_owned())
                }),
                status: match e.status {
                    ApplicationStatus::Offered => format!(
                        "oferta miejsca do {}",
                        e.offer_expires_at.map(polish::instant).unwrap_or_default()
                    ),
                    s => polish::application_status(s, e.waitlist_position),
                },
            })
            .collect()
    };
    let page = RosterPage {
        visit_id,
        term_id,
        notice: p.zrobione.map(|_| "Zapisano.".to_owned()),
        visit_title: visit.title,
        term_label: term.label.clone(),
        when: polish::term_when(&term),
        status: polish::term_status(term.status),
        seats: roster.seats,
        seats_left: roster.seats_left(),
        provisional: roster.provisional,
        sections: vec![
            Section {
                title: if roster.provisional {
                    "Mieszczą się w limicie miejsc"
                } else {
                    "Zakwalifikowani"
                },
                rows: rows(&roster.allocated),
            },
            Section {
                title: "Lista rezerwowa",
                rows: rows(&roster.waitlist),
            },
            Section {
                title: "Pominięci — limit osób z instytucji",
                rows: rows(&roster.passed_over),
            },
        ],
    };
    private(render(StatusCode::OK, &page))
}
