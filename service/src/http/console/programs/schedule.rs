//! `/panel/programy/{id}/harmonogram`: a programme's schedule (harmonogram) pasted as CSV and
//! imported as its activities, all or nothing; a refused schedule is shown again with every
//! bad line named ("Wiersz 8: …") and nothing imported.
//!
//! Uploaded as a CSV file or pasted: a schedule is a few dozen lines a coordinator saves from
//! a spreadsheet or copies out of it.
//!
//! The CSV goes to the API's own import (`text/csv`) in-process as the signed-in account
//! (`Api::send`): its checks (scope, roles, UTF-8, the NUL character, every row) and its
//! command are the API's, and the actor is `user:<id>`. The import answers its line errors
//! in a 200 (API.md), which the `localize` layer leaves alone, so they are said in Polish
//! here from their codes.

use askama::Template;
use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use infra::accounts::User;
use serde_json::Value;
use uuid::Uuid;

use super::super::api::Api;
use super::super::form;
use super::super::session;
use super::common::{label_of, may_act, program_for, ACTIVITY_KINDS};
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::messages::field_pl;
use crate::http::page::{not_found, private, render};
use crate::http::problem::FieldError;
use crate::http::state::AppState;

/// One bad line of a refused schedule.
struct LineError {
    line: u64,
    message: String,
}

#[derive(Template)]
#[template(path = "konsola/program_harmonogram.html")]
struct SchedulePage {
    id: Uuid,
    title: String,
    csrf: String,
    /// This rendering's key: the schedule sent twice is imported once.
    key: String,
    csv: String,
    year: String,
    /// Why nothing was imported, for the summary (a refusal or a field of the form).
    problems: Vec<String>,
    lines: Vec<LineError>,
    kinds: Vec<(&'static str, String)>,
}

#[allow(clippy::too_many_arguments)]
fn page(
    state: &AppState,
    headers: &HeaderMap,
    id: Uuid,
    title: &str,
    csv: String,
    year: String,
    problems: Vec<String>,
    lines: Vec<LineError>,
    status: StatusCode,
) -> Response {
    let (csrf, cookie) = csrf_for(&state.forms, headers);
    let body = SchedulePage {
        id,
        title: title.to_owned(),
        csrf,
        key: crate::http::forms::random_token(16),
        csv,
        year,
        problems,
        lines,
        kinds: ACTIVITY_KINDS
            .iter()
            .map(|(c, _)| (*c, label_of(&ACTIVITY_KINDS, c)))
            .collect(),
    };
    with_cookie(private(render(status, &body)), cookie)
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only(&format!("/panel/programy/{}", p.program_id));
    }
    page(
        &state,
        &headers,
        p.program_id,
        &p.title,
        String::new(),
        String::new(),
        Vec::new(),
        Vec::new(),
        StatusCode::OK,
    )
}

/// What the form posts.
struct Posted {
    csv: String,
    year: String,
    csrf: String,
    /// The page's key (`klucz`).
    key: String,
}

/// The most bytes of an uploaded schedule read (a year's schedule is a few kilobytes).
const MAX_FILE: usize = 1024 * 1024;

/// The posted form (multipart: the year, the pasted CSV and/or a file, which wins); `Err`
/// with the reason when the body could not be read.
async fn posted(mut multipart: Multipart) -> Result<Posted, String> {
    let mut sent = Posted {
        csv: String::new(),
        year: String::new(),
        csrf: String::new(),
        key: String::new(),
    };
    let mut file = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| "Nie udało się odebrać formularza. Spróbuj ponownie.".to_owned())?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| "Nie udało się odebrać pliku. Spróbuj ponownie.".to_owned())?;
        match name.as_str() {
            "csrf" => sent.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "klucz" => sent.key = String::from_utf8_lossy(&bytes).into_owned(),
            "year" => sent.year = String::from_utf8_lossy(&bytes).trim().to_owned(),
            "csv" => sent.csv = String::from_utf8_lossy(&bytes).into_owned(),
            "plik" if !bytes.is_empty() => {
                if bytes.len() > MAX_FILE {
                    return Err("Plik jest za duży: wyślij najwyżej 1 MB.".to_owned());
                }
                // As the API reads it: bytes that are not UTF-8 are named by the import.
                file = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            _ => {}
        }
    }
    if let Some(text) = file {
        sent.csv = text.trim_start_matches('\u{feff}').to_owned();
    }
    Ok(sent)
}

pub async fn upload(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let id = p.program_id;
    let action = format!("/panel/programy/{id}/harmonogram");
    let Ok(multipart) = multipart else {
        return form::not_a_form(&format!("/panel/programy/{id}/harmonogram"));
    };
    let sent = match posted(multipart).await {
        Ok(sent) => sent,
        Err(reason) => {
            return page(
                &state,
                &headers,
                id,
                &p.title,
                String::new(),
                String::new(),
                vec![reason],
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    };
    if !csrf_sent(&state.forms, &headers, &sent.csrf) {
        return form::expired(&action);
    }
    if !may_act(&user) {
        return form::read_only(&format!("/panel/programy/{id}"));
    }
    let refuse = |problems: Vec<String>, lines: Vec<LineError>| {
        page(
            &state,
            &headers,
            id,
            &p.title,
            sent.csv.clone(),
            sent.year.clone(),
            problems,
            lines,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let year = if sent.year.is_empty() {
        None
    } else {
        match sent.year.parse::<i32>() {
            Ok(y) if (1000..=9999).contains(&y) => Some(y),
            _ => {
                return refuse(
                    vec!["Rok dla dat bez roku: wpisz rok czterema cyframi, np. 2027.".to_owned()],
                    Vec::new(),
                )
            }
        }
    };
    if sent.csv.trim().is_empty() {
        return refuse(
            vec!["Wklej harmonogram: nagłówek date,title,kind,location,co_organizer i wiersze pod nim.".to_owned()],
            Vec::new(),
        );
    }
    let res = import(
        &api,
        &user,
        &headers,
        id,
        year,
        sent.csv.clone(),
        Some(sent.key.as_str()),
    )
    .await;
    let status = res.status();
    let answer = match axum::body::to_bytes(res.into_body(), usize::MAX).await {
        Ok(b) => serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    match status {
        StatusCode::OK => {
            let lines = line_errors(&answer);
            let imported = answer.get("imported").and_then(Value::as_u64).unwrap_or(0);
            if lines.is_empty() && imported > 0 {
                let po = answer
                    .get("position")
                    .and_then(Value::as_i64)
                    .map(|p| format!("&po={p}"))
                    .unwrap_or_default();
                private(
                    Redirect::to(&format!(
                        "/panel/programy/{id}?zaimportowano={imported}{po}"
                    ))
                    .into_response(),
                )
            } else {
                refuse(
                    vec![format!(
                        "Nic nie zostało zaimportowane: popraw {} i wklej harmonogram ponownie.",
                        if lines.len() == 1 {
                            "ten wiersz".to_owned()
                        } else {
                            format!("te wiersze ({})", lines.len())
                        }
                    )],
                    lines,
                )
            }
        }
        StatusCode::NOT_FOUND => private(not_found()),
        _ => {
            let detail = answer
                .get("detail")
                .and_then(Value::as_str)
                .unwrap_or("Nie udało się wczytać harmonogramu. Spróbuj ponownie za kilka minut.")
                .to_owned();
            let mut refused = refuse(vec![detail], Vec::new());
            if status.is_client_error() {
                *refused.status_mut() = status;
            } else {
                *refused.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            }
            refused
        }
    }
}

/// The bad lines of an import's answer, each said in Polish from its code.
fn line_errors(answer: &Value) -> Vec<LineError> {
    answer
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let text = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
                    LineError {
                        line: e.get("line").and_then(Value::as_u64).unwrap_or(0),
                        message: field_pl(&FieldError::new("", text("code"), text("message"))),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Calls the API's schedule import in-process as `user`, with the CSV as it was pasted.
async fn import(
    api: &Api,
    user: &User,
    outer: &HeaderMap,
    id: Uuid,
    year: Option<i32>,
    csv: String,
    key: Option<&str>,
) -> Response {
    let uri = match year {
        Some(y) => format!("/api/v1/programs/{id}/schedule/import?year={y}"),
        None => format!("/api/v1/programs/{id}/schedule/import"),
    };
    // The page's key: the same schedule sent twice (a double click) is imported once.
    let key = key
        .filter(|k| (16..=64).contains(&k.len()))
        .map(|k| format!("konsola-{k}"));
    api.send_with(
        user,
        outer,
        Method::POST,
        &uri,
        Some("text/csv; charset=utf-8"),
        Body::from(csv),
        key.as_deref(),
    )
    .await
}
