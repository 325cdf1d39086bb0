//! Side rows: what a command writes in the same transaction as its events (an applicant's
//! personal data, an officer's name), so that a crash or an outage never leaves one without
//! the other.
//!
//! A group commit carries the side rows of many commands, possibly of several aggregates.
//! Rows of one kind are handed to their kind's writer together, so the group pays one
//! statement per kind (or a few), not one per command: the kind is the row's Rust type, and
//! [`SideRow::write_all`] its statement.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sqlx::PgConnection;

/// The boxed future a side writer returns, borrowing only the connection.
pub type SideFuture<'t> = Pin<Box<dyn Future<Output = Result<(), sqlx::Error>> + Send + 't>>;

/// One kind of side row.
pub trait SideRow: Send + Sync + 'static {
    /// Writes `rows`, all of this kind, on `conn` (inside the group's transaction). An error
    /// sinks the whole group, which the pipeline then carries out command by command so that
    /// only the culprit fails. Called once per attempt: a conflict rolls the rows back and the
    /// retry writes them again.
    fn write_all(conn: &mut PgConnection, rows: Vec<Arc<Self>>) -> SideFuture<'_>
    where
        Self: Sized;
}

/// A command's side row, its kind erased so that rows of different kinds travel together.
/// Owned and shared: the command may be carried out after its caller stopped waiting.
#[derive(Clone)]
pub struct SideWrite {
    kind: TypeId,
    row: Arc<dyn Any + Send + Sync>,
    write: WriteAll,
}

type WriteAll = for<'t> fn(&'t mut PgConnection, Vec<Arc<dyn Any + Send + Sync>>) -> SideFuture<'t>;

/// The side write of `row`.
pub fn side_write<R: SideRow>(row: R) -> SideWrite {
    SideWrite {
        kind: TypeId::of::<R>(),
        row: Arc::new(row),
        write: write_erased::<R>,
    }
}

fn write_erased<R: SideRow>(
    conn: &mut PgConnection,
    rows: Vec<Arc<dyn Any + Send + Sync>>,
) -> SideFuture<'_> {
    // Rows are grouped by `TypeId::of::<R>()`, so every one is an `R`.
    let typed: Vec<Arc<R>> = rows
        .into_iter()
        .filter_map(|row| row.downcast::<R>().ok())
        .collect();
    R::write_all(conn, typed)
}

/// Writes `sides` on `conn`, one call per kind, kinds in the order they first appear (so a
/// group's statements follow its commands' order, and a lone command's are its own).
pub async fn write(conn: &mut PgConnection, sides: &[SideWrite]) -> Result<(), sqlx::Error> {
    let mut kinds: Vec<(WriteAll, Vec<Arc<dyn Any + Send + Sync>>)> = Vec::new();
    let mut slot: HashMap<TypeId, usize> = HashMap::new();
    for side in sides {
        let i = *slot.entry(side.kind).or_insert_with(|| {
            kinds.push((side.write, Vec::new()));
            kinds.len() - 1
        });
        kinds[i].1.push(side.row.clone());
    }
    for (write, rows) in kinds {
        write(&mut *conn, rows).await?;
    }
    Ok(())
}
