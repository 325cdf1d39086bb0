//! Queries of the `study_visits` read model (`rm_study_visits`, `rm_study_visit_terms`,
//! `rm_preference_lists`): the visits list and detail, a visit's terms, its preference
//! lists, and the open terms the deadline watcher closes.
//!
//! Each query answers typed rows of its own, decoded from what the projection wrote; a
//! column that does not decode is a defect ([`ReadError::Corrupt`]), never an empty answer.
//! The same queries read a replayed copy of the tables (`crate::replay`) for `?at=`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::study_visit::{Funding, Preference, TermStatus};
use domain::values::{Nip, PlannedDate, PreferenceCode};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::read::{from_json, ReadError};

/// The read model's name: its checkpoint, and what a read of it waits for.
pub const MODEL: &str = "study_visits";

/// A visit as announced.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub visit_id: Uuid,
    /// The organizer (slug) that runs it: whoever reads it must be allowed to read this
    /// organizer's visits.
    pub organizer: String,
    pub title: String,
    pub destination: String,
    pub description: String,
    /// Institution types, as their API names (`JST`, `PES`, …).
    pub eligible_institution_types: Vec<String>,
    /// The cap on seats per institution across the visit; None = no cap.
    pub max_per_institution: Option<u32>,
    /// The preferences in their declared order.
    pub preferences: Vec<Preference>,
    pub funding: Option<Funding>,
    /// When the announcement was recorded.
    pub announced_at: DateTime<Utc>,
    /// The information clause set for the visit (None: the service's default applies).
    pub information_clause: Option<Clause>,
    /// Hours a freed seat is offered (None: promotions allocate at once).
    pub offer_hours: Option<u32>,
}

/// A visit's information clause (RODO art. 13): the version applications record, the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub version: String,
    pub text: String,
}

/// One term of a visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub label: String,
    pub seats: u32,
    pub status: TermStatus,
    /// The planned date, while (and after) the term was only planned.
    pub planned: Option<PlannedDate>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub recruitment_deadline: Option<DateTime<Utc>>,
    /// Live applications (submitted and not withdrawn).
    pub candidates: i32,
    /// Seats held (allocated, not released).
    pub allocated: i32,
}

/// An open term whose recruitment deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueTerm {
    pub visit_id: Uuid,
    pub term_id: Uuid,
}

const VISIT_COLUMNS: &str = "visit_id, organizer, title, destination, description, \
    eligible_institution_types, max_per_institution, preferences, funding, announced_at, \
    clause_version, clause_text, offer_hours";

/// A row of `rm_study_visits` as stored.
#[derive(sqlx::FromRow)]
struct VisitRow {
    visit_id: Uuid,
    organizer: String,
    title: String,
    destination: String,
    description: String,
    eligible_institution_types: Vec<String>,
    max_per_institution: Option<i32>,
    preferences: Value,
    funding: Option<Value>,
    announced_at: DateTime<Utc>,
    clause_version: Option<String>,
    clause_text: Option<String>,
    offer_hours: Option<i32>,
}

impl VisitRow {
    fn typed(self) -> Result<Visit, ReadError> {
        let max_per_institution = self
            .max_per_institution
            .map(|m| {
                u32::try_from(m).map_err(|_| ReadError::corrupt(MODEL, "max_per_institution < 0"))
            })
            .transpose()?;
        let funding = self
            .funding
            .map(|f| from_json(MODEL, "funding", f))
            .transpose()?;
        Ok(Visit {
            visit_id: self.visit_id,
            organizer: self.organizer,
            title: self.title,
            destination: self.destination,
            description: self.description,
            eligible_institution_types: self.eligible_institution_types,
            max_per_institution,
            preferences: from_json(MODEL, "preferences", self.preferences)?,
            funding,
            announced_at: self.announced_at,
            information_clause: match (self.clause_version, self.clause_text) {
                (Some(version), Some(text)) => Some(Clause { version, text }),
                _ => None,
            },
            offer_hours: self.offer_hours.and_then(|h| u32::try_from(h).ok()),
        })
    }
}

/// A row of `rm_study_visit_terms` as stored.
#[derive(sqlx::FromRow)]
struct TermRow {
    visit_id: Uuid,
    term_id: Uuid,
    label: String,
    seats: i32,
    status: String,
    planned: Option<Value>,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    recruitment_deadline: Option<DateTime<Utc>>,
    candidates: i32,
    allocated: i32,
}

impl TermRow {
    fn typed(self) -> Result<Term, ReadError> {
        Ok(Term {
            visit_id: self.visit_id,
            term_id: self.term_id,
            label: self.label,
            seats: u32::try_from(self.seats)
                .map_err(|_| ReadError::corrupt(MODEL, "term seats < 0"))?,
            status: term_status(self.status)?,
            planned: self
                .planned
                .map(|p| from_json(MODEL, "planned", p))
                .transpose()?,
            starts_on: self.starts_on,
            ends_on: self.ends_on,
            recruitment_deadline: self.recruitment_deadline,
            candidates: self.candidates,
            allocated: self.allocated,
        })
    }
}

/// A term status as the projection writes it (`planned`, `scheduled`, `open`, …).
fn term_status(s: String) -> Result<TermStatus, ReadError> {
    from_json(MODEL, "status", Value::String(s))
}

/// The version of the information clause set for `visit_id` (None: none set, or no such visit).
pub async fn clause_version(
    conn: &mut PgConnection,
    visit_id: Uuid,
) -> Result<Option<String>, ReadError> {
    let version: Option<Option<String>> =
        sqlx::query_scalar("SELECT clause_version FROM rm_study_visits WHERE visit_id = $1")
            .bind(visit_id)
            .fetch_optional(conn)
            .await?;
    Ok(version.flatten())
}

/// One visit (None when the read model has none of that id).
pub async fn visit(conn: &mut PgConnection, visit_id: Uuid) -> Result<Option<Visit>, ReadError> {
    let row: Option<VisitRow> = sqlx::query_as(&format!(
        "SELECT {VISIT_COLUMNS} FROM rm_study_visits WHERE visit_id = $1"
    ))
    .bind(visit_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(VisitRow::typed).transpose()
}

/// Every visit, or only `organizer`'s, the latest announced first.
pub async fn visits(
    conn: &mut PgConnection,
    organizer: Option<&str>,
) -> Result<Vec<Visit>, ReadError> {
    let rows: Vec<VisitRow> = sqlx::query_as(&format!(
        "SELECT {VISIT_COLUMNS} FROM rm_study_visits
          WHERE ($1::text IS NULL OR organizer = $1) ORDER BY announced_at DESC"
    ))
    .bind(organizer)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(VisitRow::typed).collect()
}

/// The terms of `visit_ids`, by visit, each visit's in the order they were scheduled.
pub async fn terms(conn: &mut PgConnection, visit_ids: &[Uuid]) -> Result<Vec<Term>, ReadError> {
    let rows: Vec<TermRow> = sqlx::query_as(
        "SELECT visit_id, term_id, label, seats, status, planned, starts_on, ends_on,
                recruitment_deadline, candidates, allocated
           FROM rm_study_visit_terms WHERE visit_id = ANY($1) ORDER BY visit_id, ordinal",
    )
    .bind(visit_ids)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter().map(TermRow::typed).collect()
}

/// The institutions (by NIP) on each preference's list, for the preferences whose list was
/// ever given (a preference without a row has an empty list, as in the aggregate). A code
/// or NIP that no longer parses is left out: the projection copies what the aggregate
/// accepted, so only a row changed behind its back could hold one.
pub async fn preference_lists(
    conn: &mut PgConnection,
    visit_id: Uuid,
) -> Result<BTreeMap<PreferenceCode, BTreeSet<Nip>>, ReadError> {
    let listed: Vec<(String, String)> =
        sqlx::query_as("SELECT code, nip FROM rm_preference_lists WHERE visit_id = $1")
            .bind(visit_id)
            .fetch_all(&mut *conn)
            .await?;
    let mut lists: BTreeMap<PreferenceCode, BTreeSet<Nip>> = BTreeMap::new();
    for (code, nip) in listed {
        if let (Ok(code), Ok(nip)) = (PreferenceCode::parse(&code), Nip::parse(&nip)) {
            lists.entry(code).or_default().insert(nip);
        }
    }
    Ok(lists)
}

/// Open terms whose recruitment deadline is at or before `now`, the earliest first.
pub async fn due_terms(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Vec<DueTerm>, ReadError> {
    let due: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "SELECT visit_id, term_id FROM rm_study_visit_terms
          WHERE status = 'open' AND recruitment_deadline <= $1 ORDER BY recruitment_deadline",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(due
        .into_iter()
        .map(|(visit_id, term_id)| DueTerm { visit_id, term_id })
        .collect())
}

/// The earliest recruitment deadline of an open term (None when no term is open).
pub async fn next_deadline(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>, ReadError> {
    Ok(sqlx::query_scalar(
        "SELECT min(recruitment_deadline) FROM rm_study_visit_terms WHERE status = 'open'",
    )
    .fetch_one(&mut *conn)
    .await?)
}

/// A visit whose every term is closed or cancelled, with the last day of its last term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndedVisit {
    pub visit_id: Uuid,
    pub ended_on: NaiveDate,
}

/// The visits that ended before `cutoff` (every term closed or cancelled, the last day of
/// the last dated term before it), the earliest first: what the retention period applies to.
pub async fn ended_before(
    conn: &mut PgConnection,
    cutoff: NaiveDate,
) -> Result<Vec<EndedVisit>, ReadError> {
    let ended: Vec<(Uuid, NaiveDate)> = sqlx::query_as(
        "SELECT visit_id, max(ends_on) FROM rm_study_visit_terms
          GROUP BY visit_id
         HAVING bool_and(status IN ('closed', 'cancelled'))
            AND max(ends_on) IS NOT NULL
            AND max(ends_on) < $1
          ORDER BY 2, 1",
    )
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await?;
    Ok(ended
        .into_iter()
        .map(|(visit_id, ended_on)| EndedVisit { visit_id, ended_on })
        .collect())
}
