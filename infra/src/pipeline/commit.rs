//! Group commit across aggregates: appends decided on different aggregates while another
//! commit is in flight are written together — one transaction, one statement per kind of
//! side row, one INSERT of all their events — instead of one transaction of seven
//! statements each.
//!
//! Each aggregate's queue (`super::CommandBus`) still decides its own commands against its
//! own state and waits for its append before deciding the next ones, so a stream's order
//! never depends on how appends were grouped. Here only the writing is shared: at most
//! [`COMMITTERS`] transactions are in flight at once; an append arriving when all of them
//! are busy waits for the next one to start and goes with everything else that waited.
//! A lone append therefore starts at once, as before; under load, appends gather.
//!
//! A group whose transaction fails — a stream that moved on (another instance appended),
//! one command's side rows refused — is written again append by append, so each gets its
//! own answer and only the culprit fails. An unavailable database is everyone's answer.

use std::sync::{Arc, Mutex};

use sqlx::PgPool;
use tokio::sync::oneshot;
use tracing::instrument::WithSubscriber;

use super::is_unavailable;
use super::side::{self, SideWrite};
use crate::state_cache::lock;
use crate::store::{self, AppendError, Head, NewEvent, StreamAppend};

/// Transactions in flight at once. More spreads appends over more transactions (less
/// waiting, more per-transaction cost); one would make every append wait for the group
/// before it. Two keeps one transaction filling while the other commits.
const COMMITTERS: usize = 2;

/// Most appends written in one transaction: bounds the statement and the wait of the first
/// append of a group for the last.
const MAX_APPENDS: usize = 256;

/// The events and side rows of one aggregate's decided group, to append after `head`.
pub(super) struct Append {
    pub aggregate_id: String,
    pub head: Head,
    pub events: Vec<NewEvent>,
    pub sides: Vec<SideWrite>,
}

/// How an append ended: the stream's new head and each event's position, or why not.
pub(super) type Appended = Result<(Head, Vec<i64>), CommitError>;

/// Why an append was not written.
#[derive(Debug)]
pub(super) enum CommitError {
    /// The stream moved on since its head was read.
    Conflict,
    /// The database could not be reached.
    Unavailable(String),
    /// Anything else (a side row refused, an unexpected SQL error).
    Failed(String),
}

impl From<sqlx::Error> for CommitError {
    fn from(e: sqlx::Error) -> Self {
        if is_unavailable(&e) {
            CommitError::Unavailable(e.to_string())
        } else {
            CommitError::Failed(e.to_string())
        }
    }
}

impl From<AppendError> for CommitError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Conflict => CommitError::Conflict,
            AppendError::Database(e) => e.into(),
        }
    }
}

/// The appends of one aggregate type waiting for a transaction, and the transactions that
/// write them.
pub(super) struct Committer {
    aggregate_type: &'static str,
    pool: PgPool,
    queue: Mutex<Queue>,
}

struct Queue {
    waiting: Vec<(Append, oneshot::Sender<Appended>)>,
    /// Tasks writing groups now (at most [`COMMITTERS`]).
    running: usize,
}

impl Committer {
    pub fn new(aggregate_type: &'static str, pool: PgPool) -> Arc<Self> {
        Arc::new(Committer {
            aggregate_type,
            pool,
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                running: 0,
            }),
        })
    }

    /// Writes `append` (with whatever else waits), and answers when it is committed or not.
    /// The write goes on should the caller stop waiting.
    pub async fn append(self: &Arc<Self>, append: Append) -> Appended {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut queue = lock(&self.queue);
            queue.waiting.push((append, reply));
            let start = queue.running < COMMITTERS;
            if start {
                queue.running += 1;
            }
            start
        };
        if start {
            let this = self.clone();
            tokio::spawn(async move { this.run().await }.with_current_subscriber());
        }
        answer.await.unwrap_or_else(|_| {
            Err(CommitError::Failed(
                "the commit stopped before answering".into(),
            ))
        })
    }

    /// Writes groups until nothing waits.
    async fn run(self: Arc<Self>) {
        // Should a group panic, its appends' answers drop (an error to each caller) and the
        // slot is given back, so later appends still find a writer.
        struct Slot<'a>(&'a Mutex<Queue>);
        impl Drop for Slot<'_> {
            fn drop(&mut self) {
                lock(self.0).running -= 1;
            }
        }
        let _slot = Slot(&self.queue);
        loop {
            let group: Vec<_> = {
                let mut queue = lock(&self.queue);
                if queue.waiting.is_empty() {
                    return;
                }
                let n = queue.waiting.len().min(MAX_APPENDS);
                queue.waiting.drain(..n).collect()
            };
            self.commit(group).await;
        }
    }

    /// Writes `group` in one transaction, or append by append when that fails.
    async fn commit(&self, mut group: Vec<(Append, oneshot::Sender<Appended>)>) {
        // Streams in one order in every transaction, so two of them (the other committer,
        // another instance) that meet on the same streams wait for each other instead of
        // deadlocking.
        group.sort_by(|a, b| a.0.aggregate_id.cmp(&b.0.aggregate_id));
        let (appends, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        let together = self.write(&appends).await;
        let results = match together {
            Ok(heads) => heads.into_iter().map(Ok).collect(),
            Err(CommitError::Unavailable(m)) => appends
                .iter()
                .map(|_| Err(CommitError::Unavailable(m.clone())))
                .collect(),
            Err(e) if appends.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::debug!(error = ?e, appends = appends.len(),
                    "group commit across aggregates failed; writing its appends one by one");
                let mut results = Vec::with_capacity(appends.len());
                for append in &appends {
                    let alone = self.write(std::slice::from_ref(append)).await;
                    results.push(alone.and_then(|mut heads| {
                        heads
                            .pop()
                            .ok_or_else(|| CommitError::Failed("an append went unanswered".into()))
                    }));
                }
                results
            }
        };
        metrics::histogram!("koordynator_group_commit_appends", "aggregate" => self.aggregate_type)
            .record(appends.len() as f64);
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }

    /// One transaction: every side row, kind by kind, then every event in one INSERT.
    async fn write(&self, appends: &[Append]) -> Result<Vec<(Head, Vec<i64>)>, CommitError> {
        let streams: Vec<StreamAppend> = appends
            .iter()
            .map(|a| StreamAppend {
                aggregate_id: &a.aggregate_id,
                head: a.head,
                events: &a.events,
            })
            .collect();
        let now = chrono::Utc::now();
        let sides: Vec<SideWrite> = appends.iter().flat_map(|a| a.sides.clone()).collect();
        if sides.is_empty() {
            // One statement needs no transaction of its own: autocommit saves two round trips.
            return Ok(
                store::append_streams(&self.pool, self.aggregate_type, &streams, now).await?,
            );
        }
        let mut tx = self.pool.begin().await?;
        side::write(&mut tx, &sides).await?;
        let heads = store::append_streams(&mut *tx, self.aggregate_type, &streams, now).await?;
        tx.commit().await?;
        Ok(heads)
    }
}
