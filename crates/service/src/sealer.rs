//! Seals the history at an interval (see `infra::seal`), in whichever instance gets there
//! first: `seal_now` serialises sealers with an advisory lock and seals nothing twice.

use std::time::Duration;

use sqlx::PgPool;

/// Runs until aborted: every `interval`, seals what was committed since the last seal.
pub async fn run(pool: PgPool, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        if let Err(e) = infra::seal::seal_now(&pool, chrono::Utc::now()).await {
            // A missed seal only widens the window the next one closes.
            tracing::warn!(error = %e, "sealing the history failed; will retry");
        }
    }
}
