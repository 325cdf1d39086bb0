//! Networks (*sieci* / *platformy współpracy*): establishing a network, its regulations,
//! members joining by declaration and leaving, officers' elections and meetings
//! (coordinator), and the networks list and registry (reads).
//!
//! - `requests`: the command bodies, parsed into domain values with every field error at
//!   once;
//! - `commands`: the command handlers, down the shared command path;
//! - `reads`: the list and the registry (live, or as of an instant by a replay of the
//!   read model), from `projections::networks::read`.
//!
//! Officers' names are personal data: they go into `officer_personal_data` in the
//! transaction of the election's events, the events carry only the officer's id, and the
//! registry shows the name to coordinators and admins only.

mod commands;
mod reads;
mod requests;
mod schemas;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;

pub use reads::NETWORK_PROJECTIONS;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(commands::establish, reads::list))
        .routes(routes!(commands::adopt_regulations))
        .routes(routes!(commands::join))
        .routes(routes!(commands::leave))
        .routes(routes!(commands::elect))
        .routes(routes!(commands::record_meeting))
        .routes(routes!(reads::registry))
}
