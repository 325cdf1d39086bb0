//! `Idempotency-Key` on POST: a repeat with the same key and body returns the first answer
//! and writes nothing.
//!
//! The key is reserved before the command runs (so two concurrent repeats cannot both run),
//! and the answer is stored after. A server error frees the key so the client may retry.
//!
//! A reservation can outlive its request: the process may be killed, or the database may go
//! away between the command's commit and the stored answer. Such a reservation is taken over
//! once it is older than [`LEASE`] (longer than any request may run). Before the command runs
//! again, the events are searched for the key (every command records it in its metadata):
//! when the command had committed, the repeat is told so instead of carrying it out twice.

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
    /// Seen and still running (or its process died less than [`LEASE`] ago).
    InProgress,
    /// An abandoned reservation whose command had committed (its events carry the key) but
    /// whose answer was lost: the request was carried out up to `position`.
    Applied { position: i64 },
}

/// How long a reservation without an answer is presumed to be still running. Longer than the
/// service's request timeout (60 s), so a live request is never taken over.
pub const LEASE_SECS: i64 = 120;

/// [`LEASE_SECS`] as a duration, for documentation and tests.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(LEASE_SECS as u64);

/// A stable hash of the request body.
pub fn request_hash(body: &[u8]) -> Vec<u8> {
    Sha256::digest(body).to_vec()
}

/// Reserves `key` within `scope` (caller + method + path) for a request with `hash`, as
/// `holder` (an id the request makes up, so that it can free exactly its own reservation even
/// when it could not learn whether the reservation was stored).
pub async fn reserve(
    pool: &PgPool,
    scope: &str,
    key: &str,
    hash: &[u8],
    holder: uuid::Uuid,
) -> Result<Reservation, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, holder) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(scope)
    .bind(key)
    .bind(hash)
    .bind(holder)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Reservation::Fresh);
    }
    type Row = (Vec<u8>, Option<i32>, Option<serde_json::Value>, bool);
    let row: Option<Row> = sqlx::query_as(
        "SELECT request_hash, status, response, created_at < now() - make_interval(secs => $3) \
         FROM idempotency_keys WHERE scope = $1 AND key = $2",
    )
    .bind(scope)
    .bind(key)
    .bind(LEASE_SECS as f64)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        None => Reservation::InProgress,
        Some((stored, ..)) if stored != hash => Reservation::Mismatch,
        Some((_, Some(status), Some(body), _)) => Reservation::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        },
        Some((.., true)) => take_over(pool, scope, key, holder).await?,
        Some(_) => Reservation::InProgress,
    })
}

/// Takes over an abandoned reservation: `Applied` when its command had committed, else
/// `Fresh` for exactly one of any concurrent repeats (the others stay `InProgress`).
async fn take_over(
    pool: &PgPool,
    scope: &str,
    key: &str,
    holder: uuid::Uuid,
) -> Result<Reservation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let claimed = sqlx::query(
        "UPDATE idempotency_keys SET created_at = now(), holder = $4 \
         WHERE scope = $1 AND key = $2 AND status IS NULL \
           AND created_at < now() - make_interval(secs => $3)",
    )
    .bind(scope)
    .bind(key)
    .bind(LEASE_SECS as f64)
    .bind(holder)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(Reservation::InProgress);
    }
    let outcome = match settle_if_applied(&mut tx, scope, key).await? {
        Some(position) => Reservation::Applied { position },
        None => Reservation::Fresh,
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The problem document stored for a request found carried out after its answer was lost.
pub fn applied_answer(position: i64) -> serde_json::Value {
    serde_json::json!({
        "type": "/problems/idempotency_answer_lost",
        "title": "Conflict",
        "status": 409,
        "detail": "A request with this Idempotency-Key was carried out, but its answer was lost \
                   when the service or its database stopped; read the resource to see the result.",
        "position": position,
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

/// Frees a reservation whose request failed on our side, so a retry can run — unless its
/// command did commit after all (the database went away after the commit but before its
/// acknowledgement reached us): then the reservation is settled as carried out instead, so
/// the retry is told so rather than carrying it out twice.
///
/// Only `holder`'s own reservation is touched: when the reservation was never stored, or
/// another request holds the key, nothing changes.
pub async fn release(
    pool: &PgPool,
    scope: &str,
    key: &str,
    holder: uuid::Uuid,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let ours: Option<bool> = sqlx::query_scalar(
        "SELECT true FROM idempotency_keys \
         WHERE scope = $1 AND key = $2 AND holder = $3 AND status IS NULL FOR UPDATE",
    )
    .bind(scope)
    .bind(key)
    .bind(holder)
    .fetch_optional(&mut *tx)
    .await?;
    if ours.is_some() && settle_if_applied(&mut tx, scope, key).await?.is_none() {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE scope = $1 AND key = $2 AND holder = $3 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .bind(holder)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Forgets every stored answer of the route `route` (`METHOD /path`), whoever sent it:
/// scopes are `METHOD /path …`.
pub async fn forget_route(conn: &mut sqlx::PgConnection, route: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE scope LIKE $1 || ' %'")
        .bind(route.replace('%', "\\%").replace('_', "\\_"))
        .execute(conn)
        .await?;
    Ok(())
}

/// When events carry `key` (every command records its key in its metadata), stores the
/// "carried out, answer lost" answer for the reservation and returns the last position.
async fn settle_if_applied(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    scope: &str,
    key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let applied: Option<i64> = sqlx::query_scalar(
        "SELECT max(position) FROM events \
         WHERE metadata ? 'idempotency_key' AND metadata ->> 'idempotency_key' = $1",
    )
    .bind(key)
    .fetch_one(&mut **tx)
    .await?;
    if let Some(position) = applied {
        sqlx::query(
            "UPDATE idempotency_keys SET status = 409, response = $3, completed_at = now() \
             WHERE scope = $1 AND key = $2 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .bind(applied_answer(position))
        .execute(&mut **tx)
        .await?;
    }
    Ok(applied)
}
