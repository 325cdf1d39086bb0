//! Cooperation programmes: creating them, partners, activities (planned one by one or
//! imported from a CSV schedule, held, cancelled, rescheduled), feedback, the testing period,
//! consultations and comments, the evaluation and closing (coordinator); the programmes list,
//! detail and evaluation (reads).
//!
//! One module per concern, so that each handler stays a few lines: `requests` turns request
//! bodies into domain values, `commands` runs them through the shared command path, `reads`
//! presents what `projections::programs::read` answers, `import` parses CSV schedules and
//! `exports` writes the evaluation for spreadsheets. This folder imports no other resource's:
//! what it shares with them is in `crate::http`, `projections`, `infra` and `domain`.

pub mod commands;
pub mod exports;
pub mod import;
pub mod reads;
pub mod requests;

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;

/// Every programme route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(commands::create, reads::list))
        .routes(routes!(reads::detail))
        .routes(routes!(commands::join_partner))
        .routes(routes!(commands::plan_activity))
        .routes(routes!(commands::activity_held))
        .routes(routes!(commands::cancel_activity))
        .routes(routes!(commands::reschedule_activity))
        .routes(routes!(commands::record_feedback))
        .routes(routes!(commands::set_testing_period))
        .routes(routes!(commands::open_consultation))
        .routes(routes!(commands::submit_comment))
        .routes(routes!(commands::evaluate, reads::evaluation))
        .routes(routes!(commands::close))
        .routes(routes!(import::import_schedule))
        .merge(exports::router())
}
