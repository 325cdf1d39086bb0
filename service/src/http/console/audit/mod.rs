//! The console's audit tools (`/panel/audyt…`): what an EU-project evaluator checks from the
//! browser — whether the whole record is intact, a JSON Lines export to take away, the
//! re-derivation of a visit's decisions and a programme's indicators, and a roster,
//! programme evaluation or network registry as it stood at a past moment.
//!
//! Why through the API in-process (`console::api`) and not the read models: every answer
//! here is one the evaluator could get from the API with a token, and the report must be
//! that same answer — same replay, same roles (the store-wide checks are for evaluators and
//! admins), same organizer scope (another organizer's visit is 404) — and every read lands
//! in the access log with the account as its actor (`user:<id>`), which the API's audit-log
//! layer does for the in-process client as for a token.
//!
//! - `common`: what the pages share (the account, typed instants, the API's refusals);
//! - `start`: the start page, saying what each tool answers;
//! - `integrity`: the check of every hash and seal;
//! - `export`: the export form and the file passed through;
//! - `visits`: a visit's re-derivation and a term's roster at an instant;
//! - `programs`: a programme's check and its evaluation at an instant;
//! - `networks`: a network's registry at an instant.

mod common;
mod export;
mod integrity;
mod networks;
mod programs;
mod start;
mod visits;

use axum::routing::get;
use axum::Router;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/audyt", get(start::page))
        .route("/panel/audyt/spojnosc", get(integrity::page))
        .route("/panel/audyt/eksport", get(export::form))
        .route("/panel/audyt/eksport/plik", get(export::file))
        .route("/panel/audyt/wizyty/{visit_id}", get(visits::verify))
        .route("/panel/audyt/wizyty/{visit_id}/lista", get(visits::choose))
        .route(
            "/panel/audyt/wizyty/{visit_id}/terminy/{term_id}",
            get(visits::roster),
        )
        .route("/panel/audyt/programy/{id}", get(programs::page))
        .route("/panel/audyt/sieci/{id}", get(networks::page))
}
