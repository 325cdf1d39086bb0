//! `Idempotency-Key` on POST: a repeat with the same key and body returns the first answer
//! and writes nothing.
//!
//! The key is reserved before the command runs (so two concurrent repeats cannot both run),
//! and the answer is stored after. A server error frees the key so the client may retry.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

/// What to do with a request carrying an idempotency key.
#[derive(Debug)]
pub enum Reservation {
    /// First time: run the request, then `complete` (or `release` on a server error).
    Fresh,
    /// Seen and finished: answer this again.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
    /// Seen with another body: the client reused a key by mistake.
    Mismatch,
    /// Seen and still running (or its process died mid-way).
    InProgress,
}

/// A stable hash of the request body.
pub fn request_hash(body: &[u8]) -> Vec<u8> {
    Sha256::digest(body).to_vec()
}

/// Reserves `key` within `scope` (caller + method + path) for a request with `hash`.
pub async fn reserve(
    pool: &PgPool,
    scope: &str,
    key: &str,
    hash: &[u8],
) -> Result<Reservation, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Reservation::Fresh);
    }
    let row: Option<(Vec<u8>, Option<i32>, Option<serde_json::Value>)> = sqlx::query_as(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => Reservation::InProgress,
        Some((stored, _, _)) if stored != hash => Reservation::Mismatch,
        Some((_, Some(status), Some(body))) => Reservation::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        Some(_) => Reservation::InProgress,
    })
}

/// Stores the answer given to the reserved request.
pub async fn complete(
    pool: &PgPool,
    scope: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4, completed_at = now() WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .bind(i32::from(status))
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

/// Frees a reservation whose request failed on our side, so a retry can run.
pub async fn release(pool: &PgPool, scope: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
        .bind(scope)
        .bind(key)
        .execute(pool)
        .await?;
    Ok(())
}
