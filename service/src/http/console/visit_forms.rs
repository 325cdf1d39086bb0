//! The console's forms that change a study visit: announcing it, adding a term (dated or only
//! planned) and fixing its dates, releasing a seat and giving one by hand, each with its
//! reason. Each is a [`form::Spec`] over the API operation it stands for, so the rules and
//! the messages are the API's (`console::form`).

use std::sync::LazyLock;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Extension;
use domain::values::InstitutionType;
use infra::accounts::User;
use infra::tokens::Role;
use projections::study_visits::read as visits;
use uuid::Uuid;

use super::api::Api;
use super::form::{self, rows, Field, Group, Kind, Spec, Values};
use super::scope;
use super::session;
use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// Institution types (code, Polish name) as the forms offer them: made once from the domain's
/// types and `polish::institution_type`, so a new type reaches every form by itself.
pub static INSTITUTION_TYPES: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    InstitutionType::ALL
        .iter()
        .map(|t| (t.as_str(), crate::http::polish::institution_type(*t)))
        .collect()
});

const PREFERENCE_KINDS: &[(&str, &str)] = &[
    ("listed", "spełniają ją instytucje z listy"),
    ("not_listed", "spełniają ją instytucje spoza listy"),
];

/// The organizer field an admin fills (a coordinator's account has its own).
pub fn organizer_group(user: &User) -> Option<Group> {
    (user.organizer.is_none()).then(|| {
        Group::plain(vec![Field::new("organizer", "Organizator", Kind::Text)
            .hint(
            "Identyfikator organizatora, np. rops-torun (konto administratora działa dla wielu).",
        )])
    })
}

fn announce_spec(user: &User) -> Spec {
    let mut groups = vec![Group::plain(vec![
        Field::new("title", "Tytuł wizyty", Kind::Text),
        Field::new("destination", "Miejsce", Kind::Text)
            .hint("Miejscowość lub instytucja, do której jedzie grupa."),
        Field::new("description", "Opis (nieobowiązkowo)", Kind::Long).optional(),
        Field::new(
            "eligible_institution_types",
            "Kto może się zgłosić",
            Kind::Checks(INSTITUTION_TYPES.as_slice()),
        )
        .hint("Zaznacz każdy typ instytucji, z której mogą zgłaszać się uczestnicy."),
        Field::new(
            "max_per_institution",
            "Najwięcej osób z jednej instytucji (nieobowiązkowo)",
            Kind::Integer,
        )
        .optional()
        .hint("Zostaw puste, jeśli nie ma limitu."),
        Field::new(
            "offer_hours",
            "Czas na przyjęcie zwolnionego miejsca, w godzinach (nieobowiązkowo)",
            Kind::Integer,
        )
        .optional()
        .hint("Gdy miejsce się zwolni, pierwsza osoba z listy rezerwowej dostaje ofertę i ma tyle godzin na odpowiedź. Zostaw puste, a miejsce przypadnie jej od razu."),
    ])];
    groups.extend(rows(
        3,
        "preferences",
        "Preferencja",
        &[
            ("code", "Kod (małe litery, np. cus)", Kind::Text),
            ("label", "Opis", Kind::Text),
            ("kind", "Kto ją spełnia", Kind::Select(PREFERENCE_KINDS)),
        ],
    ));
    groups.push(Group::titled(
        "Finansowanie z funduszy UE (nieobowiązkowo)",
        vec![
            Field::new("funding.project", "Projekt", Kind::Text).optional(),
            Field::new("funding.programme", "Program", Kind::Text).optional(),
            Field::new("funding.priority_axis", "Oś priorytetowa", Kind::Text).optional(),
            Field::new("funding.measure", "Działanie", Kind::Text).optional(),
            Field::new("funding.sub_measure", "Poddziałanie", Kind::Text).optional(),
        ],
    ));
    groups.push(Group::titled(
        "Klauzula informacyjna RODO (nieobowiązkowo)",
        vec![
            Field::new("information_clause.version", "Wersja klauzuli", Kind::Text)
                .optional()
                .hint("Np. 2026-02. Zostaw oba pola puste, a zgłaszający zobaczą klauzulę domyślną serwisu."),
            Field::new("information_clause.text", "Treść klauzuli", Kind::Long).optional(),
        ],
    ));
    groups.extend(organizer_group(user));
    Spec {
        title: "Ogłoś wizytę studyjną".into(),
        intro: Some(
            "Terminy dodasz na stronie wizyty, gdy ją zapiszesz. Preferencja bez kodu i opisu nie zostanie zapisana."
                .into(),
        ),
        groups,
        submit: "Ogłoś wizytę",
        back: "/panel".into(),
        method: Method::POST,
        api_path: "/api/v1/study-visits".into(),
        maps: &[],
    }
}

async fn user_of(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    session::signed_in(state, headers).await
}

pub async fn announce_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if user.role == Role::Evaluator {
        return form::read_only("/panel");
    }
    form::show(
        &state,
        &headers,
        &announce_spec(&user),
        "/panel/wizyty/nowa",
        &Values::new(),
    )
}

pub async fn announce(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (values, csrf) = form::posted(&body);
    let spec = announce_spec(&user);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        "/panel/wizyty/nowa",
        &values,
        &csrf,
        |a| format!("/panel/wizyty/{}", a.text("/id").unwrap_or_default()),
    )
    .await
}

fn term_spec(visit_id: Uuid) -> Spec {
    Spec {
        title: "Dodaj termin".into(),
        intro: Some(
            "Termin z datami: wpisz daty i termin zgłoszeń. Termin planowany: wpisz tylko, kiedy mniej więcej się odbędzie (np. „koniec września 2026”), daty dopiszesz później."
                .into(),
        ),
        groups: vec![
            Group::plain(vec![
                Field::new("label", "Nazwa terminu", Kind::Text).hint("Np. Termin I."),
                Field::new("seats", "Liczba miejsc", Kind::Integer),
            ]),
            Group::titled(
                "Termin z datami",
                vec![
                    Field::new("starts_on", "Pierwszy dzień (np. 27.05.2027)", Kind::Date).optional(),
                    Field::new("ends_on", "Ostatni dzień (np. 28.05.2027)", Kind::Date).optional(),
                    Field::new(
                        "recruitment_deadline",
                        "Zgłoszenia do (data i godzina czasu polskiego, np. 20.05.2027 12:00)",
                        Kind::DateTime,
                    )
                    .optional(),
                ],
            ),
            Group::titled(
                "Termin planowany",
                vec![Field::new("planned", "Kiedy mniej więcej", Kind::Planned)
                    .optional()
                    .hint("Tak, jak piszą harmonogramy: „marzec 2026”, „połowa lipca 2026”, „7-8.05.2026”.")],
            ),
        ],
        submit: "Dodaj termin",
        back: format!("/panel/wizyty/{visit_id}"),
        method: Method::POST,
        api_path: format!("/api/v1/study-visits/{visit_id}/terms"),
        maps: &[],
    }
}

fn dates_spec(visit_id: Uuid, term_id: Uuid, label: &str) -> Spec {
    Spec {
        title: format!("Daty terminu: {label}"),
        intro: Some(
            "Termin planowany dostaje tu daty i termin zgłoszeń; terminowi z datami można je poprawić, dopóki rekrutacja się nie zakończyła."
                .into(),
        ),
        groups: vec![Group::plain(vec![
            Field::new("starts_on", "Pierwszy dzień (np. 27.05.2027)", Kind::Date),
            Field::new("ends_on", "Ostatni dzień (np. 28.05.2027)", Kind::Date),
            Field::new(
                "recruitment_deadline",
                "Zgłoszenia do (data i godzina czasu polskiego, np. 20.05.2027 12:00)",
                Kind::DateTime,
            )
            ,
        ])],
        submit: "Zapisz daty",
        back: format!("/panel/wizyty/{visit_id}"),
        method: Method::POST,
        api_path: format!("/api/v1/study-visits/{visit_id}/terms/{term_id}/dates"),
        maps: &[],
    }
}

pub async fn term_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, _, _) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if user.role == Role::Evaluator {
        return form::read_only(&format!("/panel/wizyty/{visit_id}"));
    }
    form::show(
        &state,
        &headers,
        &term_spec(visit_id),
        &format!("/panel/wizyty/{visit_id}/terminy/nowy"),
        &Values::new(),
    )
}

pub async fn add_term(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, _, _) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (values, csrf) = form::posted(&body);
    let spec = term_spec(visit_id);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!("/panel/wizyty/{visit_id}/terminy/nowy"),
        &values,
        &csrf,
        |_| format!("/panel/wizyty/{visit_id}"),
    )
    .await
}

/// The term's dates as the form shows them (the deadline in Polish time).
fn dates_values(term: &visits::Term) -> Values {
    let mut pairs = Vec::new();
    if let Some(d) = term.starts_on {
        pairs.push(("starts_on", d.format("%d.%m.%Y").to_string()));
    }
    if let Some(d) = term.ends_on {
        pairs.push(("ends_on", d.format("%d.%m.%Y").to_string()));
    }
    if let Some(at) = term.recruitment_deadline {
        let local = at.with_timezone(&chrono_tz::Europe::Warsaw);
        pairs.push((
            "recruitment_deadline",
            local.format("%d.%m.%Y %H:%M").to_string(),
        ));
    }
    form::values_of(pairs)
}

pub async fn dates_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, _, terms) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(term) = terms.iter().find(|t| t.term_id.to_string() == term_id) else {
        return private(not_found());
    };
    if user.role == Role::Evaluator {
        return form::read_only(&format!("/panel/wizyty/{visit_id}"));
    }
    form::show(
        &state,
        &headers,
        &dates_spec(visit_id, term.term_id, &term.label),
        &format!("/panel/wizyty/{visit_id}/terminy/{}/daty", term.term_id),
        &dates_values(term),
    )
}

pub async fn set_dates(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, term_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, _, terms) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let Some(term) = terms.iter().find(|t| t.term_id.to_string() == term_id) else {
        return private(not_found());
    };
    let (values, csrf) = form::posted(&body);
    let spec = dates_spec(visit_id, term.term_id, &term.label);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!("/panel/wizyty/{visit_id}/terminy/{}/daty", term.term_id),
        &values,
        &csrf,
        |_| format!("/panel/wizyty/{visit_id}"),
    )
    .await
}

fn offer_spec(visit_id: Uuid) -> Spec {
    Spec {
        title: "Czas na przyjęcie zwolnionego miejsca".into(),
        intro: Some(
            "Gdy po zamknięciu naboru ktoś zwolni miejsce, pierwsza uprawniona osoba z listy rezerwowej dostaje ofertę i tyle godzin na jej przyjęcie; po tym czasie oferta przechodzi na następną osobę. Zmiana dotyczy miejsc zwolnionych od teraz; oferty już wysłane zachowują swój termin."
                .into(),
        ),
        groups: vec![Group::plain(vec![Field::new(
            "offer_hours",
            "Liczba godzin (od 1 do 720, nieobowiązkowo)",
            Kind::Integer,
        )
        .optional()
        .hint("Zostaw puste, a zwolnione miejsce przypadnie pierwszej osobie z listy od razu, bez oferty.")])],
        submit: "Zapisz",
        back: format!("/panel/wizyty/{visit_id}"),
        method: Method::PUT,
        api_path: format!("/api/v1/study-visits/{visit_id}/offer-hours"),
        maps: &[],
    }
}

pub async fn offer_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, visit, _) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if user.role == Role::Evaluator {
        return form::read_only(&format!("/panel/wizyty/{visit_id}"));
    }
    let current = visit
        .offer_hours
        .map(|h| form::values_of([("offer_hours", h.to_string())]))
        .unwrap_or_default();
    form::show(
        &state,
        &headers,
        &offer_spec(visit_id),
        &format!("/panel/wizyty/{visit_id}/oferty"),
        &current,
    )
}

pub async fn set_offer_hours(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(visit_id): Path<String>,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (visit_id, _, _) = match scope::visit(&state, &user, &visit_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (values, csrf) = form::posted(&body);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &offer_spec(visit_id),
        &format!("/panel/wizyty/{visit_id}/oferty"),
        &values,
        &csrf,
        |_| format!("/panel/wizyty/{visit_id}"),
    )
    .await
}

/// What a decision on one application needs: the reason, and who the person is.
fn decision_spec(
    visit_id: Uuid,
    term_id: Uuid,
    application_id: Uuid,
    release: bool,
    who: &str,
) -> Spec {
    let (title, intro, submit, api) = if release {
        (
            format!("Zwolnij miejsce: {who}"),
            "Miejsce przejdzie na pierwszą uprawnioną osobę z listy rezerwowej (albo dostanie ona ofertę, jeśli wizyta ma czas na przyjęcie). Decyzja i jej powód zostaną zapisane na zawsze.",
            "Zwolnij miejsce",
            "release-seat",
        )
    } else {
        (
            format!("Przyznaj miejsce poza kolejnością: {who}"),
            "Decyzja koordynatora poza regułami naboru: zostanie zapisana z powodem i z tym, kto ją podjął, a lista może przekroczyć liczbę miejsc.",
            "Przyznaj miejsce",
            "allocate",
        )
    };
    Spec {
        title,
        intro: Some(intro.into()),
        groups: vec![Group::plain(vec![Field::new(
            "reason",
            "Powód",
            Kind::Text,
        )
        .hint("Np. „rezygnacja zgłoszona telefonicznie 3 marca”.")])],
        submit,
        back: format!("/panel/wizyty/{visit_id}/terminy/{term_id}"),
        method: Method::POST,
        api_path: format!("/api/v1/study-visits/{visit_id}/applications/{application_id}/{api}"),
        maps: &[],
    }
}

/// The application's term and the person's name (coordinators and admins see names).
async fn application_in(
    state: &AppState,
    user: &User,
    visit_id: &str,
    application_id: &str,
) -> Result<(Uuid, Uuid, Uuid, String), Response> {
    let (visit_id, _, terms) = scope::visit(state, user, visit_id).await?;
    let Ok(application_id) = Uuid::parse_str(application_id) else {
        return Err(private(not_found()));
    };
    let found = async {
        let mut conn = state.pool.acquire().await?;
        for t in &terms {
            if let Some(r) =
                projections::applications::read::roster(&mut conn, visit_id, t.term_id).await?
            {
                let all = r.allocated.iter().chain(&r.waitlist).chain(&r.passed_over);
                if let Some(e) = all.into_iter().find(|e| e.application_id == application_id) {
                    return Ok(Some((t.term_id, e.institution.name.as_str().to_owned())));
                }
            }
        }
        Ok::<_, projections::ReadError>(None)
    }
    .await;
    let (term_id, institution) = match found {
        Ok(Some(f)) => f,
        Ok(None) => return Err(private(not_found())),
        Err(e) => return Err(private(service_error(e.into()))),
    };
    let who = match infra::personal_data::people(&state.pool, &[application_id]).await {
        Ok(p) => p.get(&application_id).map_or_else(
            || institution.clone(),
            |r| format!("{} {} ({institution})", r.first_name, r.last_name),
        ),
        Err(e) => return Err(private(service_error(e.into()))),
    };
    Ok((visit_id, term_id, application_id, who))
}

pub async fn decision_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((visit_id, application_id, action)): Path<(String, String, String)>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let release = match action.as_str() {
        "zwolnij" => true,
        "przyznaj" => false,
        _ => return private(not_found()),
    };
    let (visit_id, term_id, application_id, who) =
        match application_in(&state, &user, &visit_id, &application_id).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    if user.role == Role::Evaluator {
        return form::read_only(&format!("/panel/wizyty/{visit_id}/terminy/{term_id}"));
    }
    form::show(
        &state,
        &headers,
        &decision_spec(visit_id, term_id, application_id, release, &who),
        &format!("/panel/wizyty/{visit_id}/zgloszenia/{application_id}/{action}"),
        &Values::new(),
    )
}

pub async fn decide(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((visit_id, application_id, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let release = match action.as_str() {
        "zwolnij" => true,
        "przyznaj" => false,
        _ => return private(not_found()),
    };
    let (visit_id, term_id, application_id, who) =
        match application_in(&state, &user, &visit_id, &application_id).await {
            Ok(v) => v,
            Err(res) => return res,
        };
    let (values, csrf) = form::posted(&body);
    let spec = decision_spec(visit_id, term_id, application_id, release, &who);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!("/panel/wizyty/{visit_id}/zgloszenia/{application_id}/{action}"),
        &values,
        &csrf,
        |_| format!("/panel/wizyty/{visit_id}/terminy/{term_id}"),
    )
    .await
}
