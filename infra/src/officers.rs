//! Names of networks' officers, kept out of the events.
//!
//! An `OfficerElected` event references an `officer_id`; the person's first and last name
//! live in `officer_personal_data` under that id. The row is written in the transaction that
//! appends the election ([`with_election`]), so no event ever points at a person we do not
//! hold and a refused election leaves no name behind; erasing it later leaves the office and
//! its history intact.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use crate::pipeline::{side_write, SideFuture, SideRow, SideWrite};

/// An officer's name as typed by the coordinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficerName {
    pub first_name: String,
    pub last_name: String,
}

/// The name of a new officer of `network_id` under `officer_id`, written in the transaction
/// that appends the election ([`with_election`]).
struct Elected {
    officer_id: Uuid,
    network_id: Uuid,
    name: OfficerName,
}

impl SideRow for Elected {
    fn write_all(conn: &mut sqlx::PgConnection, rows: Vec<Arc<Self>>) -> SideFuture<'_> {
        Box::pin(async move {
            let officers: Vec<Uuid> = rows.iter().map(|r| r.officer_id).collect();
            let networks: Vec<Uuid> = rows.iter().map(|r| r.network_id).collect();
            let first: Vec<&str> = rows.iter().map(|r| r.name.first_name.as_str()).collect();
            let last: Vec<&str> = rows.iter().map(|r| r.name.last_name.as_str()).collect();
            sqlx::query(
                "INSERT INTO officer_personal_data (officer_id, network_id, first_name, last_name)
                 SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[])",
            )
            .bind(&officers)
            .bind(&networks)
            .bind(&first)
            .bind(&last)
            .execute(conn)
            .await?;
            Ok(())
        })
    }
}

/// The side row of an election (`CommandBus::execute_with`): `name` stored under
/// `officer_id` in the transaction that appends the `OfficerElected` event, so that the name
/// is stored exactly when the election is (both or neither, whatever crashes when). Written
/// again on each attempt the bus makes, as a conflict rolls the previous one back.
pub fn with_election(officer_id: Uuid, network_id: Uuid, name: OfficerName) -> SideWrite {
    side_write(Elected {
        officer_id,
        network_id,
        name,
    })
}

/// Erases an officer's name (the office and its history stay); true when a row was removed.
pub async fn erase(pool: &PgPool, officer_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM officer_personal_data WHERE officer_id = $1")
        .bind(officer_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The names of many officers at once (registries), keyed by officer id; erased ones are
/// simply absent.
pub async fn names(
    pool: &PgPool,
    officer_ids: &[Uuid],
) -> Result<HashMap<Uuid, OfficerName>, sqlx::Error> {
    let rows: Vec<(Uuid, String, String)> = sqlx::query_as(
        "SELECT officer_id, first_name, last_name FROM officer_personal_data WHERE officer_id = ANY($1)",
    )
    .bind(officer_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first_name, last_name)| {
            (
                id,
                OfficerName {
                    first_name,
                    last_name,
                },
            )
        })
        .collect())
}
