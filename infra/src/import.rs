//! Loading an audit export into an empty store, e.g. an evaluator's own instance, where the
//! history can be replayed, verified and queried (`?at=`) without the operator's database.
//!
//! Every line is re-computed before it is written ([`LineChecker`]), events keep their
//! positions, recorded instants and hashes, and the whole file goes in one transaction:
//! a file that is altered, truncated or has no trailer leaves the store empty.

use chrono::{DateTime, Utc};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::export::{parse_line, ExportedEvent, Line, LineChecker, Trailer};

const BATCH: usize = 1_000;

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the store already holds events; import only into an empty database")]
    NotEmpty,
    #[error("{0}")]
    Invalid(String),
    #[error("reading the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Imports an export read from `input`; `progress` is called after each batch.
pub async fn import(
    pool: &sqlx::PgPool,
    input: impl AsyncBufRead + Unpin,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Trailer, ImportError> {
    let mut tx = pool.begin().await?;
    // Lock out writers for the duration: the store must stay empty until we commit.
    sqlx::query("LOCK TABLE events IN EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let existing: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM events)")
        .fetch_one(&mut *tx)
        .await?;
    if existing {
        return Err(ImportError::NotEmpty);
    }
    let mut checker = LineChecker::default();
    let mut batch: Vec<ExportedEvent> = Vec::with_capacity(BATCH);
    let mut lines = input.lines();
    let mut done = 0u64;
    while let Some(text) = lines.next_line().await? {
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text).map_err(ImportError::Invalid)? {
            Line::Event(e) => {
                checker.event(&e).map_err(ImportError::Invalid)?;
                batch.push(*e);
                if batch.len() == BATCH {
                    insert(&mut tx, &batch).await?;
                    done += batch.len() as u64;
                    batch.clear();
                    progress(done);
                }
            }
            Line::Trailer(t) => checker.trailer(*t).map_err(ImportError::Invalid)?,
        }
    }
    insert(&mut tx, &batch).await?;
    done += batch.len() as u64;
    progress(done);
    let trailer = checker.finish().map_err(ImportError::Invalid)?;
    // New events continue after the imported positions.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('events', 'position'),
                       GREATEST((SELECT max(position) FROM events), 1))",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(trailer)
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    batch: &[ExportedEvent],
) -> Result<(), ImportError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut recorded = Vec::with_capacity(batch.len());
    for e in batch {
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&e.recorded_at)
            .map_err(|err| ImportError::Invalid(format!("recorded_at: {err}")))?
            .with_timezone(&Utc);
        recorded.push(at);
    }
    let hex = |s: &str| hex::decode(s).map_err(|e| ImportError::Invalid(format!("hash: {e}")));
    let prev: Vec<Vec<u8>> = batch
        .iter()
        .map(|e| hex(&e.prev_hash))
        .collect::<Result<_, _>>()?;
    let hash: Vec<Vec<u8>> = batch
        .iter()
        .map(|e| hex(&e.hash))
        .collect::<Result<_, _>>()?;
    sqlx::query(
        "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, event_type,
                             event_version, payload, metadata, recorded_at, prev_hash, hash)
         OVERRIDING SYSTEM VALUE
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[],
                              $6::text[], $7::jsonb[], $8::jsonb[], $9::timestamptz[],
                              $10::bytea[], $11::bytea[])",
    )
    .bind(batch.iter().map(|e| e.position).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|e| e.aggregate_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|e| e.aggregate_id.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|e| e.sequence).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|e| e.event_type.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|e| e.event_version.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|e| &e.payload).collect::<Vec<_>>())
    .bind(batch.iter().map(|e| &e.metadata).collect::<Vec<_>>())
    .bind(&recorded)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
