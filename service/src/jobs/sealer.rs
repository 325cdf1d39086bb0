//! Seals the history at an interval (see `infra::seal`), in one instance at a time (a
//! lease); `seal_now` also serialises sealers with an advisory lock and seals nothing twice,
//! so a moment with two holders is harmless.

use std::time::Duration;

use sqlx::PgPool;

/// Runs until aborted: every `interval`, seals what was committed since the last seal.
pub async fn run(pool: PgPool, interval: Duration) {
    let leases = infra::locks::Leases::start(&pool, projections::runner::LEASE_RETRY);
    leases
        .lease("sealer")
        .run(|| seal_every(pool.clone(), interval))
        .await;
}

async fn seal_every(pool: PgPool, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = infra::seal::seal_now(&pool, chrono::Utc::now()).await {
            // A missed seal only widens the window the next one closes.
            tracing::warn!(error = %e, "sealing the history failed; will retry");
        }
    }
}
