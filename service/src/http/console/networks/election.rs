//! `/panel/sieci/{id}/funkcje/nowa`: electing an officer. Drawn here, not by the form
//! engine, for one field: the member the officer comes from is chosen from a list of the
//! network's current members by name, and the engine's lists are fixed at compile time
//! (`Kind::Select(&'static …)`). A list built from the registry needs owned options, so
//! this page draws the same GOV.UK pattern as the engine (`konsola/siec_funkcja.html`:
//! the summary linking to each field by the same `f-…` ids, the message beside the
//! field, what was typed kept) and sends the API's own request, whose answer decides as
//! in the engine. It works without JavaScript: a plain `<select>`; the registry's "choose
//! for an office" link of each member opens the form with that member chosen
//! (`?czlonek=<member_id>`).

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use domain::network::OfficerRole;
use infra::accounts::User;
use projections::networks::read::{MemberStatus, Registry};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::super::api::Api;
use super::super::form::{self, id_of, Values};
use super::common::{institution_label, may_act, network_for, registry_path, user_of};
use super::pages::role_label;
use crate::http::forms::{csrf_for, csrf_sent, with_cookie};
use crate::http::page::{not_found, private, render, Message};
use crate::http::state::AppState;

/// The fields of the form, in its order: (JSON path, label, hint).
const FIELDS: [(&str, &str, Option<&str>); 6] = [
    (
        "role",
        "Funkcja",
        Some("Wybór nowej osoby na funkcję kończy kadencję osoby, która ją dotąd pełniła."),
    ),
    ("person.first_name", "Imię", None),
    ("person.last_name", "Nazwisko", None),
    (
        "member_id",
        "Instytucja członkowska, z której pochodzi",
        None,
    ),
    ("term_starts_on", "Początek kadencji", None),
    (
        "term_ends_on",
        "Koniec kadencji (nieobowiązkowo)",
        Some("Zostaw puste, jeśli kadencja nie ma ustalonej daty końca."),
    ),
];

pub struct Choice {
    pub value: String,
    pub label: String,
    pub chosen: bool,
}

/// A field as shown.
pub struct Shown {
    pub id: String,
    pub name: &'static str,
    pub label: &'static str,
    pub hint: Option<&'static str>,
    pub error: Option<String>,
    pub value: String,
    /// `select`, `date` or `text`.
    pub control: &'static str,
    pub options: Vec<Choice>,
    pub describedby: String,
}

pub struct Problem {
    pub id: String,
    pub message: String,
}

#[derive(Template)]
#[template(path = "konsola/siec_funkcja.html")]
struct ElectionPage {
    title: String,
    back: String,
    action: String,
    csrf: String,
    fields: Vec<Shown>,
    errors: Vec<Problem>,
    /// No current member: nobody can be elected yet.
    no_members: bool,
}

/// The network's current members, as the list offers them.
fn members(r: &Registry) -> Vec<(String, String)> {
    r.members
        .iter()
        .filter(|m| m.status == MemberStatus::Active)
        .map(|m| (m.member_id.to_string(), institution_label(&m.institution)))
        .collect()
}

/// The page with `values` and `errors` (field path → message; `""` for the form).
fn page(
    state: &AppState,
    headers: &HeaderMap,
    network_id: Uuid,
    r: &Registry,
    values: &Values,
    errors: &[(String, String)],
    status: StatusCode,
) -> Response {
    let value_of = |path: &str| {
        values
            .get(path)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    };
    let options = |path: &str| -> Vec<Choice> {
        let given = value_of(path);
        let all: Vec<(String, String)> = match path {
            "role" => OfficerRole::ALL
                .iter()
                .map(|r| (r.as_str().to_owned(), role_label(*r).to_owned()))
                .collect(),
            "member_id" => members(r),
            _ => Vec::new(),
        };
        all.into_iter()
            .map(|(value, label)| Choice {
                chosen: value == given,
                value,
                label,
            })
            .collect()
    };
    let fields: Vec<Shown> = FIELDS
        .iter()
        .map(|(path, label, hint)| {
            let id = id_of(path);
            let error: Vec<&str> = errors
                .iter()
                .filter(|(p, _)| p == path)
                .map(|(_, m)| m.as_str())
                .collect();
            let error = (!error.is_empty()).then(|| error.join(" "));
            let mut describedby = Vec::new();
            if hint.is_some() {
                describedby.push(format!("{id}-podpowiedz"));
            }
            if error.is_some() {
                describedby.push(format!("{id}-blad"));
            }
            Shown {
                name: path,
                label,
                hint: *hint,
                error,
                value: value_of(path),
                control: match *path {
                    "role" | "member_id" => "select",
                    "term_starts_on" | "term_ends_on" => "date",
                    _ => "text",
                },
                options: options(path),
                describedby: describedby.join(" "),
                id,
            }
        })
        .collect();
    // The summary in the order of the form, then what belongs to no field (a refusal),
    // linked to the first field.
    let mut summary: Vec<Problem> = Vec::new();
    for (path, label, _) in FIELDS {
        for (p, m) in errors {
            if p == path {
                summary.push(Problem {
                    id: id_of(path),
                    message: format!("{label}: {m}"),
                });
            }
        }
    }
    for (p, m) in errors {
        if !FIELDS.iter().any(|(path, _, _)| p == path) {
            summary.push(Problem {
                id: id_of(FIELDS[0].0),
                message: m.clone(),
            });
        }
    }
    let (csrf, cookie) = csrf_for(&state.forms, headers);
    let body = ElectionPage {
        title: format!("Wybór na funkcję: {}", r.name),
        back: registry_path(network_id),
        action: action(network_id),
        csrf,
        no_members: members(r).is_empty(),
        fields,
        errors: summary,
    };
    with_cookie(private(render(status, &body)), cookie)
}

fn action(network_id: Uuid) -> String {
    format!("/panel/sieci/{network_id}/funkcje/nowa")
}

/// `?czlonek=<member_id>`: the member chosen when the form opens.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Preset {
    czlonek: Option<String>,
}

pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    Query(preset): Query<Preset>,
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
    let values = form::values_of(preset.czlonek.map(|m| ("member_id", m)));
    page(
        &state,
        &headers,
        network_id,
        &r,
        &values,
        &[],
        StatusCode::OK,
    )
}

/// The API's request for what was typed; a member that is not one of the list is named
/// here, as the API could only say the id is malformed.
fn request_of(r: &Registry, values: &Values) -> Result<Value, (String, String)> {
    let value_of = |path: &str| {
        values
            .get(path)
            .and_then(|v| v.first())
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let member = value_of("member_id");
    if !members(r).iter().any(|(id, _)| *id == member) {
        return Err((
            "member_id".to_owned(),
            "Wybierz instytucję z listy członków sieci.".to_owned(),
        ));
    }
    let mut body = Map::new();
    body.insert("role".into(), json!(value_of("role")));
    body.insert(
        "person".into(),
        json!({"first_name": value_of("person.first_name"), "last_name": value_of("person.last_name")}),
    );
    body.insert("member_id".into(), json!(member));
    body.insert("term_starts_on".into(), json!(value_of("term_starts_on")));
    let ends = value_of("term_ends_on");
    if !ends.is_empty() {
        body.insert("term_ends_on".into(), json!(ends));
    }
    Ok(Value::Object(body))
}

pub async fn elect(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    body: Bytes,
) -> Response {
    let user: User = match user_of(&state, &headers).await {
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
    if !csrf_sent(&state.forms, &headers, &csrf) {
        return form::expired(&action(network_id));
    }
    let unprocessable = |errors: &[(String, String)], status| {
        page(&state, &headers, network_id, &r, &values, errors, status)
    };
    let json = match request_of(&r, &values) {
        Ok(j) => j,
        Err(e) => return unprocessable(&[e], StatusCode::UNPROCESSABLE_ENTITY),
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::POST,
            &format!("/api/v1/networks/{network_id}/officers"),
            Some(&json),
        )
        .await;
    match answer.status {
        s if s.is_success() => {
            let po = answer
                .position()
                .map(|p| format!("&po={p}"))
                .unwrap_or_default();
            private(
                Redirect::to(&format!("{}?zrobione=1{po}", registry_path(network_id)))
                    .into_response(),
            )
        }
        StatusCode::UNPROCESSABLE_ENTITY => {
            let mut errors = answer.field_errors();
            if errors.is_empty() {
                errors.push((String::new(), answer.detail()));
            }
            unprocessable(&errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        StatusCode::CONFLICT | StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN => {
            unprocessable(&[(String::new(), answer.detail())], answer.status)
        }
        StatusCode::NOT_FOUND => private(not_found()),
        _ => private(render(
            StatusCode::SERVICE_UNAVAILABLE,
            &Message::new(
                "Chwilowy problem",
                vec![
                    "Nie udało się tego zapisać. Spróbuj ponownie za kilka minut.".to_owned(),
                    answer.detail(),
                ],
            )
            .next(registry_path(network_id), "Wróć"),
        )),
    }
}
