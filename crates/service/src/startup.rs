//! Building and running the service: router, middleware, projections and the deadline watcher.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Request, StatusCode};
use axum::Router;
use domain::services::Clock;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use crate::limits::{ClientAddress, SubmissionLimiter};
use crate::request::{CORRELATION_ID, REQUEST_ID};
use crate::state::AppState;
use crate::{audit_log, idempotency, problem, routes, sealer};

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
    /// Public application submissions allowed per minute per client address; 0 turns the
    /// limit off (load tests, trusted networks).
    pub submission_rate_limit: u32,
    /// How many submissions one client may send at once before the rate applies.
    pub submission_burst: u32,
    /// How the client address of the limit is found: the TCP peer, or `X-Forwarded-For`
    /// when the service runs behind a trusted reverse proxy.
    pub client_address: ClientAddress,
    /// Longest time a request may take until its answer starts (503 after it). Streamed
    /// answers (exports) are not cut once they have started.
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request body (408 after it).
    pub body_read_timeout: Duration,
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
            // Generous: a person fills a form in minutes; an office behind one NAT address
            // sends a few dozen at most in a minute. Abuse is hundreds.
            submission_rate_limit: 30,
            submission_burst: 10,
            client_address: ClientAddress::Peer,
            // Above the 5 s of `?min_position=` and the longest audit replay seen.
            request_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Largest request body accepted (413 above it). The largest legitimate body is a
/// programme's schedule CSV, a few KiB.
pub const BODY_LIMIT_BYTES: usize = 256 * 1024;

/// The full HTTP application for `state` with the default [`Settings`] limits.
pub fn router(state: AppState) -> Router {
    router_with(state, &Settings::new("", ""))
}

/// The full HTTP application for `state` with the limits of `settings`.
pub fn router_with(state: AppState, settings: &Settings) -> Router {
    let request_id = HeaderName::from_static(REQUEST_ID);
    let limiter = SubmissionLimiter::new(
        settings.submission_rate_limit,
        settings.submission_burst,
        settings.client_address,
    )
    .map(Arc::new);
    let mut app = routes::router(state.clone());
    if let Some(limiter) = limiter {
        app = app.layer(axum::Extension(limiter));
    }
    app
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
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(RequestBodyTimeoutLayer::new(settings.body_read_timeout))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            settings.request_timeout,
        ))
        // Outermost: answers made below the routes (timeouts, 405, a 413 of a raw-body
        // route) become problem documents too.
        .layer(axum::middleware::from_fn(problem::plain_errors_as_problems))
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
    let app = router_with(state.clone(), settings)
        // The peer address, for the per-client submission limit.
        .into_make_service_with_connect_info::<SocketAddr>();
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
