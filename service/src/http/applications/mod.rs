//! Applications to a visit's terms: the public form (no token), the applicant following and
//! withdrawing their own application with the key they were given, and the coordinator's
//! withdrawal, seat release, seat given by hand and attendance; the certificate of
//! participation of a person present.
//!
//! A submission goes through `infra::applications::submit` (personal data written in the
//! transaction of the events); the other commands through the shared command path; the
//! applicant's status is read from the `applications` read model and, while it may still
//! move, from the term's roster (`projections::applications::read`).

mod applicant;
mod certificate;
mod commands;
mod reads;
mod requests;

use crate::http::state::AppState;
use utoipa_axum::{router::OpenApiRouter, routes};

pub use crate::http::submission::{INFORMATION_CLAUSE_VERSION, LEGAL_BASIS};
pub use applicant::APPLICANT_KEY;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(commands::submit))
        .routes(routes!(reads::own_status))
        .routes(routes!(commands::withdraw_own))
        .routes(routes!(commands::accept_offer))
        .routes(routes!(commands::decline_offer))
        .routes(routes!(commands::withdraw))
        .routes(routes!(commands::release_seat))
        .routes(routes!(commands::allocate_by_hand))
        .routes(routes!(commands::attendance))
        .routes(routes!(certificate::certificate_pdf))
}
