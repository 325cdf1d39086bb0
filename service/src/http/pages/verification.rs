//! `GET /weryfikacja` and `/weryfikacja/{code}`: anyone checks a certificate of
//! participation by the code printed on it (an employer, an auditor, the managing
//! authority). Public, so the person is shown by initials only. A GET form: it changes
//! nothing, so it needs no CSRF token, and the address of an answer can be shared.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::http::certificate::{self, Revoked, Verification};
use crate::http::page::{render, service_error};
use crate::http::polish;
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "strony/weryfikacja.html")]
struct CheckPage {
    /// What was typed, shown back.
    typed: String,
    /// The error at the field (GOV.UK pattern), if any.
    error: Option<String>,
    result: Option<Shown>,
}

/// A certificate found, in words.
struct Shown {
    valid: bool,
    code: String,
    visit: String,
    destination: String,
    term: String,
    days: String,
    institution: String,
    nip: String,
    person: String,
    issued: String,
    revoked: Option<String>,
    position: i64,
}

fn shown(v: &Verification) -> Shown {
    let days: Vec<String> = v.days_present.iter().map(|d| polish::date(*d)).collect();
    let term = match (v.term.starts_on, v.term.ends_on) {
        (Some(a), Some(b)) => format!("{} ({})", v.term.label, polish::days(a, b)),
        _ => v.term.label.clone(),
    };
    Shown {
        valid: v.valid,
        code: v.code.clone(),
        visit: v.visit.title.clone(),
        destination: v.visit.destination.clone(),
        term,
        days: days.join(", "),
        institution: v.institution.name.clone(),
        nip: v.institution.nip.clone(),
        person: v
            .person_initials
            .clone()
            .unwrap_or_else(|| "dane osoby zostały usunięte".to_owned()),
        issued: polish::instant(v.issued_at),
        revoked: v.revoked.map(|r| {
            let when = v.revoked_at.map(polish::instant).unwrap_or_default();
            match r {
                Revoked::Absent(Some(d)) => format!(
                    "Nieważne od {when}: obecność w dniu {} została później zapisana jako nieobecność.",
                    polish::date(d)
                ),
                Revoked::Absent(None) => format!(
                    "Nieważne od {when}: obecność we wszystkich dniach terminu została później zapisana jako nieobecność."
                ),
                Revoked::Changed => "Nieważne: zapis obecności, na podstawie którego je wystawiono, nie zgadza się z rejestrem.".to_owned(),
            }
        }),
        position: v.position,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Typed {
    kod: Option<String>,
}

/// The form; with `?kod=`, the code checked (a code that cannot be one is an error at the
/// field; one that can goes to its own address).
pub async fn form(Query(q): Query<Typed>) -> Response {
    let Some(typed) = q.kod.map(|k| k.trim().to_owned()) else {
        return page(StatusCode::OK, String::new(), None, None);
    };
    if typed.is_empty() {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            Some("Wpisz kod weryfikacyjny z zaświadczenia.".into()),
            None,
        );
    }
    match infra::certificates::normalize(&typed) {
        Some(code) => Redirect::to(&format!(
            "/weryfikacja/{}",
            infra::certificates::printed(&code)
        ))
        .into_response(),
        None => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            typed,
            Some("Kod ma 16 znaków: litery i cyfry w czterech grupach po cztery, np. K7QF-2M9X-ABCD-EFGH. Sprawdź, czy przepisano go w całości.".into()),
            None,
        ),
    }
}

/// What a code confirms.
pub async fn check(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    match certificate::verify(&state, &code).await {
        Ok(Some(v)) => page(StatusCode::OK, v.code.clone(), None, Some(shown(&v))),
        Ok(None) => page(
            StatusCode::NOT_FOUND,
            code,
            Some("Nie wystawiono zaświadczenia o tym kodzie. Sprawdź, czy przepisano go bez pomyłki (litery O i I można wpisać jako cyfry 0 i 1).".into()),
            None,
        ),
        Err(e) => service_error(e),
    }
}

fn page(
    status: StatusCode,
    typed: String,
    error: Option<String>,
    result: Option<Shown>,
) -> Response {
    render(
        status,
        &CheckPage {
            typed,
            error,
            result,
        },
    )
}
