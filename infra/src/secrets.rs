//! Secrets the service generates for itself on first start (`service_secrets`): the key of
//! the e-mail hash, the key of the public forms' tokens. Random, never configured by hand,
//! never leaving the database; every instance on one database reads the same one.

use rand::RngCore;
use sqlx::PgPool;

/// The 32-byte secret `name`, generated and stored on first use. Concurrent first starts
/// agree on one: insert-if-missing, then read.
pub async fn load_or_create(pool: &PgPool, name: &str) -> Result<Vec<u8>, sqlx::Error> {
    let mut fresh = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut fresh);
    sqlx::query("INSERT INTO service_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(name)
        .bind(&fresh)
        .execute(pool)
        .await?;
    sqlx::query_scalar("SELECT value FROM service_secrets WHERE name = $1")
        .bind(name)
        .fetch_one(pool)
        .await
}
