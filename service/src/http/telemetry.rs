//! Operations: the Prometheus `/metrics` endpoint, the HTTP metrics middleware and the
//! settings the operations routes share (who may scrape, when the service counts as ready,
//! whether it is shutting down).
//!
//! Recording goes through the `metrics` facade (the command pipeline in `infra` counts
//! commands without knowing the exporter); `metrics-exporter-prometheus` renders the text
//! format. The recorder is process-global, installed once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sha2::{Digest, Sha256};

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// HTTP latency buckets in seconds: API answers are milliseconds; `?min_position=` waits up
/// to 5 s; exports take longer.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What the operations routes need to know about the running service.
#[derive(Debug, Default)]
pub struct Operations {
    /// When set, `/metrics` wants `Authorization: Bearer <this>` (Prometheus'
    /// `authorization` scrape setting); when unset it is open like `/health`.
    pub metrics_token: Option<String>,
    /// Largest lag in events at which a projection still counts as caught up for `/ready`.
    pub ready_max_lag: i64,
    /// Set when shutdown begins: `/ready` answers 503 so balancers stop sending traffic.
    pub shutting_down: AtomicBool,
}

impl Operations {
    /// Whether shutdown has begun.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }
}

/// Shared handle to the operations settings (an axum extension).
pub type Ops = Arc<Operations>;

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder on first use; None when another recorder is installed.
pub fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("koordynator_http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed; /metrics will be empty");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    metrics::describe_counter!(
        "koordynator_http_requests_total",
        "HTTP requests by method, route template and status."
    );
    metrics::describe_histogram!(
        "koordynator_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time until the answer starts, by method, route template and status."
    );
    metrics::describe_counter!(
        "koordynator_commands_total",
        "Commands by aggregate and outcome: ok, conflict_retried (accepted after an optimistic-concurrency retry), rejected (refused by the domain or not visible), error."
    );
    metrics::describe_counter!(
        "koordynator_command_conflicts_total",
        "Optimistic-concurrency conflicts that made a command retry."
    );
    metrics::describe_gauge!(
        "koordynator_projection_lag_events",
        "Events stored but not yet applied to the read model."
    );
    metrics::describe_gauge!(
        "koordynator_projection_lag_seconds",
        metrics::Unit::Seconds,
        "Age of the oldest event not yet applied to the read model (0 when caught up)."
    );
    metrics::describe_gauge!(
        "koordynator_database_up",
        "1 when the database answered the last scrape, else 0."
    );
}

/// Drains histogram samples now and then, so memory stays flat when nobody scrapes.
pub async fn upkeep() {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        if let Some(handle) = recorder() {
            handle.run_upkeep();
        }
    }
}

/// Middleware recording each request by its route *template* (`/api/v1/programs/{id}`),
/// never the raw path: ids would make a series per resource and paths may carry data.
pub async fn track_http(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", res.status().as_u16().to_string()),
    ];
    metrics::counter!("koordynator_http_requests_total", &labels).increment(1);
    metrics::histogram!("koordynator_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    res
}

/// Known methods by name, anything else as `other` (a client cannot invent series).
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: Prometheus text. Projection lags are measured at scrape time, so they
/// are as fresh as the scrape.
pub async fn render(
    State(state): State<AppState>,
    ops: Option<Extension<Ops>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(Extension(ops)) = &ops {
        if let Some(expected) = &ops.metrics_token {
            if !bearer_matches(&headers, expected) {
                return Err(ApiError::Unauthorized);
            }
        }
    }
    let names: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
    let lags = tokio::time::timeout(
        Duration::from_secs(5),
        infra::checkpoints::lags(&state.pool, &names),
    )
    .await;
    match lags {
        Ok(Ok(lags)) => {
            metrics::gauge!("koordynator_database_up").set(1.0);
            for lag in lags {
                metrics::gauge!("koordynator_projection_lag_events", "projection" => lag.name.clone())
                    .set(lag.events as f64);
                metrics::gauge!("koordynator_projection_lag_seconds", "projection" => lag.name)
                    .set(lag.seconds);
            }
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "metrics: projection lag unavailable");
            metrics::gauge!("koordynator_database_up").set(0.0);
        }
        Err(_) => {
            tracing::warn!("metrics: projection lag query timed out");
            metrics::gauge!("koordynator_database_up").set(0.0);
        }
    }
    let body = recorder().map(PrometheusHandle::render).unwrap_or_default();
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(res)
}

/// Compares digests, so the comparison takes the same time wherever the tokens differ.
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let given = crate::http::auth::bearer_token(headers).unwrap_or_default();
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        let odd = Method::from_bytes(b"BREW").expect("a method");
        assert_eq!(method_label(&odd), "other");
    }

    #[test]
    fn the_metrics_token_must_match_exactly() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(bearer_matches(&h, "s3cret"));
        assert!(!bearer_matches(&h, "s3cret2"));
        assert!(!bearer_matches(&HeaderMap::new(), "s3cret"));
    }
}
