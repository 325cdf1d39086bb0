//! Read model `applications`: one row per application with its institution, submission
//! order, the information clause accepted and the legal basis of processing, and the latest
//! decision about it (status, rank, basis). Rosters, `roster.csv` and the applicant's own
//! status are read from here, through [`read`] (the HTTP layer writes no SQL of its own).

pub mod read;

use async_trait::async_trait;
use domain::study_visit::{DecisionBasis, StudyVisitEvent};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::events::{aggregate_uuid, api_str, organizer, DecodedEvent};
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
        // 3: seat offers (offer_expires_at, offer_returns_to).
        // 4: attendance by day (AttendanceRecorded version 2) replaces `attended`.
        4
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
    -- domain::study_visit::Attendance as JSON: {"every_day": bool|null, "days": {"YYYY-MM-DD": bool}}
    attendance       jsonb       NOT NULL DEFAULT '{"every_day": null, "days": {}}',
    last_position    bigint      NOT NULL,
    offer_expires_at timestamptz,
    offer_returns_to text
);
CREATE INDEX IF NOT EXISTS rm_applications_offers ON rm_applications (offer_expires_at) WHERE status = 'offered';
CREATE INDEX IF NOT EXISTS rm_applications_by_term ON rm_applications (term_id, status, rank, submission_order);
CREATE INDEX IF NOT EXISTS rm_applications_by_visit ON rm_applications (visit_id, nip);
"#
    }

    fn tables(&self) -> &'static [&'static str] {
        &["rm_applications"]
    }

    /// A rebuild is mostly submissions and decisions: consecutive submissions are written
    /// with one multi-row INSERT and consecutive updates of existing rows (decisions,
    /// withdrawals, releases, attendance) with one UPDATE, instead of a statement per event.
    /// A run ends where the other kind begins, and an update run also ends before a second
    /// change to the same application (`UPDATE … FROM` applies only one of two matching
    /// rows), so every row sees its changes in commit order, as `apply` one by one.
    async fn apply_batch(
        &self,
        tx: &mut Transaction<'_, Postgres>,
        events: &[DecodedEvent],
    ) -> Result<(), ProjectionError> {
        let mut inserts = InsertRun::default();
        let mut updates = UpdateRun::default();
        for event in events {
            let Some(e) = event.study_visit()? else {
                continue;
            };
            let visit_id = aggregate_uuid(event)?;
            match e {
                StudyVisitEvent::ApplicationSubmitted {
                    application_id,
                    term_id,
                    subject_id,
                    institution,
                    consent,
                    submitted_at,
                } => {
                    updates.flush(tx).await?;
                    inserts.ids.push(*application_id);
                    inserts.visits.push(visit_id);
                    inserts.terms.push(*term_id);
                    inserts.organizers.push(organizer(event));
                    inserts.subjects.push(*subject_id);
                    inserts
                        .institutions
                        .push(serde_json::to_value(institution).unwrap_or_default());
                    inserts.nips.push(institution.nip.as_str().to_owned());
                    inserts.orders.push(event.sequence);
                    inserts.submitted_at.push(*submitted_at);
                    inserts
                        .clauses
                        .push(consent.information_clause.as_str().to_owned());
                    inserts
                        .legal_bases
                        .push(consent.legal_basis.as_str().to_owned());
                    inserts.positions.push(event.position);
                }
                other if is_offer_event(other) => {
                    // Rare: applied on its own, in order, after what came before.
                    inserts.flush(tx).await?;
                    updates.flush(tx).await?;
                    self.apply(tx, event).await?;
                }
                other => {
                    let Some(change) = Change::of(other, event.position) else {
                        continue;
                    };
                    inserts.flush(tx).await?;
                    if updates.touches(change.id) {
                        updates.flush(tx).await?;
                    }
                    updates.push(change);
                }
            }
        }
        inserts.flush(tx).await?;
        updates.flush(tx).await?;
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
                .bind(serde_json::to_value(institution).unwrap_or_default())
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
                set_status(db, *application_id, "withdrawn", event.position).await?;
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
                    *application_id,
                    "allocated",
                    basis,
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
                    *application_id,
                    "waitlisted",
                    basis,
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
                    *application_id,
                    "passed_over",
                    basis,
                    Some(reason),
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
            StudyVisitEvent::SeatOffered {
                application_id,
                expires_at,
                ..
            } => {
                sqlx::query(
                    "UPDATE rm_applications SET offer_returns_to = status, status = 'offered',
                            offer_expires_at = $2, last_position = $3
                      WHERE application_id = $1",
                )
                .bind(application_id)
                .bind(expires_at)
                .bind(event.position)
                .execute(db)
                .await?;
            }
            StudyVisitEvent::OfferDeclined { application_id, .. }
            | StudyVisitEvent::OfferExpired { application_id, .. } => {
                sqlx::query(
                    "UPDATE rm_applications SET status = COALESCE(offer_returns_to, status),
                            offer_returns_to = NULL, offer_expires_at = NULL, last_position = $2
                      WHERE application_id = $1 AND status = 'offered'",
                )
                .bind(application_id)
                .bind(event.position)
                .execute(db)
                .await?;
            }
            StudyVisitEvent::AttendanceRecorded {
                application_id,
                day,
                attended,
                ..
            } => {
                sqlx::query(&format!(
                    "UPDATE rm_applications SET attendance = {ATTEND}, last_position = $4 WHERE application_id = $1"
                ))
                .bind(application_id)
                .bind(day.map(|d| d.to_string()))
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

/// `Attendance::record` in SQL, over the row's `attendance` and the day `$2` (ISO text,
/// NULL: every day) and presence `$3`: a record for every day replaces the days recorded
/// before it; one for a day sets that day only. The day is bound as text written by
/// chrono, so the JSON key does not depend on the server's `DateStyle`.
const ATTEND: &str = "CASE WHEN $2::text IS NULL
        THEN jsonb_build_object('every_day', $3::bool, 'days', '{}'::jsonb)
        ELSE jsonb_set(attendance, ARRAY['days', $2::text], to_jsonb($3::bool), true) END";

/// Whether `e` concerns a seat offer (applied one by one, also in batches).
fn is_offer_event(e: &StudyVisitEvent) -> bool {
    matches!(
        e,
        StudyVisitEvent::SeatOffered { .. }
            | StudyVisitEvent::OfferDeclined { .. }
            | StudyVisitEvent::OfferExpired { .. }
    )
}

async fn set_status(
    db: &mut sqlx::PgConnection,
    id: Uuid,
    status: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rm_applications SET status = $2, last_position = $3,
                offer_expires_at = NULL, offer_returns_to = NULL
          WHERE application_id = $1",
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
        "UPDATE rm_applications SET status = $2, rank = $3, preferences_met = $4, basis = $5, reason = $6, last_position = $7,
                offer_expires_at = NULL, offer_returns_to = NULL
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

/// Submissions not yet written, one array per column (for `UNNEST`).
#[derive(Default)]
struct InsertRun {
    ids: Vec<Uuid>,
    visits: Vec<Uuid>,
    terms: Vec<Uuid>,
    organizers: Vec<String>,
    subjects: Vec<Uuid>,
    institutions: Vec<serde_json::Value>,
    nips: Vec<String>,
    orders: Vec<i64>,
    submitted_at: Vec<chrono::DateTime<chrono::Utc>>,
    clauses: Vec<String>,
    legal_bases: Vec<String>,
    positions: Vec<i64>,
}

impl InsertRun {
    /// Writes the run with one INSERT (the same columns and values as `apply`) and empties it.
    async fn flush(&mut self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let run = std::mem::take(self);
        sqlx::query(
            "INSERT INTO rm_applications (application_id, visit_id, term_id, organizer, subject_id, institution,
                nip, submission_order, submitted_at, information_clause, legal_basis, status, last_position)
             SELECT d.application_id, d.visit_id, d.term_id, d.organizer, d.subject_id, d.institution,
                d.nip, d.submission_order, d.submitted_at, d.information_clause, d.legal_basis, 'submitted', d.last_position
               FROM UNNEST($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::jsonb[], $7::text[],
                           $8::bigint[], $9::timestamptz[], $10::text[], $11::text[], $12::bigint[])
                 AS d(application_id, visit_id, term_id, organizer, subject_id, institution, nip,
                      submission_order, submitted_at, information_clause, legal_basis, last_position)",
        )
        .bind(&run.ids)
        .bind(&run.visits)
        .bind(&run.terms)
        .bind(&run.organizers)
        .bind(&run.subjects)
        .bind(&run.institutions)
        .bind(&run.nips)
        .bind(&run.orders)
        .bind(&run.submitted_at)
        .bind(&run.clauses)
        .bind(&run.legal_bases)
        .bind(&run.positions)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

/// What an event other than a submission does to an existing row. Must agree with `apply`.
enum ChangeKind {
    /// SeatAllocated, ApplicantWaitlisted, ApplicationPassedOver: `decide`.
    Decide {
        status: &'static str,
        rank: i32,
        met: serde_json::Value,
        basis: serde_json::Value,
        reason: Option<String>,
    },
    /// ApplicationWithdrawn.
    Withdraw { by: String },
    /// SeatReleased: only an allocated row becomes `released`.
    Release,
    /// AttendanceRecorded.
    Attend { day: Option<String>, attended: bool },
}

struct Change {
    id: Uuid,
    position: i64,
    kind: ChangeKind,
}

impl Change {
    /// The change `e` makes to `rm_applications`, None when it makes none.
    fn of(e: &StudyVisitEvent, position: i64) -> Option<Change> {
        let decide = |status, basis: &DecisionBasis, reason| ChangeKind::Decide {
            status,
            rank: basis.rank as i32,
            met: serde_json::Value::Array(
                basis
                    .preferences_met
                    .iter()
                    .map(|c| serde_json::Value::String(c.as_str().to_owned()))
                    .collect(),
            ),
            basis: serde_json::to_value(basis).unwrap_or_default(),
            reason,
        };
        let (id, kind) = match e {
            StudyVisitEvent::SeatAllocated {
                application_id,
                basis,
                ..
            } => (application_id, decide("allocated", basis, None)),
            StudyVisitEvent::ApplicantWaitlisted {
                application_id,
                basis,
                ..
            } => (application_id, decide("waitlisted", basis, None)),
            StudyVisitEvent::ApplicationPassedOver {
                application_id,
                basis,
                reason,
                ..
            } => (
                application_id,
                decide("passed_over", basis, Some(reason.clone())),
            ),
            StudyVisitEvent::ApplicationWithdrawn {
                application_id, by, ..
            } => (application_id, ChangeKind::Withdraw { by: api_str(by) }),
            StudyVisitEvent::SeatReleased { application_id, .. } => {
                (application_id, ChangeKind::Release)
            }
            StudyVisitEvent::AttendanceRecorded {
                application_id,
                day,
                attended,
                ..
            } => (
                application_id,
                ChangeKind::Attend {
                    day: day.map(|d| d.to_string()),
                    attended: *attended,
                },
            ),
            _ => return None,
        };
        Some(Change {
            id: *id,
            position,
            kind,
        })
    }
}

/// Changes to existing rows not yet written, at most one per application.
#[derive(Default)]
struct UpdateRun {
    changes: Vec<Change>,
    ids: std::collections::HashSet<Uuid>,
}

impl UpdateRun {
    fn touches(&self, id: Uuid) -> bool {
        self.ids.contains(&id)
    }

    fn push(&mut self, change: Change) {
        self.ids.insert(change.id);
        self.changes.push(change);
    }

    /// Writes the run with one UPDATE and empties it. Each column takes the change's value
    /// only for the kinds that set it in `apply`, and keeps its own otherwise; a release
    /// matches only an allocated row, like `apply`'s `AND status = 'allocated'`.
    async fn flush(&mut self, tx: &mut Transaction<'_, Postgres>) -> Result<(), sqlx::Error> {
        if self.changes.is_empty() {
            return Ok(());
        }
        self.ids.clear();
        let changes = std::mem::take(&mut self.changes);
        let n = changes.len();
        let mut ids = Vec::with_capacity(n);
        let mut kinds = Vec::with_capacity(n);
        let mut statuses = Vec::with_capacity(n);
        let mut ranks = Vec::with_capacity(n);
        let mut mets = Vec::with_capacity(n);
        let mut bases = Vec::with_capacity(n);
        let mut reasons = Vec::with_capacity(n);
        let mut bys = Vec::with_capacity(n);
        let mut attendances = Vec::with_capacity(n);
        let mut days = Vec::with_capacity(n);
        let mut positions = Vec::with_capacity(n);
        for c in changes {
            ids.push(c.id);
            positions.push(c.position);
            let (mut status, mut rank, mut met, mut basis, mut reason) =
                (None, None, None, None, None);
            let (mut by, mut attended, mut day) = (None, None, None);
            let kind = match c.kind {
                ChangeKind::Decide {
                    status: s,
                    rank: r,
                    met: m,
                    basis: b,
                    reason: why,
                } => {
                    (status, rank, met, basis, reason) = (Some(s), Some(r), Some(m), Some(b), why);
                    "decide"
                }
                ChangeKind::Withdraw { by: who } => {
                    by = Some(who);
                    "withdraw"
                }
                ChangeKind::Release => "release",
                ChangeKind::Attend {
                    day: d,
                    attended: a,
                } => {
                    (day, attended) = (d, Some(a));
                    "attend"
                }
            };
            kinds.push(kind);
            statuses.push(status);
            ranks.push(rank);
            mets.push(met);
            bases.push(basis);
            reasons.push(reason);
            bys.push(by);
            attendances.push(attended);
            days.push(day);
        }
        sqlx::query(
            "UPDATE rm_applications a SET
                status = CASE d.kind WHEN 'decide' THEN d.status WHEN 'withdraw' THEN 'withdrawn'
                                     WHEN 'release' THEN 'released' ELSE a.status END,
                rank = CASE WHEN d.kind = 'decide' THEN d.rank ELSE a.rank END,
                preferences_met = CASE WHEN d.kind = 'decide'
                    THEN ARRAY(SELECT m.code FROM jsonb_array_elements_text(d.met) WITH ORDINALITY AS m(code, i) ORDER BY m.i)
                    ELSE a.preferences_met END,
                basis = CASE WHEN d.kind = 'decide' THEN d.basis ELSE a.basis END,
                reason = CASE WHEN d.kind = 'decide' THEN d.reason ELSE a.reason END,
                withdrawn_by = CASE WHEN d.kind = 'withdraw' THEN d.by ELSE a.withdrawn_by END,
                attendance = CASE WHEN d.kind <> 'attend' THEN a.attendance
                    WHEN d.day IS NULL THEN jsonb_build_object('every_day', d.attended, 'days', '{}'::jsonb)
                    ELSE jsonb_set(a.attendance, ARRAY['days', d.day], to_jsonb(d.attended), true) END,
                offer_expires_at = CASE WHEN d.kind IN ('decide', 'withdraw') THEN NULL ELSE a.offer_expires_at END,
                offer_returns_to = CASE WHEN d.kind IN ('decide', 'withdraw') THEN NULL ELSE a.offer_returns_to END,
                last_position = d.p
               FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[], $7::text[],
                           $8::text[], $9::bool[], $10::bigint[], $11::text[])
                 AS d(id, kind, status, rank, met, basis, reason, by, attended, p, day)
              WHERE a.application_id = d.id AND (d.kind <> 'release' OR a.status = 'allocated')",
        )
        .bind(&ids)
        .bind(&kinds)
        .bind(&statuses)
        .bind(&ranks)
        .bind(&mets)
        .bind(&bases)
        .bind(&reasons)
        .bind(&bys)
        .bind(&attendances)
        .bind(&positions)
        .bind(&days)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}
