//! `/panel/audyt/spojnosc`: the integrity check (`GET /api/v1/audit/integrity`) in words —
//! whether the whole record is intact, how much was re-computed, the newest seal's
//! fingerprint to write down, and every finding located as the report locates it.
//!
//! The report's `detail` is the API's own English sentence; the page says what each kind of
//! finding means in Polish and places it (which visit, programme or network, which event of
//! it, which position in the whole record, which seal revealed it) from the report's
//! fields, and keeps the sentence beside it, marked as English, as the technical record.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Extension;
use serde::Deserialize;

use super::super::api::Api;
use super::common::{aggregate_label, audit_path, failed, forbidden, read, shown_instant, user_of};
use crate::http::page::{private, render};
use crate::http::state::AppState;

/// The API's report (`IntegrityReport`), as far as the page reads it.
#[derive(Deserialize)]
struct Report {
    verified: u64,
    seals_verified: u64,
    intact: bool,
    first_broken: Option<Problem>,
    problem_count: u64,
    #[serde(default)]
    problems: Vec<Problem>,
    latest_seal: Option<Seal>,
    unsealed: u64,
}

#[derive(Deserialize)]
struct Problem {
    kind: String,
    position: Option<i64>,
    aggregate_type: Option<String>,
    aggregate_id: Option<String>,
    sequence: Option<i64>,
    seal_no: Option<i64>,
    #[serde(default)]
    detail: String,
}

#[derive(Deserialize)]
struct Seal {
    seal_no: i64,
    events_total: i64,
    sealed_at: String,
    seal_hash: String,
}

/// A finding as the page shows it.
pub struct Finding {
    pub what: &'static str,
    pub meaning: &'static str,
    /// Where, in words (`wizyta studyjna …, zdarzenie nr 5, …`).
    pub place: String,
    /// The audit page of the visit, programme or network concerned.
    pub link: Option<String>,
    /// The report's own sentence (English).
    pub detail: String,
}

pub struct SealShown {
    pub seal_no: i64,
    pub events_total: i64,
    pub sealed_at: String,
    pub seal_hash: String,
}

#[derive(Template)]
#[template(path = "konsola/audyt_spojnosc.html")]
struct IntegrityPage {
    intact: bool,
    verified: u64,
    seals_verified: u64,
    unsealed: u64,
    problem_count: u64,
    first: Option<Finding>,
    findings: Vec<Finding>,
    seal: Option<SealShown>,
}

fn finding(p: Problem) -> Finding {
    let (what, meaning) = match p.kind.as_str() {
        "altered" => (
            "Zmienione zdarzenie",
            "Treść zdarzenia nie zgadza się ze skrótem zapisanym razem z nim albo następne zdarzenie zapamiętało inny skrót — zdarzenie zmieniono po zapisaniu.",
        ),
        "removed" => (
            "Usunięte zdarzenia",
            "Brakuje zdarzeń: w numeracji zdarzeń jest luka albo jest ich mniej, niż policzyła pieczęć.",
        ),
        "inserted" => (
            "Dopisane zdarzenie",
            "Zdarzenie, którego serwis nie zapisał: bez skrótu, poza kolejnością albo niepoliczone przez pieczęć.",
        ),
        "seal_broken" => (
            "Naruszona pieczęć",
            "Pieczęć nie zgadza się ze swoją treścią albo z poprzednią pieczęcią.",
        ),
        _ => ("Niezgodność", "Sprawdzenie wykazało niezgodność."),
    };
    let mut place = Vec::new();
    let mut link = None;
    match (&p.aggregate_type, &p.aggregate_id) {
        (Some(t), Some(id)) => {
            place.push(format!("{} {id}", aggregate_label(t)));
            link = audit_path(t, id);
        }
        // The API hides where a finding lies in another organizer's history.
        _ if p.detail == "in a stream of another organizer" => {
            place.push("w historii innego organizatora (szczegóły ukryte)".to_owned())
        }
        _ => {}
    }
    if let Some(s) = p.sequence {
        place.push(format!("zdarzenie nr {s} tej historii"));
    }
    if let Some(position) = p.position {
        place.push(format!("pozycja {position} w całym zapisie"));
    }
    if let Some(n) = p.seal_no {
        place.push(format!("wykryte przez pieczęć nr {n}"));
    }
    Finding {
        what,
        meaning,
        place: if place.is_empty() {
            "miejsca nie da się wskazać dokładniej".to_owned()
        } else {
            place.join("; ")
        },
        link,
        detail: p.detail,
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::GET,
            "/api/v1/audit/integrity",
            None,
        )
        .await;
    if answer.status == StatusCode::FORBIDDEN {
        return forbidden();
    }
    if !answer.status.is_success() {
        return failed(&answer);
    }
    let report: Report = match read(&answer) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let page = IntegrityPage {
        intact: report.intact,
        verified: report.verified,
        seals_verified: report.seals_verified,
        unsealed: report.unsealed,
        problem_count: report.problem_count,
        first: report.first_broken.map(finding),
        findings: report.problems.into_iter().map(finding).collect(),
        seal: report.latest_seal.map(|s| SealShown {
            seal_no: s.seal_no,
            events_total: s.events_total,
            sealed_at: shown_instant(&s.sealed_at),
            seal_hash: s.seal_hash,
        }),
    };
    private(render(StatusCode::OK, &page))
}
