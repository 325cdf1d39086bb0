//! The console (PAGES.md "The console"): coordinators, admins and evaluators sign in with an
//! e-mail and a password (`/logowanie`), work at `/panel…`, and sign out (`/wyloguj`).
//!
//! Accounts and sessions live in PostgreSQL (`infra::accounts`): a session works on every
//! instance on the database and survives a restart; it ends after 30 minutes idle, 12 hours
//! after sign-in, at sign-out, or when its account is disabled. Why a table of our own and not
//! `tower-sessions`: the rules (idle and absolute expiry on the service's clock, ending every
//! session of a disabled account, keeping only a hash of the browser's secret) are a few
//! statements in one migration beside the other tables, where a session store would bring a
//! second schema manager and store the secret itself as the key.
//!
//! Every form carries the CSRF token of the public pages (`http::forms`); every answer is
//! `no-store` and `noindex` and has the pages' Content-Security-Policy. Sign-ins, failures
//! and sign-outs go to the access log.

mod api;
mod attendance;
mod audit;
mod form;
mod mail;
mod networks;
mod panel;
mod password;
mod preferences;
mod programs;
mod scope;
mod session;
mod sign_in;
mod visit_forms;
mod visits;

use axum::routing::{get, post};
use axum::Router;

use crate::http::state::AppState;

pub use api::Api;
pub use password::hash_password;

pub fn router(api: Api) -> Router<AppState> {
    Router::new()
        .route("/logowanie", get(sign_in::form).post(sign_in::sign_in))
        .route("/wyloguj", post(sign_in::sign_out))
        .route("/panel", get(panel::start))
        .route("/panel/poczta", get(mail::outbox))
        .route(
            "/panel/wizyty/nowa",
            get(visit_forms::announce_form).post(visit_forms::announce),
        )
        .route("/panel/wizyty/{visit_id}", get(visits::visit))
        .route(
            "/panel/wizyty/{visit_id}/oferty",
            get(visit_forms::offer_form).post(visit_forms::set_offer_hours),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/nowy",
            get(visit_forms::term_form).post(visit_forms::add_term),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}/daty",
            get(visit_forms::dates_form).post(visit_forms::set_dates),
        )
        .route(
            "/panel/wizyty/{visit_id}/preferencje/{code}",
            get(preferences::show).post(preferences::check),
        )
        .route(
            "/panel/wizyty/{visit_id}/preferencje/{code}/zapisz",
            post(preferences::save),
        )
        .route(
            "/panel/wizyty/{visit_id}/zgloszenia/{application_id}/{action}",
            get(visit_forms::decision_form).post(visit_forms::decide),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}",
            get(visits::roster),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc",
            get(attendance::list),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}/obecnosc/{application_id}",
            post(attendance::record),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}/pobierz/{file}",
            get(attendance::roster_file),
        )
        .route(
            "/panel/wizyty/{visit_id}/terminy/{term_id}/{action}",
            post(visits::term_action),
        )
        .route(
            "/panel/wizyty/{visit_id}/zgloszenia/{application_id}/zaswiadczenie.pdf",
            get(attendance::certificate),
        )
        .route("/panel/wizyty/{id}/pobierz/{file}", get(attendance::report))
        .route(
            "/panel/programy/{id}/pobierz/{file}",
            get(attendance::report),
        )
        .merge(programs::routes())
        .merge(audit::routes())
        .merge(networks::routes())
        .layer(axum::Extension(api))
        .layer(axum::middleware::from_fn(crate::http::page::page_headers))
}
