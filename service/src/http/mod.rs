//! Everything that answers a request: the router with the OpenAPI document built from the
//! routes themselves, the modules every resource shares, and one folder per resource.
//!
//! A resource folder holds its router (`mod.rs`), its request types and their `TryFrom`
//! into domain values (`requests.rs`), its command handlers (`commands.rs`) and its read
//! handlers with their views (`reads.rs`); a small resource keeps them in one file. It uses
//! the shared modules below and the crates underneath, never another resource
//! (`crate::layout` checks): a command goes through `command`, a read through a read
//! model's `read` queries in `projections`, anything else through `infra`. No SQL here.

// What every resource shares.
pub mod audit_log;
pub mod auth;
pub mod certificate;
pub mod command;
pub mod consistency;
pub mod extract;
pub mod forms;
pub mod history;
pub mod idempotency;
pub mod institution;
pub mod limits;
pub mod messages;
pub mod openapi;
pub mod page;
pub mod polish;
pub mod problem;
pub mod request;
pub mod server;
pub mod spreadsheet;
pub mod state;
pub mod submission;
pub mod telemetry;
pub mod validate;

// One folder per resource.
pub mod access_log;
pub mod applications;
pub mod audit;
pub mod certificates;
pub mod console;
pub mod dashboard;
pub mod export;
pub mod integrity;
pub mod mail;
pub mod networks;
pub mod operations;
pub mod pages;
pub mod personal_data;
pub mod programs;
pub mod reports;
pub mod rosters;
pub mod schedule;
pub mod study_visits;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_scalar::{Scalar, Servable};

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::complete(api_router().into_openapi())
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(operations::router())
        .merge(study_visits::router())
        .merge(applications::router())
        .merge(rosters::router())
        .merge(certificates::router())
        .merge(reports::router())
        .merge(audit::router())
        .merge(integrity::router())
        .merge(export::router())
        .merge(access_log::router())
        .merge(mail::router())
        .merge(programs::router())
        .merge(networks::router())
        .merge(schedule::router())
        .merge(personal_data::router())
}

/// Every route, plus the OpenAPI document and the `/docs` page built from it.
pub fn router(state: AppState) -> Router {
    let (router, api) = api_router().split_for_parts();
    let api = openapi::complete(api);
    // The console's in-process client of the same routes (`console::api`): errors as
    // Polish problem documents, audit reads recorded, as for any client.
    let client = router
        .clone()
        // A form sent twice (a double click, a resend after a lost answer) carries its page's
        // key: the second gets the first's answer and writes nothing (`console::form`).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit_log::layer,
        ))
        .layer(axum::middleware::from_fn(problem::plain_errors_as_problems))
        .layer(axum::middleware::from_fn(messages::localize))
        .with_state(state.clone());
    let doc = api.clone();
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move { axum::Json(doc) }),
        )
        .merge(Scalar::with_url("/docs", api))
        .merge(crate::http::dashboard::router())
        .merge(pages::router())
        .merge(console::router(console::Api::new(client)))
        .fallback(|| async { ApiError::NotFound("No such route.".into()) })
        .with_state(state)
}
