//! The shared schedule (harmonogram): programmes' activities, study-visit terms and network
//! meetings of one year, by month, with the date precision kept.

mod ics;
mod reads;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reads::schedule))
        .merge(ics::router())
}
