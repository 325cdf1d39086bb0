//! Feeds each projection from the events table in commit order.
//!
//! Each batch runs in one transaction: take the projection's advisory lock (so a second
//! instance or a concurrent rebuild never applies the same events), read the checkpoint,
//! read the next settled events (`infra::feed`), apply them, move the checkpoint, commit.
//! A crash anywhere rolls back rows and checkpoint together: nothing lost, nothing doubled.
//! A failing event stops its projection at that event (retried with back-off, logged) rather
//! than being skipped.

use std::sync::Arc;
use std::time::Duration;

use infra::checkpoints;
use infra::feed::{self, Checkpoint};
use infra::locks::Leases;
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::events::DecodedEvent;

/// Why a projection could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("event at position {position} ({event_type}) does not deserialize: {message}")]
    Deserialize {
        position: i64,
        event_type: String,
        message: String,
    },
}

/// A read model built from events.
#[async_trait::async_trait]
pub trait Projection: Send + Sync {
    /// Stable name: the checkpoint's key and the `rebuild` argument.
    fn name(&self) -> &'static str;
    /// Bump when the tables or their meaning change: the read model is then rebuilt from zero.
    fn schema_version(&self) -> i32;
    /// Idempotent DDL creating the projection's tables.
    fn create_sql(&self) -> &'static str;
    /// The tables `create_sql` creates: dropped by a rebuild, shadowed by a replay
    /// (`crate::replay`).
    fn tables(&self) -> &'static [&'static str];
    /// Applies one event inside the batch's transaction. The event's domain event is
    /// decoded once and shared with every other projection given the same event.
    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &DecodedEvent,
    ) -> Result<(), ProjectionError>;

    /// Applies a batch of events, in order, inside the batch's transaction. One by one by
    /// default; a projection whose events mostly adjust counters overrides it to write them
    /// in a few set-based statements (one statement per event is what bounds a rebuild).
    async fn apply_batch(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        events: &[DecodedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }
}

/// Events per batch transaction.
pub const BATCH: i64 = 500;

/// Events per page of a rebuild of every read model ([`rebuild_all`]): larger than a live
/// batch, as nobody waits for a page's commit and each page costs its transaction, every
/// projection's lock and checkpoint.
pub const REBUILD_PAGE: i64 = 2_000;

/// How long a live projection that just applied events waits after the next wake-up before
/// reading again, so that batches gather the commits of that moment (see `Runner::start`):
/// a few milliseconds of lag for several times fewer transactions under load.
pub const GATHER: Duration = Duration::from_millis(10);

/// Takes the projection's transaction lock, and lets the transaction commit without waiting
/// for its WAL flush (`synchronous_commit = off` for this transaction only). A read model is
/// derived: a crash may lose its last few commits, but each takes its checkpoint with it
/// (same transaction, and WAL is replayed in order), so the projection resumes from the
/// last durable checkpoint and applies those events again, exactly once. The events
/// themselves are always committed synchronously.
async fn lock(tx: &mut Transaction<'_, Postgres>, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "SELECT set_config('synchronous_commit', 'off', true),
                pg_advisory_xact_lock(hashtext('koordynator.projection.' || $1))",
    )
    .bind(name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn recreate(
    tx: &mut Transaction<'_, Postgres>,
    p: &dyn Projection,
) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(&drop_sql(p)).execute(&mut **tx).await?;
    sqlx::raw_sql(p.create_sql()).execute(&mut **tx).await?;
    checkpoints::reset(tx, p.name(), p.schema_version()).await
}

/// DDL dropping the projection's tables.
fn drop_sql(p: &dyn Projection) -> String {
    format!("DROP TABLE IF EXISTS {} CASCADE", p.tables().join(", "))
}

/// Creates each projection's tables, rebuilding from zero those whose schema version changed.
pub async fn setup(pool: &PgPool, projections: &[Arc<dyn Projection>]) -> Result<(), sqlx::Error> {
    for p in projections {
        let mut tx = pool.begin().await?;
        lock(&mut tx, p.name()).await?;
        let version = checkpoints::schema_version(&mut tx, p.name()).await?;
        if version != Some(p.schema_version()) {
            tracing::info!(
                projection = p.name(),
                ?version,
                "creating read model from zero"
            );
            recreate(&mut tx, p.as_ref()).await?;
        } else {
            sqlx::raw_sql(p.create_sql()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Applies the next batch of events to `p`; returns how many were applied.
pub async fn run_batch(
    pool: &PgPool,
    p: &dyn Projection,
    limit: i64,
) -> Result<usize, ProjectionError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, p.name()).await?;
    let from = checkpoints::of(&mut tx, p.name()).await?;
    let events = feed::read_after(&mut *tx, from, limit).await?;
    let events = DecodedEvent::all(events);
    let Some(last) = events.last().map(|e| e.checkpoint()) else {
        return Ok(0);
    };
    p.apply_batch(&mut tx, &events).await?;
    checkpoints::advance(&mut tx, &[p.name()], last).await?;
    tx.commit().await?;
    Ok(events.len())
}

/// Applies batches until the projection has caught up with every settled event.
pub async fn catch_up(pool: &PgPool, p: &dyn Projection) -> Result<usize, ProjectionError> {
    let mut total = 0;
    loop {
        let n = run_batch(pool, p, BATCH).await?;
        total += n;
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Drops the projection's tables, recreates them and replays every event.
pub async fn rebuild(pool: &PgPool, p: &dyn Projection) -> Result<usize, ProjectionError> {
    rebuild_reporting(pool, p, |_| {}).await
}

/// [`rebuild`], telling `progress` how many events were replayed after each batch (for the
/// progress line of `koordynator projections rebuild`).
pub async fn rebuild_reporting(
    pool: &PgPool,
    p: &dyn Projection,
    mut progress: impl FnMut(usize) + Send,
) -> Result<usize, ProjectionError> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, p.name()).await?;
    recreate(&mut tx, p).await?;
    tx.commit().await?;
    let mut total = 0;
    loop {
        let n = run_batch(pool, p, BATCH).await?;
        total += n;
        progress(total);
        if n < BATCH as usize {
            return Ok(total);
        }
    }
}

/// What [`rebuild_all`] did: events read once, and for each projection (in the order given)
/// how many it applied and how long its `apply_batch` calls took.
#[derive(Debug, Clone, Default)]
pub struct RebuildAll {
    /// Events read from the feed (each once).
    pub events: usize,
    /// Time the pass spent waiting for pages of the feed (reading ahead overlaps the rest).
    pub read: Duration,
    /// Per projection: name, events applied, time spent applying them.
    pub projections: Vec<(&'static str, usize, Duration)>,
}

/// Drops and recreates every projection in `projections`, then replays every event into all
/// of them in one pass: each page of the feed is read once and applied to each projection,
/// and every checkpoint moves, in one transaction per page (a rebuild one projection at a
/// time reads the whole log once per projection). `progress` hears how many events were read
/// after each page.
///
/// The guarantees are [`run_batch`]'s: each page's transaction holds every projection's lock
/// (taken in name order, so two of these never wait on each other in a cycle; `run_batch`
/// holds one lock only), and each projection gets only the events after its own checkpoint,
/// read in that transaction, so even a projection a live service moved between two pages
/// applies every event exactly once.
///
/// Each event is decoded once for all the projections (`DecodedEvent`). While a page is
/// applied, the next one is read ahead on another connection and decoded on another task
/// (reading and decoding are a large part of the work). Below the feed's horizon the commit
/// order never changes, so that read returns exactly what the next transaction would read,
/// and it is used only when it starts at the checkpoint found under the locks and is a full
/// page (a short one may only mean the horizon was held back, by this very transaction among
/// others: the page is then read again inside the transaction, as `run_batch` does).
pub async fn rebuild_all(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
    mut progress: impl FnMut(usize) + Send,
) -> Result<RebuildAll, ProjectionError> {
    let mut order: Vec<usize> = (0..projections.len()).collect();
    order.sort_by_key(|&i| projections[i].name());
    let mut report = RebuildAll {
        projections: projections
            .iter()
            .map(|p| (p.name(), 0, Duration::ZERO))
            .collect(),
        ..RebuildAll::default()
    };
    let mut tx = pool.begin().await?;
    for &i in &order {
        lock(&mut tx, projections[i].name()).await?;
        recreate(&mut tx, projections[i].as_ref()).await?;
    }
    tx.commit().await?;
    if projections.is_empty() {
        return Ok(report);
    }
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    let mut ahead: Option<ReadAhead> = None;
    loop {
        // Awaited before taking a connection for the page, so a pool of one cannot deadlock.
        let waited = std::time::Instant::now();
        let prefetched = match ahead.take() {
            Some(ahead) => ahead.finish().await,
            None => None,
        };
        report.read += waited.elapsed();
        let mut tx = pool.begin().await?;
        for &i in &order {
            lock(&mut tx, projections[i].name()).await?;
        }
        let rows = checkpoints::of_many(&mut tx, &names).await?;
        let mut at = Vec::with_capacity(projections.len());
        for p in projections {
            let (_, checkpoint) = rows.iter().find(|r| r.0 == p.name()).ok_or_else(|| {
                // `recreate` wrote it; only a concurrent DROP of the row could remove it.
                sqlx::Error::RowNotFound
            })?;
            at.push(*checkpoint);
        }
        let from = at.iter().copied().min().unwrap_or_default();
        let started = std::time::Instant::now();
        let events = match prefetched {
            Some((at, events)) if at == from && events.len() == REBUILD_PAGE as usize => events,
            _ => DecodedEvent::all(feed::read_after(&mut *tx, from, REBUILD_PAGE).await?),
        };
        report.read += started.elapsed();
        let Some(last) = events.last().map(|e| e.checkpoint()) else {
            return Ok(report);
        };
        if events.len() == REBUILD_PAGE as usize {
            ahead = Some(ReadAhead::start(pool, last));
        }
        let mut moved = Vec::new();
        for (i, p) in projections.iter().enumerate() {
            // Events in commit order: this projection's are those after its checkpoint.
            let start = events.partition_point(|e| e.checkpoint() <= at[i]);
            let mine = &events[start..];
            if mine.is_empty() {
                continue;
            }
            let started = std::time::Instant::now();
            p.apply_batch(&mut tx, mine).await?;
            report.projections[i].1 += mine.len();
            report.projections[i].2 += started.elapsed();
            moved.push(p.name());
        }
        checkpoints::advance(&mut tx, &moved, last).await?;
        tx.commit().await?;
        report.events += events.len();
        progress(report.events);
        if events.len() < REBUILD_PAGE as usize {
            return Ok(report);
        }
    }
}

/// The next page of the feed, being read (and decoded) on a connection and task of its own.
struct ReadAhead {
    from: Checkpoint,
    task: JoinHandle<Result<Vec<DecodedEvent>, sqlx::Error>>,
}

impl ReadAhead {
    fn start(pool: &PgPool, from: Checkpoint) -> ReadAhead {
        let pool = pool.clone();
        let task = tokio::spawn(async move {
            let events = DecodedEvent::all(feed::read_after(&pool, from, REBUILD_PAGE).await?);
            // Every projection is given the page, so each event's domain event is needed:
            // decoding it here overlaps the applying of the current page.
            for e in &events {
                e.decode_now();
            }
            Ok(events)
        });
        ReadAhead { from, task }
    }

    /// The page and where it starts; None when the read failed (the page is then read
    /// inside the transaction, which reports the error if it persists).
    async fn finish(mut self) -> Option<(Checkpoint, Vec<DecodedEvent>)> {
        match (&mut self.task).await {
            Ok(Ok(events)) => Some((self.from, events)),
            _ => None,
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        // A rebuild that fails stops reading too.
        self.task.abort();
    }
}

/// The running projections of a `serve` process.
pub struct Runner {
    tasks: Vec<JoinHandle<()>>,
    /// Set on shutdown: each projection stops after its current batch.
    stop: tokio::sync::watch::Sender<bool>,
    leases: Leases,
}

/// How often an instance tries to take over a projection whose lease another instance holds
/// (the longest a projection stands still after its instance died).
pub const LEASE_RETRY: Duration = Duration::from_secs(1);

impl Runner {
    /// Starts one task per projection plus a listener that wakes them on every commit.
    /// Polling every `idle_poll` covers a missed notification and events that were committed
    /// but still above the feed's horizon.
    pub fn start(
        pool: PgPool,
        projections: Vec<Arc<dyn Projection>>,
        idle_poll: Duration,
    ) -> Runner {
        let wake = Arc::new(Notify::new());
        let (stop, _) = tokio::sync::watch::channel(false);
        let leases = Leases::start(&pool, LEASE_RETRY);
        let mut tasks = vec![tokio::spawn(listen(pool.clone(), wake.clone()))];
        for p in projections {
            let (pool, wake) = (pool.clone(), wake.clone());
            let stop_waiting = stop.subscribe();
            let stopping = stop.subscribe();
            // One instance at a time feeds each projection (the batch's transaction lock
            // keeps it exactly-once even when two do, e.g. while a lost lease goes unnoticed).
            let lease = leases.lease(&format!("projection.{}", p.name()));
            tasks.push(tokio::spawn(lease.run_until_stopped(stop_waiting, move || {
                let (pool, wake, p) = (pool.clone(), wake.clone(), p.clone());
                let mut stopping = stopping.clone();
                async move {
                let mut failures = 0u32;
                // A batch in progress always finishes: the flag is read only between batches.
                while !*stopping.borrow() {
                    let busy = match run_batch(&pool, p.as_ref(), BATCH).await {
                        Ok(n) if n as i64 == BATCH => {
                            failures = 0;
                            continue;
                        }
                        Ok(n) => {
                            failures = 0;
                            n > 0
                        }
                        Err(e) => {
                            failures += 1;
                            tracing::error!(projection = p.name(), error = %e, failures, "projection batch failed; will retry");
                            let backoff = Duration::from_millis(100u64 << failures.min(6));
                            tokio::select! {
                                _ = tokio::time::sleep(backoff) => {}
                                _ = stopping.changed() => {}
                            }
                            continue;
                        }
                    };
                    tokio::select! {
                        _ = tokio::time::timeout(idle_poll, wake.notified()) => {}
                        _ = stopping.changed() => {}
                    }
                    if busy {
                        // Under a stream of commits, let the next batch gather what commits
                        // meanwhile: a batch costs its transaction, lock and checkpoint
                        // whatever it holds, so one per commit would spend most of
                        // PostgreSQL's CPU on those. After a quiet spell the first event is
                        // applied at once.
                        tokio::select! {
                            _ = tokio::time::sleep(GATHER) => {}
                            _ = stopping.changed() => {}
                        }
                    }
                }
                }
            })));
        }
        Runner {
            tasks,
            stop,
            leases,
        }
    }

    /// Graceful stop: each projection finishes the batch it is applying (committing it) and
    /// takes no other; after `grace` whatever is still running is aborted (its open batch
    /// rolls back, as after a crash). True when every projection stopped in time.
    pub async fn stop(&mut self, grace: Duration) -> bool {
        let _ = self.stop.send(true);
        let mut tasks = std::mem::take(&mut self.tasks).into_iter();
        // The first task is the commit listener: nothing to finish there.
        if let Some(listener) = tasks.next() {
            listener.abort();
        }
        let projections: Vec<_> = tasks.collect();
        let finished = tokio::time::timeout(grace, join_or_abort(projections)).await;
        finished.is_ok()
    }

    /// Stops every task (at an await point: an open batch transaction is rolled back).
    pub fn abort(&self) {
        for t in &self.tasks {
            t.abort();
        }
        self.leases.abort();
    }
}

/// Awaits every task, aborting those left when the caller's timeout drops this future.
async fn join_or_abort(tasks: Vec<JoinHandle<()>>) {
    struct AbortOnDrop(Vec<JoinHandle<()>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            for t in &self.0 {
                t.abort();
            }
        }
    }
    let mut guard = AbortOnDrop(tasks);
    for t in guard.0.iter_mut() {
        let _ = t.await;
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.abort();
    }
}

async fn listen(pool: PgPool, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("koordynator_events").await {
                    tracing::warn!(error = %e, "cannot LISTEN; projections fall back to polling");
                } else {
                    while listener.recv().await.is_ok() {
                        wake.notify_waiters();
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the LISTEN connection; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until every named projection has processed the event at `position` (API.md
/// `?min_position=`). Returns false when `timeout` runs out first.
pub async fn wait_for_position(
    pool: &PgPool,
    names: &[&str],
    position: i64,
    timeout: Duration,
) -> Result<bool, sqlx::Error> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(target) = feed::checkpoint_of(pool, position).await? {
            if checkpoints::reached(pool, names, target).await? {
                return Ok(true);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
}
