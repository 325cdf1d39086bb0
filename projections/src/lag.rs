//! How far each read model trails the event store, for `/metrics` and the readiness answer.
//!
//! Lag in events counts the stored events after the projection's checkpoint in commit order
//! (including those still above the feed's horizon: they are not yet readable either). Lag
//! in seconds is the age of the oldest of them, 0 when there is none: it says how stale an
//! answer of that read model may be, which the event count alone cannot.

use sqlx::PgPool;

/// Where one projection stands against the event store.
#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    /// The projection's name (its checkpoint key).
    pub name: String,
    /// Events stored but not yet applied.
    pub events: i64,
    /// Age in seconds of the oldest event not yet applied (0 when caught up).
    pub seconds: f64,
}

/// The lag of each projection in `names` that has a checkpoint, by name.
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
