//! The programme's forms: create one, add a partner, plan an activity and record what became
//! of it (held, cancelled, rescheduled), record feedback, set the testing period, open a
//! consultation and record a comment in it, evaluate, close. Each is a [`form::Spec`] over the
//! API operation it stands for, so the rules and the messages are the API's
//! (`console::form`); after a change the programme's page shows it (`?po=`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Extension;
use infra::accounts::User;
use projections::programs::read as programs;
use std::sync::LazyLock;
use uuid::Uuid;

use super::super::api::Api;
use super::super::form::{self, rows, Field, Group, Kind, Spec, Values};
use super::super::session;
use super::super::visit_forms::{organizer_group, INSTITUTION_TYPES};
use super::common::{
    may_act, program_for, ACTIVITY_KINDS, FEEDBACK_CHANNELS, MEASURES, PARTNER_CHANNELS,
    PROGRAM_KINDS, VERDICTS,
};
use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// Institution types with a first choice of none, for an institution that may be left out.
static INSTITUTION_TYPES_OR_NONE: LazyLock<Vec<(&'static str, &'static str)>> =
    LazyLock::new(|| {
        std::iter::once(("", "(nie dotyczy)"))
            .chain(INSTITUTION_TYPES.iter().copied())
            .collect()
    });

fn programme_page(id: Uuid) -> String {
    format!("/panel/programy/{id}")
}

/// The fields of an institution under `at` (`institution`), each required.
fn institution_fields(at: &str) -> Vec<Field> {
    vec![
        Field::new(format!("{at}.name"), "Nazwa instytucji", Kind::Text),
        Field::new(format!("{at}.nip"), "NIP", Kind::Text)
            .hint("10 cyfr; spacje i kreski nie przeszkadzają."),
        Field::new(
            format!("{at}.type"),
            "Typ instytucji",
            Kind::Select(INSTITUTION_TYPES.as_slice()),
        ),
        Field::new(format!("{at}.regon"), "REGON (nieobowiązkowo)", Kind::Text).optional(),
    ]
}

fn create_spec(user: &User) -> Spec {
    let mut groups = vec![
        Group::plain(vec![
            Field::new("title", "Tytuł", Kind::Text).hint(
                "Np. „Program współpracy Gminy Miasta Toruń z podmiotami ekonomii społecznej na 2013-2014”.",
            ),
            Field::new("kind", "Rodzaj", Kind::Select(PROGRAM_KINDS)),
        ]),
        Group::titled(
            "Okres realizacji",
            vec![
                Field::new("period.start", "Pierwszy dzień", Kind::Date),
                Field::new("period.end", "Ostatni dzień", Kind::Date),
            ],
        ),
        Group::plain(vec![
            Field::new("goals", "Cele (nieobowiązkowo)", Kind::Lines)
                .optional()
                .hint("Każdy cel w osobnym wierszu."),
            Field::new(
                "partner_application_deadline",
                "Ostatni dzień zgłoszeń partnerów (nieobowiązkowo)",
                Kind::Date,
            )
            .optional()
            .hint("Zostaw puste, jeśli partnerzy mogą dołączać bez terminu."),
        ]),
    ];
    groups.extend(rows(
        5,
        "indicators",
        "Wskaźnik",
        &[
            (
                "code",
                "Kod (małe litery, cyfry i _, np. szkolenia)",
                Kind::Text,
            ),
            ("label", "Nazwa", Kind::Text),
            ("target", "Wartość docelowa", Kind::Integer),
            ("measure", "Jak jest mierzony", Kind::Select(MEASURES)),
        ],
    ));
    groups.extend(organizer_group(user));
    Spec {
        title: "Utwórz program".into(),
        intro: Some(
            "Partnerów, działania, konsultacje i ewaluację dodasz na stronie programu, gdy go zapiszesz. Wskaźnik bez kodu, nazwy i wartości nie zostanie zapisany."
                .into(),
        ),
        groups,
        submit: "Utwórz program",
        back: "/panel/programy".into(),
        method: Method::POST,
        api_path: "/api/v1/programs".into(),
        maps: &[],
    }
}

pub async fn create_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only("/panel/programy");
    }
    form::show(
        &state,
        &headers,
        &create_spec(&user),
        "/panel/programy/nowy",
        &Values::new(),
    )
}

pub async fn create(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (values, csrf) = form::posted(&body);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &create_spec(&user),
        "/panel/programy/nowy",
        &values,
        &csrf,
        |a| format!("/panel/programy/{}", a.text("/id").unwrap_or_default()),
    )
    .await
}

/// A form of the programme as a whole, by the last segment of its address; and what it
/// shows filled in (the current testing period, the codes of hand-measured indicators).
fn program_spec(p: &programs::Program, which: &str) -> Option<(Spec, Values)> {
    let id = p.program_id;
    let spec = |title: &str, intro: &str, groups, submit, api: &str| Spec {
        title: format!("{title}: {}", p.title),
        intro: (!intro.is_empty()).then(|| intro.to_owned()),
        groups,
        submit,
        back: programme_page(id),
        method: Method::POST,
        api_path: format!("/api/v1/programs/{id}/{api}"),
        maps: &[],
    };
    let none = Values::new();
    Some(match which {
        "partner" => (
            spec(
                "Dodaj partnera",
                "Instytucja dołącza kartą zgłoszenia. Liczy się data zależna od sposobu: e-mailem — dzień wysłania, pocztą — data stempla, osobiście — dzień doręczenia. Wpisz co najmniej tę datę.",
                vec![
                    Group::titled("Instytucja", institution_fields("institution")),
                    Group::titled(
                        "Karta zgłoszenia",
                        vec![
                            Field::new("channel", "Jak przyszła", Kind::Select(PARTNER_CHANNELS)),
                            Field::new("sent_on", "Dzień wysłania e-mailem", Kind::Date).optional(),
                            Field::new("postmarked_on", "Data stempla pocztowego", Kind::Date)
                                .optional(),
                            Field::new("delivered_on", "Dzień doręczenia", Kind::Date).optional(),
                        ],
                    ),
                ],
                "Dodaj partnera",
                "partners",
            ),
            none,
        ),
        "dzialanie" => (
            spec(
                "Zaplanuj działanie",
                "Wiele działań naraz wczytasz z harmonogramu (plik CSV) na stronie programu.",
                vec![Group::plain(vec![
                    Field::new("title", "Nazwa działania", Kind::Text)
                        .hint("Np. Szkolenie: zmiany w systemie pomocy społecznej."),
                    Field::new("kind", "Rodzaj", Kind::Select(ACTIVITY_KINDS.as_slice())),
                    Field::new("planned", "Kiedy", Kind::Planned).hint(
                        "Tak, jak piszą harmonogramy: „3.02.2014”, „7-8.05.2027”, „luty 2027”, „koniec maja 2027”.",
                    ),
                    Field::new("location", "Miejsce (nieobowiązkowo)", Kind::Text).optional(),
                    Field::new("co_organizer", "Współorganizator (nieobowiązkowo)", Kind::Text)
                        .optional(),
                ])],
                "Zaplanuj działanie",
                "activities",
            ),
            none,
        ),
        "opinia" => (
            spec(
                "Zapisz opinię, propozycję lub sugestię",
                "",
                vec![
                    Group::plain(vec![
                        Field::new("received_on", "Data otrzymania", Kind::Date),
                        Field::new("channel", "Jak przyszła", Kind::Select(FEEDBACK_CHANNELS)),
                        Field::new("text", "Treść", Kind::Long),
                        Field::new("rating", "Ocena od 1 do 5 (nieobowiązkowo)", Kind::Integer)
                            .optional(),
                    ]),
                    Group::titled(
                        "Od instytucji (nieobowiązkowo)",
                        vec![
                            Field::new("institution.name", "Nazwa instytucji", Kind::Text)
                                .optional(),
                            Field::new("institution.nip", "NIP", Kind::Text).optional(),
                            Field::new(
                                "institution.type",
                                "Typ instytucji",
                                Kind::Select(INSTITUTION_TYPES_OR_NONE.as_slice()),
                            )
                            .optional(),
                        ],
                    ),
                ],
                "Zapisz opinię",
                "feedback",
            ),
            none,
        ),
        "testowanie" => (
            spec(
                "Okres testowania",
                "Ewaluację można zapisać od dnia następnego po końcu testowania.",
                vec![Group::plain(vec![Field::new(
                    "ends_on",
                    "Ostatni dzień testowania",
                    Kind::Date,
                )])],
                "Zapisz okres testowania",
                "testing-period",
            ),
            form::values_of(p.testing_ends_on.map(|d| ("ends_on", d.to_string()))),
        ),
        "konsultacja" => (
            spec(
                "Otwórz konsultacje",
                "Uwagi przyjmuje się od pierwszego do ostatniego dnia konsultacji.",
                vec![Group::plain(vec![
                    Field::new("subject", "Przedmiot konsultacji", Kind::Text)
                        .hint("Np. Model współpracy — projekt."),
                    Field::new("opens_on", "Pierwszy dzień", Kind::Date),
                    Field::new("closes_on", "Ostatni dzień", Kind::Date),
                ])],
                "Otwórz konsultacje",
                "consultations",
            ),
            none,
        ),
        "ewaluacja" => {
            let manual: Vec<String> = p
                .indicators
                .iter()
                .filter(|i| i.measure.to_string() == "manual")
                .map(|i| i.code.as_str().to_owned())
                .collect();
            let mut groups = vec![Group::plain(vec![
                Field::new("verdict", "Czy program osiągnął zamierzone efekty?", Kind::Select(VERDICTS)),
                Field::new("summary", "Podsumowanie (nieobowiązkowo)", Kind::Long).optional(),
                Field::new("recommendations", "Rekomendacje (nieobowiązkowo)", Kind::Lines)
                    .optional()
                    .hint("Każda rekomendacja w osobnym wierszu."),
            ])];
            groups.extend(rows(
                manual.len().max(3),
                "manual_values",
                "Wskaźnik mierzony ręcznie",
                &[
                    ("code", "Kod wskaźnika", Kind::Text),
                    ("value", "Wartość", Kind::Integer),
                ],
            ));
            let values: Values = manual
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("manual_values[{i}].code"), vec![c.clone()]))
                .collect();
            let mut s = spec(
                "Ewaluacja",
                "Wartości pozostałych wskaźników serwis liczy sam z tego, co zapisano (działania, uczestnicy, partnerzy, opinie).",
                groups,
                "Zapisz ewaluację",
                "evaluation",
            );
            s.maps = &["manual_values"];
            (s, values)
        }
        "zamkniecie" => (
            spec(
                "Zamknij program",
                "Po zamknięciu nie można już niczego zapisać w programie.",
                vec![Group::plain(vec![Field::new(
                    "reason",
                    "Powód (nieobowiązkowo)",
                    Kind::Text,
                )
                .optional()])],
                "Zamknij program",
                "close",
            ),
            none,
        ),
        _ => return None,
    })
}

pub async fn program_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, which)): Path<(String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let Some((spec, values)) = program_spec(&p, &which) else {
        return private(not_found());
    };
    if !may_act(&user) {
        return form::read_only(&spec.back);
    }
    form::show(
        &state,
        &headers,
        &spec,
        &format!("/panel/programy/{}/{which}", p.program_id),
        &values,
    )
}

pub async fn program_submit(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((id, which)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let p = match program_for(&state, &user, &id).await {
        Ok(p) => p,
        Err(res) => return res,
    };
    let Some((spec, _)) = program_spec(&p, &which) else {
        return private(not_found());
    };
    let (values, csrf) = form::posted(&body);
    let id = p.program_id;
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!("/panel/programy/{id}/{which}"),
        &values,
        &csrf,
        |_| programme_page(id),
    )
    .await
}

/// A form of one activity: record it held, cancel it, plan it for another date.
fn activity_spec(
    p: &programs::Program,
    a: &programs::Activity,
    which: &str,
) -> Option<(Spec, Values)> {
    let id = p.program_id;
    let spec = |title: &str, intro: &str, groups, submit, api: &str| Spec {
        title: format!("{title}: {}", a.title),
        intro: (!intro.is_empty()).then(|| intro.to_owned()),
        groups,
        submit,
        back: programme_page(id),
        method: Method::POST,
        api_path: format!("/api/v1/programs/{id}/activities/{}/{api}", a.activity_id),
        maps: &[],
    };
    Some(match which {
        "odbyte" => {
            let mut groups = vec![Group::plain(vec![
                Field::new("starts_on", "Pierwszy dzień", Kind::Date),
                Field::new("ends_on", "Ostatni dzień", Kind::Date)
                    .hint("Dla działania jednodniowego ten sam dzień."),
                Field::new("participants_total", "Liczba uczestników", Kind::Integer),
            ])];
            groups.extend(rows(
                5,
                "institutions",
                "Instytucja uczestnicząca",
                &[
                    ("name", "Nazwa instytucji", Kind::Text),
                    ("nip", "NIP", Kind::Text),
                    ("type", "Typ instytucji", Kind::Select(INSTITUTION_TYPES.as_slice())),
                ],
            ));
            groups.push(Group::plain(vec![Field::new(
                "notes",
                "Uwagi (nieobowiązkowo)",
                Kind::Long,
            )
            .optional()]));
            (
                spec(
                    "Działanie się odbyło",
                    "Instytucje uczestniczące liczy się w ewaluacji raz każdą (według NIP). Pusta instytucja nie zostanie zapisana.",
                    groups,
                    "Zapisz",
                    "held",
                ),
                Values::new(),
            )
        }
        "odwolaj" => (
            spec(
                "Odwołaj działanie",
                "Odwołanie zostanie zapisane z powodem i z tym, kto je zapisał.",
                vec![Group::plain(vec![Field::new("reason", "Powód", Kind::Text)])],
                "Odwołaj działanie",
                "cancel",
            ),
            Values::new(),
        ),
        "przesun" => (
            spec(
                "Zmień planowany termin",
                "",
                vec![Group::plain(vec![Field::new("planned", "Kiedy", Kind::Planned).hint(
                    "Tak, jak piszą harmonogramy: „3.02.2027”, „7-8.05.2027”, „luty 2027”, „koniec maja 2027”.",
                )])],
                "Zapisz nowy termin",
                "reschedule",
            ),
            form::values_of([("planned", a.planned.to_polish())]),
        ),
        _ => return None,
    })
}

/// The programme and its activity `activity_id`, when `user` may see them.
async fn activity_of(
    state: &AppState,
    user: &User,
    id: &str,
    activity_id: &str,
) -> Result<(programs::Program, programs::Activity), Response> {
    let p = program_for(state, user, id).await?;
    let Ok(activity_id) = Uuid::parse_str(activity_id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        programs::activities(&mut conn, p.program_id).await
    }
    .await;
    match loaded {
        Ok(all) => match all.into_iter().find(|a| a.activity_id == activity_id) {
            Some(a) => Ok((p, a)),
            None => Err(private(not_found())),
        },
        Err(e) => Err(private(service_error(e.into()))),
    }
}

pub async fn activity_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, activity_id, which)): Path<(String, String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (p, a) = match activity_of(&state, &user, &id, &activity_id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let Some((spec, values)) = activity_spec(&p, &a, &which) else {
        return private(not_found());
    };
    if !may_act(&user) {
        return form::read_only(&spec.back);
    }
    form::show(
        &state,
        &headers,
        &spec,
        &format!(
            "/panel/programy/{}/dzialania/{}/{which}",
            p.program_id, a.activity_id
        ),
        &values,
    )
}

pub async fn activity_submit(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((id, activity_id, which)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (p, a) = match activity_of(&state, &user, &id, &activity_id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let Some((spec, _)) = activity_spec(&p, &a, &which) else {
        return private(not_found());
    };
    let (values, csrf) = form::posted(&body);
    let id = p.program_id;
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!("/panel/programy/{id}/dzialania/{}/{which}", a.activity_id),
        &values,
        &csrf,
        |_| programme_page(id),
    )
    .await
}

fn comment_spec(p: &programs::Program, c: &programs::Consultation) -> Spec {
    let mut groups = vec![Group::titled(
        "Instytucja",
        institution_fields("institution"),
    )];
    groups.push(Group::plain(vec![
        Field::new("text", "Treść uwagi", Kind::Long),
        Field::new("submitted_on", "Dzień złożenia", Kind::Date)
            .hint("Uwagi przyjmuje się tylko w czasie konsultacji."),
    ]));
    Spec {
        title: format!("Uwaga w konsultacjach: {}", c.subject),
        intro: None,
        groups,
        submit: "Zapisz uwagę",
        back: programme_page(p.program_id),
        method: Method::POST,
        api_path: format!(
            "/api/v1/programs/{}/consultations/{}/comments",
            p.program_id, c.consultation_id
        ),
        maps: &[],
    }
}

/// The programme and its consultation `consultation_id`, when `user` may see them.
async fn consultation_of(
    state: &AppState,
    user: &User,
    id: &str,
    consultation_id: &str,
) -> Result<(programs::Program, programs::Consultation), Response> {
    let p = program_for(state, user, id).await?;
    let Ok(consultation_id) = Uuid::parse_str(consultation_id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        programs::consultations(&mut conn, p.program_id).await
    }
    .await;
    match loaded {
        Ok(all) => match all
            .into_iter()
            .find(|c| c.consultation_id == consultation_id)
        {
            Some(c) => Ok((p, c)),
            None => Err(private(not_found())),
        },
        Err(e) => Err(private(service_error(e.into()))),
    }
}

pub async fn comment_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, consultation_id)): Path<(String, String)>,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (p, c) = match consultation_of(&state, &user, &id, &consultation_id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let spec = comment_spec(&p, &c);
    if !may_act(&user) {
        return form::read_only(&spec.back);
    }
    form::show(
        &state,
        &headers,
        &spec,
        &format!(
            "/panel/programy/{}/konsultacje/{}/uwaga",
            p.program_id, c.consultation_id
        ),
        &Values::new(),
    )
}

pub async fn comment_submit(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((id, consultation_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (p, c) = match consultation_of(&state, &user, &id, &consultation_id).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let spec = comment_spec(&p, &c);
    let (values, csrf) = form::posted(&body);
    let id = p.program_id;
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &format!(
            "/panel/programy/{id}/konsultacje/{}/uwaga",
            c.consultation_id
        ),
        &values,
        &csrf,
        |_| programme_page(id),
    )
    .await
}
