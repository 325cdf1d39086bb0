//! Seals: periodic, chained summaries of every stream's head.
//!
//! The per-stream chain betrays a changed or removed event through its successor, but not
//! the removal of a stream's newest event, nor a rewrite of a whole stream. A seal records,
//! for everything committed below a horizon, how many events there are and where each
//! stream that changed since the previous seal ends, and chains to the previous seal. The
//! hash of the newest seal is a fingerprint of the whole history: handed to someone outside
//! (an evaluator, a report), it lets them detect any later rewrite, even by the operator.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};

use crate::chain::{self, Hash, GENESIS};

/// Seals are taken by one writer at a time, in any instance (advisory lock key).
const SEAL_LOCK: i64 = 0x6b64_6e5f_7365_616c; // "kdn_seal"

/// The head of one stream as a seal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealedHead {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    /// Hex; empty for an event written without a hash.
    pub hash: String,
}

/// One stored seal.
#[derive(Debug, Clone, Serialize)]
pub struct Seal {
    pub seal_no: i64,
    /// Every event of a transaction older than this one (xid) is covered.
    pub horizon: i64,
    /// All events covered by this seal and its predecessors.
    pub events_total: i64,
    pub heads: Vec<SealedHead>,
    #[serde(serialize_with = "hex_ser")]
    pub prev_seal: Hash,
    #[serde(serialize_with = "hex_ser")]
    pub seal_hash: Hash,
    pub sealed_at: DateTime<Utc>,
}

fn hex_ser<S: serde::Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&chain::to_hex(h))
}

impl Seal {
    /// The hash this seal must have given its content: SHA-256 of the canonical JSON of
    /// `{"events_total","heads","horizon","prev_seal","seal_no","sealed_at"}` (heads sorted by
    /// aggregate type, then id).
    pub fn expected_hash(&self) -> Hash {
        let text = chain::canonical_json(&json!({
            "seal_no": self.seal_no,
            "horizon": self.horizon.to_string(),
            "events_total": self.events_total,
            "heads": heads_json(&self.heads),
            "prev_seal": chain::to_hex(&self.prev_seal),
            "sealed_at": chain::instant(self.sealed_at),
        }));
        Sha256::digest(text.as_bytes()).into()
    }

    /// A short form for APIs and export trailers (without the heads).
    pub fn summary(&self) -> Value {
        json!({
            "seal_no": self.seal_no,
            "events_total": self.events_total,
            "sealed_at": chain::instant(self.sealed_at),
            "seal_hash": chain::to_hex(&self.seal_hash),
        })
    }
}

fn heads_json(heads: &[SealedHead]) -> Value {
    Value::Array(
        heads
            .iter()
            .map(|h| {
                json!({"aggregate_type": h.aggregate_type, "aggregate_id": h.aggregate_id,
                       "sequence": h.sequence, "hash": h.hash})
            })
            .collect(),
    )
}

const SEAL_COLUMNS: &str = "seal_no, horizon::text::bigint AS horizon, events_total, heads, \
                            prev_seal, seal_hash, sealed_at";

fn seal_from_row(row: &sqlx::postgres::PgRow) -> Result<Seal, sqlx::Error> {
    let heads: Value = row.try_get("heads")?;
    let heads = heads
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|h| SealedHead {
                    aggregate_type: h["aggregate_type"].as_str().unwrap_or_default().to_owned(),
                    aggregate_id: h["aggregate_id"].as_str().unwrap_or_default().to_owned(),
                    sequence: h["sequence"].as_i64().unwrap_or(-1),
                    hash: h["hash"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Seal {
        seal_no: row.try_get("seal_no")?,
        horizon: row.try_get("horizon")?,
        events_total: row.try_get("events_total")?,
        heads,
        prev_seal: chain::from_column(row.try_get("prev_seal")?).unwrap_or(GENESIS),
        seal_hash: chain::from_column(row.try_get("seal_hash")?).unwrap_or(GENESIS),
        sealed_at: row.try_get("sealed_at")?,
    })
}

/// Seal `seal_no`, if it exists.
pub async fn load<'e>(
    db: impl sqlx::PgExecutor<'e>,
    seal_no: i64,
) -> Result<Option<Seal>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SEAL_COLUMNS} FROM event_seals WHERE seal_no = $1"
    ))
    .bind(seal_no)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(seal_from_row).transpose()
}

/// The newest seal, if any.
pub async fn latest(pool: &PgPool) -> Result<Option<Seal>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SEAL_COLUMNS} FROM event_seals ORDER BY seal_no DESC LIMIT 1"
    ))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(seal_from_row).transpose()
}

/// Seals everything committed so far that no seal covers yet, and returns the newest seal
/// (the new one, or the previous one when nothing new was committed).
pub async fn seal_now(pool: &PgPool, now: DateTime<Utc>) -> Result<Option<Seal>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SEAL_LOCK)
        .execute(&mut *tx)
        .await?;
    let previous = match sqlx::query(&format!(
        "SELECT {SEAL_COLUMNS} FROM event_seals ORDER BY seal_no DESC LIMIT 1"
    ))
    .fetch_optional(&mut *tx)
    .await?
    {
        Some(row) => Some(seal_from_row(&row)?),
        None => None,
    };
    let (from, seal_no, total, prev_hash) = previous.as_ref().map_or((0, 1, 0, GENESIS), |p| {
        (p.horizon, p.seal_no + 1, p.events_total, p.seal_hash)
    });
    let horizon: i64 =
        sqlx::query_scalar("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            .fetch_one(&mut *tx)
            .await?;
    if horizon <= from {
        return Ok(previous);
    }
    // One scan: the window count is taken over every event of the period before
    // DISTINCT ON keeps each stream's newest.
    let rows = sqlx::query(
        "SELECT DISTINCT ON (aggregate_type, aggregate_id)
                aggregate_type, aggregate_id, sequence, hash, count(*) OVER () AS added
           FROM events
          WHERE tx_id >= $1::text::xid8 AND tx_id < $2::text::xid8
          ORDER BY aggregate_type, aggregate_id, sequence DESC",
    )
    .bind(from.to_string())
    .bind(horizon.to_string())
    .fetch_all(&mut *tx)
    .await?;
    let Some(first) = rows.first() else {
        return Ok(previous);
    };
    let added: i64 = first.try_get("added")?;
    let mut heads = rows
        .iter()
        .map(|r| {
            Ok(SealedHead {
                aggregate_type: r.try_get("aggregate_type")?,
                aggregate_id: r.try_get("aggregate_id")?,
                sequence: r.try_get("sequence")?,
                hash: chain::from_column(r.try_get("hash")?)
                    .map(|h| chain::to_hex(&h))
                    .unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    sort_heads(&mut heads);
    let mut seal = Seal {
        seal_no,
        horizon,
        events_total: total + added,
        heads,
        prev_seal: prev_hash,
        seal_hash: GENESIS,
        sealed_at: chain::truncate_to_micros(now),
    };
    seal.seal_hash = seal.expected_hash();
    sqlx::query(
        "INSERT INTO event_seals (seal_no, horizon, events_total, heads, prev_seal, seal_hash, sealed_at)
         VALUES ($1, $2::text::xid8, $3, $4, $5, $6, $7)",
    )
    .bind(seal.seal_no)
    .bind(seal.horizon.to_string())
    .bind(seal.events_total)
    .bind(heads_json(&seal.heads))
    .bind(seal.prev_seal.to_vec())
    .bind(seal.seal_hash.to_vec())
    .bind(seal.sealed_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(
        seal_no = seal.seal_no,
        events_total = seal.events_total,
        "history sealed"
    );
    Ok(Some(seal))
}

/// Heads in the one order seals use: by aggregate type, then id, bytewise (not by the
/// database's collation, which may differ between servers).
pub fn sort_heads(heads: &mut [SealedHead]) {
    heads.sort_by(|a, b| {
        (a.aggregate_type.as_bytes(), a.aggregate_id.as_bytes())
            .cmp(&(b.aggregate_type.as_bytes(), b.aggregate_id.as_bytes()))
    });
}
