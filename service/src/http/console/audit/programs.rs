//! `/panel/audyt/programy/{id}`: a programme's check
//! (`GET /api/v1/audit/cooperation-programs/{id}/verify`: every indicator and figure
//! recomputed from the events and compared with what the service shows) and, with
//! `?chwila=…`, its evaluation as it stood then (`GET /api/v1/programs/{id}/evaluation?at=`):
//! each indicator's target and its value at that moment.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::{DateTime, Utc};
use domain::cooperation_program::evaluation::EvaluationDiscrepancy;
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

/// The API's `ProgramVerifyView`.
#[derive(Deserialize)]
struct Verification {
    consistent: bool,
    checked: u32,
    #[serde(default)]
    discrepancies: Vec<EvaluationDiscrepancy>,
    position: i64,
    #[serde(default)]
    pending: u32,
}

/// The API's programme (`ProgramDetail`, the programme's fields at its top level), as far
/// as the page reads it.
#[derive(Deserialize)]
struct Detail {
    title: String,
}

/// The API's `EvaluationView`, as far as the page reads it.
#[derive(Deserialize)]
struct Evaluation {
    #[serde(default)]
    indicators: Vec<Indicator>,
    activities: Activities,
    participants_total: u64,
    distinct_institutions: u64,
    partners: u64,
    feedback: Feedback,
    verdict: Option<String>,
    position: i64,
    at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Indicator {
    code: String,
    label: String,
    target: u64,
    actual: Option<u64>,
    achieved: Option<bool>,
}

#[derive(Deserialize)]
struct Activities {
    planned: u64,
    held: u64,
    cancelled: u64,
}

#[derive(Deserialize)]
struct Feedback {
    count: u64,
    average_rating: Option<f64>,
}

pub struct DiscrepancyRow {
    pub what: String,
    pub from_events: String,
    pub read_model: String,
}

pub struct IndicatorRow {
    pub code: String,
    pub label: String,
    pub target: u64,
    pub actual: String,
    pub achieved: &'static str,
}

pub struct EvaluationShown {
    pub at: String,
    pub position: i64,
    pub indicators: Vec<IndicatorRow>,
    pub planned: u64,
    pub held: u64,
    pub cancelled: u64,
    pub participants: u64,
    pub institutions: u64,
    pub partners: u64,
    pub feedback: String,
    pub verdict: String,
}

#[derive(Template)]
#[template(path = "konsola/audyt_program.html")]
struct ProgramPage {
    id: Uuid,
    title: String,
    consistent: bool,
    checked: u32,
    position: i64,
    pending: u32,
    discrepancies: Vec<DiscrepancyRow>,
    moment: InstantField,
    hint: &'static str,
    evaluation: Option<EvaluationShown>,
    can_export: bool,
}

/// A JSON value of the comparison as read: `brak` for null, text without quotes.
fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "brak".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn verdict_label(v: Option<&str>) -> String {
    match v {
        None => "jeszcze nie oceniono".to_owned(),
        Some("achieved") => "cele osiągnięte".to_owned(),
        Some("partially_achieved") => "cele osiągnięte częściowo".to_owned(),
        Some("not_achieved") => "cele nieosiągnięte".to_owned(),
        Some(other) => other.to_owned(),
    }
}

fn shown(e: Evaluation) -> EvaluationShown {
    EvaluationShown {
        at: e.at.map(polish::instant).unwrap_or_default(),
        position: e.position,
        indicators: e
            .indicators
            .into_iter()
            .map(|i| IndicatorRow {
                code: i.code,
                label: i.label,
                target: i.target,
                actual: i
                    .actual
                    .map_or_else(|| "jeszcze nieznana".to_owned(), |a| a.to_string()),
                achieved: match i.achieved {
                    Some(true) => "tak",
                    Some(false) => "nie",
                    None => "nie wiadomo",
                },
            })
            .collect(),
        planned: e.activities.planned,
        held: e.activities.held,
        cancelled: e.activities.cancelled,
        participants: e.participants_total,
        institutions: e.distinct_institutions,
        partners: e.partners,
        feedback: match e.feedback.average_rating {
            Some(r) => format!("{} (średnia ocena {r:.2})", e.feedback.count),
            None => e.feedback.count.to_string(),
        },
        verdict: verdict_label(e.verdict.as_deref()),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(asked): Query<AsStood>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return private(not_found());
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/audit/cooperation-programs/{id}/verify"),
            None,
        )
        .await;
    if !answer.status.is_success() {
        return failed(&answer);
    }
    let check: Verification = match read(&answer) {
        Ok(c) => c,
        Err(res) => return res,
    };
    let detail = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/programs/{id}"),
            None,
        )
        .await;
    if !detail.status.is_success() {
        return failed(&detail);
    }
    let detail: Detail = match read(&detail) {
        Ok(d) => d,
        Err(res) => return res,
    };
    let mut page = ProgramPage {
        id,
        title: detail.title,
        consistent: check.consistent,
        checked: check.checked,
        position: check.position,
        pending: check.pending,
        discrepancies: check
            .discrepancies
            .into_iter()
            .map(|d| DiscrepancyRow {
                what: match (d.indicator, d.figure) {
                    (Some(code), _) => format!("wskaźnik {code}"),
                    (None, Some(figure)) => format!("liczba ewaluacji {figure}"),
                    (None, None) => "wartość ewaluacji".to_owned(),
                },
                from_events: value_text(&d.from_events),
                read_model: value_text(&d.read_model),
            })
            .collect(),
        moment: InstantField::default(),
        hint: INSTANT_HINT,
        evaluation: None,
        can_export: may_audit(&user),
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
            &format!("/api/v1/programs/{id}/evaluation?{}", at_query(at)),
            None,
        )
        .await;
    match replayed::<Evaluation>(
        &answer,
        &typed.value,
        "W tej chwili tego programu jeszcze nie było: żadne jego zdarzenie nie zostało wtedy zapisane. Podaj późniejszą chwilę.",
    ) {
        Ok(e) => {
            page.moment = typed;
            page.evaluation = Some(shown(e));
            private(render(StatusCode::OK, &page))
        }
        Err(Refusal::Form(field, status)) => {
            page.moment = field;
            private(render(status, &page))
        }
        Err(Refusal::Page(res)) => res,
    }
}
