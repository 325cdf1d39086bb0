//! Where reads go: a streaming replica when one is configured and answers, else the primary.
//!
//! A physical replica holds every table the primary has — events, read models and their
//! checkpoints, all committed together — so a read model read there is a consistent, slightly
//! older state, and `?min_position=` waiting on the replica's checkpoints covers replication
//! lag too. Writes never come here: commands, tokens, idempotency keys, personal data and the
//! access log use the primary's pool.
//!
//! A watcher asks the replica every second whether it answers and is still replaying. When it
//! does not, reads go to the primary (counted in `koordynator_read_replica_fallbacks_total`):
//! the primary is never behind, so nothing a client wrote disappears. The replica is taken back
//! only once it has replayed everything the primary had written when it was checked, so a
//! client that read its write on the primary does not then read an older state.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use crate::db::DbError;

/// How often the replica is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a check, or a read's wait for one of the replica's connections, may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// The pools reads use (cheap to clone).
#[derive(Clone)]
pub struct ReadPools {
    primary: PgPool,
    replica: Option<Arc<Replica>>,
}

struct Replica {
    pool: PgPool,
    /// Answering, replaying, and caught up when it last came back.
    usable: AtomicBool,
}

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaState {
    /// Answers, replays, and has what the primary had at the check.
    CaughtUp,
    /// Answers and replays, but is behind what the primary had at the check.
    Behind,
    /// Answers but is not a replica (not in recovery): promoted, or the wrong server.
    NotReplica,
    /// Does not answer.
    Down,
}

impl ReadPools {
    /// Every read on the primary (no replica configured).
    pub fn primary_only(primary: PgPool) -> Self {
        Self {
            primary,
            replica: None,
        }
    }

    /// Reads on the replica at `url`, once [`ReadPools::watch`] has found it usable. Nothing
    /// is connected yet: a replica down at start only sends reads to the primary.
    pub fn with_replica(primary: PgPool, url: &str, max_connections: u32) -> Result<Self, DbError> {
        let options = crate::db::connect_options(url)
            .map_err(|e| DbError::Url(format!("--read-database-url: {e}")))?
            .options([("application_name", "koordynator-reads")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ANSWER_WITHIN)
            .connect_lazy_with(options);
        Ok(Self {
            primary,
            replica: Some(Arc::new(Replica {
                pool,
                usable: AtomicBool::new(false),
            })),
        })
    }

    /// The pool a read uses now: the replica when it is usable, else the primary.
    pub fn pool(&self) -> &PgPool {
        match &self.replica {
            Some(replica) if replica.usable.load(Ordering::Acquire) => &replica.pool,
            Some(_) => {
                metrics::counter!("koordynator_read_replica_fallbacks_total").increment(1);
                &self.primary
            }
            None => &self.primary,
        }
    }

    /// Whether a replica is configured and reads go to it now.
    pub fn on_replica(&self) -> bool {
        self.replica
            .as_ref()
            .is_some_and(|r| r.usable.load(Ordering::Acquire))
    }

    /// Checks the replica every [`CHECK_EVERY`], switching reads to and from it, for as long
    /// as the future runs (nothing to do without a replica).
    pub async fn watch(self) {
        let Some(replica) = self.replica.clone() else {
            return;
        };
        metrics::describe_counter!(
            "koordynator_read_replica_fallbacks_total",
            "Reads sent to the primary because the read replica did not answer or lagged after a return."
        );
        metrics::describe_gauge!(
            "koordynator_read_replica_up",
            "1 while reads go to the read replica, 0 while they go to the primary."
        );
        loop {
            let was = replica.usable.load(Ordering::Acquire);
            let state = check(&self.primary, &replica.pool).await;
            // Staying on a replica needs it only to answer and replay (it lags a little all
            // the time); coming back needs it caught up.
            let usable = match state {
                ReplicaState::CaughtUp => true,
                ReplicaState::Behind => was,
                ReplicaState::NotReplica | ReplicaState::Down => false,
            };
            if usable != was {
                if usable {
                    tracing::info!("the read replica answers and has caught up: reads go to it");
                } else {
                    tracing::warn!(
                        ?state,
                        "the read replica is not usable: reads go to the primary"
                    );
                }
                replica.usable.store(usable, Ordering::Release);
            }
            metrics::gauge!("koordynator_read_replica_up").set(if usable { 1.0 } else { 0.0 });
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }
}

/// One check of the replica against the primary's current WAL position: the replica has
/// [`ANSWER_WITHIN`] to replay up to it (a replica under load is always a few milliseconds
/// behind the position of the moment, so it is given the time to reach it).
pub async fn check(primary: &PgPool, replica: &PgPool) -> ReplicaState {
    // The primary's position first: a replica that has replayed up to it has every commit
    // acknowledged before this check.
    let written = tokio::time::timeout(
        ANSWER_WITHIN,
        sqlx::query_scalar::<_, String>("SELECT pg_current_wal_lsn()::text").fetch_one(primary),
    )
    .await;
    // The primary itself away: only "answers and replays" can be told.
    let written = match written {
        Ok(Ok(lsn)) => Some(lsn),
        _ => None,
    };
    let deadline = tokio::time::Instant::now() + ANSWER_WITHIN;
    loop {
        let replayed = tokio::time::timeout(
            ANSWER_WITHIN,
            sqlx::query_as::<_, (bool, Option<bool>)>(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= $1::pg_lsn",
            )
            .bind(written.as_deref().unwrap_or("0/0"))
            .fetch_one(replica),
        )
        .await;
        let state = match replayed {
            Ok(Ok((false, _))) => ReplicaState::NotReplica,
            Ok(Ok((true, Some(true)))) if written.is_some() => ReplicaState::CaughtUp,
            Ok(Ok((true, _))) => ReplicaState::Behind,
            _ => ReplicaState::Down,
        };
        const POLL: Duration = Duration::from_millis(20);
        if state != ReplicaState::Behind || tokio::time::Instant::now() + POLL >= deadline {
            return state;
        }
        tokio::time::sleep(POLL).await;
    }
}
