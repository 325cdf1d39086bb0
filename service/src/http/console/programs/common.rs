//! What the programmes' pages and forms share: the value sets with their Polish labels, the
//! account's right to act, and the programme when it is in the account's scope. Its own
//! module so that the forms and the schedule depend on it, not on the module that routes to
//! them.

use std::sync::LazyLock;

use axum::response::Response;
use infra::accounts::User;
use infra::tokens::Role;
use projections::programs::read as programs;
use uuid::Uuid;

use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// Programme kinds (value, label).
pub const PROGRAM_KINDS: &[(&str, &str)] = &[
    ("cooperation_programme", "program współpracy"),
    ("project", "projekt"),
];

/// Activity kinds, as the domain spells them (`ActivityKind::as_str`), with the labels the
/// documents use too (`polish::activity_kind`, one list of Polish names), in the order the
/// forms offer them: the most frequent first.
pub static ACTIVITY_KINDS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    use domain::cooperation_program::ActivityKind as K;
    [
        K::Training,
        K::Meeting,
        K::Consultation,
        K::Forum,
        K::StudyVisit,
        K::Conference,
        K::CommitteeSitting,
        K::MonitoringMeeting,
        K::Publication,
        K::Gala,
        K::Other,
    ]
    .into_iter()
    .map(|k| (k.as_str(), crate::http::polish::activity_kind(k)))
    .collect()
});

/// How a partner's application card came, and which date counts.
pub const PARTNER_CHANNELS: &[(&str, &str)] = &[
    ("email", "e-mailem (liczy się dzień wysłania)"),
    ("post", "pocztą (liczy się data stempla)"),
    ("in_person", "osobiście (liczy się dzień doręczenia)"),
];

/// How feedback came.
pub const FEEDBACK_CHANNELS: &[(&str, &str)] = &[
    ("email", "e-mail"),
    ("post", "poczta"),
    ("in_person", "osobiście"),
    ("phone", "telefon"),
    ("online_form", "formularz internetowy"),
    ("survey", "ankieta"),
    ("meeting", "spotkanie"),
    ("other", "inny sposób"),
];

/// The evaluation's verdicts.
pub const VERDICTS: &[(&str, &str)] = &[
    ("achieved", "cele osiągnięte"),
    ("partially_achieved", "cele osiągnięte częściowo"),
    ("not_achieved", "cele nieosiągnięte"),
];

/// How an indicator is measured (`Measure`'s spellings; `activities_held:<kind>` for the
/// kinds a schedule counts most often).
pub const MEASURES: &[(&str, &str)] = &[
    (
        "participants_total",
        "liczba uczestników działań, które się odbyły",
    ),
    ("activities_held", "liczba działań, które się odbyły"),
    (
        "activities_held:training",
        "liczba szkoleń, które się odbyły",
    ),
    (
        "activities_held:meeting",
        "liczba spotkań, które się odbyły",
    ),
    (
        "activities_held:consultation",
        "liczba konsultacji, które się odbyły",
    ),
    ("activities_held:forum", "liczba forów, które się odbyły"),
    (
        "activities_held:study_visit",
        "liczba wizyt studyjnych, które się odbyły",
    ),
    (
        "activities_held:conference",
        "liczba konferencji, które się odbyły",
    ),
    (
        "distinct_institutions",
        "liczba różnych instytucji w działaniach (wg NIP)",
    ),
    ("partners", "liczba partnerów"),
    ("feedback_received", "liczba otrzymanych opinii"),
    ("manual", "wartość wpisywana ręcznie przy ewaluacji"),
];

/// The label of `code` in `set`, or the code itself when the set does not name it (a value
/// written before the console knew it stays readable).
pub fn label_of(set: &[(&str, &str)], code: &str) -> String {
    set.iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, l)| (*l).to_owned())
}

/// `1 działanie`, `3 działania`, `5 działań`: the Polish plural after a number.
pub fn activities_count(n: usize) -> String {
    let word = crate::http::polish::plural(n as u64, "działanie", "działania", "działań");
    format!("{n} {word}")
}

/// Whether `user` may change things (not an evaluator).
pub fn may_act(user: &User) -> bool {
    user.role != Role::Evaluator
}

/// The programme (read model) when `user` may see it, else the page to answer: 404 for an id
/// that is not one, a programme that does not exist or another organizer's.
pub async fn program_for(
    state: &AppState,
    user: &User,
    id: &str,
) -> Result<programs::Program, Response> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        programs::program(&mut conn, id).await
    }
    .await;
    match loaded {
        Ok(Some(p)) if user.organizer.as_deref().is_none_or(|o| o == p.organizer) => Ok(p),
        Ok(_) => Err(private(not_found())),
        Err(e) => Err(private(service_error(e.into()))),
    }
}
