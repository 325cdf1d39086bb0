//! `GET /deklaracja-dostepnosci`: the accessibility statement Polish law requires of public
//! bodies' sites (ustawa o dostępności cyfrowej), with the organizer's contact data from the
//! configuration.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use crate::http::page::render;
use crate::http::state::AppState;

#[derive(Template)]
#[template(path = "strony/deklaracja.html")]
struct Statement {
    organization: String,
    site: String,
    published: &'static str,
    updated: &'static str,
    prepared: &'static str,
    contact_person: String,
    contact_email: Option<String>,
    contact_phone: Option<String>,
}

/// The dates the statement names: when the public pages were published and last changed.
const PUBLISHED: &str = "5 grudnia 2026 r.";

pub async fn statement(State(state): State<AppState>) -> Response {
    let site = &state.site;
    render(
        StatusCode::OK,
        &Statement {
            organization: site.organization.clone(),
            site: site
                .public_url
                .clone()
                .unwrap_or_else(|| "tej witryny".to_owned()),
            published: PUBLISHED,
            updated: PUBLISHED,
            prepared: PUBLISHED,
            contact_person: site
                .contact_person
                .clone()
                .unwrap_or_else(|| "koordynatora dostępności organizatora".to_owned()),
            contact_email: site.contact_email.clone(),
            contact_phone: site.contact_phone.clone(),
        },
    )
}
