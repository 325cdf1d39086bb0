//! `/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc`: attendance taken on a phone at the
//! door: the term's participants, each with two big buttons (present, absent) that each post
//! one form and come back to the same person's row, so it works without JavaScript on any
//! browser and a lost connection loses one tap, never the list. And the roster's downloads
//! (`…/lista.csv`, `…/lista.xlsx`): the API's own files, for the account signed in.

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
    /// `Some(true)` present, `Some(false)` absent, `None` not yet taken.
    pub attended: Option<bool>,
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
}

fn parse(id: &str) -> Option<Uuid> {
    Uuid::parse_str(id).ok()
}

/// `?po=N` after a tap: the page waits for its read models to show it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AfterTap {
    po: Option<i64>,
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
            attended: e.attended,
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
    let back = format!("/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc");
    let (values, csrf) = form::posted(&body);
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
            Some(&json!({ "attended": attended })),
        )
        .await;
    if answer.status.is_success() {
        let po = answer.position().unwrap_or_default();
        // Back to the same row: the next person is one thumb away.
        return private(
            Redirect::to(&format!("{back}?po={po}#o-{application_id}")).into_response(),
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
    let format = match file.as_str() {
        "lista.csv" => "csv",
        "lista.xlsx" => "xlsx",
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
            &format!("/api/v1/study-visits/{visit_id}/terms/{term_id}/roster.{format}"),
            None,
        )
        .await;
    if res.status().is_success() {
        return private(res.into_response());
    }
    private(not_found())
}
