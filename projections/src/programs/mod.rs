//! Read model `programs`: cooperation programmes with their partners, activities (status,
//! planned date at its precision, held dates, participants, institutions), feedback,
//! consultations and comments, testing period and evaluation. The evaluation endpoint
//! computes each indicator's actual value from these rows. Everything that reads these
//! tables is in [`read`], for the live tables and for their replayed copies alike.

pub mod read;

use std::sync::Arc;

use async_trait::async_trait;
use domain::cooperation_program::CooperationProgramEvent;
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::events::{aggregate_uuid, organizer, DecodedEvent};
use crate::runner::{Projection, ProjectionError};

/// The aggregate type under which programme events are stored.
pub use crate::events::COOPERATION_PROGRAM;

/// The projections of this module.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(Programs)]
}

fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or_default()
}

/// Programmes and everything recorded about them.
pub struct Programs;

#[async_trait]
impl Projection for Programs {
    fn name(&self) -> &'static str {
        "programs"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn create_sql(&self) -> &'static str {
        r#"
CREATE TABLE IF NOT EXISTS rm_programs (
    program_id                   uuid PRIMARY KEY,
    organizer                    text        NOT NULL,
    title                        text        NOT NULL,
    kind                         text        NOT NULL,
    period_start                 date        NOT NULL,
    period_end                   date        NOT NULL,
    goals                        jsonb       NOT NULL,
    indicators                   jsonb       NOT NULL,
    partner_application_deadline date,
    testing_ends_on              date,
    evaluation                   jsonb,
    closed_on                    date,
    close_reason                 text,
    created_at                   timestamptz NOT NULL,
    last_position                bigint      NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_programs_by_organizer ON rm_programs (organizer, created_at);
CREATE TABLE IF NOT EXISTS rm_program_partners (
    partner_id    uuid PRIMARY KEY,
    program_id    uuid   NOT NULL,
    position      bigint NOT NULL,
    institution   jsonb  NOT NULL,
    nip           text   NOT NULL,
    channel       text   NOT NULL,
    sent_on       date,
    postmarked_on date,
    delivered_on  date,
    counted_on    date   NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_program_partners_by_program ON rm_program_partners (program_id, position);
CREATE TABLE IF NOT EXISTS rm_program_activities (
    activity_id        uuid PRIMARY KEY,
    program_id         uuid    NOT NULL,
    organizer          text    NOT NULL,
    position           bigint  NOT NULL,
    kind               text    NOT NULL,
    title              text    NOT NULL,
    planned            jsonb   NOT NULL,
    planned_month      text    NOT NULL,
    planned_first_day  date    NOT NULL,
    planned_last_day   date    NOT NULL,
    location           text,
    co_organizer       text,
    status             text    NOT NULL,
    starts_on          date,
    ends_on            date,
    participants_total integer,
    institutions       jsonb,
    notes              text,
    cancel_reason      text
);
CREATE INDEX IF NOT EXISTS rm_program_activities_by_program ON rm_program_activities (program_id, planned_first_day, position);
CREATE TABLE IF NOT EXISTS rm_program_feedback (
    feedback_id uuid PRIMARY KEY,
    program_id  uuid     NOT NULL,
    position    bigint   NOT NULL,
    channel     text     NOT NULL,
    received_on date     NOT NULL,
    text        text     NOT NULL,
    rating      smallint,
    institution jsonb
);
CREATE INDEX IF NOT EXISTS rm_program_feedback_by_program ON rm_program_feedback (program_id, position);
CREATE TABLE IF NOT EXISTS rm_program_consultations (
    consultation_id uuid PRIMARY KEY,
    program_id      uuid   NOT NULL,
    position        bigint NOT NULL,
    subject         text   NOT NULL,
    opens_on        date   NOT NULL,
    closes_on       date   NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_program_consultations_by_program ON rm_program_consultations (program_id, position);
CREATE TABLE IF NOT EXISTS rm_program_comments (
    comment_id      uuid PRIMARY KEY,
    consultation_id uuid   NOT NULL,
    program_id      uuid   NOT NULL,
    position        bigint NOT NULL,
    institution     jsonb  NOT NULL,
    text            text   NOT NULL,
    submitted_on    date   NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_program_comments_by_consultation ON rm_program_comments (consultation_id, position);
"#
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_programs",
            "rm_program_partners",
            "rm_program_activities",
            "rm_program_feedback",
            "rm_program_consultations",
            "rm_program_comments",
        ]
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &DecodedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(e) = event.program()? else {
            return Ok(());
        };
        let program_id = aggregate_uuid(event)?;
        let db = &mut **tx;
        use CooperationProgramEvent as E;
        match e {
            E::ProgramCreated {
                organizer: org,
                title,
                kind,
                period,
                goals,
                indicators,
                partner_application_deadline,
                ..
            } => {
                sqlx::query(
                    "INSERT INTO rm_programs (program_id, organizer, title, kind, period_start, period_end, goals,
                        indicators, partner_application_deadline, created_at, last_position)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                     ON CONFLICT (program_id) DO NOTHING",
                )
                .bind(program_id)
                .bind(org.as_str())
                .bind(title.as_str())
                .bind(kind.as_str())
                .bind(period.start)
                .bind(period.end)
                .bind(json(&goals))
                .bind(json(&indicators))
                .bind(partner_application_deadline)
                .bind(event.recorded_at)
                .bind(event.position)
                .execute(db)
                .await?;
                return Ok(());
            }
            E::PartnerJoined {
                partner_id,
                institution,
                channel,
                sent_on,
                postmarked_on,
                delivered_on,
                counted_on,
            } => {
                sqlx::query(
                    "INSERT INTO rm_program_partners (partner_id, program_id, position, institution, nip, channel,
                        sent_on, postmarked_on, delivered_on, counted_on)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (partner_id) DO NOTHING",
                )
                .bind(partner_id)
                .bind(program_id)
                .bind(event.position)
                .bind(json(&institution))
                .bind(institution.nip.as_str())
                .bind(channel.as_str())
                .bind(sent_on)
                .bind(postmarked_on)
                .bind(delivered_on)
                .bind(counted_on)
                .execute(&mut *db)
                .await?;
            }
            E::ActivityPlanned {
                activity_id,
                kind,
                title,
                planned,
                location,
                co_organizer,
            } => {
                sqlx::query(
                    "INSERT INTO rm_program_activities (activity_id, program_id, organizer, position, kind, title,
                        planned, planned_month, planned_first_day, planned_last_day, location, co_organizer, status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'planned')
                     ON CONFLICT (activity_id) DO NOTHING",
                )
                .bind(activity_id)
                .bind(program_id)
                .bind(organizer(event))
                .bind(event.position)
                .bind(kind.as_str())
                .bind(title.as_str())
                .bind(json(&planned))
                .bind(planned.month_string())
                .bind(planned.first_day())
                .bind(planned.last_day())
                .bind(location)
                .bind(co_organizer)
                .execute(&mut *db)
                .await?;
            }
            E::ActivityRescheduled {
                activity_id,
                planned,
            } => {
                sqlx::query(
                    "UPDATE rm_program_activities SET planned = $2, planned_month = $3, planned_first_day = $4,
                        planned_last_day = $5 WHERE activity_id = $1",
                )
                .bind(activity_id)
                .bind(json(&planned))
                .bind(planned.month_string())
                .bind(planned.first_day())
                .bind(planned.last_day())
                .execute(&mut *db)
                .await?;
            }
            E::ActivityHeld {
                activity_id,
                starts_on,
                ends_on,
                participants_total,
                institutions,
                notes,
            } => {
                sqlx::query(
                    "UPDATE rm_program_activities SET status = 'held', starts_on = $2, ends_on = $3,
                        participants_total = $4, institutions = $5, notes = $6 WHERE activity_id = $1",
                )
                .bind(activity_id)
                .bind(starts_on)
                .bind(ends_on)
                .bind(i32::try_from(*participants_total).unwrap_or(i32::MAX))
                .bind(json(&institutions))
                .bind(notes)
                .execute(&mut *db)
                .await?;
            }
            E::ActivityCancelled {
                activity_id,
                reason,
            } => {
                sqlx::query(
                    "UPDATE rm_program_activities SET status = 'cancelled', cancel_reason = $2 WHERE activity_id = $1",
                )
                .bind(activity_id)
                .bind(reason.as_str())
                .execute(&mut *db)
                .await?;
            }
            E::FeedbackReceived {
                feedback_id,
                channel,
                received_on,
                text,
                rating,
                institution,
            } => {
                sqlx::query(
                    "INSERT INTO rm_program_feedback (feedback_id, program_id, position, channel, received_on, text,
                        rating, institution)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (feedback_id) DO NOTHING",
                )
                .bind(feedback_id)
                .bind(program_id)
                .bind(event.position)
                .bind(channel.as_str())
                .bind(received_on)
                .bind(text.as_str())
                .bind(rating.map(i16::from))
                .bind(institution.as_ref().map(json))
                .execute(&mut *db)
                .await?;
            }
            E::TestingPeriodSet { ends_on } => {
                sqlx::query("UPDATE rm_programs SET testing_ends_on = $2 WHERE program_id = $1")
                    .bind(program_id)
                    .bind(ends_on)
                    .execute(&mut *db)
                    .await?;
            }
            E::ConsultationOpened {
                consultation_id,
                subject,
                opens_on,
                closes_on,
            } => {
                sqlx::query(
                    "INSERT INTO rm_program_consultations (consultation_id, program_id, position, subject, opens_on, closes_on)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (consultation_id) DO NOTHING",
                )
                .bind(consultation_id)
                .bind(program_id)
                .bind(event.position)
                .bind(subject.as_str())
                .bind(opens_on)
                .bind(closes_on)
                .execute(&mut *db)
                .await?;
            }
            E::ConsultationCommentSubmitted {
                comment_id,
                consultation_id,
                institution,
                text,
                submitted_on,
            } => {
                sqlx::query(
                    "INSERT INTO rm_program_comments (comment_id, consultation_id, program_id, position, institution,
                        text, submitted_on)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (comment_id) DO NOTHING",
                )
                .bind(comment_id)
                .bind(consultation_id)
                .bind(program_id)
                .bind(event.position)
                .bind(json(&institution))
                .bind(text.as_str())
                .bind(submitted_on)
                .execute(&mut *db)
                .await?;
            }
            E::ProgramEvaluated {
                verdict,
                summary,
                manual_values,
                recommendations,
                evaluated_on,
            } => {
                // Written with the type `read::program` decodes it into: one JSON form.
                let evaluation = read::RecordedEvaluation {
                    verdict: verdict.as_str().to_owned(),
                    summary: summary.clone(),
                    manual_values: manual_values
                        .iter()
                        .map(|(code, v)| (code.as_str().to_owned(), *v))
                        .collect(),
                    recommendations: recommendations
                        .iter()
                        .map(|r| r.as_str().to_owned())
                        .collect(),
                    evaluated_on: *evaluated_on,
                };
                sqlx::query("UPDATE rm_programs SET evaluation = $2 WHERE program_id = $1")
                    .bind(program_id)
                    .bind(json(&evaluation))
                    .execute(&mut *db)
                    .await?;
            }
            E::ProgramClosed { closed_on, reason } => {
                sqlx::query(
                    "UPDATE rm_programs SET closed_on = $2, close_reason = $3 WHERE program_id = $1",
                )
                .bind(program_id)
                .bind(closed_on)
                .bind(reason.as_ref().map(|r| r.as_str().to_owned()))
                .execute(&mut *db)
                .await?;
            }
        }
        touch(db, program_id, event.position).await?;
        Ok(())
    }
}

async fn touch(
    db: &mut sqlx::PgConnection,
    program_id: Uuid,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rm_programs SET last_position = $2 WHERE program_id = $1")
        .bind(program_id)
        .bind(position)
        .execute(db)
        .await?;
    Ok(())
}
