//! Study visits (*wizyty studyjne*): a coordinator announces a visit with its allocation
//! policy (eligible institution types, cap per institution, preferences), keeps the
//! preferences' institution lists, schedules terms (dated, or only planned until their dates
//! are fixed), opens, closes and cancels their recruitment; anyone with a token reads the
//! visits list and a visit's detail with its terms.
//!
//! Commands go through the shared command path (`http::command`) to the `StudyVisit`
//! aggregate; reads come from the `study_visits` read model (`projections::study_visits::read`).
//! Applications and rosters of the same visits are resources of their own.

mod commands;
mod reads;
mod requests;
mod schemas;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(commands::announce, reads::list))
        .routes(routes!(reads::detail))
        .routes(routes!(commands::set_information_clause))
        .routes(routes!(commands::set_offer_hours))
        .routes(routes!(commands::replace_preference_list))
        .routes(routes!(commands::schedule_term))
        .routes(routes!(commands::fix_term_dates))
        .routes(routes!(commands::open_recruitment))
        .routes(routes!(commands::close_recruitment))
        .routes(routes!(commands::cancel_term))
}
