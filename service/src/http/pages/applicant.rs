//! `GET /zgloszenia/{application_id}/{applicant_key}`: the applicant's own page — what was
//! recorded and when, the status in Polish, the provisional rank while recruitment is open —
//! and withdrawal with a confirmation step (`…/wycofanie`, GET asks, POST withdraws). The key
//! in the address is the applicant's credential: a wrong one is 404, like an application
//! that does not exist; every answer is `no-store`, `no-referrer`, `noindex`.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::study_visit::{ApplicationStatus, StudyVisitCommand, TermStatus, Withdrawer};
use projections::applications::read::{self as applications, Standing};
use projections::study_visits::read::{self as visits, Term, Visit};
use serde::Deserialize;
use uuid::Uuid;

use super::visits::term_when;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::polish;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "strony/zgloszenie_osoby.html")]
struct ApplicantPage {
    just_submitted: bool,
    visit_id: Uuid,
    visit_title: String,
    term_label: String,
    term_when: String,
    status: String,
    rank: Option<u32>,
    provisional: bool,
    deadline: String,
    person: String,
    institution: String,
    submitted_at: String,
    can_withdraw: bool,
    self_path: String,
    /// While a seat is offered: until when, in Polish.
    offer_until: Option<String>,
    /// The CSRF token of the offer's form (empty without an offer).
    csrf: String,
    /// The days recorded present, in Polish (empty before any): a certificate can be had.
    days_present: Vec<String>,
}

#[derive(Template)]
#[template(path = "strony/wycofanie.html")]
struct ConfirmWithdrawal {
    visit_title: String,
    term_label: String,
    term_when: String,
    self_path: String,
    csrf: String,
}

/// `?nowe=1`: the page right after the submission; `?po=N`: after a change of the
/// applicant's (its position), so the page shows it (read your own writes).
#[derive(Debug, Deserialize)]
pub struct PageParams {
    nowe: Option<String>,
    po: Option<i64>,
}

/// An application opened with its key, and what the page shows of it.
struct Opened {
    visit: Visit,
    term: Term,
    standing: Standing,
}

/// The application `application_id` if `key` opens it (None: a wrong key, an unknown
/// application, or one the read model has not recorded yet).
async fn open(
    state: &AppState,
    application_id: &str,
    key: &str,
) -> Result<Option<Opened>, ApiError> {
    let Ok(application_id) = Uuid::parse_str(application_id) else {
        return Ok(None);
    };
    if key.is_empty() || key.len() > 100 {
        return Ok(None);
    }
    let Some(visit_id) =
        infra::personal_data::applicant_visit(&state.pool, application_id, key).await?
    else {
        return Ok(None);
    };
    // Just submitted: wait (briefly) for the read models to record it.
    let mut conn = state.pool.acquire().await?;
    let mut tries = 0;
    let standing = loop {
        if let Some(s) = applications::standing(&mut conn, visit_id, application_id).await? {
            break s;
        }
        tries += 1;
        if tries > 100 {
            return Err(ApiError::Unavailable {
                detail: "The application is being recorded.".into(),
                retry_after_secs: 1,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let Some(visit) = visits::visit(&mut conn, visit_id).await? else {
        return Ok(None);
    };
    let Some(term) = visits::terms(&mut conn, &[visit_id])
        .await?
        .into_iter()
        .find(|t| t.term_id == standing.application.term_id)
    else {
        return Ok(None);
    };
    Ok(Some(Opened {
        visit,
        term,
        standing,
    }))
}

fn self_path(application_id: &str, key: &str) -> String {
    format!("/zgloszenia/{application_id}/{key}")
}

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((application_id, key)): Path<(String, String)>,
    Query(p): Query<PageParams>,
) -> Response {
    if let Some(position) = p.po.filter(|p| *p > 0) {
        // Best effort: a read model still behind after the wait shows the page as it is.
        let _ = crate::http::consistency::wait_for(
            &state,
            projections::applications::read::ROSTER_MODELS,
            Some(position),
        )
        .await;
    }
    let opened = match open(&state, &application_id, &key).await {
        Ok(Some(o)) => o,
        Ok(None) => return private(not_found()),
        Err(e) => return private(service_error(e)),
    };
    let id = opened.standing.application.application_id;
    let people = match infra::personal_data::people(&state.pool, &[id]).await {
        Ok(p) => p,
        Err(e) => return private(service_error(e.into())),
    };
    let person = people
        .get(&id)
        .map(|p| format!("{} {} ({})", p.first_name, p.last_name, p.email))
        .unwrap_or_else(|| "dane osobowe usunięte".to_owned());
    let a = &opened.standing.application;
    let t = &opened.term;
    let offer_until = a
        .offer_expires_at
        .filter(|_| a.status == ApplicationStatus::Offered)
        .map(polish::instant);
    let (csrf, cookie) = if offer_until.is_some() {
        csrf_for(&state.forms, &headers)
    } else {
        (String::new(), None)
    };
    let page = ApplicantPage {
        just_submitted: p.nowe.is_some(),
        visit_id: opened.visit.visit_id,
        visit_title: opened.visit.title.clone(),
        term_label: t.label.clone(),
        term_when: term_when(t),
        status: polish::application_status(a.status, opened.standing.waitlist_position),
        rank: opened.standing.rank,
        provisional: t.status == TermStatus::Open,
        deadline: t
            .recruitment_deadline
            .map(polish::instant)
            .unwrap_or_default(),
        person,
        institution: format!(
            "{} (NIP {})",
            a.institution.name.as_str(),
            a.institution.nip.as_str()
        ),
        submitted_at: polish::instant(a.submitted_at),
        can_withdraw: withdrawable(a.status),
        self_path: self_path(&application_id, &key),
        offer_until,
        csrf,
        days_present: opened
            .standing
            .days_present
            .iter()
            .map(|d| polish::date(*d))
            .collect(),
    };
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}

/// What the offer's form posts: the CSRF token and the decision.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct OfferBody {
    csrf: String,
    /// `przyjmij` (accept) or `odrzuc` (decline).
    decyzja: String,
}

/// `POST …/oferta`: accepts or declines the seat offered, then shows the page.
pub async fn answer_offer(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path((application_id, key)): Path<(String, String)>,
    body: Result<Form<OfferBody>, FormRejection>,
) -> Response {
    let body = body.map(|Form(b)| b).unwrap_or_default();
    let asked = AsApplicant {
        state: &state,
        meta: &meta,
        headers: &headers,
        application_id: &application_id,
        key: &key,
        csrf: &body.csrf,
        again: "Otwórz stronę zgłoszenia i odpowiedz na ofertę ponownie.",
    };
    let decision = body.decyzja.clone();
    asked
        .run(
            move |application_id| match decision.as_str() {
                "przyjmij" => Some(StudyVisitCommand::AcceptOffer { application_id }),
                "odrzuc" => Some(StudyVisitCommand::DeclineOffer { application_id }),
                _ => None,
            },
            |code, detail, path| {
                // No offer stands any more (expired, answered already): say why.
                render(
                    StatusCode::CONFLICT,
                    &Message::new(
                        "Oferta miejsca nie jest już aktualna",
                        vec![crate::http::messages::refusal_pl(&code, &detail)],
                    )
                    .next(path, "Wróć do zgłoszenia"),
                )
            },
        )
        .await
}

/// A form of the applicant's page, posted: its CSRF token checked, the application opened
/// with the key, the command run as the applicant, and the page shown again after it.
struct AsApplicant<'a> {
    state: &'a AppState,
    meta: &'a RequestMeta,
    headers: &'a HeaderMap,
    application_id: &'a str,
    key: &'a str,
    csrf: &'a str,
    /// What to do when the form has expired, in Polish.
    again: &'a str,
}

impl AsApplicant<'_> {
    /// Runs `command` (None: the form asked nothing known; the page is shown again);
    /// a refusal of the domain is answered by `refused(code, detail, page path)`.
    async fn run(
        self,
        command: impl FnOnce(Uuid) -> Option<StudyVisitCommand>,
        refused: impl FnOnce(String, String, String) -> Response,
    ) -> Response {
        let path = self_path(self.application_id, self.key);
        if !csrf_sent(&self.state.forms, self.headers, self.csrf) {
            return private(render(
                StatusCode::FORBIDDEN,
                &Message::new(
                    "Formularz wygasł",
                    vec![format!("Nic nie zostało zmienione. {}", self.again)],
                )
                .next(path, "Wróć do zgłoszenia"),
            ));
        }
        let opened = match open(self.state, self.application_id, self.key).await {
            Ok(Some(o)) => o,
            Ok(None) => return private(not_found()),
            Err(e) => return private(service_error(e)),
        };
        let id = opened.standing.application.application_id;
        let Some(cmd) = command(id) else {
            return private(Redirect::to(&path).into_response());
        };
        let ctx = self
            .meta
            .context(format!("applicant:{id}"), None, cmd.name());
        match self
            .state
            .visits
            .execute(&opened.visit.visit_id.to_string(), cmd, &ctx)
            .await
        {
            Ok(done) => {
                private(Redirect::to(&format!("{path}?po={}", done.position)).into_response())
            }
            Err(e) => match ApiError::from(e) {
                ApiError::Conflict { code, detail } => private(refused(code, detail, path)),
                other => private(service_error(other)),
            },
        }
    }
}

/// Whether the applicant can still withdraw (not already withdrawn or released).
fn withdrawable(s: ApplicationStatus) -> bool {
    !matches!(
        s,
        ApplicationStatus::Withdrawn | ApplicationStatus::Released
    )
}

pub async fn confirm_withdrawal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((application_id, key)): Path<(String, String)>,
) -> Response {
    let opened = match open(&state, &application_id, &key).await {
        Ok(Some(o)) => o,
        Ok(None) => return private(not_found()),
        Err(e) => return private(service_error(e)),
    };
    let path = self_path(&application_id, &key);
    if !withdrawable(opened.standing.application.status) {
        return private(Redirect::to(&path).into_response());
    }
    let (csrf, cookie) = csrf_for(&state.forms, &headers);
    let page = ConfirmWithdrawal {
        visit_title: opened.visit.title.clone(),
        term_label: opened.term.label.clone(),
        term_when: term_when(&opened.term),
        self_path: path,
        csrf,
    };
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}

/// What the withdrawal form posts.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WithdrawBody {
    csrf: String,
}

pub async fn withdraw(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    Path((application_id, key)): Path<(String, String)>,
    body: Result<Form<WithdrawBody>, FormRejection>,
) -> Response {
    let token = body.map(|Form(b)| b.csrf).unwrap_or_default();
    let asked = AsApplicant {
        state: &state,
        meta: &meta,
        headers: &headers,
        application_id: &application_id,
        key: &key,
        csrf: &token,
        again: "Otwórz stronę zgłoszenia i wycofaj je ponownie.",
    };
    asked
        .run(
            |application_id| {
                Some(StudyVisitCommand::WithdrawApplication {
                    application_id,
                    by: Withdrawer::Applicant,
                })
            },
            // Already withdrawn (a resent form): the page shows it.
            |_, _, path| Redirect::to(&path).into_response(),
        )
        .await
}

/// `GET /zgloszenia/{id}/{key}/zaswiadczenie.pdf`: the person's own certificate of
/// participation, once they were recorded present on a day (the same document and code as
/// the coordinator prints).
pub async fn certificate(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((application_id, key)): Path<(String, String)>,
) -> Response {
    let opened = match open(&state, &application_id, &key).await {
        Ok(Some(o)) => o,
        Ok(None) => return private(not_found()),
        Err(e) => return private(service_error(e)),
    };
    let visit_id = opened.visit.visit_id;
    let id = opened.standing.application.application_id;
    let printed = match crate::http::certificate::issue(
        &state,
        visit_id,
        id,
        crate::http::certificate::origin(&headers),
    )
    .await
    {
        Ok(p) => p,
        Err(ApiError::Conflict { .. }) => {
            return private(render(
                StatusCode::CONFLICT,
                &crate::http::page::Message::new(
                    "Zaświadczenie nie jest jeszcze dostępne",
                    vec!["Zaświadczenie o udziale otrzymuje osoba, której obecność organizator zapisał choć w jednym dniu wizyty. Jeśli byłaś lub byłeś na wizycie, skontaktuj się z organizatorem.".into()],
                )
                .back(self_path(&application_id, &key), "Wróć do zgłoszenia"),
            ))
        }
        Err(e) => return private(service_error(e)),
    };
    match crate::documents::pdf::certificate(&printed.document) {
        Ok(bytes) => private(crate::http::spreadsheet::attachment(
            bytes,
            "application/pdf",
            &format!("zaswiadczenie-{id}.pdf"),
        )),
        Err(e) => private(service_error(ApiError::Internal(format!(
            "certificate: {e}"
        )))),
    }
}
