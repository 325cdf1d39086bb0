//! Reading one stream and appending to it: the event store under the command pipeline.
//!
//! postgres-es 0.5 writes one INSERT per event and knows nothing of the hash chain, so the
//! pipeline writes through here instead: all events of a command in one INSERT, each with
//! its `prev_hash` and `hash` (see [`crate::chain`]). The table stays the one postgres-es
//! reads, so its repository can still load what we write.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgExecutor, Row};

use crate::chain::{self, Hash, Link, GENESIS};

/// One stored event of a stream, as the pipeline needs it to rebuild the aggregate.
#[derive(Debug, Clone)]
pub struct StreamRow {
    pub sequence: i64,
    pub position: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    /// None for events written before the chain existed (or not written by the service).
    pub hash: Option<Hash>,
}

/// Where a stream ends: what the next event must follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub sequence: i64,
    pub position: i64,
    pub hash: Hash,
}

impl Head {
    /// The head of a stream with no events.
    pub const EMPTY: Head = Head {
        sequence: 0,
        position: 0,
        hash: GENESIS,
    };

    /// The head after `rows` (all of a stream, in sequence order). An unchained last event
    /// (written before the chain existed) is followed as if it were the start of a chain;
    /// the integrity check reports it.
    pub fn after(rows: &[StreamRow]) -> Head {
        rows.last().map_or(Head::EMPTY, |r| Head {
            sequence: r.sequence,
            position: r.position,
            hash: r.hash.unwrap_or(GENESIS),
        })
    }
}

/// Every event of one stream after `after_sequence`, in sequence order.
pub async fn load_stream<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
) -> Result<Vec<StreamRow>, sqlx::Error> {
    load_page(db, aggregate_type, aggregate_id, after_sequence, i64::MAX).await
}

/// Up to `limit` events of one stream after `after_sequence`, in sequence order: a long
/// stream read page by page never holds all its rows (JSON) in memory at once.
pub async fn load_page<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StreamRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT sequence, position, event_type, event_version, payload, hash FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3
          ORDER BY sequence LIMIT $4",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(after_sequence)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StreamRow {
                sequence: row.try_get("sequence")?,
                position: row.try_get("position")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
                hash: chain::from_column(row.try_get("hash")?),
            })
        })
        .collect()
}

/// An event about to be written.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
}

/// Why an append did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended to the stream since `head` was read (the primary key on
    /// `(aggregate_type, aggregate_id, sequence)` refused a duplicate sequence).
    #[error("the stream moved on since it was read")]
    Conflict,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Appends `events` after `head` in one INSERT and returns the new head.
///
/// `recorded_at` is part of every hash, so the service sets it (cut to microseconds, which
/// is what `timestamptz` keeps) rather than leaving it to the column default.
pub async fn append<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    head: Head,
    events: &[NewEvent],
    recorded_at: DateTime<Utc>,
) -> Result<Head, AppendError> {
    append_positions(db, aggregate_type, aggregate_id, head, events, recorded_at)
        .await
        .map(|(head, _)| head)
}

/// [`append`], also returning the global position of each event in `events`' order: the
/// commands of a group commit share one INSERT, and each answers with its own last position.
pub async fn append_positions<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    aggregate_id: &str,
    head: Head,
    events: &[NewEvent],
    recorded_at: DateTime<Utc>,
) -> Result<(Head, Vec<i64>), AppendError> {
    if events.is_empty() {
        return Ok((head, Vec::new()));
    }
    let recorded_at = chain::truncate_to_micros(recorded_at);
    let mut sequences = Vec::with_capacity(events.len());
    let mut prev_hashes = Vec::with_capacity(events.len());
    let mut hashes = Vec::with_capacity(events.len());
    let mut prev = head.hash;
    for (sequence, e) in (head.sequence + 1..).zip(events) {
        let hash = Link {
            aggregate_type,
            aggregate_id,
            sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at,
        }
        .hash(&prev);
        sequences.push(sequence);
        prev_hashes.push(prev.to_vec());
        hashes.push(hash.to_vec());
        prev = hash;
    }
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    let versions: Vec<&str> = events.iter().map(|e| e.event_version.as_str()).collect();
    let payloads: Vec<&Value> = events.iter().map(|e| &e.payload).collect();
    let metadata: Vec<&Value> = events.iter().map(|e| &e.metadata).collect();
    let result = sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, recorded_at, prev_hash, hash)
         SELECT $1, $2, u.sequence, u.event_type, u.event_version, u.payload, u.metadata, $3,
                u.prev_hash, u.hash
           FROM UNNEST($4::bigint[], $5::text[], $6::text[], $7::jsonb[], $8::jsonb[],
                       $9::bytea[], $10::bytea[])
                AS u(sequence, event_type, event_version, payload, metadata, prev_hash, hash)
         RETURNING sequence, position",
    )
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(recorded_at)
    .bind(&sequences)
    .bind(&types)
    .bind(&versions)
    .bind(&payloads)
    .bind(&metadata)
    .bind(&prev_hashes)
    .bind(&hashes)
    .fetch_all(db)
    .await;
    let rows = match result {
        Ok(rows) => rows,
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("23505") => {
            return Err(AppendError::Conflict)
        }
        Err(e) => return Err(e.into()),
    };
    // RETURNING gives no order guarantee: place each position by its sequence.
    let mut positions = vec![head.position; events.len()];
    for row in &rows {
        let sequence: i64 = row.try_get("sequence")?;
        let slot = (sequence - head.sequence - 1) as usize;
        if let Some(p) = positions.get_mut(slot) {
            *p = row.try_get("position")?;
        }
    }
    let position = positions.iter().copied().max().unwrap_or(head.position);
    Ok((
        Head {
            sequence: head.sequence + events.len() as i64,
            position,
            hash: prev,
        },
        positions,
    ))
}
