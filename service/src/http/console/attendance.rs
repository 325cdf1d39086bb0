//! `/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc`: attendance taken on a phone at the
//! door: the term's participants, each with two big buttons (present, absent) that each post
//! one form and come back to the same person's row, so it works without JavaScript on any
//! browser and a lost connection loses one tap, never the list. Attendance is taken per
//! day (`?dzien=YYYY-MM-DD`, the first day of the term unless another is chosen). And the
//! term's downloads (`…/lista.csv`, `…/lista.xlsx`, the printable sign-in sheet
//! `…/lista-obecnosci.pdf`), each person's certificate (`…/zaswiadczenie.pdf`) and the
//! participant report of a visit or a programme (`…/raport.zip`, `…/raport.xlsx`): the
//! API's own files, for the account signed in.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use infra::tokens::Role;
use serde_json::json;
use uuid::Uuid;

use super::api::Api;
use super::form;
use super::scope;
use super::session;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::polish;
use crate::http::state::AppState;

pub struct Participant {
    pub application_id: Uuid,
    pub person: String,
    pub institution: String,
    /// On the day shown: `Some(true)` present, `Some(false)` absent, `None` not yet taken.
    pub attended: Option<bool>,
    /// Present on at least one day: a certificate can be printed.
    pub certified: bool,
}

/// A day of the term, as a link of the day chooser.
pub struct Day {
    pub iso: String,
    pub label: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "konsola/obecnosc.html")]
struct AttendancePage {
    visit_id: Uuid,
    term_id: Uuid,
    visit_title: String,
    term_label: String,
    when: String,
    closed: bool,
    can_act: bool,
    csrf: String,
    people: Vec<Participant>,
    present: usize,
    days: Vec<Day>,
    /// The day shown (`YYYY-MM-DD`), and in words.
    day: String,
    day_label: String,
}

fn parse(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// `?po=N` after a tap: the page waits for its read models to show it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AfterTap {
    po: Option<i64>,
    dzien: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
    Query(after): Query<AfterTap>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    // The tap just recorded is shown, not the list as it was a moment before.
    scope::settle(&state, after.po).await;
    let (visit_id, visit, term, roster) =
        match scope::roster(&state, &user, &visit_id, &term_id).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    let term_id = term.term_id;
    let all_days: Vec<chrono::NaiveDate> = match (term.starts_on, term.ends_on) {
        (Some(first), Some(last)) => domain::study_visit::attendance::days(first, last).collect(),
        _ => Vec::new(),
    };
    // The day asked for, if it is one of the term's; else the first.
    let day = after
        .dzien
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .filter(|d| all_days.contains(d))
        .or_else(|| all_days.first().copied());
    let ids: Vec<Uuid> = roster.allocated.iter().map(|e| e.application_id).collect();
    // Names for coordinators and admins; an evaluator sees institutions only, as in the API.
    let people = if user.role == Role::Evaluator {
        None
    } else {
        match infra::personal_data::people(&state.pool, &ids).await {
            Ok(p) => Some(p),
            Err(e) => return private(service_error(e.into())),
        }
    };
    let participants: Vec<Participant> = roster
        .allocated
        .iter()
        .map(|e| Participant {
            application_id: e.application_id,
            person: match &people {
                None => format!("Uczestnik nr {}", e.rank),
                Some(p) => p.get(&e.application_id).map_or_else(
                    || "(dane usunięte)".to_owned(),
                    |r| format!("{} {}", r.first_name, r.last_name),
                ),
            },
            institution: e.institution.name.as_str().to_owned(),
            attended: day.and_then(|d| {
                if e.days_present.contains(&d) {
                    Some(true)
                } else if e.days_absent.contains(&d) {
                    Some(false)
                } else {
                    None
                }
            }),
            certified: !e.days_present.is_empty(),
        })
        .collect();
    let (csrf, cookie) = csrf_for(&state.forms, &headers);
    let page = AttendancePage {
        visit_id,
        term_id,
        visit_title: visit.title,
        term_label: term.label.clone(),
        when: polish::term_when(&term),
        closed: !roster.provisional,
        can_act: user.role != Role::Evaluator,
        csrf,
        present: participants
            .iter()
            .filter(|p| p.attended == Some(true))
            .count(),
        people: participants,
        days: all_days
            .iter()
            .map(|d| Day {
                iso: d.to_string(),
                label: polish::date(*d),
                current: Some(*d) == day,
            })
            .collect(),
        day: day.map(|d| d.to_string()).unwrap_or_default(),
        day_label: day.map(polish::date).unwrap_or_default(),
    };
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}

/// One tap: present or absent, through the API's attendance command.
pub async fn record(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, term_id, application_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (Some(visit_id), Some(term_id), Some(application_id)) =
        (parse(&visit_id), parse(&term_id), parse(&application_id))
    else {
        return private(not_found());
    };
    let (values, csrf) = form::posted(&body);
    // The day the tap is for (checked by the API: a day outside the term is refused).
    // Only a date goes back into the address (a redirect is a header: no stray characters).
    let day = match values
        .get("dzien")
        .and_then(|v| v.first())
        .filter(|d| !d.is_empty())
    {
        None => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d.to_string()),
            Err(_) => return private(not_found()),
        },
    };
    let back = match &day {
        Some(d) => format!("/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc?dzien={d}"),
        None => format!("/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc"),
    };
    if !csrf_sent(&state.forms, &headers, &csrf) {
        return form::expired(&back);
    }
    if user.role == Role::Evaluator {
        return form::read_only(&back);
    }
    let attended = match values
        .get("obecny")
        .and_then(|v| v.first())
        .map(String::as_str)
    {
        Some("tak") => true,
        Some("nie") => false,
        _ => return private(not_found()),
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::POST,
            &format!("/api/v1/study-visits/{visit_id}/applications/{application_id}/attendance"),
            Some(&match &day {
                Some(d) => json!({ "day": d, "attended": attended }),
                None => json!({ "attended": attended }),
            }),
        )
        .await;
    if answer.status.is_success() {
        let po = answer.position().unwrap_or_default();
        let sep = if back.contains('?') { '&' } else { '?' };
        // Back to the same row: the next person is one thumb away.
        return private(
            Redirect::to(&format!("{back}{sep}po={po}#o-{application_id}")).into_response(),
        );
    }
    if answer.status == StatusCode::NOT_FOUND {
        return private(not_found());
    }
    private(render(
        StatusCode::CONFLICT,
        &Message::new("Nie zapisano obecności", vec![answer.detail()])
            .next(back, "Wróć do listy obecności"),
    ))
}

/// The roster as the API's CSV (`;`-separated, BOM, opens in Excel) or XLSX, for this
/// account (names for coordinators and admins only, as in the API).
pub async fn roster_file(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, term_id, file)): Path<(String, String, String)>,
) -> Response {
    let file = match file.as_str() {
        "lista.csv" => "roster.csv",
        "lista.xlsx" => "roster.xlsx",
        "lista-obecnosci.pdf" => "attendance-list.pdf",
        _ => return private(not_found()),
    };
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (Some(visit_id), Some(term_id)) = (parse(&visit_id), parse(&term_id)) else {
        return private(not_found());
    };
    let res = api
        .raw(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/study-visits/{visit_id}/terms/{term_id}/{file}"),
            None,
        )
        .await;
    passed_on(res)
}

/// A file of the API passed on; its refusal as a page.
fn passed_on(res: Response) -> Response {
    match res.status() {
        s if s.is_success() => private(res.into_response()),
        StatusCode::NOT_FOUND => private(not_found()),
        StatusCode::FORBIDDEN => private(render(
            StatusCode::FORBIDDEN,
            &Message::new(
                "Tylko dla koordynatorów",
                vec!["Ten dokument zawiera imiona i nazwiska uczestników: pobierają go koordynatorzy.".into()],
            ),
        )),
        status => private(render(
            status,
            &Message::new(
                "Nie można jeszcze pobrać dokumentu",
                vec![match status {
                    StatusCode::CONFLICT => "Dokument powstaje dopiero, gdy są dane, które poświadcza: lista obecności po zamknięciu naboru, zaświadczenie dla osoby obecnej choć jeden dzień (i której dane nie zostały usunięte).".into(),
                    _ => "Spróbuj ponownie za chwilę.".into(),
                }],
            ),
        )),
    }
}

/// The certificate of one person (present on at least one day).
pub async fn certificate(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, application_id)): Path<(String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (Some(visit_id), Some(application_id)) = (parse(&visit_id), parse(&application_id)) else {
        return private(not_found());
    };
    passed_on(
        api.raw(
            &user,
            &headers,
            Method::GET,
            &format!(
                "/api/v1/study-visits/{visit_id}/applications/{application_id}/certificate.pdf"
            ),
            None,
        )
        .await,
    )
}

/// The participant report of a visit (`/panel/wizyty/{id}/raport.zip|xlsx`) or a programme
/// (`/panel/programy/{id}/…`), as the record stands now.
pub async fn report(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let format = match file.as_str() {
        "raport.zip" => "csv",
        "raport.xlsx" => "xlsx",
        _ => return private(not_found()),
    };
    let Some(id) = parse(&id) else {
        return private(not_found());
    };
    let subject = if uri.path().starts_with("/panel/programy/") {
        "program_id"
    } else {
        "visit_id"
    };
    passed_on(
        api.raw(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/reports/participants?{subject}={id}&format={format}"),
            None,
        )
        .await,
    )
}
