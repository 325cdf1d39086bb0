//! Read model `applications`: one row per application with its institution, submission
//! order, the information clause accepted and the legal basis of processing, and the latest
//! decision about it (status, rank, basis). Rosters, `roster.csv` and the applicant's own
//! status are read from here.

use async_trait::async_trait;
use domain::study_visit::{DecisionBasis, StudyVisitEvent};
use infra::StoredEvent;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::events::{aggregate_uuid, api_str, organizer, study_visit_event};
use crate::runner::{Projection, ProjectionError};

/// Applications and the decisions about them.
pub struct Applications;

#[async_trait]
impl Projection for Applications {
    fn name(&self) -> &'static str {
        "applications"
    }

    fn schema_version(&self) -> i32 {
        // 2: information_clause and legal_basis (ApplicationSubmitted version 2).
        2
    }

    fn create_sql(&self) -> &'static str {
        r#"
CREATE TABLE IF NOT EXISTS rm_applications (
    application_id   uuid PRIMARY KEY,
    visit_id         uuid        NOT NULL,
    term_id          uuid        NOT NULL,
    organizer        text        NOT NULL,
    subject_id       uuid        NOT NULL,
    institution      jsonb       NOT NULL,
    nip              text        NOT NULL,
    submission_order bigint      NOT NULL,
    submitted_at     timestamptz NOT NULL,
    information_clause text      NOT NULL,
    legal_basis      text        NOT NULL,
    status           text        NOT NULL,
    rank             integer,
    preferences_met  text[]      NOT NULL DEFAULT '{}',
    basis            jsonb,
    reason           text,
    withdrawn_by     text,
    attended         boolean,
    last_position    bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_applications_by_term ON rm_applications (term_id, status, rank, submission_order);
CREATE INDEX IF NOT EXISTS rm_applications_by_visit ON rm_applications (visit_id, nip);
"#
    }

    fn drop_sql(&self) -> &'static str {
        "DROP TABLE IF EXISTS rm_applications CASCADE;"
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        let Some(e) = study_visit_event(event)? else {
            return Ok(());
        };
        let visit_id = aggregate_uuid(event)?;
        let db = &mut **tx;
        match e {
            StudyVisitEvent::ApplicationSubmitted {
                application_id,
                term_id,
                subject_id,
                institution,
                consent,
                submitted_at,
            } => {
                sqlx::query(
                    "INSERT INTO rm_applications (application_id, visit_id, term_id, organizer, subject_id, institution,
                        nip, submission_order, submitted_at, information_clause, legal_basis, status, last_position)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'submitted', $12)",
                )
                .bind(application_id)
                .bind(visit_id)
                .bind(term_id)
                .bind(organizer(event))
                .bind(subject_id)
                .bind(serde_json::to_value(&institution).unwrap_or_default())
                .bind(institution.nip.as_str())
                // The stream sequence is the submission order DOMAIN.md defines.
                .bind(event.sequence)
                .bind(submitted_at)
                // `unrecorded-v1` for submissions stored before the clause was recorded.
                .bind(consent.information_clause.as_str())
                .bind(consent.legal_basis.as_str())
                .bind(event.position)
                .execute(db)
                .await?;
            }
            StudyVisitEvent::ApplicationWithdrawn {
                application_id, by, ..
            } => {
                let by = api_str(&by);
                set_status(db, application_id, "withdrawn", event.position).await?;
                sqlx::query(
                    "UPDATE rm_applications SET withdrawn_by = $2 WHERE application_id = $1",
                )
                .bind(application_id)
                .bind(by)
                .execute(&mut **tx)
                .await?;
            }
            StudyVisitEvent::SeatAllocated {
                application_id,
                basis,
                ..
            } => {
                decide(
                    db,
                    application_id,
                    "allocated",
                    &basis,
                    None,
                    event.position,
                )
                .await?;
            }
            StudyVisitEvent::ApplicantWaitlisted {
                application_id,
                basis,
                ..
            } => {
                decide(
                    db,
                    application_id,
                    "waitlisted",
                    &basis,
                    None,
                    event.position,
                )
                .await?;
            }
            StudyVisitEvent::ApplicationPassedOver {
                application_id,
                basis,
                reason,
                ..
            } => {
                decide(
                    db,
                    application_id,
                    "passed_over",
                    &basis,
                    Some(&reason),
                    event.position,
                )
                .await?;
            }
            StudyVisitEvent::SeatReleased { application_id, .. } => {
                // A withdrawal already set `withdrawn`; only a release by the coordinator changes it.
                sqlx::query(
                    "UPDATE rm_applications SET status = 'released', last_position = $2
                      WHERE application_id = $1 AND status = 'allocated'",
                )
                .bind(application_id)
                .bind(event.position)
                .execute(db)
                .await?;
            }
            StudyVisitEvent::AttendanceRecorded {
                application_id,
                attended,
                ..
            } => {
                sqlx::query("UPDATE rm_applications SET attended = $2, last_position = $3 WHERE application_id = $1")
                    .bind(application_id)
                    .bind(attended)
                    .bind(event.position)
                    .execute(db)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}

async fn set_status(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    status: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rm_applications SET status = $2, last_position = $3 WHERE application_id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(position)
    .execute(db)
    .await?;
    Ok(())
}

async fn decide(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    status: &str,
    basis: &DecisionBasis,
    reason: Option<&str>,
    position: i64,
) -> Result<(), sqlx::Error> {
    let met: Vec<String> = basis
        .preferences_met
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    sqlx::query(
        "UPDATE rm_applications SET status = $2, rank = $3, preferences_met = $4, basis = $5, reason = $6, last_position = $7
          WHERE application_id = $1",
    )
    .bind(id)
    .bind(status)
    .bind(basis.rank as i32)
    .bind(&met)
    .bind(serde_json::to_value(basis).unwrap_or_default())
    .bind(reason)
    .bind(position)
    .execute(db)
    .await?;
    Ok(())
}
