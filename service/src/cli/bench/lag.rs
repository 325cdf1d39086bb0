//! (d) projection lag: from a command's 201 to every read model having processed its event.
//!
//! The observer polls the read models' checkpoints every few milliseconds; a submission is
//! reached when the slowest read model's checkpoint is at or past its event in commit order.
//! Only the read models count (`projections::all()`): the mail notifier keeps its checkpoint
//! in the same table, but a mail is not something a read waits for (`?min_position=` waits
//! for read models only), and counting it measured the notifier instead.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::PgPool;
use tokio::task::JoinHandle;

use super::load::Accepted;
use super::stats::percentile;

/// Submissions waiting to be seen by every projection: (position, time of the 201).
pub type Pending = Arc<Mutex<Vec<(i64, Instant)>>>;

/// Hands an accepted submission to the observer.
pub fn push(pending: &Pending, a: &Accepted) {
    pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((a.position, a.at));
}

/// Lag figures of one level.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Lag {
    pub samples: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Submissions not reached when the observer stopped waiting.
    pub unreached: u64,
}

/// A running lag observer.
pub struct Observer {
    pending: Pending,
    stop: Arc<tokio::sync::Notify>,
    task: JoinHandle<anyhow::Result<Vec<Duration>>>,
}

const POLL: Duration = Duration::from_millis(5);

impl Observer {
    pub fn start(pool: PgPool) -> Self {
        let pending: Pending = Arc::default();
        let stop = Arc::new(tokio::sync::Notify::new());
        let task = tokio::spawn(observe(pool, pending.clone(), stop.clone()));
        Self {
            pending,
            stop,
            task,
        }
    }

    pub fn pending(&self) -> Pending {
        self.pending.clone()
    }

    /// Waits up to `patience` for the last submissions to be reached, then stops.
    pub async fn finish(self, patience: Duration) -> anyhow::Result<Lag> {
        let until = Instant::now() + patience;
        while Instant::now() < until
            && !self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
        {
            tokio::time::sleep(POLL).await;
        }
        self.stop.notify_one();
        let lags = self.task.await??;
        let unreached = self.pending.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
        let mut sorted = lags;
        sorted.sort_unstable();
        Ok(Lag {
            samples: sorted.len() as u64,
            p50_ms: percentile(&sorted, 0.5),
            p99_ms: percentile(&sorted, 0.99),
            max_ms: percentile(&sorted, 1.0),
            unreached,
        })
    }
}

async fn observe(
    pool: PgPool,
    pending: Pending,
    stop: Arc<tokio::sync::Notify>,
) -> anyhow::Result<Vec<Duration>> {
    let read_models: Vec<String> = projections::all()
        .iter()
        .map(|p| p.name().to_owned())
        .collect();
    let mut lags = Vec::new();
    loop {
        let positions: Vec<i64> = pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(p, _)| *p)
            .collect();
        if !positions.is_empty() {
            let reached: std::collections::HashSet<i64> = sqlx::query_scalar(
                "WITH slowest AS (SELECT last_tx_id, last_position FROM projection_checkpoints
                                   WHERE name = ANY($2)
                                   ORDER BY last_tx_id, last_position LIMIT 1)
                 SELECT e.position FROM events e, slowest s
                  WHERE e.position = ANY($1) AND (e.tx_id, e.position) <= (s.last_tx_id, s.last_position)",
            )
            .bind(&positions)
            .bind(&read_models)
            .fetch_all(&pool)
            .await?
            .into_iter()
            .collect();
            let now = Instant::now();
            let mut pending = pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.retain(|(p, at)| {
                if reached.contains(p) {
                    lags.push(now.saturating_duration_since(*at));
                    false
                } else {
                    true
                }
            });
        }
        tokio::select! {
            _ = stop.notified() => return Ok(lags),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}
