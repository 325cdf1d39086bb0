//! Where each projection stands in commit order (`projection_checkpoints`, created by this
//! crate's first migration). The projection runner moves a checkpoint in the same
//! transaction as the read-model rows it wrote, so a crash can neither lose nor double-apply
//! an event; readers ask here how far a read model got (`position`, `reached`), operators
//! how far behind it is (`status`, `lags`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::feed::Checkpoint;

/// The position of the last event the projection `name` applied (0 before any, or when it
/// has no checkpoint yet).
pub async fn position(pool: &PgPool, name: &str) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT last_position FROM projection_checkpoints WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0),
    )
}

/// The checkpoint of `name` (the default, before every event, when it has none).
pub async fn of(conn: &mut PgConnection, name: &str) -> Result<Checkpoint, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_tx_id::text::bigint, last_position FROM projection_checkpoints WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|(tx_id, position)| Checkpoint { tx_id, position })
        .unwrap_or_default())
}

/// The checkpoints of `names`, by name; a name without a checkpoint is left out.
pub async fn of_many(
    conn: &mut PgConnection,
    names: &[&str],
) -> Result<Vec<(String, Checkpoint)>, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT name, last_tx_id::text::bigint, last_position FROM projection_checkpoints WHERE name = ANY($1)",
    )
    .bind(names)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, tx_id, position)| (name, Checkpoint { tx_id, position }))
        .collect())
}

/// Moves the checkpoints of `names` to `to` (in the caller's transaction, beside its rows).
pub async fn advance(
    conn: &mut PgConnection,
    names: &[&str],
    to: Checkpoint,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints SET last_tx_id = $2::text::xid8, last_position = $3, updated_at = now()
         WHERE name = ANY($1)",
    )
    .bind(names)
    .bind(to.tx_id.to_string())
    .bind(to.position)
    .execute(conn)
    .await?;
    Ok(())
}

/// The schema version `name` was built with (None before it was ever set up).
pub async fn schema_version(
    conn: &mut PgConnection,
    name: &str,
) -> Result<Option<i32>, sqlx::Error> {
    sqlx::query_scalar("SELECT schema_version FROM projection_checkpoints WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// Puts `name` back before every event, at `schema_version` (its tables were just recreated).
pub async fn reset(
    conn: &mut PgConnection,
    name: &str,
    schema_version: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, schema_version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET schema_version = $2, last_tx_id = '0', last_position = 0, updated_at = now()",
    )
    .bind(name)
    .bind(schema_version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether every one of `names` has applied the event at `target` (or later ones).
pub async fn reached(
    pool: &PgPool,
    names: &[&str],
    target: Checkpoint,
) -> Result<bool, sqlx::Error> {
    let reached: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints
          WHERE name = ANY($1) AND (last_tx_id, last_position) >= ($2::text::xid8, $3)",
    )
    .bind(names)
    .bind(target.tx_id.to_string())
    .bind(target.position)
    .fetch_one(pool)
    .await?;
    Ok(reached == names.len() as i64)
}

/// One projection's checkpoint, as `koordynator projections status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub name: String,
    pub schema_version: i32,
    pub position: i64,
    pub updated_at: DateTime<Utc>,
}

/// Every checkpoint, by name.
pub async fn status(pool: &PgPool) -> Result<Vec<Status>, sqlx::Error> {
    let rows: Vec<(String, i32, i64, DateTime<Utc>)> = sqlx::query_as(
        "SELECT name, schema_version, last_position, updated_at FROM projection_checkpoints ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, schema_version, position, updated_at)| Status {
            name,
            schema_version,
            position,
            updated_at,
        })
        .collect())
}

/// Where one projection stands against the event store.
///
/// Lag in events counts the stored events after the projection's checkpoint in commit order
/// (including those still above the feed's horizon: they are not yet readable either). Lag
/// in seconds is the age of the oldest of them, 0 when there is none: it says how stale an
/// answer of that read model may be, which the event count alone cannot.
#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    /// The projection's name (its checkpoint key).
    pub name: String,
    /// Events stored but not yet applied.
    pub events: i64,
    /// Age in seconds of the oldest event not yet applied (0 when caught up).
    pub seconds: f64,
}

/// The lag of each projection in `names` that has a checkpoint, by name (for `/metrics`
/// and the readiness answer).
pub async fn lags(pool: &PgPool, names: &[&str]) -> Result<Vec<Lag>, sqlx::Error> {
    let rows: Vec<(String, i64, f64)> = sqlx::query_as(
        r#"SELECT c.name,
                  (SELECT count(*) FROM events e
                    WHERE (e.tx_id, e.position) > (c.last_tx_id, c.last_position)),
                  COALESCE((SELECT EXTRACT(EPOCH FROM now() - e.recorded_at)::float8 FROM events e
                             WHERE (e.tx_id, e.position) > (c.last_tx_id, c.last_position)
                             ORDER BY e.tx_id, e.position LIMIT 1), 0)
             FROM projection_checkpoints c
            WHERE c.name = ANY($1)
            ORDER BY c.name"#,
    )
    .bind(names)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, events, seconds)| Lag {
            name,
            events,
            seconds: seconds.max(0.0),
        })
        .collect())
}
