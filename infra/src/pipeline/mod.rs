//! The command pipeline: load → decide → append, with the guarantees postgres-es leaves to us.
//!
//! `CqrsFramework::execute_with_metadata` returns nothing, never retries and runs queries
//! in-process (STACK.md defects 2, 4, 5). Here we drive the plain event store ourselves:
//! - commands on one aggregate queue in this process, and whatever waits in the queue is
//!   decided together (group commit, [`CommandBus`]); the decided groups of all aggregates
//!   of a type that wait at the same moment are written in one transaction (`commit`, with
//!   the side rows of `side` written kind by kind);
//! - a command starts from the state this process last left (`crate::state_cache`), without
//!   reading: the append's primary key refuses a stale state, and an answer no append
//!   proves (a refusal) is checked against the stream first;
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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use sqlx::PgPool;
use tokio::sync::oneshot;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;

mod commit;
mod side;

pub use side::{side_write, SideFuture, SideRow, SideWrite};

use crate::state_cache::{lock, StateCache};
use crate::store::{self, Head, NewEvent};
use commit::{Append, CommitError, Committer};

/// Events read per round trip when loading a stream (bounds the rows held in memory).
const LOAD_PAGE: i64 = 1000;

/// Events the state cache of one aggregate type may stand for (see `StateCache`). A study
/// visit's state takes some 0.7 kB per application (200,000 cached events of this cache and
/// the mail notifier's held about 140 MB in (f) of `koordynator bench`), so this bounds the
/// cache near 20 MB.
const CACHED_EVENTS: i64 = 30_000;

/// Longest stream the state cache keeps. A recruitment has tens to hundreds of
/// applications, but a popular term under a sustained load (the benchmark's (c2)) grows to
/// tens of thousands of events, and reading that stream for every group costs far more than
/// its state's room; beyond this a stream would crowd out many ordinary ones, and is read
/// page by page instead.
const LONGEST_CACHED: i64 = 25_000;

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

/// Most commands decided together and appended in one transaction (see [`CommandBus`]):
/// bounds the transaction and the wait of the first command in a group for the last.
const MAX_GROUP: usize = 200;

/// Executes commands of one aggregate type against the event store.
///
/// Commands on one aggregate queue per aggregate in this process (a crowd submitting to one
/// term would otherwise load the same stream concurrently and all but one would lose the
/// optimistic-concurrency race, STACK.md defect 4). One task drains each queue and handles
/// *every command waiting in it together*: it decides them one after another against the
/// state each leaves, then hands their side rows and events to the committer, which writes
/// them — with the groups of other aggregates that wait at that moment — in one transaction
/// with one INSERT: a group commit. A crowd of 1,000 then costs a few dozen commits instead
/// of 1,000 in a row, while each command still gets its own answer, metadata and position.
pub struct CommandBus<A>
where
    A: Aggregate,
{
    inner: Arc<Inner<A>>,
}

struct Inner<A>
where
    A: Aggregate,
{
    organizer_of: OrganizerOf<A>,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    pool: PgPool,
    services: A::Services,
    max_attempts: u32,
    /// When a command last found the database unavailable (cleared by the next success).
    unavailable_at: Mutex<Option<Instant>>,
    /// Aggregates as they stood after the last command this process ran on them, with the
    /// head they stood at (`crate::state_cache`): saves decoding a whole stream on every
    /// command (a term's crowd re-read its visit's growing stream once per submission).
    cache: StateCache<(Head, A)>,
    /// Writes the decided groups of all aggregates of this type, together when they meet.
    committer: Arc<Committer>,
    /// Commands waiting per aggregate. An entry exists exactly while a task drains it.
    queues: Mutex<HashMap<String, Vec<Job<A>>>>,
}

/// A command waiting in its aggregate's queue, with where its answer goes.
struct Job<A>
where
    A: Aggregate,
{
    command: A::Command,
    ctx: CommandContext,
    side: Option<SideWrite>,
    queued: Instant,
    /// The caller's span, so what the draining task logs about it carries its request.
    span: tracing::Span,
    reply: oneshot::Sender<Answer<A>>,
}

/// A command's result and the attempts its group took (for the outcome metric).
type Answer<A> = (
    Result<Committed<<A as Aggregate>::Event>, PipelineError<<A as Aggregate>::Error>>,
    u32,
);

impl<A> CommandBus<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync,
{
    /// A bus writing to `pool`'s events table, reading old shapes through `upcasters`.
    pub fn new(
        pool: PgPool,
        services: A::Services,
        upcasters: Vec<Box<dyn EventUpcaster>>,
        organizer_of: OrganizerOf<A>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                organizer_of,
                upcasters,
                committer: Committer::new(A::TYPE, pool.clone()),
                pool,
                services,
                max_attempts: 8,
                unavailable_at: Mutex::new(None),
                cache: StateCache::new(CACHED_EVENTS, LONGEST_CACHED),
                queues: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The services handed to the aggregate (e.g. its clock), for callers that need them too.
    pub fn services(&self) -> &A::Services {
        &self.inner.services
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
    ///
    /// Once queued, the command is carried out even if the caller stops waiting (a client
    /// that hung up): whether it commits never depends on where a dropped future stopped.
    pub async fn execute_with(
        &self,
        aggregate_id: &str,
        command: A::Command,
        ctx: &CommandContext,
        side: Option<SideWrite>,
    ) -> Result<Committed<A::Event>, PipelineError<A::Error>> {
        let span = tracing::info_span!(
            "command",
            aggregate_type = A::TYPE,
            aggregate_id,
            command = %ctx.command,
            correlation_id = %ctx.correlation_id
        );
        let (reply, answer) = oneshot::channel();
        let job = Job {
            command,
            ctx: ctx.clone(),
            side,
            queued: Instant::now(),
            span: span.clone(),
            reply,
        };
        Inner::enqueue(&self.inner, aggregate_id, job);
        let (result, attempts) = answer.instrument(span).await.unwrap_or_else(|_| {
            (
                Err(PipelineError::Internal(
                    "the command's queue stopped before answering".into(),
                )),
                0,
            )
        });
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
}

/// What became of one command of a group that was decided (the group may still fail).
enum Decision<A: Aggregate> {
    /// Accepted; its events end at this index (exclusive) of the group's events.
    Accepted {
        events: Vec<A::Event>,
        end: usize,
    },
    Refused(PipelineError<A::Error>),
}

impl<A> Inner<A>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync,
{
    /// Puts `job` in its aggregate's queue, starting the task that drains it when none runs.
    fn enqueue(this: &Arc<Self>, aggregate_id: &str, job: Job<A>) {
        {
            let mut queues = lock(&this.queues);
            if let Some(waiting) = queues.get_mut(aggregate_id) {
                waiting.push(job);
                return;
            }
            queues.insert(aggregate_id.to_owned(), vec![job]);
        }
        let (this, id) = (this.clone(), aggregate_id.to_owned());
        // The task logs with the caller's subscriber (a quiet one in `koordynator demo`).
        tokio::spawn(async move { this.drain(id).await }.with_current_subscriber());
    }

    /// Handles the queue of `id` group by group until it is empty.
    async fn drain(self: Arc<Self>, id: String) {
        // Should a group panic, its callers get an error (their answer channels drop) and
        // the queue is removed with whoever waits in it, instead of stalling the aggregate.
        struct Abandon<'a, A: Aggregate>(&'a Inner<A>, &'a str, bool);
        impl<A: Aggregate> Drop for Abandon<'_, A> {
            fn drop(&mut self) {
                if self.2 {
                    lock(&self.0.queues).remove(self.1);
                }
            }
        }
        let mut guard = Abandon(&self, &id, true);
        loop {
            let group: Vec<Job<A>> = {
                let mut queues = lock(&self.queues);
                let Some(waiting) = queues.get_mut(&id) else {
                    guard.2 = false;
                    return;
                };
                if waiting.is_empty() {
                    queues.remove(&id);
                    guard.2 = false;
                    return;
                }
                let n = waiting.len().min(MAX_GROUP);
                waiting.drain(..n).collect()
            };
            let span = tracing::info_span!(
                "command_group",
                aggregate_type = A::TYPE,
                aggregate_id = %id,
                commands = group.len()
            );
            self.run_group(&id, group).instrument(span).await;
        }
    }

    /// Decides and commits `group`, answering each of its commands.
    async fn run_group(&self, id: &str, group: Vec<Job<A>>) {
        // Whoever waited in line while a command before found the database away gets the
        // same answer at once, instead of each waiting out its own pool timeout in turn.
        let unavailable = *lock(&self.unavailable_at);
        let (group, late): (Vec<_>, Vec<_>) = group
            .into_iter()
            .partition(|job| unavailable.is_none_or(|at| at <= job.queued));
        for job in late {
            let _ = job.reply.send((
                Err(PipelineError::Unavailable(
                    "the database was unavailable to the command before this one".into(),
                )),
                0,
            ));
        }
        if group.is_empty() {
            return;
        }
        let mut attempts = 0;
        match self.run_attempts(id, &group, &mut attempts).await {
            Ok(results) => {
                *lock(&self.unavailable_at) = None;
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send((result, attempts));
                }
            }
            Err(e) if group.len() > 1 && matches!(e, PipelineError::Internal(_)) => {
                // One command's side rows failed (a raced subject, a constraint) or its events
                // would not serialize: that sinks the shared transaction, so each is carried
                // out alone, and only the culprit gets the error.
                tracing::debug!(error = %e, "group commit failed; running its commands one by one");
                for job in group {
                    let mut attempts = 0;
                    let single = std::slice::from_ref(&job);
                    let result = match self.run_attempts(id, single, &mut attempts).await {
                        Ok(mut results) => results.pop().unwrap_or_else(|| {
                            Err(PipelineError::Internal("a command went unanswered".into()))
                        }),
                        Err(e) => Err(e),
                    };
                    self.note_availability(&result);
                    let _ = job.reply.send((result, attempts));
                }
            }
            Err(e) => {
                let failed: Result<(), _> = Err(e);
                self.note_availability(&failed);
                if let Err(e) = failed {
                    for job in group {
                        let _ = job.reply.send((Err(e.for_each()), attempts));
                    }
                }
            }
        }
    }

    /// Remembers whether the database answered, for the fast answer of those queued behind.
    fn note_availability<T>(&self, result: &Result<T, PipelineError<A::Error>>) {
        let mut unavailable = lock(&self.unavailable_at);
        match result {
            Err(PipelineError::Unavailable(_)) => *unavailable = Some(Instant::now()),
            Ok(_) => *unavailable = None,
            Err(_) => {}
        }
    }

    /// Attempts the group until it commits, fails, or conflicts too often. A command the
    /// domain refuses is an answer, not a failure of the group.
    async fn run_attempts(
        &self,
        id: &str,
        group: &[Job<A>],
        attempts: &mut u32,
    ) -> Result<Vec<Result<Committed<A::Event>, PipelineError<A::Error>>>, PipelineError<A::Error>>
    {
        loop {
            *attempts += 1;
            let attempt = *attempts;
            match self.attempt(id, group).await {
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
                Err(AttemptError::Stale) if attempt < self.max_attempts => {
                    tracing::debug!(
                        attempt,
                        "the cached state was behind the stream; reading it"
                    );
                }
                Err(AttemptError::Stale) => {
                    return Err(PipelineError::Contention { attempts: attempt });
                }
                Err(AttemptError::Failed(e)) => return Err(e),
                Ok(done) => return Ok(done),
            }
        }
    }

    /// One attempt: load the aggregate, decide every command of the group in turn, append
    /// all their events (and side rows) in one transaction.
    async fn attempt(
        &self,
        id: &str,
        group: &[Job<A>],
    ) -> Result<Vec<Result<Committed<A::Event>, PipelineError<A::Error>>>, AttemptError<A::Error>>
    {
        // Only this queue's task touches the aggregate's cache entry until it is put back.
        // A cached state is taken as the stream's without reading: should another instance
        // have appended since, the append's unique sequence refuses ours (a conflict, and
        // the retry reads), and an answer the append does not prove — a refusal, a command
        // that writes nothing — is checked against the stream before it is given (below).
        // Saves a round trip per command.
        let cached = self.cache.take(id);
        let read = cached.is_none();
        let (mut head, mut aggregate) = cached.unwrap_or_else(|| (Head::EMPTY, A::default()));
        if read {
            loop {
                let rows = store::load_page(&self.pool, A::TYPE, id, head.sequence, LOAD_PAGE)
                    .await
                    .map_err(|e| AttemptError::Failed(sqlx_error(e)))?;
                let full = rows.len() as i64 == LOAD_PAGE;
                if !rows.is_empty() {
                    head = Head::after(&rows);
                }
                for row in rows {
                    aggregate.apply(self.decode(id, row)?);
                }
                if !full {
                    break;
                }
            }
        }
        // `handle` applies the events it writes to the aggregate, so should the group fail
        // (a lost race, the database) the state is no longer the stream's: the cache entry,
        // taken above, then stays out and the next attempt reads the whole stream. Cheaper
        // than cloning the state for every group (a visit's state holds every application),
        // as failures are rare.
        let mut decisions: Vec<Decision<A>> = Vec::with_capacity(group.len());
        let mut new_events = Vec::new();
        let mut sides = Vec::new();
        for job in group {
            if let (Some(scope), Some(owner)) =
                (&job.ctx.organizer_scope, (self.organizer_of)(&aggregate))
            {
                if *scope != owner {
                    decisions.push(Decision::Refused(PipelineError::NotVisible));
                    continue;
                }
            }
            let sink = cqrs_es::event_sink::EventSink::default();
            let handled = aggregate
                .handle(job.command.clone(), &self.services, &sink)
                .instrument(job.span.clone())
                .await;
            let events = sink.collect().await;
            match handled {
                Err(e) if events.is_empty() => {
                    decisions.push(Decision::Refused(PipelineError::Domain(e)));
                    continue;
                }
                Err(e) => {
                    // Our aggregates decide before they write, so a refusal never follows
                    // written events; should one, the state is no longer the stream's.
                    return Err(AttemptError::Failed(PipelineError::Internal(format!(
                        "the command was refused after deciding events: {e}"
                    ))));
                }
                Ok(()) => {}
            }
            let metadata = job.ctx.metadata((self.organizer_of)(&aggregate));
            for e in &events {
                let payload = serde_json::to_value(e).map_err(|err| {
                    AttemptError::Failed(PipelineError::Internal(format!(
                        "event does not serialize: {err}"
                    )))
                })?;
                new_events.push(NewEvent {
                    event_type: e.event_type(),
                    event_version: e.event_version(),
                    payload,
                    metadata: metadata.clone(),
                });
            }
            if !events.is_empty() {
                sides.extend(job.side.clone());
            }
            decisions.push(Decision::Accepted {
                events,
                end: new_events.len(),
            });
        }
        let unproven = decisions.iter().any(|d| match d {
            Decision::Refused(_) => true,
            Decision::Accepted { events, .. } => events.is_empty(),
        });
        if !read && unproven {
            // Decided on the cached state alone: answer only if the stream is still there.
            let newer = store::load_page(&self.pool, A::TYPE, id, head.sequence, 1)
                .await
                .map_err(|e| AttemptError::Failed(sqlx_error(e)))?;
            if !newer.is_empty() {
                return Err(AttemptError::Stale);
            }
        }
        let (written, positions) = if new_events.is_empty() {
            (head, Vec::new())
        } else {
            let append = Append {
                aggregate_id: id.to_owned(),
                head,
                events: new_events,
                sides,
            };
            match self.committer.append(append).await {
                Ok(appended) => appended,
                // Lost the race or failed: the stored stream decides (read in full).
                Err(CommitError::Conflict) => return Err(AttemptError::Conflict),
                Err(CommitError::Unavailable(m)) => {
                    return Err(AttemptError::Failed(PipelineError::Unavailable(m)))
                }
                Err(CommitError::Failed(m)) => {
                    return Err(AttemptError::Failed(PipelineError::Internal(m)))
                }
            }
        };
        self.cache.put(id, written.sequence, (written, aggregate));
        Ok(group
            .iter()
            .zip(decisions)
            .map(|(job, decision)| match decision {
                Decision::Refused(e) => Err(e),
                Decision::Accepted { events, end } => {
                    // The command's last event, or for one that wrote none, the last event
                    // before it: what a read of its own writes must wait for.
                    let position = end
                        .checked_sub(1)
                        .and_then(|i| positions.get(i).copied())
                        .unwrap_or(head.position);
                    if !events.is_empty() {
                        job.span.in_scope(|| {
                            tracing::info!(
                                events = events.len(),
                                position,
                                group = group.len(),
                                "command committed"
                            )
                        });
                    }
                    Ok(Committed {
                        position,
                        sequence: head.sequence + end as i64,
                        events,
                    })
                }
            })
            .collect())
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

impl<E: std::error::Error> PipelineError<E> {
    /// The same failure for each command of a group it befell (a domain refusal never
    /// befalls a group: it is one command's answer).
    fn for_each(&self) -> Self {
        match self {
            PipelineError::Unavailable(m) => PipelineError::Unavailable(m.clone()),
            PipelineError::Contention { attempts } => PipelineError::Contention {
                attempts: *attempts,
            },
            other => PipelineError::Internal(other.to_string()),
        }
    }
}

enum AttemptError<E: std::error::Error> {
    /// Another writer appended between our read and our append.
    Conflict,
    /// The cached state the group was decided on is behind the stream (another instance
    /// appended): decide again on the stream as stored, at once.
    Stale,
    Failed(PipelineError<E>),
}

/// Whether an sqlx error means "the database is not there right now" (answer 503) rather
/// than a defect (answer 500).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        // Protocol: what answered at the address was not a working server — HAProxy with
        // no primary behind it yet accepts the connection and closes it, which the driver
        // reads as a bad answer to its first message (docs/scaling.md §3).
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            // admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and
            // read_only_sql_transaction: a write that reached a standby while an HA system
            // moves the primary (docs/scaling.md §3) is refused for now, not broken.
            matches!(
                db.code().as_deref(),
                Some("57P01" | "57P02" | "57P03" | "53300" | "25006")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_answers_nonsense_or_not_at_all_is_unavailable_not_a_bug() {
        // HAProxy with no primary behind it: the connection closes at the first message.
        let closed = sqlx::Error::Protocol("unexpected response from SSLRequest: 0x00".into());
        assert!(is_unavailable(&closed));
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
