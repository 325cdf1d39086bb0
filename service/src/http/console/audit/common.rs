//! What the audit pages share: the account and whether it may run the store-wide checks,
//! the instant a person types (Polish time) turned into the API's RFC 3339, the answers the
//! API gives that every page meets alike (403, 404, a failure), and how aggregates are
//! named in Polish. Its own module so that the pages depend on it, not on the module that
//! routes to them.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;
use infra::accounts::User;
use infra::tokens::Role;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::super::api::Answer;
use super::super::session;
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The signed-in account, or the answer that sends the browser to sign in.
pub async fn user_of(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    session::signed_in(state, headers).await
}

/// Whether `user` may run the store-wide checks (integrity, export): the API gives them to
/// evaluators and admins only, since they read every organizer's history.
pub fn may_audit(user: &User) -> bool {
    user.role != Role::Coordinator
}

/// The hint every instant field shows.
pub const INSTANT_HINT: &str =
    "Data i godzina czasu polskiego, np. 20.05.2027 12:00 (albo 2027-05-20 12:00). Godzina jest wymagana.";

/// An instant field as a page shows it: what was typed and what is wrong with it.
#[derive(Default)]
pub struct InstantField {
    pub value: String,
    pub error: Option<String>,
}

impl InstantField {
    pub fn new(value: &str) -> Self {
        Self {
            value: value.to_owned(),
            error: None,
        }
    }

    pub fn failed(value: &str, error: impl Into<String>) -> Self {
        Self {
            value: value.to_owned(),
            error: Some(error.into()),
        }
    }
}

/// What a person types as a moment, in Polish time: `20.05.2027 12:00`,
/// `2027-05-20 12:00` (seconds allowed), or an RFC 3339 instant copied from the API or an
/// export. `Ok(None)` for nothing typed. A date alone is refused rather than read as
/// midnight or the end of the day: either reading would silently answer another question
/// than the evaluator meant.
pub fn instant(text: &str) -> Result<Option<DateTime<Utc>>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    let joined = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(", ", " ")
        .replace([',', 'T'], " ");
    let local = [
        "%d.%m.%Y %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(&joined, f).ok());
    let Some(local) = local else {
        let date_only = ["%d.%m.%Y", "%Y-%m-%d"]
            .iter()
            .any(|f| NaiveDate::parse_from_str(&joined, f).is_ok());
        return Err(if date_only {
            "Podaj także godzinę, np. 20.05.2027 12:00."
        } else {
            "Wpisz datę i godzinę w postaci DD.MM.RRRR GG:MM, np. 20.05.2027 12:00."
        });
    };
    match Warsaw.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(Some(at.with_timezone(&Utc))),
        // An hour the clocks go through twice (end of summer time): the first one, as
        // the calendar would read it before the change.
        LocalResult::Ambiguous(first, _) => Ok(Some(first.with_timezone(&Utc))),
        LocalResult::None => Err(
            "Tej godziny nie było w Polsce: zegary przesunięto wtedy o godzinę do przodu. Podaj inną godzinę.",
        ),
    }
}

/// The `?chwila=` of the "as it stood" pages.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AsStood {
    pub chwila: Option<String>,
}

/// The moment a page was asked for.
pub enum Moment {
    /// No `chwila` at all: the page shows its form only.
    NotAsked,
    /// Something typed that is not a moment: the form again, with why.
    Invalid(InstantField),
    At(DateTime<Utc>, InstantField),
}

impl AsStood {
    pub fn moment(&self) -> Moment {
        let Some(text) = self.chwila.as_deref() else {
            return Moment::NotAsked;
        };
        match instant(text) {
            Ok(Some(at)) => Moment::At(at, InstantField::new(text)),
            Ok(None) => Moment::Invalid(InstantField::failed(
                text,
                "Podaj chwilę: datę i godzinę, np. 20.05.2027 12:00.",
            )),
            Err(e) => Moment::Invalid(InstantField::failed(text, e)),
        }
    }
}

/// Why a replay shows its form again instead of the past state.
pub enum Refusal {
    /// The form with the field's message, and the status to answer.
    Form(InstantField, StatusCode),
    /// Another answer altogether (a failure page).
    Page(Response),
}

/// A replay's answer (`?at=`): the past state as `T`; a 400 (the API's message about
/// `at`) or a 404 (`not_yet`: the page already knows the thing exists, so a 404 here
/// means it did not exist yet then) as the form again; anything else as its page.
// The error is the page to answer at once, as in the console's other helpers; it is
// not passed around, so its size costs nothing worth a box.
#[allow(clippy::result_large_err)]
pub fn replayed<T: DeserializeOwned>(
    answer: &Answer,
    typed: &str,
    not_yet: &str,
) -> Result<T, Refusal> {
    match answer.status {
        s if s.is_success() => read(answer).map_err(Refusal::Page),
        StatusCode::BAD_REQUEST => Err(Refusal::Form(
            InstantField::failed(typed, message_about(answer, "at")),
            StatusCode::BAD_REQUEST,
        )),
        StatusCode::NOT_FOUND => Err(Refusal::Form(
            InstantField::failed(typed, not_yet),
            StatusCode::NOT_FOUND,
        )),
        _ => Err(Refusal::Page(failed(answer))),
    }
}

/// `?at=` for the API: RFC 3339, UTC, URL-safe.
pub fn at_query(at: DateTime<Utc>) -> String {
    serde_urlencoded::to_string([("at", at.to_rfc3339())]).unwrap_or_default()
}

/// `20 maja 2027 r., 12:00` for an RFC 3339 text of the API; the text itself when it is
/// not one.
pub fn shown_instant(text: &str) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|d| polish::instant(d.with_timezone(&Utc)))
        .unwrap_or_else(|_| text.to_owned())
}

/// The page for a coordinator asking for a store-wide check.
pub fn forbidden() -> Response {
    private(render(
        StatusCode::FORBIDDEN,
        &Message::new(
            "Tylko dla ewaluatorów i administratorów",
            vec![
                "Sprawdzenie spójności całego zapisu i eksport historii obejmują zdarzenia wszystkich organizatorów, dlatego mogą je wykonać tylko konta ewaluatora i administratora.".to_owned(),
                "Wizyty, programy i sieci swojego organizatora możesz sprawdzić na ich stronach audytu.".to_owned(),
            ],
        )
        .back("/panel/audyt", "Wróć do narzędzi audytu"),
    ))
}

/// What a page answers for an API answer it did not expect: the console's 404, the
/// coordinator's refusal, or the API's own Polish explanation with its status.
pub fn failed(answer: &Answer) -> Response {
    match answer.status {
        StatusCode::NOT_FOUND => private(not_found()),
        StatusCode::FORBIDDEN => forbidden(),
        status => {
            if status.is_server_error() {
                tracing::error!(%status, body = %answer.body, "an audit read failed");
            }
            private(render(
                status,
                &Message::new("Nie udało się wykonać sprawdzenia", vec![answer.detail()])
                    .back("/panel/audyt", "Wróć do narzędzi audytu"),
            ))
        }
    }
}

/// The body of a successful answer as `T`; an answer that does not read is a defect of
/// ours (the API and the console are one build), answered as one.
#[allow(clippy::result_large_err)] // As for `replayed`.
pub fn read<T: DeserializeOwned>(answer: &Answer) -> Result<T, Response> {
    T::deserialize(&answer.body).map_err(|e| {
        private(service_error(ApiError::Internal(format!(
            "the console could not read an audit answer: {e}"
        ))))
    })
}

/// The API's message about `field` in a 400, else its `detail`.
pub fn message_about(answer: &Answer, field: &str) -> String {
    answer
        .field_errors()
        .into_iter()
        .find(|(f, _)| f == field)
        .map(|(_, m)| m)
        .unwrap_or_else(|| answer.detail())
}

/// What an aggregate type is called.
pub fn aggregate_label(aggregate_type: &str) -> &'static str {
    match aggregate_type {
        "StudyVisit" => "wizyta studyjna",
        "CooperationProgram" => "program współpracy",
        "Network" => "sieć współpracy",
        _ => "historia",
    }
}

/// The console's audit page of an aggregate.
pub fn audit_path(aggregate_type: &str, id: &str) -> Option<String> {
    match aggregate_type {
        "StudyVisit" => Some(format!("/panel/audyt/wizyty/{id}")),
        "CooperationProgram" => Some(format!("/panel/audyt/programy/{id}")),
        "Network" => Some(format!("/panel/audyt/sieci/{id}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(text: &str) -> String {
        instant(text)
            .ok()
            .flatten()
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn polish_instants_are_read_in_warsaw_time() {
        assert_eq!(rfc("20.05.2027 12:00"), "2027-05-20T10:00:00+00:00");
        assert_eq!(rfc(" 2027-05-20  12:00 "), "2027-05-20T10:00:00+00:00");
        assert_eq!(rfc("20.01.2027 12:00:30"), "2027-01-20T11:00:30+00:00");
        assert_eq!(
            rfc("2027-05-20T12:00:00+02:00"),
            "2027-05-20T10:00:00+00:00"
        );
        assert_eq!(instant("  "), Ok(None));
    }

    #[test]
    fn a_date_alone_a_skipped_hour_and_nonsense_are_refused_in_words() {
        assert_eq!(
            instant("20.05.2027"),
            Err("Podaj także godzinę, np. 20.05.2027 12:00.")
        );
        assert!(instant("28.03.2027 02:30")
            .err()
            .is_some_and(|e| e.contains("przesunięto")));
        assert!(instant("jutro").is_err());
        assert!(instant("31.02.2027 12:00").is_err());
    }
}
