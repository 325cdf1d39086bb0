//! Building and running the service: router, middleware, projections, the deadline watcher,
//! and graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::Ordering;

use axum::http::{Request, StatusCode};
use axum::Router;
use domain::services::Clock;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::http::limits::{ClientAddress, SubmissionLimiter};
use crate::http::request::{CORRELATION_ID, REQUEST_ID};
use crate::http::state::AppState;
use crate::http::telemetry::{self, Operations, Ops};
use crate::http::{self, audit_log, idempotency, messages, problem, request};
use crate::jobs::sealer;

/// Settings of a running service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    /// A streaming replica of `database_url` for read-model and audit reads (API.md,
    /// "Running on more than one machine"); None: every read on the primary.
    pub read_database_url: Option<String>,
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
    /// Longest a client may take to send a request's headers (then the connection is
    /// closed): the guard against clients holding connections open by trickling headers.
    pub header_read_timeout: Duration,
    /// How long shutdown waits for requests in flight before cutting them.
    pub shutdown_grace: Duration,
    /// Bearer token `/metrics` wants; None leaves it open (like `/health`).
    pub metrics_token: Option<String>,
    /// Largest projection lag in events at which `/ready` still answers 200.
    pub ready_max_lag: i64,
    /// Who runs the site (the pages' accessibility statement).
    pub site: crate::http::state::SiteInfo,
    /// Mail to applicants.
    pub mail: MailSettings,
}

/// Mail to applicants (API.md "E-mail").
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://…` or `smtps://…`; None: mail is off and waits in the outbox.
    pub smtp_url: Option<String>,
    /// The sender's address, e.g. `ROPS Toruń <wizyty@rops.example>`.
    pub from: Option<String>,
    /// How many days before a term its participants are reminded.
    pub reminder_days: u32,
    /// Longest pause of the notifier and the sender between looks.
    pub poll: Duration,
    /// Retries of a failed delivery.
    pub retry: crate::mail::send::RetryPolicy,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: None,
            reminder_days: 3,
            poll: Duration::from_secs(1),
            retry: Default::default(),
        }
    }
}

impl Settings {
    /// Defaults for everything but the database and address.
    pub fn new(database_url: impl Into<String>, bind: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            read_database_url: None,
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
            header_read_timeout: Duration::from_secs(10),
            // Below the 90 s a service manager usually waits before SIGKILL.
            shutdown_grace: Duration::from_secs(30),
            metrics_token: None,
            // One projection batch: under steady traffic a projection is always a few
            // events behind; a rebuild from zero is thousands.
            ready_max_lag: projections::runner::BATCH,
            site: Default::default(),
            mail: MailSettings::default(),
        }
    }

    /// The operations settings the routes share.
    pub fn operations(&self) -> Operations {
        Operations {
            metrics_token: self.metrics_token.clone(),
            ready_max_lag: self.ready_max_lag,
            shutting_down: Default::default(),
        }
    }
}

/// The full HTTP application for `state` with the default [`Settings`] limits.
pub fn router(state: AppState) -> Router {
    router_with(state, &Settings::new("", ""))
}

/// The full HTTP application for `state` with the limits of `settings`.
pub fn router_with(state: AppState, settings: &Settings) -> Router {
    router_with_ops(state, settings, Arc::new(settings.operations()))
}

/// [`router_with`] sharing `ops` with the caller (who flags the shutdown on it).
pub fn router_with_ops(state: AppState, settings: &Settings, ops: Ops) -> Router {
    let limiter = SubmissionLimiter::new(
        settings.submission_rate_limit,
        settings.submission_burst,
        settings.client_address,
    )
    .map(Arc::new);
    // Not part of the API (no OpenAPI entry): scraped by Prometheus.
    let metrics = Router::new()
        .route("/metrics", axum::routing::get(telemetry::render))
        .with_state(state.clone());
    let mut app = http::router(state.clone()).merge(metrics);
    if let Some(limiter) = limiter {
        app = app.layer(axum::Extension(limiter));
    }
    app.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        idempotency::layer,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state,
        audit_log::layer,
    ))
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request<_>| {
                let id = |name| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                };
                // The path only: query strings can carry personal data (`?email=` of an access request).
                // An applicant's key in the path is cut out (`request::loggable_path`).
                tracing::info_span!("request", method = %req.method(), path = %request::loggable_path(req.uri().path()),
                        request_id = %id(REQUEST_ID), correlation_id = %id(CORRELATION_ID))
            })
            // One line per answer (status, latency) inside the span: the access log.
            .on_response(DefaultOnResponse::new().level(Level::INFO)),
    )
    .layer(axum::extract::DefaultBodyLimit::max(
        crate::http::limits::BODY_LIMIT_BYTES,
    ))
    .layer(RequestBodyTimeoutLayer::new(settings.body_read_timeout))
    .layer(TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        settings.request_timeout,
    ))
    // Answers made below the routes (timeouts, 405, a 413 of a raw-body route) become
    // problem documents too.
    .layer(axum::middleware::from_fn(problem::plain_errors_as_problems))
    // Every problem document, whoever made it (a stored idempotent answer too), in the
    // language the request asked for (`Accept-Language: pl`), with its `Content-Language`.
    .layer(axum::middleware::from_fn(messages::localize))
    // Counted with their final status.
    .layer(axum::middleware::from_fn(telemetry::track_http))
    .layer(axum::Extension(ops))
    // Outermost: every answer, even a 503 of the timeout, carries its ids.
    .layer(axum::middleware::from_fn(request::assign_ids))
}

/// A started service: its address and background tasks (stopped on drop).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Shared with the routes: `/ready` answers 503 once shutdown begins.
    pub ops: Ops,
    runner: projections::Runner,
    /// Deadline watcher, sealer, metrics upkeep.
    tasks: Vec<JoinHandle<()>>,
    server: Option<JoinHandle<()>>,
    /// Set to true to stop accepting connections and let the open ones finish.
    stop_accepting: watch::Sender<bool>,
    grace: Duration,
}

impl Running {
    /// Stops the HTTP server, the projections and the watcher at once (as a crash would).
    pub fn abort(&self) {
        self.runner.abort();
        for t in &self.tasks {
            t.abort();
        }
        if let Some(server) = &self.server {
            server.abort();
        }
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down gracefully (see [`Running::shutdown`]).
    pub async fn wait(mut self) -> bool {
        termination().await;
        self.shutdown().await
    }

    /// Graceful shutdown: stop accepting connections, let the requests in flight finish
    /// (for at most the grace period, then they are cut), stop the deadline watcher and the
    /// sealer (between their commands or mid-command: a command is one transaction, so an
    /// interrupted one leaves nothing behind and is redone at the next start), and let each
    /// projection finish the batch it is applying. True when everything finished in time.
    pub async fn shutdown(&mut self) -> bool {
        let started = tokio::time::Instant::now();
        tracing::info!(grace = ?self.grace, "shutting down: no new connections, finishing requests");
        self.ops.shutting_down.store(true, Ordering::Relaxed);
        let _ = self.stop_accepting.send(true);
        let mut clean = true;
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(self.grace, &mut server).await.is_err() {
                tracing::warn!("grace period over: cutting the requests still open");
                server.abort();
                clean = false;
            }
        }
        for t in &self.tasks {
            t.abort();
        }
        // The projections get what is left of the grace period, at least a few seconds: a
        // batch is short, and one cut off is only rolled back.
        let left = self
            .grace
            .saturating_sub(started.elapsed())
            .max(Duration::from_secs(5));
        if !self.runner.stop(left).await {
            tracing::warn!("a projection batch did not finish in time; it was rolled back");
            clean = false;
        }
        tracing::info!(clean, "stopped");
        clean
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.abort();
    }
}

/// Resolves at the first SIGTERM (service managers, containers) or Ctrl-C.
async fn termination() {
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops gracefully");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
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
    telemetry::recorder();
    let all = projections::all();
    projections::runner::setup(&pool, &all).await?;
    let mut state = AppState::new(pool.clone(), clock).await?;
    state.read_wait = settings.read_wait;
    let mut tasks = Vec::new();
    if let Some(url) = &settings.read_database_url {
        state.read_pools =
            infra::replica::ReadPools::with_replica(pool.clone(), url, settings.max_connections)?;
        tasks.push(tokio::spawn(state.read_pools.clone().watch()));
        tracing::info!("reads go to the read replica once it answers and has caught up");
    }
    state.site = Arc::new(settings.site.clone());
    let mailer = match (&settings.mail.smtp_url, &settings.mail.from) {
        (Some(url), Some(from)) => Some(crate::mail::send::Mailer::new(url, from)?),
        (Some(_), None) => anyhow::bail!("--mail-from (KOORDYNATOR_MAIL_FROM) is needed with --smtp-url: the address mails come from"),
        (None, _) => None,
    };
    state.mail_enabled = mailer.is_some();
    if mailer.is_none() {
        tracing::info!("mail is off (no --smtp-url): mails wait in the outbox");
    }
    crate::mail::describe_metrics();
    infra::outbox::start_notifier_at_head(&pool).await?;
    let mail = tokio::spawn(crate::jobs::mail::run(crate::jobs::mail::MailJobs {
        pool: pool.clone(),
        mailer,
        forms: state.forms.clone(),
        site: state.site.clone(),
        reminder_days: settings.mail.reminder_days,
        retry: settings.mail.retry,
        poll: settings.mail.poll,
    }));
    let runner = projections::Runner::start(pool, all, settings.projection_poll);
    let watcher = tokio::spawn(crate::jobs::deadlines::run(
        state.clone(),
        settings.deadline_poll,
    ));
    let sealer = tokio::spawn(sealer::run(state.pool.clone(), settings.seal_interval));
    let upkeep = tokio::spawn(telemetry::upkeep());
    let listener = TcpListener::bind(&settings.bind).await?;
    let addr = listener.local_addr()?;
    let ops: Ops = Arc::new(settings.operations());
    let app = router_with_ops(state.clone(), settings, ops.clone());
    let (stop_accepting, stopping) = watch::channel(false);
    let server = tokio::spawn(crate::http::server::serve(
        listener,
        app,
        settings.header_read_timeout,
        stopping,
    ));
    tracing::info!(%addr, "koordynator listening");
    Ok(Running {
        addr,
        state,
        ops,
        runner,
        tasks: {
            tasks.extend([watcher, sealer, upkeep, mail]);
            tasks
        },
        server: Some(server),
        stop_accepting,
        grace: settings.shutdown_grace,
    })
}
