//! Leases across instances. (Commands on one aggregate queue inside one process in
//! `crate::pipeline`, which decides each queue's waiting commands as one group.)
//!
//! Background work (each projection, the deadline watcher, the sealer) runs in one instance
//! at a time: [`Leases`] holds PostgreSQL session advisory locks on a dedicated connection.
//! When the holding process dies its connection closes, PostgreSQL releases the locks, and
//! another instance's next attempt takes them over. The leases only spread the work: the
//! guarantees stay with the transaction-level locks and checkpoints underneath (a projection
//! batch, the aggregate refusing a second close), so a moment with two holders (a connection
//! lost but not yet noticed) costs duplicate effort, never a doubled event.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::watch;

/// The leases an instance wants, each with the channel telling its user whether it is held.
type Wanted = Mutex<Vec<(String, watch::Sender<bool>)>>;

/// Session advisory locks of this instance, taken and watched on one dedicated connection.
#[derive(Clone)]
pub struct Leases {
    wanted: Arc<Wanted>,
    holder: Arc<AbortOnDrop>,
}

/// The holder task ends (and its connection, with every lock, closes) when the last user of
/// the leases is gone: a stopped or aborted runner leaves no lock behind in its process.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One named lease: whether this instance holds it right now.
pub struct Lease {
    held: watch::Receiver<bool>,
    // Keeps the holder task (and its connection) alive while a lease is in use.
    _leases: Leases,
}

impl Leases {
    /// Starts the holder: every `retry` it tries to take the leases it does not hold and
    /// checks that its connection is alive (a dead one means every lease is lost).
    pub fn start(pool: &PgPool, retry: Duration) -> Leases {
        let wanted: Arc<Wanted> = Arc::default();
        let holder = tokio::spawn(hold(pool.clone(), wanted.clone(), retry));
        Leases {
            wanted,
            holder: Arc::new(AbortOnDrop(holder)),
        }
    }

    /// The lease called `name` (taken at the holder's next attempt).
    pub fn lease(&self, name: &str) -> Lease {
        let (tx, rx) = watch::channel(false);
        self.wanted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_owned(), tx));
        Lease {
            held: rx,
            _leases: self.clone(),
        }
    }

    /// Releases every lease now (the connection closes), as a crash would.
    pub fn abort(&self) {
        self.holder.0.abort();
    }
}

impl Lease {
    /// Whether the lease is held right now.
    pub fn is_held(&self) -> bool {
        *self.held.borrow()
    }

    /// Runs `work` while the lease is held: waits for it, starts `work`, cancels it (at an
    /// await point) when the lease is lost, and starts it again when the lease comes back.
    pub async fn run<F, Fut>(mut self, mut work: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            if self.held.wait_for(|held| *held).await.is_err() {
                return;
            }
            tokio::select! {
                () = work() => return,
                _ = self.held.wait_for(|held| !*held) => {
                    tracing::warn!("lease lost; its work stops here until it is taken again");
                }
            }
        }
    }
}

impl Lease {
    /// [`run`](Self::run), but returns at once when `stop` turns true while the lease is not
    /// held (a graceful shutdown need not wait for a lease another instance keeps). Work
    /// already started is not cut by `stop`: it watches the flag itself, between batches.
    pub async fn run_until_stopped<F, Fut>(self, mut stop: watch::Receiver<bool>, work: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ()>,
    {
        let mut held = self.held.clone();
        tokio::select! {
            biased;
            () = self.run(work) => {}
            // Only while waiting for the lease: once work runs, `run` owns the outcome.
            _ = async {
                let _ = stop.wait_for(|s| *s).await;
                let _ = held.wait_for(|h| !*h).await;
            } => {}
        }
    }
}

/// The advisory-lock key of a lease (a namespace of its own, apart from the transaction
/// locks taken by projection batches and the sealer).
const LEASE_KEY: &str = "SELECT pg_try_advisory_lock(hashtext('koordynator.lease.' || $1))";

async fn hold(pool: PgPool, wanted: Arc<Wanted>, retry: Duration) {
    let release_all = || {
        for (_, tx) in wanted.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            tx.send_replace(false);
        }
    };
    loop {
        match PgConnection::connect_with(&pool.connect_options()).await {
            Ok(mut conn) => {
                if let Err(e) = keep(&mut conn, &wanted, retry).await {
                    tracing::warn!(error = %e, "lease connection lost; every lease is released");
                }
                release_all();
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the lease connection; retrying"),
        }
        tokio::time::sleep(retry).await;
    }
}

async fn keep(
    conn: &mut PgConnection,
    wanted: &Wanted,
    retry: Duration,
) -> Result<(), sqlx::Error> {
    loop {
        let missing: Vec<String> = wanted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, tx)| !*tx.borrow())
            .map(|(name, _)| name.clone())
            .collect();
        for name in missing {
            let got: bool = sqlx::query_scalar(LEASE_KEY)
                .bind(&name)
                .fetch_one(&mut *conn)
                .await?;
            if got {
                tracing::info!(lease = %name, "lease taken");
                for (n, tx) in wanted.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                    if *n == name {
                        tx.send_replace(true);
                    }
                }
            }
        }
        // Also the liveness check of the connection holding the leases.
        conn.ping().await?;
        tokio::time::sleep(retry).await;
    }
}
