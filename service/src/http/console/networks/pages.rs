//! `/panel/sieci`: the networks of the account's organizer (every organizer's for an admin);
//! and `/panel/sieci/{id}`: a network's registry — its regulations, members with their
//! declarations, officers with their terms, meetings — with the links to every form for a
//! coordinator or admin, and only the reading for an evaluator.
//!
//! After a form the browser comes back with `?zrobione=1&po=<position>`: the page waits
//! for the read model to reach that position, so the change just made is on it; if the
//! wait runs out the page is shown anyway (it is only older by a moment).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::network::{OfficerRole, TermEndReason};
use infra::tokens::Role;
use projections::networks::read::{self, MemberStatus};
use serde::Deserialize;
use uuid::Uuid;

use super::common::{institution_label, may_act, network_for, user_of, PROJECTIONS};
use crate::http::consistency::wait_for;
use crate::http::page::{private, render, service_error};
use crate::http::polish;
use crate::http::state::AppState;

/// What a page after a form is told: that it was saved, and the position written.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    zrobione: Option<String>,
    po: Option<String>,
}

impl Done {
    /// Waits for the read model to have the position written (a bad or stale one is
    /// ignored, as is running out of time), and answers the notice to show.
    async fn settle(&self, state: &AppState) -> Option<String> {
        if let Some(po) = self.po.as_deref().and_then(|p| p.parse::<i64>().ok()) {
            let _ = wait_for(state, PROJECTIONS, Some(po)).await;
        }
        self.zrobione.as_ref().map(|_| "Zapisano.".to_owned())
    }
}

/// The Polish name of an office.
pub fn role_label(role: OfficerRole) -> &'static str {
    match role {
        OfficerRole::Chair => "przewodniczący",
        OfficerRole::ViceChair => "wiceprzewodniczący",
        OfficerRole::Coordinator => "koordynator sieci",
        OfficerRole::Secretary => "sekretarz",
    }
}

fn types_label(types: &[domain::values::InstitutionType]) -> String {
    types
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub struct NetworkRow {
    pub id: Uuid,
    pub name: String,
    pub region: String,
    pub organizer: String,
    pub member_types: String,
    pub established_on: String,
    pub active_members: i64,
    pub meetings: i64,
    pub regulations: String,
}

#[derive(Template)]
#[template(path = "konsola/siec_lista.html")]
struct ListPage {
    networks: Vec<NetworkRow>,
    can_act: bool,
    /// An admin sees every organizer's networks, so each row names its own.
    show_organizer: bool,
    notice: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let notice = done.settle(&state).await;
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        read::list(&mut conn, user.organizer.as_deref()).await
    }
    .await;
    let networks = match loaded {
        Ok(n) => n,
        Err(e) => return private(service_error(e.into())),
    };
    let page = ListPage {
        networks: networks
            .into_iter()
            .map(|n| NetworkRow {
                id: n.id,
                name: n.name,
                region: n.region,
                organizer: n.organizer,
                member_types: types_label(&n.member_types),
                established_on: polish::date(n.established_on),
                active_members: n.active_members,
                meetings: n.meetings,
                regulations: n
                    .current_regulations
                    .unwrap_or_else(|| "nie przyjęto".to_owned()),
            })
            .collect(),
        can_act: may_act(&user),
        show_organizer: user.organizer.is_none(),
        notice,
    };
    private(render(StatusCode::OK, &page))
}

pub struct RegulationsRow {
    pub version: String,
    pub title: String,
    pub adopted_on: String,
    pub document_ref: String,
    pub current: bool,
}

pub struct MemberRow {
    pub member_id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub nip: String,
    pub joined_on: String,
    pub declaration_ref: Option<String>,
    pub active: bool,
    /// `wystąpiła 3 marca 2020 r.: powód` for a member that left.
    pub left: Option<String>,
}

pub struct OfficerRow {
    pub role: &'static str,
    pub person: String,
    pub institution: String,
    pub term: String,
    pub state: String,
}

pub struct MeetingRow {
    pub title: String,
    pub when: String,
    pub location: String,
    pub participants_total: u32,
    pub topics: Vec<String>,
}

#[derive(Template)]
#[template(path = "konsola/siec.html")]
struct RegistryPage {
    network_id: Uuid,
    name: String,
    region: String,
    organizer: String,
    member_types: String,
    established_on: String,
    current_regulations: Option<String>,
    regulations: Vec<RegulationsRow>,
    members: Vec<MemberRow>,
    active_members: usize,
    officers: Vec<OfficerRow>,
    meetings: Vec<MeetingRow>,
    can_act: bool,
    notice: Option<String>,
}

pub async fn registry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(network_id): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let user = match user_of(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    // Wait before reading, so a change just made is in what is read.
    let notice = done.settle(&state).await;
    let (network_id, r) = match network_for(&state, &user, &network_id).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    // Officers' names are personal data: coordinators and admins see them, as in the API.
    let names = if user.role == Role::Evaluator {
        None
    } else {
        let ids: Vec<Uuid> = r.officers.iter().map(|o| o.officer_id).collect();
        match infra::officers::names(&state.pool, &ids).await {
            Ok(n) => Some(n),
            Err(e) => return private(service_error(e.into())),
        }
    };
    let current = r.current_regulations().map(|c| c.version.clone());
    let page = RegistryPage {
        network_id,
        member_types: r
            .member_types
            .iter()
            .map(|t| polish::institution_type(*t))
            .collect::<Vec<_>>()
            .join("; "),
        established_on: polish::date(r.established_on),
        regulations: r
            .regulations
            .iter()
            .map(|v| RegulationsRow {
                version: v.version.clone(),
                title: v.title.clone(),
                adopted_on: polish::date(v.adopted_on),
                document_ref: v.document_ref.clone(),
                current: current.as_deref() == Some(v.version.as_str()),
            })
            .collect(),
        members: r
            .members
            .iter()
            .map(|m| MemberRow {
                member_id: m.member_id,
                name: m.institution.name.as_str().to_owned(),
                kind: m.institution.kind.as_str(),
                nip: m.institution.nip.as_str().to_owned(),
                joined_on: polish::date(m.joined_on),
                declaration_ref: m.declaration_ref.clone(),
                active: m.status == MemberStatus::Active,
                left: (m.status == MemberStatus::Left).then(|| {
                    let when = m.left_on.map(polish::date).unwrap_or_default();
                    match &m.left_reason {
                        Some(reason) => format!("wystąpiła {when}: {reason}"),
                        None => format!("wystąpiła {when}"),
                    }
                }),
            })
            .collect(),
        active_members: r
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Active)
            .count(),
        officers: r
            .officers
            .iter()
            .map(|o| OfficerRow {
                role: role_label(o.role),
                person: match &names {
                    None => "(dane osobowe widzi koordynator)".to_owned(),
                    Some(n) => n.get(&o.officer_id).map_or_else(
                        || "(dane usunięte)".to_owned(),
                        |p| format!("{} {}", p.first_name, p.last_name),
                    ),
                },
                institution: o
                    .institution
                    .as_ref()
                    .map(institution_label)
                    .unwrap_or_default(),
                term: match o.term_ends_on {
                    Some(end) => {
                        format!("{} – {}", polish::date(o.term_starts_on), polish::date(end))
                    }
                    None => format!("od {}, bez daty końca", polish::date(o.term_starts_on)),
                },
                state: match (o.ended_on, o.end_reason) {
                    (None, _) => "pełni funkcję".to_owned(),
                    (Some(on), Some(TermEndReason::Succeeded)) => {
                        format!("zakończona {} (wybrano następcę)", polish::date(on))
                    }
                    (Some(on), Some(TermEndReason::MemberLeft)) => format!(
                        "zakończona {} (instytucja wystąpiła z sieci)",
                        polish::date(on)
                    ),
                    (Some(on), None) => format!("zakończona {}", polish::date(on)),
                },
            })
            .collect(),
        meetings: r
            .meetings
            .iter()
            .map(|m| MeetingRow {
                title: m.title.clone(),
                when: polish::planned(&m.when),
                location: m.location.clone().unwrap_or_default(),
                participants_total: m.participants_total,
                topics: m.topics.clone(),
            })
            .collect(),
        current_regulations: current,
        name: r.name,
        region: r.region,
        organizer: r.organizer,
        can_act: may_act(&user),
        notice,
    };
    private(render(StatusCode::OK, &page))
}
