//! Cooperation programmes: creating them, partners, activities (planned one by one or
//! imported from a CSV schedule, held, cancelled, rescheduled), feedback, the testing period,
//! consultations and comments, the evaluation and closing (coordinator); the programmes list,
//! detail and evaluation (reads).
//!
//! One module per concern, so that each handler stays a few lines: `requests` turns request
//! bodies into domain values, `commands` runs them through the shared command path, `reads`
//! presents what `projections::programs::read` answers, `import` parses CSV schedules,
//! `exports` writes the evaluation for spreadsheets and `schemas` describes, for the OpenAPI
//! document, the closed sets the requests keep as text until they check them. This folder
//! imports no other resource's: what it shares with them is in `crate::http`, `projections`,
//! `infra` and `domain`.

pub mod commands;
pub mod exports;
pub mod import;
pub mod reads;
pub mod requests;
pub mod schemas;

use utoipa::openapi::{RefOr, Required};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

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
        .routes(body_optional(routes!(commands::close)))
        .routes(routes!(import::import_schedule))
        .merge(exports::router())
}

/// Marks the routes' request bodies as optional. The close takes an empty body as "no reason"
/// (`CloseRequest::from_body`), which `#[utoipa::path]` can only say by declaring the body
/// nullable, and a `null` body is refused (422): so the body is declared as it is parsed, and
/// its `required` unset here.
fn body_optional(mut routes: UtoipaMethodRouter<AppState>) -> UtoipaMethodRouter<AppState> {
    for item in routes.1.paths.values_mut() {
        for op in [&mut item.post, &mut item.put].into_iter().flatten() {
            if let Some(RefOr::T(body)) = op.request_body.as_mut() {
                body.required = Some(Required::False);
            }
        }
    }
    routes
}
