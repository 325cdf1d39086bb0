//! The command pipeline: load → decide → append, with the guarantees postgres-es leaves to us.
//!
//! `CqrsFramework::execute_with_metadata` returns nothing, never retries and runs queries
//! in-process (STACK.md defects 2, 4, 5). Here we drive the plain event store ourselves:
//! - commands on one aggregate queue on a per-aggregate lock in this process;
//! - an optimistic-concurrency conflict (another process won the race) is retried, bounded;
//! - every event carries the metadata evaluators need (`actor`, `organizer`,
//!   `correlation_id`, `causation_id`, `command`);
//! - the answer carries the global `position` of the last event written, so the client can
//!   read its own writes with `?min_position=`;
//! - all events of a command go in one INSERT, each bound to its predecessor by the hash
//!   chain (`crate::store`, `crate::chain`).
//!
//! No `Query` runs here: read models are fed from the events table by `projections`.

use std::collections::HashMap;
use std::time::Duration;

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use sqlx::PgPool;
use tracing::Instrument;

use crate::locks::KeyedLocks;
use crate::store::{self, AppendError, Head, NewEvent};

/// How the pipeline learns which organizer (tenant) owns an aggregate, to keep organizers
/// apart and to stamp `organizer` on every event. A function rather than a trait so that
/// `infra` needs no knowledge of the domain's types.
pub type OrganizerOf<A> = fn(&A) -> Option<String>;

/// Who asks and in which context; copied into every event's metadata.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The token id (or `public`, `system:…`) that issued the command.
    pub actor: String,
    /// When set, aggregates of any other organizer are invisible (answered as not found).
    pub organizer_scope: Option<String>,
    /// Ties together everything one business request caused (`X-Correlation-Id`).
    pub correlation_id: String,
    /// What directly caused this command (a request id, a deadline, an event position).
    pub causation_id: String,
    /// The command's name, for the audit trail.
    pub command: String,
    /// The client's `Idempotency-Key`, recorded so a lost answer can be traced to its events.
    pub idempotency_key: Option<String>,
}

impl CommandContext {
    fn metadata(&self, organizer: Option<String>) -> serde_json::Value {
        let mut m = HashMap::from([
            ("actor".to_owned(), self.actor.clone()),
            ("correlation_id".to_owned(), self.correlation_id.clone()),
            ("causation_id".to_owned(), self.causation_id.clone()),
            ("command".to_owned(), self.command.clone()),
        ]);
        if let Some(org) = organizer {
            m.insert("organizer".to_owned(), org);
        }
        if let Some(key) = &self.idempotency_key {
            m.insert("idempotency_key".to_owned(), key.clone());
        }
        serde_json::Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect(),
        )
    }
}

/// The result of a command that was accepted.
#[derive(Debug, Clone)]
pub struct Committed<E> {
    /// Global position of the last event written (or of the aggregate's last event when the
    /// command wrote none).
    pub position: i64,
    /// The aggregate's sequence after the command.
    pub sequence: i64,
    /// The events the command wrote, in order.
    pub events: Vec<E>,
}

/// Why a command was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError<E: std::error::Error> {
    /// The domain refused the command.
    #[error(transparent)]
    Domain(E),
    /// The aggregate belongs to another organizer than the caller's.
    #[error("not found")]
    NotVisible,
    /// Other writers kept winning the race for this aggregate.
    #[error("the record is busy; {attempts} attempts conflicted")]
    Contention { attempts: u32 },
    /// The database could not be reached (connection, pool timeout).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: stored events that do not deserialize, unexpected SQL errors.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Rows written in the same transaction as a command's events — the personal data an
/// application's events refer to — so a crash or an outage can never leave one without the
/// other. Called once per attempt (a conflict rolls it back and the retry writes it again).
pub type SideWrite<'a> =
    &'a (dyn for<'t> Fn(&'t mut sqlx::PgConnection) -> SideFuture<'t> + Send + Sync);

/// The boxed future a [`SideWrite`] returns, borrowing only the connection.
pub type SideFuture<'t> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), sqlx::Error>> + Send + 't>>;

/// Gives a closure the higher-ranked signature of a [`SideWrite`] (closures do not infer it).
pub fn side_write<F>(f: F) -> F
where
    F: for<'t> Fn(&'t mut sqlx::PgConnection) -> SideFuture<'t> + Send + Sync,
{
    f
}

/// Executes commands of one aggregate type against the event store.
pub struct CommandBus<A>
where
    A: Aggregate,
{
    organizer_of: OrganizerOf<A>,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    pool: PgPool,
    services: A::Services,
    locks: KeyedLocks,
    max_attempts: u32,
    /// When a command last found the database unavailable (cleared by the next success).
    unavailable_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl<A> CommandBus<A>
where
    A: Aggregate + 'static,
    A::Command: Clone + Send,
    A::Error: Send + Sync + 'static,
{
    /// A bus writing to `pool`'s events table, reading old shapes through `upcasters`.
    pub fn new(
        pool: PgPool,
        services: A::Services,
        upcasters: Vec<Box<dyn EventUpcaster>>,
        organizer_of: OrganizerOf<A>,
    ) -> Self {
        Self {
            organizer_of,
            upcasters,
            pool,
            services,
            locks: KeyedLocks::default(),
            max_attempts: 8,
            unavailable_at: std::sync::Mutex::new(None),
        }
    }

    /// The services handed to the aggregate (e.g. its clock), for callers that need them too.
    pub fn services(&self) -> &A::Services {
        &self.services
    }

    /// Runs `command` on the aggregate `aggregate_id` and appends what it decides.
    pub async fn execute(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
    ) -> Result<Committed<A::Event>, PipelineError<A::Error>> {
        self.execute_with(aggregate_id, command, ctx, None).await
    }

    /// [`execute`](Self::execute), writing `side` in the same transaction as the events (when
    /// the command decides any): both are stored or neither, whatever crashes when.
    pub async fn execute_with(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
        side: Option<SideWrite<'_>>,
    ) -> Result<Committed<A::Event>, PipelineError<A::Error>> {
        let span = tracing::info_span!(
            "command",
            aggregate_type = A::TYPE,
            aggregate_id,
            command = %ctx.command,
            correlation_id = %ctx.correlation_id
        );
        // Read after the command for its outcome metric (accepted at once or after a retry).
        let mut attempts = 0;
        let result = async {
            let queued = std::time::Instant::now();
            let _turn = self.locks.lock(aggregate_id).await;
            // Whoever waited in line while the one before found the database away gets the
            // same answer at once, instead of each waiting out its own pool timeout in turn.
            if self.unavailable_since().is_some_and(|at| at > queued) {
                return Err(PipelineError::Unavailable(
                    "the database was unavailable to the command before this one".into(),
                ));
            }
            let result = self
                .run_attempts(aggregate_id, command, ctx, side, &mut attempts)
                .await;
            let mut unavailable = self
                .unavailable_at
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match &result {
                Err(PipelineError::Unavailable(_)) => {
                    *unavailable = Some(std::time::Instant::now())
                }
                Ok(_) => *unavailable = None,
                Err(_) => {}
            }
            result
        }
        .instrument(span)
        .await;
        let outcome = match &result {
            Ok(_) if attempts > 1 => "conflict_retried",
            Ok(_) => "ok",
            Err(PipelineError::Domain(_) | PipelineError::NotVisible) => "rejected",
            Err(_) => "error",
        };
        metrics::counter!("koordynator_commands_total", "aggregate" => A::TYPE, "outcome" => outcome)
            .increment(1);
        result
    }

    fn unavailable_since(&self) -> Option<std::time::Instant> {
        *self
            .unavailable_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Attempts the command until it commits, is refused, or conflicts too often.
    async fn run_attempts(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
        side: Option<SideWrite<'_>>,
        attempts: &mut u32,
    ) -> Result<Committed<A::Event>, PipelineError<A::Error>> {
        {
            loop {
                *attempts += 1;
                let attempt = *attempts;
                match self.attempt(aggregate_id, command.clone(), ctx, side).await {
                    Err(AttemptError::Conflict) if attempt < self.max_attempts => {
                        metrics::counter!("koordynator_command_conflicts_total", "aggregate" => A::TYPE)
                            .increment(1);
                        tracing::debug!(attempt, "optimistic concurrency conflict; retrying");
                        // Another process appended meanwhile: back off a little and reload.
                        let backoff = 5u64 << attempt.min(6);
                        tokio::time::sleep(Duration::from_millis(backoff)).await;
                    }
                    Err(AttemptError::Conflict) => {
                        tracing::warn!(attempt, "giving up after repeated conflicts");
                        return Err(PipelineError::Contention { attempts: attempt });
                    }
                    Err(AttemptError::Failed(e)) => return Err(e),
                    Ok(done) => return Ok(done),
                }
            }
        }
    }

    async fn attempt(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
        side: Option<SideWrite<'_>>,
    ) -> Result<Committed<A::Event>, AttemptError<A::Error>> {
        let rows = store::load_stream(&self.pool, A::TYPE, aggregate_id, 0)
            .await
            .map_err(|e| AttemptError::Failed(sqlx_error(e)))?;
        let head = Head::after(&rows);
        let mut aggregate = A::default();
        for row in rows {
            aggregate.apply(self.decode(aggregate_id, row)?);
        }
        if let (Some(scope), Some(owner)) = (&ctx.organizer_scope, (self.organizer_of)(&aggregate))
        {
            if *scope != owner {
                return Err(AttemptError::Failed(PipelineError::NotVisible));
            }
        }
        let sink = cqrs_es::event_sink::EventSink::default();
        aggregate
            .handle(command, &self.services, &sink)
            .await
            .map_err(|e| AttemptError::Failed(PipelineError::Domain(e)))?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(Committed {
                position: head.position,
                sequence: head.sequence,
                events,
            });
        }
        let metadata = ctx.metadata((self.organizer_of)(&aggregate));
        let new_events = events
            .iter()
            .map(|e| {
                Ok(NewEvent {
                    event_type: e.event_type(),
                    event_version: e.event_version(),
                    payload: serde_json::to_value(e).map_err(|err| {
                        AttemptError::Failed(PipelineError::Internal(format!(
                            "event does not serialize: {err}"
                        )))
                    })?,
                    metadata: metadata.clone(),
                })
            })
            .collect::<Result<Vec<_>, AttemptError<A::Error>>>()?;
        let written = match side {
            None => {
                store::append(
                    &self.pool,
                    A::TYPE,
                    aggregate_id,
                    head,
                    &new_events,
                    chrono::Utc::now(),
                )
                .await
            }
            Some(write) => {
                async {
                    let mut tx = self.pool.begin().await?;
                    write(&mut tx).await?;
                    let written = store::append(
                        &mut *tx,
                        A::TYPE,
                        aggregate_id,
                        head,
                        &new_events,
                        chrono::Utc::now(),
                    )
                    .await?;
                    tx.commit().await?;
                    Ok(written)
                }
                .await
            }
        }
        .map_err(|e| match e {
            AppendError::Conflict => AttemptError::Conflict,
            AppendError::Database(e) => AttemptError::Failed(sqlx_error(e)),
        })?;
        tracing::info!(
            events = events.len(),
            position = written.position,
            "command committed"
        );
        Ok(Committed {
            position: written.position,
            sequence: written.sequence,
            events,
        })
    }

    /// Today's event from a stored row of any version (upcasters first).
    fn decode(
        &self,
        aggregate_id: &str,
        row: store::StreamRow,
    ) -> Result<A::Event, AttemptError<A::Error>> {
        let mut event = SerializedEvent {
            aggregate_id: aggregate_id.to_owned(),
            sequence: row.sequence as usize,
            aggregate_type: A::TYPE.to_owned(),
            event_type: row.event_type,
            event_version: row.event_version,
            payload: row.payload,
            metadata: serde_json::Value::Null,
        };
        for upcaster in &self.upcasters {
            if upcaster.can_upcast(&event.event_type, &event.event_version) {
                event = upcaster.upcast(event);
            }
        }
        serde_json::from_value(event.payload).map_err(|e| {
            AttemptError::Failed(PipelineError::Internal(format!(
                "stored event {} #{} does not deserialize: {e}",
                event.event_type, row.sequence
            )))
        })
    }
}

enum AttemptError<E: std::error::Error> {
    Conflict,
    Failed(PipelineError<E>),
}

/// Whether an sqlx error means "the database is not there right now" (answer 503) rather
/// than a defect (answer 500).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
            matches!(
                db.code().as_deref(),
                Some("57P01" | "57P02" | "57P03" | "53300")
            )
        }
        _ => false,
    }
}

fn sqlx_error<E: std::error::Error>(err: sqlx::Error) -> PipelineError<E> {
    if is_unavailable(&err) {
        PipelineError::Unavailable(err.to_string())
    } else {
        PipelineError::Internal(err.to_string())
    }
}
