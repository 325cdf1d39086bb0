//! Who looked at what: the record of audit reads (see migration 0005).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

/// One audit read about to be recorded.
#[derive(Debug, Clone)]
pub struct Access<'a> {
    /// `token:<id>`, or `anonymous` when the request carried no valid token.
    pub actor: &'a str,
    pub role: &'a str,
    pub organizer: Option<&'a str>,
    /// Method and route, e.g. `GET /api/v1/audit/export`.
    pub action: &'a str,
    /// The path read.
    pub target: &'a str,
    /// Query string and answer status.
    pub parameters: Value,
}

/// Records one audit read.
pub async fn record(pool: &PgPool, a: &Access<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_access_log (actor, role, organizer, action, target, parameters)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.actor)
    .bind(a.role)
    .bind(a.organizer)
    .bind(a.action)
    .bind(a.target)
    .bind(&a.parameters)
    .execute(pool)
    .await?;
    Ok(())
}

/// One recorded audit read.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AccessEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub role: String,
    pub organizer: Option<String>,
    pub action: String,
    pub target: String,
    pub parameters: Value,
}

/// Entries after `after` (id), oldest first, optionally of one actor.
pub async fn page(
    pool: &PgPool,
    after: i64,
    limit: i64,
    actor: Option<&str>,
) -> Result<Vec<AccessEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor, role, organizer, action, target, parameters
           FROM audit_access_log
          WHERE id > $1 AND ($2::text IS NULL OR actor = $2)
          ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(actor)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Removes entries recorded before `cutoff` (the retention period) and records the purge
/// itself as an entry, in one transaction; returns how many were removed. The table's
/// trigger lets this transaction, and no other, delete — and only rows older than `cutoff`.
pub async fn purge_before(
    pool: &PgPool,
    cutoff: DateTime<Utc>,
    actor: &str,
) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('koordynator.access_log_cutoff', $1, true)")
        .bind(cutoff.to_rfc3339())
        .execute(&mut *tx)
        .await?;
    let removed = sqlx::query("DELETE FROM audit_access_log WHERE at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "INSERT INTO audit_access_log (actor, role, organizer, action, target, parameters)
         VALUES ($1, 'admin', NULL, 'PURGE access log', '', $2)",
    )
    .bind(actor)
    .bind(serde_json::json!({"before": cutoff, "removed": removed}))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(removed)
}
