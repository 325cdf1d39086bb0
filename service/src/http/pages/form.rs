//! `GET|POST /wizyty/{visit_id}/terminy/{term_id}/zgloszenie`: the application form of an open
//! term (or a page saying why it is closed), and its submission.
//!
//! A submission takes the JSON API's path (`crate::http::submission`): the same checks, the
//! same command, the same record. What the page adds: the CSRF check, the honeypot, the form
//! key (the same form sent twice records once and shows the first's page), and the GOV.UK
//! error pattern in Polish — 422 with the values kept, a summary of errors linking to each
//! field, each field's message beside it.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::study_visit::TermStatus;
use domain::values::InstitutionType;
use projections::study_visits::read::{self, Term, Visit};
use serde::Deserialize;
use uuid::Uuid;

use super::visits::{eligible_types, takes_applications, term_when};
use crate::http::forms::{csrf_for, csrf_sent, random_token, with_cookie};
use crate::http::institution::InstitutionRequest;
use crate::http::limits::SubmissionQuota;
use crate::http::messages;
use crate::http::page::{not_found, private, render, service_error, Message};
use crate::http::polish;
use crate::http::problem::{ApiError, FieldError};
use crate::http::request::RequestMeta;
use crate::http::state::{AppState, SiteInfo};
use crate::http::submission::{self, Applicant, ApplicationRequest, PersonRequest};
use crate::http::validate::Invalid;

/// A text field of the form.
pub struct Field {
    pub id: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub value: String,
    pub error: Option<String>,
    pub kind: &'static str,
    pub autocomplete: Option<&'static str>,
    pub inputmode: Option<&'static str>,
    /// The ids of its hint and error, for `aria-describedby`.
    pub describedby: String,
    pub narrow: bool,
    pub spellcheck_off: bool,
}

/// An error in the summary: the message, and the id of its field.
pub struct ErrorLink {
    pub id: &'static str,
    pub message: String,
}

/// The institution-type select's state.
pub struct SelectState {
    pub error: Option<String>,
}

/// An option of the institution-type select.
pub struct TypeOption {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "strony/zgloszenie.html")]
struct FormPage {
    visit_id: Uuid,
    term_id: Uuid,
    visit_title: String,
    term_label: String,
    term_when: String,
    deadline: String,
    seats: u32,
    seats_left: u32,
    csrf: String,
    form_key: String,
    errors: Vec<ErrorLink>,
    person: Vec<Field>,
    institution_before: Vec<Field>,
    institution_type: SelectState,
    institution_types: Vec<TypeOption>,
    institution_after: Vec<Field>,
    clause: Vec<String>,
    clause_version: String,
    consent: bool,
    consent_error: Option<String>,
}

/// What the form posts (PAGES.md's field names, binding).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FormBody {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub job_title: String,
    pub institution_name: String,
    pub institution_type: String,
    pub nip: String,
    pub regon: String,
    pub consent: Option<String>,
    /// The version of the information clause the form showed.
    pub information_clause: String,
    pub csrf: String,
    pub form_key: String,
    /// The honeypot: hidden from people, filled by bots.
    pub website: String,
}

/// The form field an error of the JSON body's path is about, in the order of the form.
const FIELDS: [(&str, &str); 10] = [
    ("person.first_name", "first_name"),
    ("person.last_name", "last_name"),
    ("person.email", "email"),
    ("person.phone", "phone"),
    ("person.job_title", "job_title"),
    ("institution.name", "institution_name"),
    ("institution.type", "institution_type"),
    ("institution.nip", "nip"),
    ("institution.regon", "regon"),
    ("consent", "consent"),
];

struct Context {
    visit: Visit,
    term: Term,
}

async fn load(
    state: &AppState,
    visit_id: &str,
    term_id: &str,
) -> Result<Option<Context>, ApiError> {
    let (Ok(visit_id), Ok(term_id)) = (Uuid::parse_str(visit_id), Uuid::parse_str(term_id)) else {
        return Ok(None);
    };
    let mut conn = state.pool.acquire().await?;
    let Some(visit) = read::visit(&mut conn, visit_id).await? else {
        return Ok(None);
    };
    let term = read::terms(&mut conn, &[visit_id])
        .await?
        .into_iter()
        .find(|t| t.term_id == term_id);
    Ok(term.map(|term| Context { visit, term }))
}

/// The page of a term whose form takes no applications, and why.
fn closed(ctx: &Context, status: StatusCode) -> Response {
    let t = &ctx.term;
    let why = match t.status {
        TermStatus::Planned => "Daty tego terminu nie są jeszcze ustalone. Rekrutacja ruszy, gdy organizator je ustali.".to_owned(),
        TermStatus::Scheduled => "Rekrutacja na ten termin jeszcze się nie rozpoczęła.".to_owned(),
        TermStatus::Cancelled => "Ten termin został odwołany.".to_owned(),
        TermStatus::Open | TermStatus::Closed => match t.recruitment_deadline {
            Some(d) => format!("Termin zgłoszeń minął {}.", polish::instant(d)),
            None => "Rekrutacja na ten termin jest zakończona.".to_owned(),
        },
    };
    render(
        status,
        &Message::new(
            "Zgłoszenia na ten termin nie są przyjmowane",
            vec![
                format!("{}, {}: {}", ctx.visit.title, t.label, term_when(t)),
                why,
                "Sprawdź inne terminy tej wizyty albo zapytaj organizatora.".to_owned(),
            ],
        )
        .back(
            format!("/wizyty/{}", ctx.visit.visit_id),
            ctx.visit.title.clone(),
        )
        .next("/wizyty", "Zobacz otwarte rekrutacje"),
    )
}

/// The form filled with `body`, showing `errors` (empty: a fresh form).
fn form_page(
    ctx: &Context,
    site: &SiteInfo,
    body: &FormBody,
    errors: &[FieldError],
    csrf: String,
) -> FormPage {
    let clause = submission::clause_of(&ctx.visit, site);
    let error_of = |id: &str| -> Option<String> {
        errors
            .iter()
            .find(|e| form_field(&e.field) == Some(id))
            .map(|e| message(id, body, e))
    };
    let described = |id: &str, hint: bool, error: bool| {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{id}-podpowiedz"));
        }
        if error {
            ids.push(format!("{id}-blad"));
        }
        ids.join(" ")
    };
    let field = |id: &'static str,
                 label: &'static str,
                 hint: Option<&'static str>,
                 value: &str,
                 kind: &'static str,
                 autocomplete: Option<&'static str>| {
        let error = error_of(id);
        Field {
            id,
            label,
            hint,
            describedby: described(id, hint.is_some(), error.is_some()),
            value: value.to_owned(),
            error,
            kind,
            autocomplete,
            inputmode: None,
            narrow: false,
            spellcheck_off: matches!(kind, "email"),
        }
    };
    let mut nip = field(
        "nip",
        "NIP instytucji",
        Some("10 cyfr, np. 9562307984 (możesz wpisać z kreskami)."),
        &body.nip,
        "text",
        None,
    );
    nip.inputmode = Some("numeric");
    nip.narrow = true;
    nip.spellcheck_off = true;
    let mut regon = field(
        "regon",
        "REGON instytucji (nieobowiązkowy)",
        Some("9 albo 14 cyfr."),
        &body.regon,
        "text",
        None,
    );
    regon.inputmode = Some("numeric");
    regon.narrow = true;
    regon.spellcheck_off = true;
    let mut phone = field(
        "phone",
        "Telefon (nieobowiązkowy)",
        None,
        &body.phone,
        "tel",
        Some("tel"),
    );
    phone.narrow = true;
    let summary = FIELDS
        .iter()
        .filter_map(|(_, id)| {
            errors
                .iter()
                .find(|e| form_field(&e.field) == Some(*id))
                .map(|e| ErrorLink {
                    id,
                    message: message(id, body, e),
                })
        })
        .collect();
    let t = &ctx.term;
    FormPage {
        visit_id: ctx.visit.visit_id,
        term_id: t.term_id,
        visit_title: ctx.visit.title.clone(),
        term_label: t.label.clone(),
        term_when: term_when(t),
        deadline: t
            .recruitment_deadline
            .map(polish::instant)
            .unwrap_or_default(),
        seats: t.seats,
        seats_left: t.seats.saturating_sub(u32::try_from(t.allocated).unwrap_or(0)),
        csrf,
        form_key: if body.form_key.is_empty() {
            random_token(16)
        } else {
            body.form_key.clone()
        },
        errors: summary,
        person: vec![
            field("first_name", "Imię", None, &body.first_name, "text", Some("given-name")),
            field("last_name", "Nazwisko", None, &body.last_name, "text", Some("family-name")),
            field(
                "email",
                "Adres e-mail",
                Some("Na ten adres wyślemy informacje o zgłoszeniu. Jeden adres może mieć jedno zgłoszenie na wizytę."),
                &body.email,
                "email",
                Some("email"),
            ),
            phone,
            field(
                "job_title",
                "Stanowisko (nieobowiązkowe)",
                None,
                &body.job_title,
                "text",
                Some("organization-title"),
            ),
        ],
        institution_before: vec![field(
            "institution_name",
            "Nazwa instytucji",
            None,
            &body.institution_name,
            "text",
            Some("organization"),
        )],
        institution_type: SelectState {
            error: error_of("institution_type"),
        },
        institution_types: eligible_types(&ctx.visit)
            .into_iter()
            .map(|t: InstitutionType| TypeOption {
                value: t.as_str(),
                label: polish::institution_type(t),
                selected: body.institution_type == t.as_str(),
            })
            .collect(),
        institution_after: vec![nip, regon],
        clause: clause.paragraphs(),
        clause_version: clause.version,
        consent: body.consent.as_deref() == Some("true"),
        consent_error: error_of("consent"),
    }
}

/// The Polish message for `error` of the form's field `id`: for a required field left
/// empty, what to fill in (GOV.UK: "Wpisz…", "Wybierz…"), whatever the parser said of the
/// empty value; else the catalogue's sentence.
fn message(id: &str, body: &FormBody, error: &FieldError) -> String {
    let blank = |v: &str| v.trim().is_empty();
    let missing = match id {
        "institution_type" if blank(&body.institution_type) => {
            Some("Wybierz rodzaj instytucji, którą reprezentujesz.")
        }
        "nip" if blank(&body.nip) => Some("Wpisz NIP instytucji."),
        "institution_name" if blank(&body.institution_name) => Some("Wpisz nazwę instytucji."),
        "first_name" if blank(&body.first_name) => Some("Wpisz imię."),
        "last_name" if blank(&body.last_name) => Some("Wpisz nazwisko."),
        "email" if blank(&body.email) => Some("Wpisz adres e-mail."),
        _ => None,
    };
    missing.map_or_else(|| messages::field_pl(error), str::to_owned)
}

/// The form's field id for an error of the JSON body's `path`.
fn form_field(path: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(p, _)| *p == path).map(|(_, id)| *id)
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
) -> Response {
    let ctx = match load(&state, &visit_id, &term_id).await {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return not_found(),
        Err(e) => return service_error(e),
    };
    if !takes_applications(&ctx.term, state.clock.now()) {
        return closed(&ctx, StatusCode::OK);
    }
    let (csrf, cookie) = csrf_for(&state.forms, &headers);
    let page = form_page(&ctx, &state.site, &FormBody::default(), &[], csrf);
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}

/// The answer to a form that cannot be taken as sent (no valid CSRF token, a filled
/// honeypot, a body that is not the form's): nothing is recorded.
fn refused_form(status: StatusCode, title: &str, why: &str, back: String) -> Response {
    render(
        status,
        &Message::new(title, vec![why.to_owned()]).next(back, "Otwórz formularz ponownie"),
    )
}

pub async fn submit(
    State(state): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    quota: Result<SubmissionQuota, ApiError>,
    Path((visit_id, term_id)): Path<(String, String)>,
    body: Result<Form<FormBody>, FormRejection>,
) -> Response {
    let back = format!("/wizyty/{visit_id}/terminy/{term_id}/zgloszenie");
    if let Err(e) = quota {
        return service_error(e);
    }
    let Ok(Form(body)) = body else {
        return refused_form(
            StatusCode::BAD_REQUEST,
            "Nie udało się odczytać formularza",
            "Formularz dotarł niekompletny. Otwórz go ponownie i wyślij jeszcze raz.",
            back,
        );
    };
    if !csrf_sent(&state.forms, &headers, &body.csrf) {
        return refused_form(
            StatusCode::FORBIDDEN,
            "Formularz wygasł",
            "Ten formularz nie został otwarty w tej przeglądarce albo minęło zbyt dużo czasu. Nic nie zostało zapisane. Otwórz formularz ponownie i wyślij go jeszcze raz.",
            back,
        );
    }
    if !body.website.trim().is_empty() {
        // Filled by a bot (the field is hidden from people): record nothing, say little.
        return refused_form(
            StatusCode::BAD_REQUEST,
            "Nie udało się wysłać formularza",
            "Zgłoszenie nie zostało zapisane. Otwórz formularz ponownie i wypełnij tylko widoczne pola.",
            back,
        );
    }
    if body.form_key.is_empty() || body.form_key.len() > 64 {
        return refused_form(
            StatusCode::BAD_REQUEST,
            "Nie udało się odczytać formularza",
            "Formularz dotarł niekompletny. Otwórz go ponownie i wyślij jeszcze raz.",
            back,
        );
    }
    let ctx = match load(&state, &visit_id, &term_id).await {
        Ok(Some(ctx)) => ctx,
        Ok(None) => return not_found(),
        Err(e) => return service_error(e),
    };
    let (application_id, applicant_key) = state.forms.application_of(&body.form_key);
    // The same form sent again (a double click, a resend): its application is recorded.
    match infra::personal_data::applicant_visit(&state.pool, application_id, &applicant_key).await {
        Ok(Some(_)) => return to_applicant_page(application_id, &applicant_key),
        Ok(None) => {}
        Err(e) => return service_error(e.into()),
    }
    if !takes_applications(&ctx.term, state.clock.now()) {
        return private(closed(&ctx, StatusCode::CONFLICT));
    }
    let csrf = body.csrf.clone();
    let rerender = |errors: &[FieldError]| {
        private(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &form_page(&ctx, &state.site, &body, errors, csrf.clone()),
        ))
    };
    let applicant = match Applicant::try_from(request_of(&body)) {
        Ok(a) => a,
        Err(Invalid::Fields(errors)) => return rerender(&errors),
        Err(Invalid::Unchecked) => return service_error(ApiError::validated_field_missing()),
    };
    let ids = submission::NewIds {
        application_id,
        applicant_key: applicant_key.clone(),
    };
    let visit_uuid = ctx.visit.visit_id;
    match submission::submit(&state, &meta, visit_uuid, ctx.term.term_id, applicant, ids).await {
        Ok(_) => to_applicant_page(application_id, &applicant_key),
        Err(ApiError::Invalid { errors, .. }) => rerender(&errors),
        Err(ApiError::Conflict { code, .. }) if code == "information_clause_changed" => {
            // The clause changed while the form was open: the new text, and consent again.
            let mut body = body;
            body.consent = None;
            let ctx = match load(&state, &visit_id, &term_id).await {
                Ok(Some(ctx)) => ctx,
                Ok(None) => return not_found(),
                Err(e) => return service_error(e),
            };
            let error = FieldError::new(
                "consent",
                "information_clause_changed",
                "the information clause changed",
            );
            private(render(
                StatusCode::CONFLICT,
                &form_page(&ctx, &state.site, &body, &[error], csrf),
            ))
        }
        Err(ApiError::Conflict { code, detail }) => {
            // Two copies of one form at once: the other one recorded it.
            if let Ok(Some(_)) =
                infra::personal_data::applicant_visit(&state.pool, application_id, &applicant_key)
                    .await
            {
                return to_applicant_page(application_id, &applicant_key);
            }
            private(refused(&ctx, &code, &detail))
        }
        Err(e) => service_error(e),
    }
}

/// The JSON API's body for what the form posted.
fn request_of(body: &FormBody) -> ApplicationRequest {
    let optional = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
    ApplicationRequest {
        person: PersonRequest {
            first_name: body.first_name.clone(),
            last_name: body.last_name.clone(),
            email: body.email.clone(),
            phone: optional(&body.phone),
            job_title: optional(&body.job_title),
        },
        institution: InstitutionRequest {
            name: body.institution_name.clone(),
            kind: body.institution_type.clone(),
            nip: body.nip.clone(),
            regon: optional(&body.regon),
        },
        consent: body.consent.as_deref() == Some("true"),
        information_clause: Some(body.information_clause.clone()).filter(|v| !v.trim().is_empty()),
    }
}

/// 303 to the applicant's own page (its address holds their key).
fn to_applicant_page(application_id: Uuid, applicant_key: &str) -> Response {
    private(
        Redirect::to(&format!(
            "/zgloszenia/{application_id}/{applicant_key}?nowe=1"
        ))
        .into_response(),
    )
}

/// The page of a submission a rule of the domain refused (409), and what the person can do.
fn refused(ctx: &Context, code: &str, detail: &str) -> Response {
    let (title, next_step) = match code {
        "deadline_passed" => (
            "Termin zgłoszeń minął",
            "Sprawdź inne terminy tej wizyty albo zapytaj organizatora.",
        ),
        "recruitment_not_open" => (
            "Rekrutacja nie jest otwarta",
            "Sprawdź inne terminy tej wizyty albo zapytaj organizatora.",
        ),
        "duplicate_application" => (
            "Ten adres e-mail jest już zgłoszony",
            "Na jedną wizytę jeden adres e-mail może mieć jedno zgłoszenie. Swoje zgłoszenie sprawdzisz i wycofasz pod adresem, który otrzymałaś lub otrzymałeś po jego wysłaniu; po wycofaniu możesz zgłosić się ponownie.",
        ),
        _ => (
            "Zgłoszenie nie zostało przyjęte",
            "Sprawdź inne terminy tej wizyty albo zapytaj organizatora.",
        ),
    };
    render(
        StatusCode::CONFLICT,
        &Message::new(
            title,
            vec![messages::refusal_pl(code, detail), next_step.to_owned()],
        )
        .back(
            format!("/wizyty/{}", ctx.visit.visit_id),
            ctx.visit.title.clone(),
        )
        .next("/wizyty", "Zobacz otwarte rekrutacje"),
    )
}
