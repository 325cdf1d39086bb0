//! Service routes: health (the database answers) and readiness (the read models have caught
//! up and the service is not shutting down).

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::state::AppState;
use crate::http::telemetry::Ops;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// Health answer.
#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `ok` (200) or `unavailable` (503).
    #[schema(value_type = DatabaseStatus)]
    pub status: &'static str,
}

/// Whether the database answers: `ok` or `unavailable`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum DatabaseStatus {
    Ok,
    Unavailable,
}

/// Whether the instance takes traffic: `ready` (200) or `not_ready` (503).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ReadinessStatus {
    Ready,
    NotReady,
}

async fn database_answers(state: &AppState) -> bool {
    infra::db::answers(&state.pool, std::time::Duration::from_secs(2)).await
}

/// 200 when the database answers, else 503.
#[utoipa::path(get, path = "/health", operation_id = "health", tag = "service",
    responses((status = 200, body = Health, description = "The database answers: `{\"status\": \"ok\"}`."),
        (status = 503, body = Health, description = "The database does not answer: `{\"status\": \"unavailable\"}`.")))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    if database_answers(&state).await {
        (StatusCode::OK, Json(Health { status: "ok" }))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
            }),
        )
    }
}

/// Where one read model stands.
#[derive(Serialize, ToSchema)]
pub struct ProjectionReadiness {
    /// The read model's name, e.g. `study_visits`.
    pub name: String,
    /// Events stored but not yet applied.
    #[schema(minimum = 0)]
    pub lag_events: i64,
    /// Age in seconds of the oldest event not yet applied (0 when caught up).
    #[schema(minimum = 0)]
    pub lag_seconds: f64,
    /// `lag_events` is within the service's limit (`--ready-max-lag`).
    pub caught_up: bool,
}

/// Readiness answer.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(value_type = ReadinessStatus)]
    pub status: &'static str,
    #[schema(value_type = DatabaseStatus)]
    pub database: &'static str,
    /// True once shutdown has begun.
    pub shutting_down: bool,
    /// Every read model, where it stands (empty when the database did not answer).
    pub projections: Vec<ProjectionReadiness>,
}

/// 200 when the database answers, every read model has caught up (lag in events within
/// the limit) and the service is not shutting down; else 503. For load balancers and
/// orchestrators: a fresh instance rebuilding a read model is alive (`/health`) but not
/// ready. Unauthenticated like `/health`: it names no data, only read models and counts.
#[utoipa::path(get, path = "/ready", operation_id = "ready", tag = "service",
    responses((status = 200, body = Readiness, description = "Ready: the database answers, every read model has caught up, and the service is not shutting down."),
        (status = 503, body = Readiness, description = "Not ready; the answer says which part is not.")))]
async fn ready(
    State(state): State<AppState>,
    ops: Option<Extension<Ops>>,
) -> (StatusCode, Json<Readiness>) {
    let (max_lag, shutting_down) = ops.map_or((projections::runner::BATCH, false), |o| {
        (o.ready_max_lag, o.is_shutting_down())
    });
    let names: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
    let lags = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        infra::checkpoints::lags(&state.pool, &names),
    )
    .await;
    let (database, projections) = match lags {
        Ok(Ok(lags)) => (
            "ok",
            lags.into_iter()
                .map(|l| ProjectionReadiness {
                    caught_up: l.events <= max_lag,
                    name: l.name,
                    lag_events: l.events,
                    lag_seconds: (l.seconds * 1000.0).round() / 1000.0,
                })
                .collect::<Vec<_>>(),
        ),
        _ => ("unavailable", Vec::new()),
    };
    let ready = database == "ok"
        && !shutting_down
        && projections.len() == names.len()
        && projections.iter().all(|p| p.caught_up);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Readiness {
            status: if ready { "ready" } else { "not_ready" },
            database,
            shutting_down,
            projections,
        }),
    )
}
