//! Queries of the `schedule` read model.

use domain::values::PlannedDate;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::read::{from_json, ReadError};

const MODEL: &str = "schedule";

/// One thing in the calendar: a programme's activity, a visit's term or a network's meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Stable id of the entry (the activity, term or meeting).
    pub entry_id: Uuid,
    /// `program`, `study_visit` or `network`.
    pub source: String,
    pub source_id: Uuid,
    pub title: String,
    pub kind: String,
    /// At the precision it was recorded with.
    pub when: PlannedDate,
    /// `planned`, `held` or `cancelled`.
    pub status: String,
    /// `YYYY-MM`: the month the entry starts in, under which it is listed.
    pub month: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    entry_id: Uuid,
    source: String,
    source_id: Uuid,
    title: String,
    kind: String,
    when: serde_json::Value,
    status: String,
    month: String,
}

/// The entries starting in `year`, of `organizer` (every organizer when None), in calendar
/// order: by month, first day, then title.
pub async fn year(
    conn: &mut PgConnection,
    year: i32,
    organizer: Option<&str>,
) -> Result<Vec<Entry>, ReadError> {
    let rows: Vec<Row> = sqlx::query_as(
        r#"SELECT entry_id, source, source_id, title, kind, "when", status, month FROM rm_schedule
            WHERE month LIKE $1 || '-%' AND ($2::text IS NULL OR organizer = $2)
            ORDER BY month, first_day, title"#,
    )
    .bind(year.to_string())
    .bind(organizer)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Entry {
                entry_id: r.entry_id,
                source: r.source,
                source_id: r.source_id,
                title: r.title,
                kind: r.kind,
                when: from_json(MODEL, "when", r.when)?,
                status: r.status,
                month: r.month,
            })
        })
        .collect()
}
