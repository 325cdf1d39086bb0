//! The console's networks (*sieci współpracy*, seed 004): the organizer's networks
//! (`/panel/sieci`), a network's registry (`/panel/sieci/{id}`) and the forms that change it —
//! establishing a network, adopting regulations, admitting a member by its declaration of
//! accession, a member leaving, electing an officer and recording a meeting.
//!
//! Every change goes through the API in-process as the signed-in account (`console::api`),
//! so the roles, the organizer's scope, the validation and the Polish messages are the
//! API's, and the events name `user:<id>` as their actor. The pages read the `networks`
//! read model directly (`projections::networks::read`), as the API's reads do.
//!
//! - `common`: what the pages and forms share (the account, the network in scope);
//! - `pages`: the list and the registry;
//! - `forms`: the forms the shared form engine (`console::form`) draws;
//! - `election`: the election form, drawn here because its member list comes from the
//!   registry and the engine's choices are fixed lists (see its module comment).

mod common;
mod election;
mod forms;
mod pages;

use axum::routing::get;
use axum::Router;

use crate::http::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/panel/sieci", get(pages::list))
        .route(
            "/panel/sieci/nowa",
            get(forms::establish_form).post(forms::establish),
        )
        .route("/panel/sieci/{network_id}", get(pages::registry))
        .route(
            "/panel/sieci/{network_id}/regulamin/nowy",
            get(forms::regulations_form).post(forms::adopt_regulations),
        )
        .route(
            "/panel/sieci/{network_id}/czlonkowie/nowy",
            get(forms::member_form).post(forms::admit_member),
        )
        .route(
            "/panel/sieci/{network_id}/czlonkowie/{member_id}/wystapienie",
            get(forms::leave_form).post(forms::leave),
        )
        .route(
            "/panel/sieci/{network_id}/funkcje/nowa",
            get(election::form).post(election::elect),
        )
        .route(
            "/panel/sieci/{network_id}/spotkania/nowe",
            get(forms::meeting_form).post(forms::record_meeting),
        )
}
