//! Building and running the service: router, middleware, projections and the deadline watcher.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Request};
use axum::Router;
use domain::services::Clock;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::request::{CORRELATION_ID, REQUEST_ID};
use crate::state::AppState;
use crate::{audit_log, idempotency, routes, sealer};

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub max_connections: u32,
    /// Longest sleep of the deadline watcher between checks.
    pub deadline_poll: Duration,
    /// Longest sleep of a projection between batches when no commit notification arrives.
    pub projection_poll: Duration,
    /// How long `?min_position=` waits before answering 503 (API.md: 5 s).
    pub read_wait: Duration,
    /// How often the history is sealed (the window in which removing a stream's newest
    /// event would go unnoticed).
    pub seal_interval: Duration,
}

impl Settings {
    /// Defaults for everything but the database and address.
    pub fn new(database_url: impl Into<String>, bind: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: bind.into(),
            max_connections: 20,
            deadline_poll: Duration::from_secs(5),
            projection_poll: Duration::from_millis(250),
            read_wait: Duration::from_secs(5),
            seal_interval: Duration::from_secs(60),
        }
    }
}

/// The full HTTP application for `state`.
pub fn router(state: AppState) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    routes::router(state.clone())
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
        .layer(axum::middleware::from_fn_with_state(state, audit_log::layer))
        .layer(axum::middleware::from_fn(echo_correlation_id))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                // The path only: query strings can carry personal data (`?email=` of an access request).
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
}

/// Echoes `X-Correlation-Id` (given or generated) on the answer.
async fn echo_correlation_id(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = req
        .headers()
        .get(CORRELATION_ID)
        .cloned()
        .unwrap_or_else(|| {
            HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
                .unwrap_or(HeaderValue::from_static("-"))
        });
    req.headers_mut().insert(CORRELATION_ID, id.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(CORRELATION_ID, id);
    res
}

/// A started service: its address and background tasks (stopped on drop).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    runner: projections::Runner,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops the HTTP server, the projections and the watcher at once (as a crash would).
    pub fn abort(&self) {
        self.runner.abort();
        for t in &self.tasks {
            t.abort();
        }
    }

    /// Waits for the HTTP server task to end.
    pub async fn wait(mut self) {
        if let Some(server) = self.tasks.pop() {
            let _ = server.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Connects (creating and migrating the database), sets up the read models, then starts the
/// projections, the deadline watcher and the HTTP server.
pub async fn start(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let pool = infra::connect_and_migrate(&settings.database_url, settings.max_connections).await?;
    start_with_pool(pool, settings, clock).await
}

/// [`start`] on an existing pool.
pub async fn start_with_pool(
    pool: PgPool,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Running> {
    let all = projections::all();
    projections::runner::setup(&pool, &all).await?;
    let mut state = AppState::new(pool.clone(), clock).await?;
    state.read_wait = settings.read_wait;
    let runner = projections::Runner::start(pool, all, settings.projection_poll);
    let watcher = tokio::spawn(crate::watcher::run(state.clone(), settings.deadline_poll));
    let sealer = tokio::spawn(sealer::run(state.pool.clone(), settings.seal_interval));
    let listener = TcpListener::bind(&settings.bind).await?;
    let addr = listener.local_addr()?;
    let app = router(state.clone());
    let server = tokio::spawn(async move {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    });
    tracing::info!(%addr, "koordynator listening");
    Ok(Running {
        addr,
        state,
        runner,
        tasks: vec![watcher, sealer, server],
    })
}
