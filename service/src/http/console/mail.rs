//! `/panel/poczta`: what was (and will be) mailed to the applicants of the signed-in
//! account's organizer (every organizer's for an admin), and whether mail is on — the
//! outbox of `infra::outbox`, without addresses. Evaluators do not see it (the outbox is the
//! organizers' operations, as in the API).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use infra::tokens::Role;

use super::session;
use crate::http::page::{private, render, service_error, Message};
use crate::http::polish;
use crate::http::state::AppState;

pub struct Row {
    pub kind: &'static str,
    pub status: &'static str,
    pub error: Option<String>,
    pub attempts: i32,
    pub when: String,
    pub application: String,
}

#[derive(Template)]
#[template(path = "konsola/poczta.html")]
struct OutboxPage {
    enabled: bool,
    rows: Vec<Row>,
}

fn kind_pl(kind: &str) -> &'static str {
    match kind {
        "application_received" => "Zgłoszenie przyjęte",
        "qualified" => "Masz miejsce",
        "waitlisted" => "Lista rezerwowa",
        "passed_over" => "Limit osób z instytucji",
        "term_cancelled" => "Termin odwołany",
        "reminder" => "Przypomnienie",
        "seat_offered" => "Oferta miejsca",
        "offer_lapsed" => "Oferta miejsca wygasła",
        _ => "Inna wiadomość",
    }
}

fn status_pl(status: &str) -> &'static str {
    match status {
        "sent" => "wysłana",
        "failed" => "niewysłana (koniec prób)",
        "dropped" => "nie zostanie wysłana",
        _ => "czeka",
    }
}

pub async fn outbox(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match session::signed_in(&state, &headers).await {
        Ok(u) => u,
        Err(res) => return res,
    };
    if user.role == Role::Evaluator {
        return private(render(
            StatusCode::FORBIDDEN,
            &Message::new(
                "Poczta jest dla organizatorów",
                vec!["Konto ewaluatora nie widzi poczty do zgłaszających się.".to_owned()],
            )
            .next("/panel", "Wróć do panelu"),
        ));
    }
    let organizers = user.organizer.clone().map(|o| vec![o]);
    let rows = match infra::outbox::list(&state.pool, organizers.as_deref(), None, 200).await {
        Ok(r) => r,
        Err(e) => return private(service_error(e.into())),
    };
    let page = OutboxPage {
        enabled: state.mail_enabled,
        rows: rows
            .into_iter()
            .map(|m| Row {
                kind: kind_pl(&m.kind),
                status: status_pl(&m.status),
                error: m.last_error,
                attempts: m.attempts,
                when: polish::instant(m.sent_at.unwrap_or(m.due_at)),
                application: m.application_id.to_string(),
            })
            .collect(),
    };
    private(render(StatusCode::OK, &page))
}
