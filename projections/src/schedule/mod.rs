//! Read model `schedule` (harmonogram): one calendar across programmes' activities, study
//! visit terms and network meetings, each entry under the month it starts in, with the date
//! precision kept (a day, a range, a month, part of a month).
//!
//! Programme and network events are read by their variant names and fields (docs/events.md),
//! so this projection does not depend on those aggregates' Rust types. They are read after
//! upcasting (`decode` into a JSON value), so the names and fields are those of the current
//! version whatever version was stored; today every programme and network event is still at
//! version 1, so the upcast payload is the stored one.

pub mod read;

use async_trait::async_trait;
use domain::study_visit::{StudyVisitEvent, TermSchedule};
use domain::values::{DateRange, PlannedDate};
use infra::StoredEvent;
use serde_json::Value;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::events::{aggregate_uuid, decode, organizer, DecodedEvent};
use crate::runner::{Projection, ProjectionError};

/// The shared calendar.
pub struct Schedule;

#[async_trait]
impl Projection for Schedule {
    fn name(&self) -> &'static str {
        "schedule"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn create_sql(&self) -> &'static str {
        r#"
CREATE TABLE IF NOT EXISTS rm_schedule_sources (
    source_id uuid PRIMARY KEY,
    source    text NOT NULL,
    organizer text NOT NULL,
    title     text NOT NULL
);
CREATE TABLE IF NOT EXISTS rm_schedule (
    entry_id  uuid PRIMARY KEY,
    source    text        NOT NULL,
    source_id uuid        NOT NULL,
    organizer text        NOT NULL,
    title     text        NOT NULL,
    kind      text        NOT NULL,
    "when"    jsonb       NOT NULL,
    month     text        NOT NULL,
    first_day date        NOT NULL,
    status    text        NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_schedule_by_month ON rm_schedule (month, first_day);
"#
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_schedule", "rm_schedule_sources"]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &DecodedEvent,
    ) -> Result<(), ProjectionError> {
        match event.aggregate_type.as_str() {
            "StudyVisit" => apply_visit(tx, event).await,
            "CooperationProgram" | "Network" => apply_json(tx, event).await,
            _ => Ok(()),
        }
    }
}

fn malformed(event: &StoredEvent, message: String) -> ProjectionError {
    ProjectionError::Deserialize {
        position: event.position,
        event_type: event.event_type.clone(),
        message,
    }
}

async fn source(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    kind: &str,
    organizer: &str,
    title: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rm_schedule_sources (source_id, source, organizer, title) VALUES ($1, $2, $3, $4)
         ON CONFLICT (source_id) DO UPDATE SET title = EXCLUDED.title",
    )
    .bind(id)
    .bind(kind)
    .bind(organizer)
    .bind(title)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Inserts or replaces an entry; its title prefix and organizer come from its source.
async fn upsert(
    tx: &mut Transaction<'_, Postgres>,
    entry_id: Uuid,
    source_id: Uuid,
    title: &str,
    kind: &str,
    when: &PlannedDate,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"INSERT INTO rm_schedule (entry_id, source, source_id, organizer, title, kind, "when", month, first_day, status)
           SELECT $1, s.source, $2, s.organizer, $3, $4, $5, $6, $7, $8 FROM rm_schedule_sources s WHERE s.source_id = $2
           ON CONFLICT (entry_id) DO UPDATE SET title = EXCLUDED.title, kind = EXCLUDED.kind, "when" = EXCLUDED."when",
               month = EXCLUDED.month, first_day = EXCLUDED.first_day, status = EXCLUDED.status"#,
    )
    .bind(entry_id)
    .bind(source_id)
    .bind(title)
    .bind(kind)
    .bind(serde_json::to_value(when).unwrap_or_default())
    .bind(when.month_string())
    .bind(when.first_day())
    .bind(status)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_when(
    tx: &mut Transaction<'_, Postgres>,
    entry_id: Uuid,
    when: &PlannedDate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"UPDATE rm_schedule SET "when" = $2, month = $3, first_day = $4 WHERE entry_id = $1"#,
    )
    .bind(entry_id)
    .bind(serde_json::to_value(when).unwrap_or_default())
    .bind(when.month_string())
    .bind(when.first_day())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_status(
    tx: &mut Transaction<'_, Postgres>,
    entry_id: Uuid,
    status: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rm_schedule SET status = $2 WHERE entry_id = $1")
        .bind(entry_id)
        .bind(status)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A day, or a range when the last day differs.
fn span(from: chrono::NaiveDate, to: chrono::NaiveDate) -> PlannedDate {
    match DateRange::new(from, to) {
        Ok(range) if from != to => PlannedDate::Range(range),
        _ => PlannedDate::Day(from),
    }
}

async fn apply_visit(
    tx: &mut Transaction<'_, Postgres>,
    event: &DecodedEvent,
) -> Result<(), ProjectionError> {
    let Some(e) = event.study_visit()? else {
        return Ok(());
    };
    let visit_id = aggregate_uuid(event)?;
    match e {
        StudyVisitEvent::VisitAnnounced { title, .. } => {
            source(
                tx,
                visit_id,
                "study_visit",
                &organizer(event),
                title.as_str(),
            )
            .await?;
        }
        StudyVisitEvent::TermScheduled {
            term_id,
            label,
            schedule,
            ..
        } => {
            let when = match &schedule {
                TermSchedule::Dated(d) => span(d.starts_on, d.ends_on),
                TermSchedule::Planned(p) => *p,
            };
            let title: Option<String> =
                sqlx::query_scalar("SELECT title FROM rm_schedule_sources WHERE source_id = $1")
                    .bind(visit_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            let title = format!("{} — {}", title.unwrap_or_default(), label.as_str());
            upsert(
                tx,
                *term_id,
                visit_id,
                &title,
                "study_visit",
                &when,
                "planned",
            )
            .await?;
        }
        StudyVisitEvent::TermDatesFixed { term_id, dates } => {
            set_when(tx, *term_id, &span(dates.starts_on, dates.ends_on)).await?;
        }
        StudyVisitEvent::TermCancelled { term_id, .. } => {
            set_status(tx, *term_id, "cancelled").await?
        }
        StudyVisitEvent::AttendanceRecorded { term_id, .. } => {
            set_status(tx, *term_id, "held").await?
        }
        _ => {}
    }
    Ok(())
}

fn field<T: serde::de::DeserializeOwned>(
    event: &StoredEvent,
    body: &Value,
    name: &str,
) -> Result<T, ProjectionError> {
    serde_json::from_value(body.get(name).cloned().unwrap_or(Value::Null))
        .map_err(|e| malformed(event, format!("field {name}: {e}")))
}

fn text(body: &Value, name: &str) -> String {
    match body.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) if o.len() == 1 => o
            .values()
            .next()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

async fn apply_json(
    tx: &mut Transaction<'_, Postgres>,
    event: &StoredEvent,
) -> Result<(), ProjectionError> {
    let payload: Value = decode(event)?;
    let Some((variant, body)) = payload.as_object().and_then(|o| o.iter().next()) else {
        return Ok(());
    };
    let source_id = aggregate_uuid(event)?;
    match (event.aggregate_type.as_str(), variant.as_str()) {
        ("CooperationProgram", "ProgramCreated") => {
            source(
                tx,
                source_id,
                "program",
                &organizer(event),
                &text(body, "title"),
            )
            .await?;
        }
        ("Network", "NetworkEstablished") => {
            source(
                tx,
                source_id,
                "network",
                &organizer(event),
                &text(body, "name"),
            )
            .await?;
        }
        ("CooperationProgram", "ActivityPlanned") => {
            let id: Uuid = field(event, body, "activity_id")?;
            let when: PlannedDate = field(event, body, "planned")?;
            upsert(
                tx,
                id,
                source_id,
                &text(body, "title"),
                &text(body, "kind"),
                &when,
                "planned",
            )
            .await?;
        }
        ("CooperationProgram", "ActivityRescheduled") => {
            let id: Uuid = field(event, body, "activity_id")?;
            let when: PlannedDate = field(event, body, "planned")?;
            set_when(tx, id, &when).await?;
        }
        ("CooperationProgram", "ActivityHeld") => {
            let id: Uuid = field(event, body, "activity_id")?;
            let from: chrono::NaiveDate = field(event, body, "starts_on")?;
            let to: chrono::NaiveDate = field(event, body, "ends_on")?;
            set_when(tx, id, &span(from, to)).await?;
            set_status(tx, id, "held").await?;
        }
        ("CooperationProgram", "ActivityCancelled") => {
            let id: Uuid = field(event, body, "activity_id")?;
            set_status(tx, id, "cancelled").await?;
        }
        ("Network", "MeetingHeld") => {
            let id: Uuid = field(event, body, "meeting_id")?;
            let when: PlannedDate = field(event, body, "when")?;
            upsert(
                tx,
                id,
                source_id,
                &text(body, "title"),
                "meeting",
                &when,
                "held",
            )
            .await?;
        }
        _ => {}
    }
    Ok(())
}
