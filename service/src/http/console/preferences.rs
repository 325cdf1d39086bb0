//! `/panel/wizyty/{visit_id}/preferencje/{code}`: a preference's list of institutions (by
//! NIP), loaded by pasting NIPs or uploading a CSV, XLSX, XLS or ODS file, checked and shown
//! before anything is recorded.
//!
//! Why a preview: the list decides who ranks higher, and it usually comes as a spreadsheet
//! from another office: a NIP with a wrong check digit or a column of names must be seen and
//! fixed by line, not silently dropped or half-recorded. The list is recorded only from the
//! preview's confirmation, through the API's `PUT …/preferences/{code}/institutions`, which
//! checks every NIP again.

use std::collections::BTreeSet;
use std::io::Cursor;

use askama::Template;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use calamine::{Data, Reader};
use domain::study_visit::PreferenceKind;
use domain::values::Nip;
use infra::accounts::User;
use infra::tokens::Role;
use projections::study_visits::read as visits;
use serde_json::json;
use uuid::Uuid;

use super::api::Api;
use super::form;
use super::scope;
use super::session;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::problem::FieldError;
use crate::http::state::AppState;

/// The most bytes of an uploaded file read (a list of every JST in Poland is ~40 KB).
const MAX_FILE: usize = 2 * 1024 * 1024;

/// A line that holds something that is not a NIP.
pub struct BadLine {
    pub line: usize,
    pub text: String,
    pub message: String,
}

/// What a pasted or uploaded list reads as.
#[derive(Default)]
pub struct Reading {
    pub nips: BTreeSet<Nip>,
    pub bad: Vec<BadLine>,
}

/// Reads NIPs from rows of cells: in each row, every cell with five or more digits is a NIP
/// candidate (a NIP written `956-230-79-84`, `PL9562307984` or `956 230 79 84` too); a row
/// without one (a header, a name) is skipped; a candidate that is no valid NIP is a bad
/// line, named by its number as the person sees it.
pub fn read_rows(rows: impl IntoIterator<Item = Vec<String>>) -> Reading {
    let mut reading = Reading::default();
    for (i, row) in rows.into_iter().enumerate() {
        for cell in row {
            let cell = cell.trim();
            if cell.chars().filter(char::is_ascii_digit).count() < 5 {
                continue;
            }
            match Nip::parse(cell) {
                Ok(nip) => {
                    reading.nips.insert(nip);
                }
                Err(e) => reading.bad.push(BadLine {
                    line: i + 1,
                    text: cell.to_owned(),
                    message: crate::http::messages::field_pl(&FieldError::of("nips[0]", e)),
                }),
            }
        }
    }
    reading
}

/// Rows of pasted text or a CSV file: lines, cells split at `;`, `,` or a tab.
fn text_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| {
            l.split([';', ',', '\t'])
                .map(|c| c.trim().trim_matches('"').to_owned())
                .collect()
        })
        .collect()
}

/// Rows of a spreadsheet's first sheet. Numbers are written whole (a NIP typed into a cell
/// is a number there: `9562307984`, not `9562307984.0`).
fn sheet_rows(bytes: Vec<u8>) -> Result<Vec<Vec<String>>, String> {
    let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|_| {
        "Nie udało się odczytać pliku arkusza. Zapisz go jako XLSX albo CSV i spróbuj ponownie."
            .to_owned()
    })?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| "Plik nie ma żadnego arkusza.".to_owned())?
        .map_err(|_| "Nie udało się odczytać pierwszego arkusza pliku.".to_owned())?;
    Ok(range
        .rows()
        .map(|row| row.iter().map(cell_text).collect())
        .collect())
}

/// A cell as text; a whole number without a decimal part.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Data::Int(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[derive(Template)]
#[template(path = "konsola/preferencje.html")]
struct ListPage {
    visit_id: Uuid,
    code: String,
    label: String,
    listed: bool,
    current: Vec<String>,
    csrf: String,
    /// What was pasted, kept when it has to be fixed.
    pasted: String,
    /// The upload's or the pasted text's problem with no line (an unreadable file).
    problem: Option<String>,
    bad: Vec<BadLine>,
    /// The list read, waiting for confirmation.
    preview: Option<Preview>,
}

struct Preview {
    nips: Vec<String>,
    /// One per line, for the confirmation's hidden field.
    joined: String,
    added: usize,
    removed: usize,
}

/// The visit's preference `code` and its current list, when `user` may see the visit.
async fn load(
    state: &AppState,
    user: &User,
    visit_id: &str,
    code: &str,
) -> Result<(Uuid, domain::study_visit::Preference, BTreeSet<Nip>), Response> {
    let (visit_id, visit, _) = scope::visit(state, user, visit_id).await?;
    let lists = async {
        let mut conn = state.pool.acquire().await?;
        visits::preference_lists(&mut conn, visit_id).await
    }
    .await
    .map_err(|e| private(service_error(e.into())))?;
    let Some(pref) = visit
        .preferences
        .into_iter()
        .find(|p| p.code.as_str() == code)
    else {
        return Err(private(not_found()));
    };
    let current = lists.get(&pref.code).cloned().unwrap_or_default();
    Ok((visit_id, pref, current))
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    visit_id: Uuid,
    pref: &domain::study_visit::Preference,
    current: &BTreeSet<Nip>,
    status: StatusCode,
    fill: impl FnOnce(&mut ListPage),
) -> Response {
    let (csrf, cookie) = csrf_for(&state.forms, headers);
    let mut body = ListPage {
        visit_id,
        code: pref.code.as_str().to_owned(),
        label: pref.label.as_str().to_owned(),
        listed: pref.kind == PreferenceKind::Listed,
        current: current.iter().map(|n| n.as_str().to_owned()).collect(),
        csrf,
        pasted: String::new(),
        problem: None,
        bad: Vec::new(),
        preview: None,
    };
    fill(&mut body);
    with_cookie(private(render(status, &body)), cookie)
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, code)): Path<(String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, pref, current) = match load(&state, &user, &visit_id, &code).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    page(
        &state,
        &headers,
        visit_id,
        &pref,
        &current,
        StatusCode::OK,
        |_| {},
    )
}

/// The posted list (multipart: the pasted text and/or a file), read into a preview.
pub async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, code)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, pref, current) = match load(&state, &user, &visit_id, &code).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let back = format!("/panel/wizyty/{visit_id}/preferencje/{code}");
    let Ok(mut multipart) = multipart else {
        return form::not_a_form(&back);
    };
    let mut csrf = String::new();
    let mut pasted = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut problem = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().unwrap_or_default().to_lowercase();
                match field.bytes().await {
                    Ok(bytes) if name == "csrf" => csrf = String::from_utf8_lossy(&bytes).into(),
                    Ok(bytes) if name == "lista" => pasted = String::from_utf8_lossy(&bytes).into(),
                    Ok(bytes) if name == "plik" && !bytes.is_empty() => {
                        if bytes.len() > MAX_FILE {
                            problem = Some("Plik jest za duży: wyślij najwyżej 2 MB.".to_owned());
                        } else {
                            file = Some((file_name, bytes.to_vec()));
                        }
                    }
                    Ok(_) => {}
                    Err(_) => {
                        problem = Some("Nie udało się odebrać pliku. Spróbuj ponownie.".to_owned())
                    }
                }
            }
            Ok(None) => break,
            Err(_) => {
                problem = Some("Nie udało się odebrać formularza. Spróbuj ponownie.".to_owned());
                break;
            }
        }
    }
    if !csrf_sent(&state.forms, &headers, &csrf) {
        return form::expired(&back);
    }
    if user.role == Role::Evaluator {
        return form::read_only(&back);
    }
    let mut rows = text_rows(&pasted);
    if let Some((name, bytes)) = file {
        let is_text = name.ends_with(".csv") || name.ends_with(".txt");
        if is_text {
            rows.extend(text_rows(&String::from_utf8_lossy(&bytes)));
        } else {
            match sheet_rows(bytes) {
                Ok(r) => rows.extend(r),
                Err(e) => problem = Some(e),
            }
        }
    }
    let reading = read_rows(rows);
    if problem.is_none()
        && reading.bad.is_empty()
        && reading.nips.is_empty()
        && pasted.trim().is_empty()
    {
        problem = Some("Wklej numery NIP albo wybierz plik z listą.".to_owned());
    }
    let status = if problem.is_some() || !reading.bad.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    page(&state, &headers, visit_id, &pref, &current, status, |p| {
        p.pasted = pasted;
        if problem.is_some() || !reading.bad.is_empty() {
            p.problem = problem;
            p.bad = reading.bad;
        } else {
            let nips: Vec<String> = reading.nips.iter().map(|n| n.as_str().to_owned()).collect();
            p.preview = Some(Preview {
                joined: nips.join("\n"),
                added: reading.nips.difference(&current).count(),
                removed: current.difference(&reading.nips).count(),
                nips,
            });
        }
    })
}

/// The confirmation: the previewed list is recorded through the API.
pub async fn save(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, code)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, pref, _) = match load(&state, &user, &visit_id, &code).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let back = format!("/panel/wizyty/{visit_id}/preferencje/{code}");
    let (values, csrf) = form::posted(&body);
    if !csrf_sent(&state.forms, &headers, &csrf) {
        return form::expired(&back);
    }
    if user.role == Role::Evaluator {
        return form::read_only(&back);
    }
    let nips: Vec<&str> = values
        .get("nips")
        .and_then(|v| v.first())
        .map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).collect())
        .unwrap_or_default();
    let answer = api
        .call(
            &user,
            &headers,
            Method::PUT,
            &format!(
                "/api/v1/study-visits/{visit_id}/preferences/{}/institutions",
                pref.code.as_str()
            ),
            Some(&json!({ "nips": nips })),
        )
        .await;
    if answer.status.is_success() {
        let po = answer.position().unwrap_or_default();
        return private(
            Redirect::to(&format!("/panel/wizyty/{visit_id}?zrobione=1&po={po}")).into_response(),
        );
    }
    private(render(
        if answer.status == StatusCode::NOT_FOUND {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::CONFLICT
        },
        &Message::new("Lista nie została zapisana", vec![answer.detail()])
            .next(back, "Wróć do listy"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nips_are_read_from_any_column_and_bad_ones_named_by_line() {
        let reading = read_rows(text_rows(
            "Gmina;NIP\nToruń;956-230-79-84\nChełmno;PL 526 025 02 74\nZła;1234567890\n\n",
        ));
        let nips: Vec<&str> = reading.nips.iter().map(Nip::as_str).collect();
        assert_eq!(nips, ["5260250274", "9562307984"]);
        assert_eq!(reading.bad.len(), 1);
        assert_eq!(reading.bad[0].line, 4);
        assert_eq!(reading.bad[0].text, "1234567890");
    }

    #[test]
    fn a_spreadsheet_number_is_a_nip_written_whole() {
        assert_eq!(cell_text(&Data::Float(9562307984.0)), "9562307984");
        assert_eq!(cell_text(&Data::Int(9562307984)), "9562307984");
        assert_eq!(
            cell_text(&Data::String("956-230-79-84".into())),
            "956-230-79-84"
        );
    }
}
