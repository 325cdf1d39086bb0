//! What the networks' pages and forms share: the signed-in account, whether it may act, and
//! the network when it is in the account's scope. Its own module so that the pages and forms
//! depend on it, not on the module that routes to them.

use axum::http::HeaderMap;
use axum::response::Response;
use infra::accounts::User;
use infra::tokens::Role;
use projections::networks::read::{self, Registry};
use uuid::Uuid;

use super::super::session;
use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// The read models the networks' pages are made of (the API's list and registry too).
pub const PROJECTIONS: &[&str] = &["networks"];

/// The signed-in account, or the answer that sends the browser to sign in.
pub async fn user_of(state: &AppState, headers: &HeaderMap) -> Result<User, Response> {
    session::signed_in(state, headers).await
}

/// Whether `user` may change things (an evaluator only reads).
pub fn may_act(user: &User) -> bool {
    user.role != Role::Evaluator
}

/// The network's registry when `user` may see it; another organizer's network, like one
/// that does not exist, is 404 (as in the API: its existence is not told).
pub async fn network_for(
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
pub fn registry_path(network_id: Uuid) -> String {
    format!("/panel/sieci/{network_id}")
}

/// An institution as the pages name it: `name (NIP …)`.
pub fn institution_label(i: &domain::values::Institution) -> String {
    format!("{} (NIP {})", i.name.as_str(), i.nip.as_str())
}
