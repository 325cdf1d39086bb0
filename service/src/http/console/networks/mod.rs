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
//! - `pages`: the list and the registry;
//! - `forms`: the forms the shared form engine (`console::form`) draws;
//! - `election`: the election form, drawn here because its member list comes from the
//!   registry and the engine's choices are fixed lists (see its module comment).

mod election;
mod forms;
mod pages;

use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use infra::accounts::User;
use infra::tokens::Role;
use projections::networks::read::{self, Registry};
use uuid::Uuid;

use super::session;
use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// The read models the networks' pages are made of (the API's list and registry too).
const PROJECTIONS: &[&str] = crate::http::networks::NETWORK_PROJECTIONS;

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

/// The signed-in account, or the answer that sends the browser to sign in.
async fn user_of(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    session::signed_in(state, headers).await
}

/// Whether `user` may change things (an evaluator only reads).
fn may_act(user: &User) -> bool {
    user.role != Role::Evaluator
}

/// The network's registry when `user` may see it; another organizer's network, like one
/// that does not exist, is 404 (as in the API: its existence is not told).
async fn network_for(
    state: &AppState,
    user: &User,
    network_id: &str,
) -> Result<(Uuid, Registry), Response> {
    let Ok(network_id) = Uuid::parse_str(network_id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        read::registry(&mut conn, network_id).await
    }
    .await;
    match loaded {
        Ok(Some(r)) if user.organizer.as_deref().is_none_or(|o| o == r.organizer) => {
            Ok((network_id, r))
        }
        Ok(_) => Err(private(not_found())),
        Err(e) => Err(private(service_error(e.into()))),
    }
}

/// Where a network's pages start.
fn registry_path(network_id: Uuid) -> String {
    format!("/panel/sieci/{network_id}")
}

/// An institution as the pages name it: `name (NIP …)`.
fn institution_label(i: &domain::values::Institution) -> String {
    format!("{} (NIP {})", i.name.as_str(), i.nip.as_str())
}
