//! `/panel/audyt/sieci/{id}?chwila=…`: a network's registry as it stood at that moment
//! (`GET /api/v1/networks/{id}/registry?at=`), replayed from the events recorded up to
//! then: its members, the officers holding office then, and the regulations in force.
//!
//! The page first reads today's registry (not an audit read) for the network's name and
//! to know it exists and is the account's to see; a 404 for the moment asked then means
//! only that the network did not exist yet.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Extension;
use chrono::{DateTime, NaiveDate, Utc};
use domain::values::Institution;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::super::api::Api;
use super::common::{
    at_query, failed, may_audit, read, replayed, user_of, AsStood, InstantField, Moment, Refusal,
    INSTANT_HINT,
};
use crate::http::page::{not_found, private, render};
use crate::http::polish;
use crate::http::state::AppState;

/// The API's `RegistryView`, as far as the page reads it.
#[derive(Deserialize)]
struct Registry {
    name: String,
    #[serde(default)]
    members: Vec<Member>,
    #[serde(default)]
    officers: Vec<Officer>,
    regulations: Regulations,
    #[serde(default)]
    meetings: i64,
    #[serde(default)]
    position: i64,
    at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Member {
    institution: Institution,
    joined_on: NaiveDate,
    status: String,
    left_on: Option<NaiveDate>,
    left_reason: Option<String>,
}

#[derive(Deserialize)]
struct Officer {
    role: String,
    institution: Option<Institution>,
    term_starts_on: NaiveDate,
    term_ends_on: Option<NaiveDate>,
    /// Only for coordinators and admins, as the API decides.
    person: Option<Value>,
}

#[derive(Deserialize)]
struct Regulations {
    current: Option<Version>,
    #[serde(default)]
    versions: Vec<Version>,
}

#[derive(Deserialize)]
struct Version {
    version: String,
    title: String,
    adopted_on: NaiveDate,
    document_ref: String,
}

pub struct MemberRow {
    pub institution: String,
    pub nip: String,
    pub kind: &'static str,
    pub joined_on: String,
    pub status: String,
}

pub struct OfficerRow {
    pub role: &'static str,
    pub person: Option<String>,
    pub institution: String,
    pub term: String,
}

pub struct RegulationsShown {
    pub version: String,
    pub title: String,
    pub adopted_on: String,
    pub document_ref: String,
}

pub struct RegistryShown {
    pub at: String,
    pub position: i64,
    pub members: Vec<MemberRow>,
    pub active: usize,
    pub officers: Vec<OfficerRow>,
    pub with_people: bool,
    pub regulations: Option<RegulationsShown>,
    pub versions: usize,
    pub meetings: i64,
}

#[derive(Template)]
#[template(path = "konsola/audyt_siec.html")]
struct NetworkPage {
    id: Uuid,
    name: String,
    moment: InstantField,
    hint: &'static str,
    registry: Option<RegistryShown>,
    can_export: bool,
}

fn role_label(role: &str) -> &'static str {
    match role {
        "chair" => "przewodniczący",
        "vice_chair" => "wiceprzewodniczący",
        "coordinator" => "koordynator sieci",
        "secretary" => "sekretarz",
        _ => "funkcja",
    }
}

fn shown(r: Registry) -> RegistryShown {
    let with_people = r.officers.iter().any(|o| o.person.is_some());
    RegistryShown {
        at: r.at.map(polish::instant).unwrap_or_default(),
        position: r.position,
        active: r.members.iter().filter(|m| m.status == "active").count(),
        members: r
            .members
            .into_iter()
            .map(|m| MemberRow {
                institution: m.institution.name.as_str().to_owned(),
                nip: m.institution.nip.as_str().to_owned(),
                kind: polish::institution_type(m.institution.kind),
                joined_on: polish::date(m.joined_on),
                status: match (m.status.as_str(), m.left_on) {
                    ("active", _) => "członek".to_owned(),
                    (_, Some(d)) => format!(
                        "wystąpiła {}{}",
                        polish::date(d),
                        m.left_reason.map(|r| format!(" — {r}")).unwrap_or_default()
                    ),
                    _ => "wystąpiła".to_owned(),
                },
            })
            .collect(),
        officers: r
            .officers
            .into_iter()
            .map(|o| OfficerRow {
                role: role_label(&o.role),
                person: o.person.as_ref().map(|p| {
                    match (
                        p.get("first_name").and_then(Value::as_str),
                        p.get("last_name").and_then(Value::as_str),
                    ) {
                        (Some(f), Some(l)) => format!("{f} {l}"),
                        _ => "(dane usunięte)".to_owned(),
                    }
                }),
                institution: o.institution.map_or_else(
                    || "—".to_owned(),
                    |i| format!("{} (NIP {})", i.name.as_str(), i.nip.as_str()),
                ),
                term: match o.term_ends_on {
                    Some(end) => format!(
                        "od {} do {}",
                        polish::date(o.term_starts_on),
                        polish::date(end)
                    ),
                    None => format!(
                        "od {}, bez ustalonego końca",
                        polish::date(o.term_starts_on)
                    ),
                },
            })
            .collect(),
        with_people,
        regulations: r.regulations.current.map(|v| RegulationsShown {
            version: v.version,
            title: v.title,
            adopted_on: polish::date(v.adopted_on),
            document_ref: v.document_ref,
        }),
        versions: r.regulations.versions.len(),
        meetings: r.meetings,
    }
}

pub async fn page(
    State(state): State<AppState>,
    Extension(api): Extension<Api>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(asked): Query<AsStood>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let Ok(id) = Uuid::parse_str(&id) else {
        return private(not_found());
    };
    let today = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/networks/{id}/registry"),
            None,
        )
        .await;
    if !today.status.is_success() {
        return failed(&today);
    }
    let today: Registry = match read(&today) {
        Ok(r) => r,
        Err(res) => return res,
    };
    let mut page = NetworkPage {
        id,
        name: today.name,
        moment: InstantField::default(),
        hint: INSTANT_HINT,
        registry: None,
        can_export: may_audit(&user),
    };
    let (at, typed) = match asked.moment() {
        Moment::NotAsked => return private(render(StatusCode::OK, &page)),
        Moment::Invalid(field) => {
            page.moment = field;
            return private(render(StatusCode::BAD_REQUEST, &page));
        }
        Moment::At(at, field) => (at, field),
    };
    let answer = api
        .call(
            &user,
            &headers,
            Method::GET,
            &format!("/api/v1/networks/{id}/registry?{}", at_query(at)),
            None,
        )
        .await;
    match replayed::<Registry>(
        &answer,
        &typed.value,
        "W tej chwili tej sieci jeszcze nie było: żadne jej zdarzenie nie zostało wtedy zapisane. Podaj późniejszą chwilę.",
    ) {
        Ok(r) => {
            page.moment = typed;
            page.registry = Some(shown(r));
            private(render(StatusCode::OK, &page))
        }
        Err(Refusal::Form(field, status)) => {
            page.moment = field;
            private(render(status, &page))
        }
        Err(Refusal::Page(res)) => res,
    }
}
