//! Read model `study_visits`: the visits list and detail, their terms (status, dates, seats,
//! counts) and the preference lists. The deadline watcher also reads open terms from here.
//! Its tables are `rm_study_visit*` and `rm_preference_lists`; what reads them is in
//! [`read`], so the HTTP layer and the jobs write no SQL of their own.

pub mod read;

use async_trait::async_trait;
use domain::study_visit::{StudyVisitEvent, TermSchedule};
use sqlx::{Postgres, Transaction};

use crate::events::{aggregate_uuid, api_str, organizer, DecodedEvent};
use crate::runner::{Projection, ProjectionError};

/// Visits, terms and preference lists.
pub struct StudyVisits;

#[async_trait]
impl Projection for StudyVisits {
    fn name(&self) -> &'static str {
        "study_visits"
    }

    /// 2: the visit's information clause (`clause_version`, `clause_text`).
    /// 3: `offer_hours`.
    fn schema_version(&self) -> i32 {
        3
    }

    fn create_sql(&self) -> &'static str {
        r#"
CREATE TABLE IF NOT EXISTS rm_study_visits (
    visit_id                   uuid PRIMARY KEY,
    organizer                  text        NOT NULL,
    title                      text        NOT NULL,
    destination                text        NOT NULL,
    description                text        NOT NULL,
    eligible_institution_types text[]      NOT NULL,
    max_per_institution        integer,
    preferences                jsonb       NOT NULL,
    funding                    jsonb,
    announced_at               timestamptz NOT NULL,
    last_position              bigint      NOT NULL,
    clause_version             text,
    clause_text                text,
    offer_hours                integer
);
CREATE INDEX IF NOT EXISTS rm_study_visits_by_organizer ON rm_study_visits (organizer, announced_at);
CREATE TABLE IF NOT EXISTS rm_study_visit_terms (
    term_id              uuid PRIMARY KEY,
    visit_id             uuid        NOT NULL,
    organizer            text        NOT NULL,
    ordinal              integer     NOT NULL,
    label                text        NOT NULL,
    seats                integer     NOT NULL,
    planned              jsonb,
    starts_on            date,
    ends_on              date,
    recruitment_deadline timestamptz,
    status               text        NOT NULL,
    candidates           integer     NOT NULL DEFAULT 0,
    allocated            integer     NOT NULL DEFAULT 0,
    opened_at            timestamptz,
    closed_at            timestamptz,
    close_trigger        text,
    cancel_reason        text
);
CREATE INDEX IF NOT EXISTS rm_study_visit_terms_by_visit ON rm_study_visit_terms (visit_id, ordinal);
CREATE INDEX IF NOT EXISTS rm_study_visit_terms_open ON rm_study_visit_terms (recruitment_deadline) WHERE status = 'open';
CREATE TABLE IF NOT EXISTS rm_preference_lists (
    visit_id uuid NOT NULL,
    code     text NOT NULL,
    nip      text NOT NULL,
    PRIMARY KEY (visit_id, code, nip)
);
"#
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_study_visits",
            "rm_study_visit_terms",
            "rm_preference_lists",
        ]
    }

    /// A crowd's submissions, allocations and releases only move counters: they are summed
    /// per term and written with one UPDATE per run of such events (and the visits' positions
    /// with another), instead of two statements per event. Any other event ends the run and
    /// is applied on its own, so the order of effects is kept.
    async fn apply_batch(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        events: &[DecodedEvent],
    ) -> Result<(), ProjectionError> {
        let mut run = CounterRun::default();
        for event in events {
            let Some(e) = event.study_visit()? else {
                continue;
            };
            match counter_delta(e) {
                Some(delta) => run.add(aggregate_uuid(event)?, event.position, delta),
                None => {
                    run.flush(tx).await?;
                    self.apply(tx, event).await?;
                }
            }
        }
        run.flush(tx).await?;
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        event: &DecodedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(e) = event.study_visit()? else {
            return Ok(());
        };
        let visit_id = aggregate_uuid(event)?;
        let db = &mut **tx;
        match e {
            StudyVisitEvent::VisitAnnounced {
                organizer: org,
                title,
                destination,
                description,
                eligible_institution_types,
                max_per_institution,
                preferences,
                funding,
                ..
            } => {
                let types: Vec<String> = eligible_institution_types
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect();
                sqlx::query(
                    "INSERT INTO rm_study_visits (visit_id, organizer, title, destination, description,
                        eligible_institution_types, max_per_institution, preferences, funding, announced_at, last_position)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(visit_id)
                .bind(org.as_str())
                .bind(title.as_str())
                .bind(destination.as_str())
                .bind(description)
                .bind(&types)
                .bind(max_per_institution.map(|m| m as i32))
                .bind(serde_json::to_value(preferences).unwrap_or_default())
                .bind(
                    funding
                        .as_ref()
                        .map(|f| serde_json::to_value(f).unwrap_or_default()),
                )
                .bind(event.recorded_at)
                .bind(event.position)
                .execute(db)
                .await?;
                return Ok(());
            }
            StudyVisitEvent::InformationClauseSet { version, text } => {
                sqlx::query(
                    "UPDATE rm_study_visits SET clause_version = $2, clause_text = $3 WHERE visit_id = $1",
                )
                .bind(visit_id)
                .bind(version.as_str())
                .bind(text.as_str())
                .execute(&mut *db)
                .await?;
            }
            StudyVisitEvent::OfferHoursSet { offer_hours } => {
                sqlx::query("UPDATE rm_study_visits SET offer_hours = $2 WHERE visit_id = $1")
                    .bind(visit_id)
                    .bind(offer_hours.map(|h| i32::try_from(h).unwrap_or(i32::MAX)))
                    .execute(&mut *db)
                    .await?;
            }
            StudyVisitEvent::SeatOffered { .. }
            | StudyVisitEvent::OfferAccepted { .. }
            | StudyVisitEvent::OfferDeclined { .. }
            | StudyVisitEvent::OfferExpired { .. } => {}
            StudyVisitEvent::PreferenceListReplaced { code, nips } => {
                sqlx::query("DELETE FROM rm_preference_lists WHERE visit_id = $1 AND code = $2")
                    .bind(visit_id)
                    .bind(code.as_str())
                    .execute(&mut *db)
                    .await?;
                let nips: Vec<String> = nips.iter().map(|n| n.as_str().to_owned()).collect();
                sqlx::query(
                    "INSERT INTO rm_preference_lists (visit_id, code, nip)
                     SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING",
                )
                .bind(visit_id)
                .bind(code.as_str())
                .bind(&nips)
                .execute(&mut *db)
                .await?;
            }
            StudyVisitEvent::TermScheduled {
                term_id,
                label,
                seats,
                schedule,
            } => {
                let (planned, starts_on, ends_on, deadline, status) = match &schedule {
                    TermSchedule::Planned(p) => (
                        Some(serde_json::to_value(p).unwrap_or_default()),
                        None,
                        None,
                        None,
                        "planned",
                    ),
                    TermSchedule::Dated(d) => (
                        None,
                        Some(d.starts_on),
                        Some(d.ends_on),
                        Some(d.recruitment_deadline),
                        "scheduled",
                    ),
                };
                sqlx::query(
                    "INSERT INTO rm_study_visit_terms (term_id, visit_id, organizer, ordinal, label, seats, planned,
                        starts_on, ends_on, recruitment_deadline, status)
                     VALUES ($1, $2, $3, (SELECT count(*) FROM rm_study_visit_terms WHERE visit_id = $2) + 1,
                        $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(term_id)
                .bind(visit_id)
                .bind(organizer(event))
                .bind(label.as_str())
                .bind(*seats as i32)
                .bind(planned)
                .bind(starts_on)
                .bind(ends_on)
                .bind(deadline)
                .bind(status)
                .execute(&mut *db)
                .await?;
            }
            StudyVisitEvent::TermDatesFixed { term_id, dates } => {
                sqlx::query(
                    "UPDATE rm_study_visit_terms SET starts_on = $2, ends_on = $3, recruitment_deadline = $4,
                        status = CASE WHEN status = 'planned' THEN 'scheduled' ELSE status END
                     WHERE term_id = $1",
                )
                .bind(term_id)
                .bind(dates.starts_on)
                .bind(dates.ends_on)
                .bind(dates.recruitment_deadline)
                .execute(&mut *db)
                .await?;
            }
            StudyVisitEvent::RecruitmentOpened { term_id, opened_at } => {
                sqlx::query("UPDATE rm_study_visit_terms SET status = 'open', opened_at = $2 WHERE term_id = $1")
                    .bind(term_id)
                    .bind(opened_at)
                    .execute(&mut *db)
                    .await?;
            }
            StudyVisitEvent::ApplicationSubmitted { term_id, .. } => {
                adjust(db, *term_id, 1, 0).await?;
            }
            StudyVisitEvent::ApplicationWithdrawn {
                term_id, had_seat, ..
            } => {
                // A withdrawn seat is counted down by the SeatReleased that follows it.
                let _ = had_seat;
                adjust(db, *term_id, -1, 0).await?;
            }
            StudyVisitEvent::RecruitmentClosed {
                term_id,
                trigger,
                closed_at,
                ..
            } => {
                sqlx::query(
                    "UPDATE rm_study_visit_terms SET status = 'closed', closed_at = $2, close_trigger = $3 WHERE term_id = $1",
                )
                .bind(term_id)
                .bind(closed_at)
                .bind(api_str(&trigger))
                .execute(&mut *db)
                .await?;
            }
            StudyVisitEvent::SeatAllocated { term_id, .. } => adjust(db, *term_id, 0, 1).await?,
            StudyVisitEvent::SeatReleased { term_id, cause, .. } => {
                // A released (not withdrawn) applicant stays a candidate of record but holds no seat.
                let _ = cause;
                adjust(db, *term_id, 0, -1).await?;
            }
            StudyVisitEvent::TermCancelled { term_id, reason } => {
                sqlx::query("UPDATE rm_study_visit_terms SET status = 'cancelled', cancel_reason = $2 WHERE term_id = $1")
                    .bind(term_id)
                    .bind(reason.as_str())
                    .execute(&mut *db)
                    .await?;
            }
            StudyVisitEvent::ApplicantWaitlisted { .. }
            | StudyVisitEvent::ApplicationPassedOver { .. }
            | StudyVisitEvent::AttendanceRecorded { .. } => {}
        }
        sqlx::query("UPDATE rm_study_visits SET last_position = $2 WHERE visit_id = $1")
            .bind(visit_id)
            .bind(event.position)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

/// `Some` for an event whose only effect here is on counters: the term and how many
/// candidates and allocated seats it adds (or `None` inside: no counter, only the position).
/// Must agree with `apply`.
fn counter_delta(e: &StudyVisitEvent) -> Option<Option<(uuid::Uuid, i32, i32)>> {
    match e {
        StudyVisitEvent::ApplicationSubmitted { term_id, .. } => Some(Some((*term_id, 1, 0))),
        StudyVisitEvent::ApplicationWithdrawn { term_id, .. } => Some(Some((*term_id, -1, 0))),
        StudyVisitEvent::SeatAllocated { term_id, .. } => Some(Some((*term_id, 0, 1))),
        StudyVisitEvent::SeatReleased { term_id, .. } => Some(Some((*term_id, 0, -1))),
        StudyVisitEvent::ApplicantWaitlisted { .. }
        | StudyVisitEvent::ApplicationPassedOver { .. }
        | StudyVisitEvent::AttendanceRecorded { .. } => Some(None),
        _ => None,
    }
}

/// Counter changes summed per term, and each visit's last position, not yet written.
#[derive(Default)]
struct CounterRun {
    terms: std::collections::HashMap<uuid::Uuid, (i32, i32)>,
    visits: std::collections::HashMap<uuid::Uuid, i64>,
}

impl CounterRun {
    fn add(&mut self, visit: uuid::Uuid, position: i64, delta: Option<(uuid::Uuid, i32, i32)>) {
        if let Some((term, candidates, allocated)) = delta {
            let sum = self.terms.entry(term).or_default();
            sum.0 += candidates;
            sum.1 += allocated;
        }
        // The last in commit order, as `apply` leaves it.
        self.visits.insert(visit, position);
    }

    async fn flush(&mut self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        if !self.terms.is_empty() {
            let (ids, sums): (Vec<uuid::Uuid>, Vec<(i32, i32)>) = self.terms.drain().unzip();
            let (candidates, allocated): (Vec<i32>, Vec<i32>) = sums.into_iter().unzip();
            sqlx::query(
                "UPDATE rm_study_visit_terms t SET candidates = t.candidates + d.c, allocated = t.allocated + d.a
                 FROM UNNEST($1::uuid[], $2::int[], $3::int[]) AS d(term_id, c, a) WHERE t.term_id = d.term_id",
            )
            .bind(&ids)
            .bind(&candidates)
            .bind(&allocated)
            .execute(&mut **tx)
            .await?;
        }
        if !self.visits.is_empty() {
            let (ids, positions): (Vec<uuid::Uuid>, Vec<i64>) = self.visits.drain().unzip();
            sqlx::query(
                "UPDATE rm_study_visits v SET last_position = d.p
                 FROM UNNEST($1::uuid[], $2::bigint[]) AS d(visit_id, p) WHERE v.visit_id = d.visit_id",
            )
            .bind(&ids)
            .bind(&positions)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

async fn adjust(
    db: &mut sqlx::PgConnection,
    term_id: uuid::Uuid,
    candidates: i32,
    allocated: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rm_study_visit_terms SET candidates = candidates + $2, allocated = allocated + $3 WHERE term_id = $1",
    )
    .bind(term_id)
    .bind(candidates)
    .bind(allocated)
    .execute(db)
    .await?;
    Ok(())
}
