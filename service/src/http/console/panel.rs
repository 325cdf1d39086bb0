//! `GET /panel`: the signed-in person's start page — who they are and the study visits of
//! their organizer (every organizer's for an admin or an evaluator without one), each with
//! its terms and their state.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use infra::tokens::Role;
use projections::study_visits::read;

use super::session;
use crate::http::forms::{csrf_for, with_cookie};
use crate::http::page::{private, render, service_error};
use crate::http::polish;
use crate::http::state::AppState;

/// A visit as the start page lists it.
pub struct VisitLine {
    pub visit_id: uuid::Uuid,
    pub title: String,
    pub destination: String,
    pub organizer: String,
    pub organizer_shown: bool,
    /// "I termin: 27–28 czerwca 2022 r. — rekrutacja otwarta, 25 miejsc".
    pub terms: Vec<String>,
}

#[derive(Template)]
#[template(path = "konsola/panel.html")]
struct StartPage {
    name: String,
    role: &'static str,
    organizer: Option<String>,
    csrf: String,
    visits: Vec<VisitLine>,
    can_see_mail: bool,
    can_act: bool,
}

fn role_pl(role: Role) -> &'static str {
    match role {
        Role::Admin => "Administrator",
        Role::Coordinator => "Koordynator",
        Role::Evaluator => "Ewaluator (tylko odczyt)",
    }
}

pub async fn start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    let lines = async {
        let mut conn = state.pool.acquire().await?;
        let visits = read::visits(&mut conn, user.organizer.as_deref()).await?;
        let ids: Vec<uuid::Uuid> = visits.iter().map(|v| v.visit_id).collect();
        let terms = read::terms(&mut conn, &ids).await?;
        Ok::<_, projections::ReadError>(
            visits
                .into_iter()
                .map(|v| VisitLine {
                    terms: terms
                        .iter()
                        .filter(|t| t.visit_id == v.visit_id)
                        .map(|t| {
                            format!(
                                "{}: {} — {}, miejsc: {}",
                                t.label,
                                polish::term_when(t),
                                polish::term_status(t.status),
                                t.seats
                            )
                        })
                        .collect(),
                    visit_id: v.visit_id,
                    title: v.title,
                    destination: v.destination,
                    organizer_shown: user.organizer.is_none(),
                    organizer: v.organizer,
                })
                .collect::<Vec<_>>(),
        )
    }
    .await;
    let visits = match lines {
        Ok(v) => v,
        Err(e) => return private(service_error(e.into())),
    };
    let (csrf, cookie) = csrf_for(&state.forms, &headers);
    let page = StartPage {
        name: user.name.clone(),
        role: role_pl(user.role),
        organizer: user.organizer.clone(),
        csrf,
        visits,
        can_see_mail: user.role != Role::Evaluator,
        can_act: user.role != Role::Evaluator,
    };
    with_cookie(private(render(StatusCode::OK, &page)), cookie)
}
