//! The networks' forms the shared engine draws (`console::form`): establishing a network,
//! adopting regulations, admitting a member by its declaration of accession, a member
//! leaving, recording a meeting. Each is a [`Spec`] over the API operation it stands for,
//! its fields named by the request's JSON paths, so the API's rules and Polish messages
//! are the form's.
//!
//! An evaluator is answered read-only before anything else: the forms are not shown to
//! them, and a post is refused without being read.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Extension;
use infra::accounts::User;
use projections::networks::read::{MemberStatus, Registry};
use uuid::Uuid;

use super::super::api::Api;
use super::super::form::{self, Field, Group, Kind, Spec, Values};
use super::super::visit_forms::{organizer_group, INSTITUTION_TYPES};
use super::common::{institution_label, may_act, network_for, registry_path, user_of};
use crate::http::page::{not_found, private};
use crate::http::state::AppState;

fn establish_spec(user: &User) -> Spec {
    let mut groups = vec![Group::plain(vec![
        Field::new("name", "Nazwa sieci", Kind::Text)
            .hint("Np. Regionalna Platforma Współpracy na rzecz Rozwoju Ekonomii Społecznej."),
        Field::new("region", "Region", Kind::Text).hint("Województwo, np. warmińsko-mazurskie."),
        Field::new(
            "member_types",
            "Kto może zostać członkiem",
            Kind::Checks(INSTITUTION_TYPES.as_slice()),
        )
        .hint("Zaznacz każdy typ instytucji, który sieć przyjmuje. PES obejmuje też CIS, KIS, ZAZ, WTZ i NGO."),
        Field::new("established_on", "Data założenia", Kind::Date),
    ])];
    groups.extend(organizer_group(user));
    Spec {
        title: "Załóż sieć współpracy".into(),
        intro: Some(
            "Regulamin, członków, władze i spotkania zapiszesz na stronie sieci, gdy ją założysz."
                .into(),
        ),
        groups,
        submit: "Załóż sieć",
        back: "/panel/sieci".into(),
        method: Method::POST,
        api_path: "/api/v1/networks".into(),
        maps: &[],
    }
}

pub async fn establish_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only("/panel/sieci");
    }
    form::show(
        &state,
        &headers,
        &establish_spec(&user),
        "/panel/sieci/nowa",
        &Values::new(),
    )
}

pub async fn establish(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only("/panel/sieci");
    }
    let (values, csrf) = form::posted(&body);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &establish_spec(&user),
        "/panel/sieci/nowa",
        &values,
        &csrf,
        |a| format!("/panel/sieci/{}", a.text("/id").unwrap_or_default()),
    )
    .await
}

fn regulations_spec(network_id: Uuid, r: &Registry) -> Spec {
    Spec {
        title: format!("Regulamin sieci: {}", r.name),
        intro: Some(
            "Nowa wersja nie zastępuje poprzednich: wszystkie zostają w rejestrze, a w mocy jest ta przyjęta najpóźniej."
                .into(),
        ),
        groups: vec![Group::plain(vec![
            Field::new("version", "Wersja", Kind::Text).hint("Np. 1.0; każda wersja ma inną."),
            Field::new("title", "Tytuł", Kind::Text),
            Field::new("adopted_on", "Data przyjęcia", Kind::Date),
            Field::new("document_ref", "Dokument", Kind::Text)
                .hint("Nazwa pliku albo numer w rejestrze, np. regulamin_platformy.doc."),
        ])],
        submit: "Przyjmij regulamin",
        back: registry_path(network_id),
        method: Method::POST,
        api_path: format!("/api/v1/networks/{network_id}/regulations"),
        maps: &[],
    }
}

fn member_spec(network_id: Uuid, r: &Registry) -> Spec {
    let admits: Vec<&str> = r.member_types.iter().map(|t| t.as_str()).collect();
    Spec {
        title: format!("Przyjmij członka: {}", r.name),
        intro: Some(format!(
            "Instytucja przystępuje do sieci, podpisując deklarację przystąpienia; dzień podpisu jest dniem przystąpienia. Sieć przyjmuje: {}.",
            admits.join(", ")
        )),
        groups: vec![
            Group::titled(
                "Instytucja",
                vec![
                    Field::new("institution.name", "Nazwa instytucji", Kind::Text),
                    Field::new("institution.type", "Typ instytucji", Kind::Select(INSTITUTION_TYPES.as_slice())),
                    Field::new("institution.nip", "NIP", Kind::Text)
                        .hint("10 cyfr; spacje i kreski nie przeszkadzają."),
                    Field::new("institution.regon", "REGON (nieobowiązkowo)", Kind::Text).optional(),
                ],
            ),
            Group::titled(
                "Deklaracja przystąpienia",
                vec![
                    Field::new("declaration.signed_on", "Data podpisania", Kind::Date),
                    Field::new(
                        "declaration.document_ref",
                        "Dokument (nieobowiązkowo)",
                        Kind::Text,
                    )
                    .optional()
                    .hint("Nazwa pliku albo numer w rejestrze, np. deklaracja_przystapienia.docx."),
                ],
            ),
        ],
        submit: "Przyjmij członka",
        back: registry_path(network_id),
        method: Method::POST,
        api_path: format!("/api/v1/networks/{network_id}/members"),
        maps: &[],
    }
}

fn leave_spec(network_id: Uuid, member_id: Uuid, who: &str) -> Spec {
    Spec {
        title: format!("Wystąpienie z sieci: {who}"),
        intro: Some(
            "Instytucja pozostaje w rejestrze jako były członek. Funkcje pełnione przez jej przedstawicieli kończą się z dniem wystąpienia."
                .into(),
        ),
        groups: vec![Group::plain(vec![
            Field::new("left_on", "Data wystąpienia", Kind::Date),
            Field::new("reason", "Powód", Kind::Text)
                .hint("Np. „rezygnacja złożona pismem z 3 marca”."),
        ])],
        submit: "Zapisz wystąpienie",
        back: registry_path(network_id),
        method: Method::POST,
        api_path: format!("/api/v1/networks/{network_id}/members/{member_id}/leave"),
        maps: &[],
    }
}

fn meeting_spec(network_id: Uuid, r: &Registry) -> Spec {
    Spec {
        title: format!("Zapisz spotkanie: {}", r.name),
        intro: None,
        groups: vec![Group::plain(vec![
            Field::new("title", "Nazwa spotkania", Kind::Text)
                .hint("Np. Spotkanie sieciujące podmiotów reintegracyjnych."),
            Field::new("when", "Kiedy", Kind::Planned).hint(
                "Z taką dokładnością, jaką znasz: „8-9.12.2016”, „21.05.2020”, „październik 2020”.",
            ),
            Field::new("location", "Miejsce (nieobowiązkowo)", Kind::Text).optional(),
            Field::new("participants_total", "Liczba uczestników", Kind::Integer),
            Field::new("topics", "Tematy (nieobowiązkowo)", Kind::Lines)
                .optional()
                .hint("Każdy temat w osobnym wierszu."),
        ])],
        submit: "Zapisz spotkanie",
        back: registry_path(network_id),
        method: Method::POST,
        api_path: format!("/api/v1/networks/{network_id}/meetings"),
        maps: &[],
    }
}

/// Which of the network's simple forms a route is.
#[derive(Clone, Copy)]
enum Which {
    Regulations,
    Member,
    Meeting,
}

impl Which {
    fn spec(self, network_id: Uuid, r: &Registry) -> Spec {
        match self {
            Self::Regulations => regulations_spec(network_id, r),
            Self::Member => member_spec(network_id, r),
            Self::Meeting => meeting_spec(network_id, r),
        }
    }

    fn action(self, network_id: Uuid) -> String {
        let tail = match self {
            Self::Regulations => "regulamin/nowy",
            Self::Member => "czlonkowie/nowy",
            Self::Meeting => "spotkania/nowe",
        };
        format!("/panel/sieci/{network_id}/{tail}")
    }
}

async fn show(state: AppState, headers: HeaderMap, network_id: String, which: Which) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (network_id, r) = match network_for(&state, &user, &network_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only(&registry_path(network_id));
    }
    form::show(
        &state,
        &headers,
        &which.spec(network_id, &r),
        &which.action(network_id),
        &Values::new(),
    )
}

async fn submit(
    state: AppState,
    api: Api,
    headers: HeaderMap,
    network_id: String,
    body: Bytes,
    which: Which,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (network_id, r) = match network_for(&state, &user, &network_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only(&registry_path(network_id));
    }
    let (values, csrf) = form::posted(&body);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &which.spec(network_id, &r),
        &which.action(network_id),
        &values,
        &csrf,
        |_| registry_path(network_id),
    )
    .await
}

pub async fn regulations_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
) -> Response {
    show(state, headers, network_id, Which::Regulations).await
}

pub async fn adopt_regulations(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    body: Bytes,
) -> Response {
    submit(state, api, headers, network_id, body, Which::Regulations).await
}

pub async fn member_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
) -> Response {
    show(state, headers, network_id, Which::Member).await
}

pub async fn admit_member(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    body: Bytes,
) -> Response {
    submit(state, api, headers, network_id, body, Which::Member).await
}

pub async fn meeting_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
) -> Response {
    show(state, headers, network_id, Which::Meeting).await
}

pub async fn record_meeting(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    body: Bytes,
) -> Response {
    submit(state, api, headers, network_id, body, Which::Meeting).await
}

/// The form for the member leaving and its address: one of the network's current members
/// (None for a member that has left, or another network's: not found).
fn leaving(network_id: Uuid, r: &Registry, member_id: &str) -> Option<(Spec, String)> {
    let member = r
        .members
        .iter()
        .find(|m| m.member_id.to_string() == member_id && m.status == MemberStatus::Active);
    let m = member?;
    let action = format!(
        "/panel/sieci/{network_id}/czlonkowie/{}/wystapienie",
        m.member_id
    );
    Some((
        leave_spec(network_id, m.member_id, &institution_label(&m.institution)),
        action,
    ))
}

pub async fn leave_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((network_id, member_id)): Path<(String, String)>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (network_id, r) = match network_for(&state, &user, &network_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only(&registry_path(network_id));
    }
    let Some((spec, action)) = leaving(network_id, &r, &member_id) else {
        return private(not_found());
    };
    form::show(&state, &headers, &spec, &action, &Values::new())
}

pub async fn leave(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path((network_id, member_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let (network_id, r) = match network_for(&state, &user, &network_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if !may_act(&user) {
        return form::read_only(&registry_path(network_id));
    }
    let Some((spec, action)) = leaving(network_id, &r, &member_id) else {
        return private(not_found());
    };
    let (values, csrf) = form::posted(&body);
    form::submit_then(
        &state,
        &api,
        &headers,
        &user,
        &spec,
        &action,
        &values,
        &csrf,
        |_| registry_path(network_id),
    )
    .await
}
