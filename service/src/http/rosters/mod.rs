//! Rosters of visit terms: allocated, waiting list and passed over, each in rank order, with
//! the basis of every decision; the provisional ranking while a term is open; the roster as
//! it stood at an instant (`?at=`); and the same as CSV for spreadsheets. People's names are
//! joined for coordinators and admins only. The printable sign-in sheet of a closed term
//! (`sheet`) is the same roster's seat holders.
//!
//! A roster is read with one function, `projections::applications::read::roster`, over the
//! `study_visits` and `applications` read models: live, or replayed from the visit's events
//! up to the instant asked for (`projections::replay`), so the two answers cannot drift
//! apart. The provisional ranking is the domain's allocation function, so there is one
//! definition of the policy.

mod reads;
mod sheet;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reads::roster))
        .routes(routes!(reads::roster_csv))
        .routes(routes!(reads::roster_xlsx))
        .routes(routes!(sheet::attendance_list))
}
