//! The audit export: events with their metadata and hashes as JSON Lines, in commit order,
//! in constant memory, ending with a trailer that lets the receiver check completeness.
//!
//! Before exporting, the history is sealed, and the export covers exactly what that seal
//! covers: the trailer carries the seal's hash, so an export can be compared with a seal
//! published elsewhere. The same module reads exports back: [`LineChecker`] re-computes
//! every hash (used by `audit import` and `audit check`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::chain::{self, Hash, Link, GENESIS};
use crate::seal::{self, Seal};

/// The `format` written in every trailer; bump it when the line shape changes.
pub const FORMAT: &str = "koordynator-audit-export/1";
const PAGE: i64 = 1_000;

/// Which events to export. Empty = all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExportFilter {
    /// Only events of this organizer (from the metadata).
    pub organizer: Option<String>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// Only events recorded at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this instant.
    pub to: Option<DateTime<Utc>>,
}

/// One exported event: what the store holds, hashes in hex.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedEvent {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: Value,
    pub metadata: Value,
    /// `chain::instant` form, exactly as hashed.
    pub recorded_at: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Where one stream starts and ends in an export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamSpan {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub first_sequence: i64,
    pub last_sequence: i64,
    pub last_hash: String,
}

/// The last line of an export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trailer {
    pub format: String,
    /// Number of event lines before this one.
    pub events: u64,
    /// SHA-256 over the 32-byte hashes of all exported events, in export order.
    pub digest: String,
    /// Every stream in the export with its first and last sequence: a stream whose first
    /// sequence is 1 and whose last hash is the seal's head is complete.
    pub streams: Vec<StreamSpan>,
    pub filter: Value,
    /// The seal the export was cut at (null for an empty store).
    pub seal: Option<Value>,
    pub generated_at: String,
}

/// Produces an export page by page; see the module docs.
pub struct Exporter {
    pool: PgPool,
    filter: ExportFilter,
    horizon: i64,
    after: (i64, i64),
    count: u64,
    digest: Sha256,
    streams: BTreeMap<(String, String), StreamSpan>,
    seal: Option<Seal>,
    finished: bool,
    generated_at: DateTime<Utc>,
}

impl Exporter {
    /// Seals what is committed and prepares an export of it.
    pub async fn start(
        pool: PgPool,
        filter: ExportFilter,
        now: DateTime<Utc>,
    ) -> Result<Self, sqlx::Error> {
        let seal = seal::seal_now(&pool, now).await?;
        let horizon = seal.as_ref().map_or(0, |s| s.horizon);
        Ok(Self {
            pool,
            filter,
            horizon,
            after: (0, 0),
            count: 0,
            digest: Sha256::new(),
            streams: BTreeMap::new(),
            seal,
            finished: false,
            generated_at: now,
        })
    }

    /// Events exported so far.
    pub fn exported(&self) -> u64 {
        self.count
    }

    /// How many events the whole export will hold (same filter and horizon), for a progress
    /// line's time left. One counting scan: call it only when someone watches.
    pub async fn total(&self) -> Result<u64, sqlx::Error> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
              WHERE tx_id < $1::text::xid8
                AND ($2::text IS NULL OR metadata ->> 'organizer' = $2)
                AND ($3::text IS NULL OR aggregate_type = $3)
                AND ($4::text IS NULL OR aggregate_id = $4)
                AND ($5::timestamptz IS NULL OR recorded_at >= $5)
                AND ($6::timestamptz IS NULL OR recorded_at < $6)",
        )
        .bind(self.horizon.to_string())
        .bind(&self.filter.organizer)
        .bind(&self.filter.aggregate_type)
        .bind(&self.filter.aggregate_id)
        .bind(self.filter.from)
        .bind(self.filter.to)
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The next lines (each ending in `\n`): a page of events, then the trailer, then None.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, sqlx::Error> {
        if self.finished {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT position, tx_id::text::bigint AS tx_id, aggregate_type, aggregate_id, sequence,
                    event_type, event_version, payload, metadata, recorded_at, prev_hash, hash
               FROM events
              WHERE (tx_id, position) > ($1::text::xid8, $2) AND tx_id < $3::text::xid8
                AND ($4::text IS NULL OR metadata ->> 'organizer' = $4)
                AND ($5::text IS NULL OR aggregate_type = $5)
                AND ($6::text IS NULL OR aggregate_id = $6)
                AND ($7::timestamptz IS NULL OR recorded_at >= $7)
                AND ($8::timestamptz IS NULL OR recorded_at < $8)
              ORDER BY events.tx_id, events.position
              LIMIT $9",
        )
        .bind(self.after.0.to_string())
        .bind(self.after.1)
        .bind(self.horizon.to_string())
        .bind(&self.filter.organizer)
        .bind(&self.filter.aggregate_type)
        .bind(&self.filter.aggregate_id)
        .bind(self.filter.from)
        .bind(self.filter.to)
        .bind(PAGE)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            self.finished = true;
            return Ok(Some(self.trailer_line()));
        }
        let mut out = String::with_capacity(rows.len() * 600);
        for row in &rows {
            let hash = chain::from_column(row.try_get("hash")?);
            let prev_hash = chain::from_column(row.try_get("prev_hash")?);
            let event = ExportedEvent {
                position: row.try_get("position")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                sequence: row.try_get("sequence")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
                metadata: row.try_get("metadata")?,
                recorded_at: chain::instant(row.try_get("recorded_at")?),
                prev_hash: prev_hash.map(|h| chain::to_hex(&h)).unwrap_or_default(),
                hash: hash.map(|h| chain::to_hex(&h)).unwrap_or_default(),
            };
            self.after = (row.try_get("tx_id")?, event.position);
            self.digest.update(hash.unwrap_or(GENESIS));
            self.count += 1;
            let span = self
                .streams
                .entry((event.aggregate_type.clone(), event.aggregate_id.clone()))
                .or_insert_with(|| StreamSpan {
                    aggregate_type: event.aggregate_type.clone(),
                    aggregate_id: event.aggregate_id.clone(),
                    first_sequence: event.sequence,
                    last_sequence: event.sequence,
                    last_hash: String::new(),
                });
            span.last_sequence = event.sequence;
            span.last_hash.clone_from(&event.hash);
            out.push_str(&serde_json::to_string(&event).unwrap_or_default());
            out.push('\n');
        }
        Ok(Some(out))
    }

    fn trailer_line(&self) -> String {
        let trailer = Trailer {
            format: FORMAT.to_owned(),
            events: self.count,
            digest: hex::encode(self.digest.clone().finalize()),
            streams: self.streams.values().cloned().collect(),
            filter: serde_json::to_value(&self.filter).unwrap_or(Value::Null),
            seal: self.seal.as_ref().map(Seal::summary),
            generated_at: chain::instant(self.generated_at),
        };
        let mut line = json!({ "export": trailer }).to_string();
        line.push('\n');
        line
    }
}

/// One line of an export as read back.
#[derive(Debug)]
pub enum Line {
    Event(Box<ExportedEvent>),
    Trailer(Box<Trailer>),
}

/// Parses one line of an export.
pub fn parse_line(text: &str) -> Result<Line, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if let Some(trailer) = value.get("export") {
        return serde_json::from_value(trailer.clone())
            .map(|t| Line::Trailer(Box::new(t)))
            .map_err(|e| format!("malformed trailer: {e}"));
    }
    serde_json::from_value(value)
        .map(|e| Line::Event(Box::new(e)))
        .map_err(|e| format!("malformed event line: {e}"))
}

/// Re-computes an export line by line: every hash, the chain within each stream, and at the
/// end the trailer's count and digest. Needs no database: this is what an evaluator runs.
#[derive(Default)]
pub struct LineChecker {
    heads: BTreeMap<(String, String), (i64, Hash)>,
    count: u64,
    digest: Sha256,
    trailer: Option<Trailer>,
    line_no: u64,
}

impl LineChecker {
    /// Checks the next event line; the error names the line and what is wrong.
    pub fn event(&mut self, e: &ExportedEvent) -> Result<Hash, String> {
        self.line_no += 1;
        let n = self.line_no;
        if self.trailer.is_some() {
            return Err(format!("line {n}: an event after the trailer"));
        }
        let recorded_at = DateTime::parse_from_rfc3339(&e.recorded_at)
            .map_err(|err| format!("line {n}: recorded_at: {err}"))?
            .with_timezone(&Utc);
        let prev = chain::from_hex(&e.prev_hash)
            .ok_or_else(|| format!("line {n}: prev_hash is not a SHA-256 in hex"))?;
        let stored = chain::from_hex(&e.hash)
            .ok_or_else(|| format!("line {n}: hash is not a SHA-256 in hex"))?;
        let computed = Link {
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at,
        }
        .hash(&prev);
        if computed != stored {
            return Err(format!(
                "line {n} (position {}, {} {} #{}): the content does not match its hash",
                e.position, e.aggregate_type, e.aggregate_id, e.sequence
            ));
        }
        let key = (e.aggregate_type.clone(), e.aggregate_id.clone());
        if let Some((sequence, hash)) = self.heads.get(&key) {
            if e.sequence != sequence + 1 {
                return Err(format!(
                    "line {n}: {} {} jumps from sequence {sequence} to {}",
                    e.aggregate_type, e.aggregate_id, e.sequence
                ));
            }
            if prev != *hash {
                return Err(format!(
                    "line {n}: {} {} #{} is not chained to the line before it in its stream",
                    e.aggregate_type, e.aggregate_id, e.sequence
                ));
            }
        } else if e.sequence == 1 && prev != GENESIS {
            return Err(format!(
                "line {n}: the first event of a stream must follow 64 zeros"
            ));
        }
        self.heads.insert(key, (e.sequence, stored));
        self.count += 1;
        self.digest.update(stored);
        Ok(stored)
    }

    /// Checks the trailer against the lines seen.
    pub fn trailer(&mut self, t: Trailer) -> Result<(), String> {
        self.line_no += 1;
        if self.trailer.is_some() {
            return Err(format!("line {}: a second trailer", self.line_no));
        }
        if t.events != self.count {
            return Err(format!(
                "the trailer counts {} events, the file holds {}: the export is incomplete",
                t.events, self.count
            ));
        }
        let digest = hex::encode(self.digest.clone().finalize());
        if t.digest != digest {
            return Err("the trailer's digest does not match the events".to_owned());
        }
        for span in &t.streams {
            let head = self
                .heads
                .get(&(span.aggregate_type.clone(), span.aggregate_id.clone()));
            if head.map(|(s, h)| (*s, chain::to_hex(h)))
                != Some((span.last_sequence, span.last_hash.clone()))
            {
                return Err(format!(
                    "the trailer's end of {} {} does not match the events",
                    span.aggregate_type, span.aggregate_id
                ));
            }
        }
        if t.streams.len() != self.heads.len() {
            return Err("the trailer lists other streams than the file holds".to_owned());
        }
        self.trailer = Some(t);
        Ok(())
    }

    /// After the last line: the trailer, or an error when the file was cut short.
    pub fn finish(self) -> Result<Trailer, String> {
        self.trailer.ok_or_else(|| {
            format!(
                "no trailer after {} events: the export was cut short",
                self.count
            )
        })
    }
}
