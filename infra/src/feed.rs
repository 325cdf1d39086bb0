//! The ordered event feed: every committed event exactly once, in commit order.
//!
//! A position is taken at INSERT but becomes visible at COMMIT, so "everything after the last
//! position I saw" can skip a row whose transaction committed late (STACK.md). The feed
//! instead reads only rows written by transactions older than every transaction still open
//! (`tx_id < pg_snapshot_xmin(pg_current_snapshot())`), ordered by `(tx_id, position)`: no
//! transaction can still commit below that horizon, so the order never changes afterwards.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgExecutor, Row};

/// One stored event with everything the store knows about it.
#[derive(Debug, Clone, Serialize)]
pub struct StoredEvent {
    /// Global position (unique, increasing in INSERT order).
    pub position: i64,
    /// The writing transaction, as a number; with `position` it forms the commit order.
    #[serde(skip)]
    pub tx_id: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: serde_json::Value,
    pub metadata: serde_json::Value,
    pub recorded_at: DateTime<Utc>,
}

impl StoredEvent {
    /// Where a reader stands after having processed this event.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            tx_id: self.tx_id,
            position: self.position,
        }
    }
}

/// A point in commit order: everything at or before it has been processed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Checkpoint {
    pub tx_id: i64,
    pub position: i64,
}

const COLUMNS: &str =
    "position, tx_id::text::bigint AS tx_id, aggregate_type, aggregate_id, sequence, \
     event_type, event_version, payload, metadata, recorded_at";

/// A row selected with the feed's columns as a [`StoredEvent`].
pub fn from_row(row: &PgRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        position: row.try_get("position")?,
        tx_id: row.try_get("tx_id")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        payload: row.try_get("payload")?,
        metadata: row.try_get("metadata")?,
        recorded_at: row.try_get("recorded_at")?,
    })
}

/// Up to `limit` settled events after `after`, in commit order.
///
/// `ORDER BY events.tx_id`, qualified: the select list's `tx_id` is the bigint alias, and an
/// unqualified name in ORDER BY means the output column, which no index covers: every page
/// then sorted all the rows after the checkpoint (a million-event rebuild took hours).
pub async fn read_after<'e>(
    db: impl PgExecutor<'e>,
    after: Checkpoint,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
          WHERE (tx_id, position) > ($1::text::xid8, $2)
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
          ORDER BY events.tx_id, events.position
          LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Filters for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only events of this organizer (from the metadata).
    pub organizer: Option<String>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
}

/// The audit page after the event at position `after` (0 = from the start), in commit order.
///
/// The cursor is a plain position for clients; it is turned back into the commit-order
/// checkpoint of that event, so paging never skips an event that committed late.
pub async fn audit_page(
    pool: &sqlx::PgPool,
    after: i64,
    limit: i64,
    filter: &AuditFilter,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let start = checkpoint_of(pool, after).await?.unwrap_or_default();
    let sql = format!(
        "SELECT {COLUMNS} FROM events
          WHERE (tx_id, position) > ($1::text::xid8, $2)
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
            AND ($3::text IS NULL OR metadata ->> 'organizer' = $3)
            AND ($4::text IS NULL OR aggregate_type = $4)
            AND ($5::text IS NULL OR aggregate_id = $5)
          ORDER BY events.tx_id, events.position
          LIMIT $6"
    );
    let rows = sqlx::query(&sql)
        .bind(start.tx_id.to_string())
        .bind(start.position)
        .bind(&filter.organizer)
        .bind(&filter.aggregate_type)
        .bind(&filter.aggregate_id)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The commit-order checkpoint of the event at `position`, if it exists.
pub async fn checkpoint_of<'e>(
    db: impl PgExecutor<'e>,
    position: i64,
) -> Result<Option<Checkpoint>, sqlx::Error> {
    if position <= 0 {
        return Ok(Some(Checkpoint::default()));
    }
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT tx_id::text::bigint FROM events WHERE position = $1")
            .bind(position)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(tx_id,)| Checkpoint { tx_id, position }))
}

/// Every event of one aggregate in sequence order, optionally only those recorded up to an
/// instant or up to a sequence: the input of replays (`?at=`, audit state, verify).
pub async fn aggregate_events(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    recorded_until: Option<DateTime<Utc>>,
    until_sequence: Option<i64>,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2
            AND ($3::timestamptz IS NULL OR recorded_at <= $3)
            AND ($4::bigint IS NULL OR sequence <= $4)
          ORDER BY sequence"
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(recorded_until)
        .bind(until_sequence)
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The events of one stream after `after_sequence` up to `until_sequence`, in sequence
/// order: what a reader holding the stream's state at `after_sequence` still has to apply.
pub async fn stream_range(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    until_sequence: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 AND sequence <= $4
          ORDER BY sequence"
    );
    let rows = sqlx::query(&sql)
        .bind(aggregate_type)
        .bind(aggregate_id)
        .bind(after_sequence)
        .bind(until_sequence)
        .fetch_all(pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// Whether the event at `position` exists and lies below the feed's horizon (readers in
/// commit order can see it): what `?min_position=` on the audit trail waits for.
pub async fn is_settled(pool: &sqlx::PgPool, position: i64) -> Result<bool, sqlx::Error> {
    if position <= 0 {
        // Before every event: nothing to wait for.
        return Ok(true);
    }
    let settled: Option<bool> = sqlx::query_scalar(
        "SELECT tx_id < pg_snapshot_xmin(pg_current_snapshot()) FROM events WHERE position = $1",
    )
    .bind(position)
    .fetch_optional(pool)
    .await?;
    Ok(settled.unwrap_or(false))
}

/// The chain hash of one event (None: no such event, or one written before the chain).
pub async fn hash_of(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let row: Option<(Option<Vec<u8>>,)> = sqlx::query_as(
        "SELECT hash FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(sequence)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(h,)| h))
}

/// The number of events stored (for progress lines of long commands).
pub async fn count(pool: &sqlx::PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await
}

/// The organizer an aggregate's first event names (None for an unknown stream): whose
/// stream it is, for scoping what an evaluator of one organizer may see.
pub async fn organizer_of(
    pool: &sqlx::PgPool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT metadata ->> 'organizer' FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence LIMIT 1",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .fetch_optional(pool)
    .await
    .map(Option::flatten)
}
