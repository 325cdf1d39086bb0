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

/// Events read per round trip when loading a stream (bounds the rows held in memory).
const LOAD_PAGE: i64 = 1000;

/// Events the state cache of one aggregate type may stand for (see `StateCache`): a
/// study visit's state is a few hundred bytes per application, so some tens of MB at most.
const CACHED_EVENTS: i64 = 40_000;

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
    cache: StateCache<A>,
}

/// Aggregates as they stood after the last command this process ran on them, with the head
/// they stood at. Only a starting point: every command still reads the events stored after
/// that head (written by another instance, or an import) before deciding, so a stale entry
/// costs a longer read, never a wrong decision; the append's optimistic concurrency check
/// does the rest. Saves decoding a whole stream on every command (a term's crowd re-read
/// its visit's growing stream once per submission).
struct StateCache<A> {
    entries: std::sync::Mutex<HashMap<String, (Head, A)>>,
    /// Most events the cached states may stand for together (their sequences summed): the
    /// bound on the cache's memory, which follows the streams' lengths, not their number.
    max_events: i64,
}

impl<A: Clone> StateCache<A> {
    fn take(&self, id: &str) -> Option<(Head, A)> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    fn put(&self, id: &str, head: Head, aggregate: A) {
        if head.sequence > self.max_events / 4 {
            // One stream this long would crowd out the rest; it is read page by page instead.
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut held: i64 = entries.values().map(|(h, _)| h.sequence).sum();
        while held + head.sequence > self.max_events {
            // Any entry will do: a miss only means one full read.
            let Some(victim) = entries.keys().next().cloned() else {
                break;
            };
            if let Some((h, _)) = entries.remove(&victim) {
                held -= h.sequence;
            }
        }
        entries.insert(id.to_owned(), (head, aggregate));
    }
}

impl<A> CommandBus<A>
where
    A: Aggregate + Clone + 'static,
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
            cache: StateCache {
                entries: std::sync::Mutex::new(HashMap::new()),
                max_events: CACHED_EVENTS,
            },
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
        loop {
            *attempts += 1;
            let attempt = *attempts;
            match self.attempt(aggregate_id, command.clone(), ctx, side).await {
                Err(AttemptError::Conflict) if attempt < self.max_attempts => {
                    // Contention between instances (another one appended to this aggregate
                    // between our load and append), for `/metrics` and `koordynator bench`.
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

    async fn attempt(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
        side: Option<SideWrite<'_>>,
    ) -> Result<Committed<A::Event>, AttemptError<A::Error>> {
        // Our turn on this aggregate (per-aggregate lock): nobody else in this process
        // touches its cache entry until we put it back.
        let (cached_head, mut aggregate) = self
            .cache
            .take(aggregate_id)
            .unwrap_or_else(|| (Head::EMPTY, A::default()));
        let mut head = cached_head;
        loop {
            let rows =
                store::load_page(&self.pool, A::TYPE, aggregate_id, head.sequence, LOAD_PAGE)
                    .await
                    .map_err(|e| AttemptError::Failed(sqlx_error(e)))?;
            let full = rows.len() as i64 == LOAD_PAGE;
            if !rows.is_empty() {
                head = Head::after(&rows);
            }
            for row in rows {
                aggregate.apply(self.decode(aggregate_id, row)?);
            }
            if !full {
                break;
            }
        }
        if let (Some(scope), Some(owner)) = (&ctx.organizer_scope, (self.organizer_of)(&aggregate))
        {
            if *scope != owner {
                self.cache.put(aggregate_id, head, aggregate);
                return Err(AttemptError::Failed(PipelineError::NotVisible));
            }
        }
        // `handle` applies the events it writes to the aggregate; keep the state before
        // them for when the command is refused or loses the race.
        let before = aggregate.clone();
        let sink = cqrs_es::event_sink::EventSink::default();
        aggregate
            .handle(command, &self.services, &sink)
            .await
            .map_err(|e| {
                self.cache.put(aggregate_id, head, before.clone());
                AttemptError::Failed(PipelineError::Domain(e))
            })?;
        let events = sink.collect().await;
        if events.is_empty() {
            self.cache.put(aggregate_id, head, aggregate);
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
        .map_err(|e| {
            // Lost the race or failed: the stored stream decides; keep what we knew of it.
            self.cache.put(aggregate_id, head, before);
            match e {
                AppendError::Conflict => AttemptError::Conflict,
                AppendError::Database(e) => AttemptError::Failed(sqlx_error(e)),
            }
        })?;
        self.cache.put(aggregate_id, written, aggregate);
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
