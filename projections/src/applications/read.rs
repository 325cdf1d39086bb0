//! Queries of the `applications` read model (`rm_applications`): one application, a term's
//! applications, and the roster of a term. The module is named after the read model (and
//! its table prefix), not after the roster: a roster is the applications of one term,
//! ordered and split by the decisions about them.
//!
//! The roster also reads the visit, its terms and its preference lists, through
//! [`crate::study_visits::read`] (each query touches only its own model's tables); a read
//! of it therefore waits for both models ([`ROSTER_MODELS`]). The live roster and the
//! roster `?at=` an instant are this same function, the latter over read models replayed
//! up to that instant (`crate::replay`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use domain::study_visit::allocation::{self, Candidate, Decision};
use domain::study_visit::{
    ApplicationStatus, Attendance, DecisionBasis, Roster, RosterEntry, TermStatus,
    PASSED_OVER_REASON,
};
use domain::values::{Institution, Nip};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::read::{from_json, ReadError};
use crate::study_visits;

/// The read model's name: its checkpoint, and what a read of it waits for.
pub const MODEL: &str = "applications";

/// The read models a roster is read from.
pub const ROSTER_MODELS: &[&str] = &[study_visits::read::MODEL, MODEL];

/// One application and the latest decision about it. No personal data: the person is
/// `subject_id` (their data is in `infra::personal_data`).
#[derive(Debug, Clone, PartialEq)]
pub struct Application {
    pub application_id: Uuid,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub subject_id: Uuid,
    pub institution: Institution,
    /// The place of its submission in the visit's stream (its sequence): DOMAIN.md's
    /// submission order, the tie-break of the ranking.
    pub submission_order: i64,
    pub status: ApplicationStatus,
    /// Rank recorded with the latest decision (None before the close).
    pub rank: Option<u32>,
    /// Basis of the latest decision (None before the close).
    pub basis: Option<DecisionBasis>,
    /// The reason recorded when passed over.
    pub reason: Option<String>,
    /// Presence by day, as recorded.
    pub attendance: Attendance,
    /// When the submission was recorded (the server's clock).
    pub submitted_at: DateTime<Utc>,
    /// Until when the seat offered to it stands (status `offered` only).
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Where it waits again when the offer lapses (status `offered` only).
    pub offer_returns_to: Option<ApplicationStatus>,
}

const APPLICATION_COLUMNS: &str = "application_id, visit_id, term_id, subject_id, institution, \
    submission_order, status, rank, basis, reason, attendance, submitted_at, offer_expires_at, \
    offer_returns_to";

/// A row of `rm_applications` as stored.
#[derive(sqlx::FromRow)]
struct ApplicationRow {
    application_id: Uuid,
    visit_id: Uuid,
    term_id: Uuid,
    subject_id: Uuid,
    institution: Value,
    submission_order: i64,
    status: String,
    rank: Option<i32>,
    basis: Option<Value>,
    reason: Option<String>,
    attendance: Value,
    submitted_at: DateTime<Utc>,
    offer_expires_at: Option<DateTime<Utc>>,
    offer_returns_to: Option<String>,
}

impl ApplicationRow {
    fn typed(self) -> Result<Application, ReadError> {
        Ok(Application {
            application_id: self.application_id,
            visit_id: self.visit_id,
            term_id: self.term_id,
            subject_id: self.subject_id,
            institution: from_json(MODEL, "institution", self.institution)?,
            submission_order: self.submission_order,
            status: from_json(MODEL, "status", Value::String(self.status))?,
            rank: self
                .rank
                .map(|r| u32::try_from(r).map_err(|_| ReadError::corrupt(MODEL, "rank < 0")))
                .transpose()?,
            basis: self
                .basis
                .map(|b| from_json(MODEL, "basis", b))
                .transpose()?,
            reason: self.reason,
            attendance: from_json(MODEL, "attendance", self.attendance)?,
            submitted_at: self.submitted_at,
            offer_expires_at: self.offer_expires_at,
            offer_returns_to: self
                .offer_returns_to
                .map(|s| from_json(MODEL, "offer_returns_to", Value::String(s)))
                .transpose()?,
        })
    }
}

/// One application (None when the read model has not recorded it, or never will).
pub async fn application(
    conn: &mut PgConnection,
    application_id: Uuid,
) -> Result<Option<Application>, ReadError> {
    let row: Option<ApplicationRow> = sqlx::query_as(&format!(
        "SELECT {APPLICATION_COLUMNS} FROM rm_applications WHERE application_id = $1"
    ))
    .bind(application_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(ApplicationRow::typed).transpose()
}

/// The offers standing past their expiry at `now`: (visit, application), oldest first.
pub async fn expired_offers(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, Uuid)>, ReadError> {
    Ok(sqlx::query_as(
        "SELECT visit_id, application_id FROM rm_applications
          WHERE status = 'offered' AND offer_expires_at <= $1 ORDER BY offer_expires_at",
    )
    .bind(now)
    .fetch_all(conn)
    .await?)
}

/// The earliest expiry of a standing offer (None when no offer stands).
pub async fn next_offer_expiry(
    conn: &mut PgConnection,
) -> Result<Option<DateTime<Utc>>, ReadError> {
    Ok(sqlx::query_scalar(
        "SELECT min(offer_expires_at) FROM rm_applications WHERE status = 'offered'",
    )
    .fetch_one(conn)
    .await?)
}

/// Where an application stands for its applicant: as recorded, and while it may still move
/// (the term open, or waiting after the close) its place in the term's current roster.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub application: Application,
    /// Rank among the term's candidates (1 = first); provisional while the term is open.
    pub rank: Option<u32>,
    /// The place on the waiting list (1 = next), while waiting.
    pub waitlist_position: Option<u32>,
    /// The days of the term the person was present on, as recorded.
    pub days_present: Vec<NaiveDate>,
}

/// Where `application_id` (of `visit_id`) stands; None when the read model has not
/// recorded it (yet).
pub async fn standing(
    conn: &mut PgConnection,
    visit_id: Uuid,
    application_id: Uuid,
) -> Result<Option<Standing>, ReadError> {
    let Some(application) = application(&mut *conn, application_id).await? else {
        return Ok(None);
    };
    let mut standing = Standing {
        rank: application.rank,
        waitlist_position: None,
        days_present: Vec::new(),
        application,
    };
    if standing.application.attendance.is_recorded() {
        let terms = study_visits::read::terms(&mut *conn, &[visit_id]).await?;
        let term_id = standing.application.term_id;
        if let Some((first, last)) = terms
            .iter()
            .find(|t| t.term_id == term_id)
            .and_then(|t| t.starts_on.zip(t.ends_on))
        {
            standing.days_present = standing.application.attendance.days_present(first, last);
        }
    }
    if matches!(
        standing.application.status,
        ApplicationStatus::Submitted | ApplicationStatus::Waitlisted
    ) {
        if let Some(roster) = roster(&mut *conn, visit_id, standing.application.term_id).await? {
            let all = roster
                .allocated
                .iter()
                .chain(&roster.waitlist)
                .chain(&roster.passed_over);
            if let Some(e) = all.into_iter().find(|e| e.application_id == application_id) {
                standing.rank = Some(e.rank);
                standing.waitlist_position = e.waitlist_position;
            }
        }
    }
    Ok(Some(standing))
}

/// An application as recorded for its applicant: what a request about a person's data
/// (RODO art. 15) lists beside the personal fields.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Recorded {
    pub application_id: Uuid,
    pub subject_id: Uuid,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub submitted_at: DateTime<Utc>,
    /// `submitted`, `allocated`, `waitlisted`, `passed_over`, `withdrawn` or `released`.
    pub status: String,
    /// Version of the information clause the applicant accepted.
    pub information_clause: String,
    /// Legal basis recorded with the submission, e.g. `consent`.
    pub legal_basis: String,
}

/// Every application of the subjects `subject_ids`, by submission time.
pub async fn of_subjects(
    conn: &mut PgConnection,
    subject_ids: &[Uuid],
) -> Result<Vec<Recorded>, ReadError> {
    Ok(sqlx::query_as(
        "SELECT application_id, subject_id, visit_id, term_id, submitted_at, status, information_clause, legal_basis
           FROM rm_applications WHERE subject_id = ANY($1) ORDER BY submitted_at",
    )
    .bind(subject_ids)
    .fetch_all(conn)
    .await?)
}

/// Every application of a term, withdrawn ones included, in submission order.
pub async fn of_term(
    conn: &mut PgConnection,
    term_id: Uuid,
) -> Result<Vec<Application>, ReadError> {
    let rows: Vec<ApplicationRow> = sqlx::query_as(&format!(
        "SELECT {APPLICATION_COLUMNS} FROM rm_applications WHERE term_id = $1 ORDER BY submission_order"
    ))
    .bind(term_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(ApplicationRow::typed).collect()
}

/// Seats each institution (by NIP) holds in `terms` of the visit: the `held` of the
/// allocation policy when `terms` are the visit's other closed terms. A NIP that no longer
/// parses is left out (only a row changed behind the projection's back could hold one).
pub async fn seats_held(
    conn: &mut PgConnection,
    visit_id: Uuid,
    terms: &[Uuid],
) -> Result<HashMap<Nip, u32>, ReadError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT nip, count(*) FROM rm_applications
          WHERE visit_id = $1 AND term_id = ANY($2) AND status IN ('allocated', 'offered')
          GROUP BY nip",
    )
    .bind(visit_id)
    .bind(terms)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(nip, n)| {
            let nip = Nip::parse(&nip).ok()?;
            Some((nip, u32::try_from(n).unwrap_or(u32::MAX)))
        })
        .collect())
}

/// The roster of `term_id` of `visit_id` (None when the read models have no such visit or
/// no such term of it): while the term is not closed, the provisional ranking (the
/// domain's allocation over its live applications, the preference lists as they stand and
/// the seats held in the visit's other closed terms); once it is, the recorded decisions.
/// The same roster as the aggregate's `StudyVisit::roster` after the same events.
pub async fn roster(
    conn: &mut PgConnection,
    visit_id: Uuid,
    term_id: Uuid,
) -> Result<Option<Roster>, ReadError> {
    let Some(visit) = study_visits::read::visit(&mut *conn, visit_id).await? else {
        return Ok(None);
    };
    let terms = study_visits::read::terms(&mut *conn, &[visit_id]).await?;
    let Some(term) = terms.iter().find(|t| t.term_id == term_id) else {
        return Ok(None);
    };
    let apps = of_term(&mut *conn, term_id).await?;
    let withdrawn = apps
        .iter()
        .filter(|a| a.status == ApplicationStatus::Withdrawn)
        .count();
    let mut roster = Roster {
        visit_id,
        term_id,
        seats: term.seats,
        status: term.status,
        provisional: term.status != TermStatus::Closed,
        allocated: vec![],
        waitlist: vec![],
        passed_over: vec![],
        withdrawn: u32::try_from(withdrawn).unwrap_or(u32::MAX),
    };
    if roster.provisional {
        let lists = study_visits::read::preference_lists(&mut *conn, visit_id).await?;
        let closed_others: Vec<Uuid> = terms
            .iter()
            .filter(|t| t.term_id != term_id && t.status == TermStatus::Closed)
            .map(|t| t.term_id)
            .collect();
        let held = seats_held(&mut *conn, visit_id, &closed_others).await?;
        let live: Vec<&Application> = apps
            .iter()
            .filter(|a| a.status == ApplicationStatus::Submitted)
            .collect();
        let mut candidates = Vec::with_capacity(live.len());
        for a in &live {
            candidates.push(Candidate {
                application_id: a.application_id,
                nip: a.institution.nip.clone(),
                order: u64::try_from(a.submission_order)
                    .map_err(|_| ReadError::corrupt(MODEL, "submission_order < 0"))?,
                preferences_met: allocation::preferences_met(
                    &a.institution.nip,
                    &visit.preferences,
                    &lists,
                ),
            });
        }
        let ranked = allocation::rank(candidates);
        let outcome = allocation::allocate(&ranked, term.seats, visit.max_per_institution, &held);
        let by_id: HashMap<Uuid, &Application> =
            live.iter().map(|a| (a.application_id, *a)).collect();
        let entries = |ds: &[Decision]| -> Vec<RosterEntry> {
            ds.iter()
                .filter_map(|d| {
                    by_id
                        .get(&d.application_id)
                        .map(|a| entry(a, &d.basis, term))
                })
                .collect()
        };
        roster.allocated = entries(&outcome.allocated);
        roster.waitlist = entries(&outcome.waitlist);
        roster.passed_over = entries(&outcome.passed_over);
    } else {
        let mut decided: Vec<(&Application, &DecisionBasis)> = apps
            .iter()
            .filter_map(|a| a.basis.as_ref().map(|b| (a, b)))
            .collect();
        decided.sort_by_key(|(a, b)| (b.rank, a.submission_order));
        for (a, basis) in decided {
            let mut e = entry(a, basis, term);
            match a.status {
                ApplicationStatus::Allocated => roster.allocated.push(e),
                ApplicationStatus::Waitlisted => roster.waitlist.push(e),
                ApplicationStatus::PassedOver => {
                    e.reason = Some(
                        a.reason
                            .clone()
                            .unwrap_or_else(|| PASSED_OVER_REASON.to_owned()),
                    );
                    roster.passed_over.push(e);
                }
                // An offer stands: listed where the person waits, marked offered.
                ApplicationStatus::Offered => match a.offer_returns_to {
                    Some(ApplicationStatus::PassedOver) => roster.passed_over.push(e),
                    _ => roster.waitlist.push(e),
                },
                _ => {}
            }
        }
    }
    for (e, pos) in roster.waitlist.iter_mut().zip(1u32..) {
        e.waitlist_position = Some(pos);
    }
    for e in &mut roster.passed_over {
        if e.reason.is_none() {
            e.reason = Some(PASSED_OVER_REASON.to_owned());
        }
    }
    Ok(Some(roster))
}

/// A roster line of `a` in `term`, decided on `basis` (the recorded one, or the
/// provisional one).
fn entry(a: &Application, basis: &DecisionBasis, term: &study_visits::read::Term) -> RosterEntry {
    let dates = term.starts_on.zip(term.ends_on);
    RosterEntry {
        application_id: a.application_id,
        subject_id: a.subject_id,
        rank: basis.rank,
        institution: a.institution.clone(),
        preferences_met: basis.preferences_met.clone(),
        basis: basis.describe(),
        rule: basis.rule,
        // Only a manual decision carries a reason; the passed over get theirs above.
        reason: basis.reason.clone(),
        decided_by: basis.decided_by.clone(),
        waitlist_position: None,
        attended: dates.and_then(|(first, last)| a.attendance.attended(first, last)),
        days_present: dates
            .map(|(first, last)| a.attendance.days_present(first, last))
            .unwrap_or_default(),
        days_absent: dates
            .map(|(first, last)| a.attendance.days_absent(first, last))
            .unwrap_or_default(),
        status: a.status,
        offer_expires_at: a.offer_expires_at,
    }
}
