//! A read model as it stood at a past moment (`?at=`), built by the live projection's own
//! code and read with its own queries, so that the live answer and the replayed one cannot
//! drift apart (one code path; `tests/replay.rs` holds them equal on the same events).
//!
//! How: on a connection of its own, a transaction creates a temporary table for each table
//! of the projections asked for (`CREATE TEMP TABLE rm_x (LIKE rm_x INCLUDING ALL)`). The
//! session's temporary schema is searched before `public`, so from then on every statement
//! of that transaction that names `rm_x` — the projection's `apply_batch` writing the
//! aggregate's events up to the moment, then the read model's `read` queries — works on the
//! temporary copy. Nothing of it outlives the transaction, which is never committed.
//!
//! Why a connection of its own: a pooled connection may hold a prepared statement naming
//! `rm_x` from before, bound to the permanent table; PostgreSQL re-plans such a statement
//! only when the table itself or the `search_path` setting changes, not when a temporary
//! table starts to shadow it. A fresh connection has no such statement.

use infra::StoredEvent;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgConnection, PgPool};

use crate::events::DecodedEvent;
use crate::read::ReadError;
use crate::runner::Projection;

/// Read models as they stood after some events: an open transaction whose `rm_*` names are
/// temporary copies fed with those events. Read them with the read models' `read` queries
/// through [`Replayed::conn`]; dropping it discards everything.
pub struct Replayed {
    // Dropped first: the transaction rolls back, then its one-connection pool closes.
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    _own: PgPool,
    /// The global position of the last event applied (0 when none was).
    pub position: i64,
}

impl Replayed {
    /// The connection to read the replayed read models through.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }
}

/// Applies `events` (in the order given: one aggregate's, in sequence order) to empty
/// temporary copies of `projections`' tables, with each projection's own `apply_batch`.
pub async fn replay(
    pool: &PgPool,
    projections: &[&dyn Projection],
    events: Vec<StoredEvent>,
) -> Result<Replayed, ReadError> {
    // A pool of one new connection: its transaction owns the connection, and the
    // connection closes with the pool.
    let own = PgPoolOptions::new()
        .max_connections(1)
        .connect_with((*pool.connect_options()).clone())
        .await?;
    let mut tx = own.begin().await?;
    for p in projections {
        for table in p.tables() {
            // Names are the projection's own constants, not input. Sent through
            // `Executor::execute`, whose boxed future is `Send`: `RawSql::execute`'s is not
            // provably so inside an async caller (rustc cannot show it for every lifetime),
            // which kept an axum handler awaiting `replay` from being a handler.
            let sql =
                format!("CREATE TEMP TABLE {table} (LIKE {table} INCLUDING ALL) ON COMMIT DROP");
            (&mut *tx).execute(sqlx::raw_sql(&sql)).await?;
        }
    }
    let position = events.iter().map(|e| e.position).max().unwrap_or(0);
    let events = DecodedEvent::all(events);
    for p in projections {
        p.apply_batch(&mut tx, &events).await?;
    }
    Ok(Replayed {
        tx,
        _own: own,
        position,
    })
}
