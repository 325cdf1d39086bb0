//! Reading one stream and appending to it: the event store under the command pipeline.
//!
//! postgres-es 0.5 writes one INSERT per event and knows nothing of the hash chain, so the
//! pipeline writes through here instead: all events of a command in one INSERT, each with
//! its `prev_hash` and `hash` (see [`crate::chain`]). The table stays the one postgres-es
//! reads, so its repository can still load what we write.

use std::collections::HashMap;

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
    let stream = StreamAppend {
        aggregate_id,
        head,
        events,
    };
    let mut appended = append_streams(db, aggregate_type, &[stream], recorded_at).await?;
    Ok(appended.pop().map_or(head, |(head, _)| head))
}

/// Events to append to one stream after its `head`.
#[derive(Debug, Clone, Copy)]
pub struct StreamAppend<'a> {
    pub aggregate_id: &'a str,
    pub head: Head,
    pub events: &'a [NewEvent],
}

/// Appends to several streams of one aggregate type in one INSERT — a group commit across
/// aggregates — each stream chained and numbered on from its own head. Returns each stream's
/// new head and its events' positions, in `streams`' order. Should any stream have moved on
/// since its head was read, nothing is written and the answer is [`AppendError::Conflict`]
/// (which stream is not known: the caller retries them one by one).
pub async fn append_streams<'e>(
    db: impl PgExecutor<'e>,
    aggregate_type: &str,
    streams: &[StreamAppend<'_>],
    recorded_at: DateTime<Utc>,
) -> Result<Vec<(Head, Vec<i64>)>, AppendError> {
    let count: usize = streams.iter().map(|s| s.events.len()).sum();
    let mut heads: Vec<(Head, Vec<i64>)> = streams
        .iter()
        .map(|s| (s.head, vec![s.head.position; s.events.len()]))
        .collect();
    if count == 0 {
        return Ok(heads);
    }
    let recorded_at = chain::truncate_to_micros(recorded_at);
    let mut ids = Vec::with_capacity(count);
    let mut sequences = Vec::with_capacity(count);
    let mut prev_hashes = Vec::with_capacity(count);
    let mut hashes = Vec::with_capacity(count);
    let mut types = Vec::with_capacity(count);
    let mut versions = Vec::with_capacity(count);
    let mut payloads = Vec::with_capacity(count);
    let mut metadata = Vec::with_capacity(count);
    for (s, (head, _)) in streams.iter().zip(heads.iter_mut()) {
        let mut prev = s.head.hash;
        for (sequence, e) in (s.head.sequence + 1..).zip(s.events) {
            let hash = Link {
                aggregate_type,
                aggregate_id: s.aggregate_id,
                sequence,
                event_type: &e.event_type,
                event_version: &e.event_version,
                payload: &e.payload,
                metadata: &e.metadata,
                recorded_at,
            }
            .hash(&prev);
            ids.push(s.aggregate_id);
            sequences.push(sequence);
            prev_hashes.push(prev.to_vec());
            hashes.push(hash.to_vec());
            types.push(e.event_type.as_str());
            versions.push(e.event_version.as_str());
            payloads.push(&e.payload);
            metadata.push(&e.metadata);
            prev = hash;
        }
        head.sequence += s.events.len() as i64;
        head.hash = prev;
    }
    let result = sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, recorded_at, prev_hash, hash)
         SELECT $1, u.aggregate_id, u.sequence, u.event_type, u.event_version, u.payload,
                u.metadata, $2, u.prev_hash, u.hash
           FROM UNNEST($3::text[], $4::bigint[], $5::text[], $6::text[], $7::jsonb[],
                       $8::jsonb[], $9::bytea[], $10::bytea[])
                AS u(aggregate_id, sequence, event_type, event_version, payload, metadata,
                     prev_hash, hash)
         RETURNING aggregate_id, sequence, position",
    )
    .bind(aggregate_type)
    .bind(recorded_at)
    .bind(&ids)
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
    // RETURNING gives no order guarantee: place each position by its stream and sequence.
    let slot: HashMap<&str, usize> = streams
        .iter()
        .enumerate()
        .map(|(i, s)| (s.aggregate_id, i))
        .collect();
    for row in &rows {
        let id: &str = row.try_get("aggregate_id")?;
        let sequence: i64 = row.try_get("sequence")?;
        let Some(&i) = slot.get(id) else { continue };
        let (Some(stream), Some((head, positions))) = (streams.get(i), heads.get_mut(i)) else {
            continue;
        };
        let position: i64 = row.try_get("position")?;
        if let Some(p) = positions.get_mut((sequence - stream.head.sequence - 1) as usize) {
            *p = position;
        }
        head.position = head.position.max(position);
    }
    Ok(heads)
}
