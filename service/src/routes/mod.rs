//! The HTTP routes, one module per resource, collected with their OpenAPI descriptions.

pub mod access_log;
pub mod applications;
pub mod audit;
pub mod export;
pub mod integrity;
pub mod networks;
pub mod personal_data;
pub mod program_exports;
pub mod programs;
pub mod rosters;
pub mod schedule;
pub mod schedule_ics;
pub mod service;
pub mod study_visits;

use axum::Router;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_scalar::{Scalar, Servable};

use crate::auth::Auth;
use crate::problem::ApiError;
use crate::request::RequestMeta;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Koordynator API", description = "Study visits, cooperation programmes and networks of ROPS on an append-only event store. Errors are RFC 9457 problem documents."),
    modifiers(&BearerAuth),
    components(schemas(crate::problem::Problem, crate::problem::FieldError))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(service::router())
        .merge(study_visits::router())
        .merge(applications::router())
        .merge(rosters::router())
        .merge(audit::router())
        .merge(integrity::router())
        .merge(export::router())
        .merge(access_log::router())
        .merge(programs::router())
        .merge(program_exports::router())
        .merge(networks::router())
        .merge(schedule::router())
        .merge(schedule_ics::router())
        .merge(personal_data::router())
}

/// Every route, plus the OpenAPI document and the `/docs` page built from it.
pub fn router(state: AppState) -> Router {
    let (router, api) = api_router().split_for_parts();
    let doc = api.clone();
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || async move { axum::Json(doc) }),
        )
        .merge(Scalar::with_url("/docs", api))
        .merge(crate::dashboard::router())
        .fallback(|| async { ApiError::NotFound("No such route.".into()) })
        .with_state(state)
}

/// Answer of a command that only reports where it wrote.
#[derive(Debug, Serialize, ToSchema)]
pub struct PositionResponse {
    /// Global position of the last event written.
    pub position: i64,
}

/// `?min_position=`: read your own writes.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Consistency {
    /// Answer only once the read model has processed this position (waits up to 5 s).
    pub min_position: Option<i64>,
}

/// Runs a command as an authenticated coordinator or admin (an evaluator gets 403; an
/// aggregate of another organizer answers 404) and answers the position it wrote.
pub async fn run_command<A>(
    bus: &infra::CommandBus<A>,
    auth: &Auth,
    meta: &RequestMeta,
    id: uuid::Uuid,
    name: &str,
    cmd: A::Command,
) -> Result<i64, ApiError>
where
    A: cqrs_es::Aggregate<Error = domain::DomainError> + Clone + 'static,
    A::Command: Clone + Send + Sync,
{
    let ctx = meta.context(auth.actor(), auth.command_scope()?, name);
    Ok(bus.execute(&id.to_string(), cmd, &ctx).await?.position)
}

/// Waits for `projections` to reach `min_position` (API.md), else 503 with Retry-After.
pub async fn wait_for(
    state: &AppState,
    projections: &[&str],
    min_position: Option<i64>,
) -> Result<(), ApiError> {
    let Some(position) = min_position else {
        return Ok(());
    };
    if position < 0 {
        return Err(ApiError::bad_param("min_position", "must be 0 or more"));
    }
    let reached =
        projections::runner::wait_for_position(&state.pool, projections, position, state.read_wait)
            .await?;
    if reached {
        Ok(())
    } else {
        Err(ApiError::Unavailable {
            detail: format!(
                "The read model has not yet processed position {position}; retry shortly."
            ),
            retry_after_secs: 1,
        })
    }
}

/// Where a projection stands (for the `position` of read answers).
pub async fn projection_position(state: &AppState, name: &str) -> Result<i64, ApiError> {
    Ok(
        sqlx::query_scalar("SELECT last_position FROM projection_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(&state.pool)
            .await?
            .unwrap_or(0),
    )
}
