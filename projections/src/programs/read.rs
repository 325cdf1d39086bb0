//! Queries of the `programs` read model, the only SQL that reads its tables.
//!
//! Why here and not in the HTTP layer: the same queries answer the live read model and a
//! replayed one (`crate::replay`, what `?at=` answers), so a question about a past moment
//! is answered by the very code that answers it today, and the tests can hold the two
//! equal (`tests/replay/programs.rs`). Each query takes a connection (a pooled one, or
//! [`crate::Replayed::conn`]) and answers types of its own, never an HTTP type: the callers
//! decide how to present them.
//!
//! The JSON columns are decoded into the domain types the projection serialized them from,
//! so a reader gets typed values and a row the projection could not have written is an
//! error ([`ReadError::Corrupt`]), not a value passed on unread.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use domain::cooperation_program::evaluation::{ActivityFacts, EvaluationFacts};
use domain::cooperation_program::ActivityStatus;
use domain::cooperation_program::Indicator;
use domain::values::{Institution, PlannedDate};
use infra::Checkpoint;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::read::{from_json, ReadError};

const MODEL: &str = "programs";

/// A programme as its row holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub program_id: Uuid,
    /// The organizer (tenant) that owns it.
    pub organizer: String,
    pub title: String,
    /// `cooperation_programme` or `project`.
    pub kind: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub goals: Vec<String>,
    pub indicators: Vec<Indicator>,
    pub partner_application_deadline: Option<NaiveDate>,
    pub testing_ends_on: Option<NaiveDate>,
    /// The evaluation, once recorded (the latest one).
    pub evaluation: Option<RecordedEvaluation>,
    pub closed_on: Option<NaiveDate>,
    pub close_reason: Option<String>,
    /// When its creation was recorded.
    pub created_at: DateTime<Utc>,
}

/// The evaluation as the read model records it (the `evaluation` column). The projection
/// writes it with this type too, so its JSON form is defined once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvaluation {
    /// achieved, partially_achieved or not_achieved.
    pub verdict: String,
    pub summary: String,
    /// Values of the indicators measured by hand, by code.
    pub manual_values: BTreeMap<String, u64>,
    pub recommendations: Vec<String>,
    /// The service's date when it was recorded.
    pub evaluated_on: NaiveDate,
}

/// A partner that joined by its application card.
#[derive(Debug, Clone, PartialEq)]
pub struct Partner {
    pub partner_id: Uuid,
    pub institution: Institution,
    /// email, post or in_person.
    pub channel: String,
    pub sent_on: Option<NaiveDate>,
    pub postmarked_on: Option<NaiveDate>,
    pub delivered_on: Option<NaiveDate>,
    /// The date that counted for the channel.
    pub counted_on: NaiveDate,
}

/// An activity, planned and then perhaps held or cancelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub activity_id: Uuid,
    pub kind: String,
    pub title: String,
    /// When it is planned, at the precision known.
    pub planned: PlannedDate,
    /// The month it is filed under (`YYYY-MM`).
    pub month: String,
    pub location: Option<String>,
    pub co_organizer: Option<String>,
    /// planned, held or cancelled.
    pub status: String,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub participants_total: Option<i32>,
    /// The institutions that took part, once held.
    pub institutions: Option<Vec<Institution>>,
    pub notes: Option<String>,
    pub cancel_reason: Option<String>,
    /// Global position of the event that planned it: the order among activities planned
    /// for the same date.
    pub position: i64,
}

/// An opinion, proposal or suggestion received.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    pub feedback_id: Uuid,
    pub channel: String,
    pub received_on: NaiveDate,
    pub text: String,
    /// 1..5, when given.
    pub rating: Option<i16>,
    pub institution: Option<Institution>,
}

/// A consultation with the comments submitted in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    pub consultation_id: Uuid,
    pub subject: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    /// In the order they were submitted.
    pub comments: Vec<Comment>,
}

/// An institution's comment in a consultation.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    pub comment_id: Uuid,
    pub consultation_id: Uuid,
    pub institution: Institution,
    pub text: String,
    pub submitted_on: NaiveDate,
}

/// The columns of [`ProgramRow`], in its order.
const PROGRAM_COLUMNS: &str =
    "program_id, organizer, title, kind, period_start, period_end, goals, indicators,
    partner_application_deadline, testing_ends_on, evaluation, closed_on, close_reason, created_at";

#[derive(sqlx::FromRow)]
struct ProgramRow {
    program_id: Uuid,
    organizer: String,
    title: String,
    kind: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    goals: Value,
    indicators: Value,
    partner_application_deadline: Option<NaiveDate>,
    testing_ends_on: Option<NaiveDate>,
    evaluation: Option<Value>,
    closed_on: Option<NaiveDate>,
    close_reason: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<ProgramRow> for Program {
    type Error = ReadError;

    fn try_from(r: ProgramRow) -> Result<Self, ReadError> {
        Ok(Program {
            program_id: r.program_id,
            organizer: r.organizer,
            title: r.title,
            kind: r.kind,
            period_start: r.period_start,
            period_end: r.period_end,
            goals: from_json(MODEL, "goals", r.goals)?,
            indicators: from_json(MODEL, "indicators", r.indicators)?,
            partner_application_deadline: r.partner_application_deadline,
            testing_ends_on: r.testing_ends_on,
            evaluation: r
                .evaluation
                .map(|e| from_json(MODEL, "evaluation", e))
                .transpose()?,
            closed_on: r.closed_on,
            close_reason: r.close_reason,
            created_at: r.created_at,
        })
    }
}

/// The programmes, newest first: every one, or only `organizer`'s.
pub async fn list(
    conn: &mut PgConnection,
    organizer: Option<&str>,
) -> Result<Vec<Program>, ReadError> {
    // `program_id` (a v7 uuid, in creation order) settles the order of programmes
    // created in one transaction, which share `created_at`.
    let rows: Vec<ProgramRow> = sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM rm_programs
          WHERE ($1::text IS NULL OR organizer = $1)
          ORDER BY created_at DESC, program_id DESC"
    ))
    .bind(organizer)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Program::try_from).collect()
}

/// One programme (None when the read model has no row of it).
pub async fn program(conn: &mut PgConnection, id: Uuid) -> Result<Option<Program>, ReadError> {
    let row: Option<ProgramRow> = sqlx::query_as(&format!(
        "SELECT {PROGRAM_COLUMNS} FROM rm_programs WHERE program_id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Program::try_from).transpose()
}

/// A partner row: id, institution, channel, sent, postmarked, delivered, counted.
type PartnerRow = (
    Uuid,
    Value,
    String,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    NaiveDate,
);

/// A programme's partners, in the order they joined.
pub async fn partners(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Partner>, ReadError> {
    let rows: Vec<PartnerRow> = sqlx::query_as(
        "SELECT partner_id, institution, channel, sent_on, postmarked_on, delivered_on, counted_on
           FROM rm_program_partners WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(
            |(
                partner_id,
                institution,
                channel,
                sent_on,
                postmarked_on,
                delivered_on,
                counted_on,
            )| {
                Ok(Partner {
                    partner_id,
                    institution: from_json(MODEL, "partners.institution", institution)?,
                    channel,
                    sent_on,
                    postmarked_on,
                    delivered_on,
                    counted_on,
                })
            },
        )
        .collect()
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    activity_id: Uuid,
    kind: String,
    title: String,
    planned: Value,
    planned_month: String,
    location: Option<String>,
    co_organizer: Option<String>,
    status: String,
    starts_on: Option<NaiveDate>,
    ends_on: Option<NaiveDate>,
    participants_total: Option<i32>,
    institutions: Option<Value>,
    notes: Option<String>,
    cancel_reason: Option<String>,
    position: i64,
}

/// A programme's activities in date order: by planned date as `PlannedDate` orders it (first
/// day, then the more precise date first), then in the order they were planned.
pub async fn activities(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Activity>, ReadError> {
    let rows: Vec<ActivityRow> = sqlx::query_as(
        "SELECT activity_id, kind, title, planned, planned_month, location, co_organizer, status, starts_on,
                ends_on, participants_total, institutions, notes, cancel_reason, position
           FROM rm_program_activities WHERE program_id = $1 ORDER BY planned_first_day, position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    let mut activities = rows
        .into_iter()
        .map(|r| {
            Ok(Activity {
                activity_id: r.activity_id,
                kind: r.kind,
                title: r.title,
                planned: from_json(MODEL, "activities.planned", r.planned)?,
                month: r.planned_month,
                location: r.location,
                co_organizer: r.co_organizer,
                status: r.status,
                starts_on: r.starts_on,
                ends_on: r.ends_on,
                participants_total: r.participants_total,
                institutions: r
                    .institutions
                    .map(|i| from_json(MODEL, "activities.institutions", i))
                    .transpose()?,
                notes: r.notes,
                cancel_reason: r.cancel_reason,
                position: r.position,
            })
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    // SQL orders by the first day only; among activities starting that day, the planned
    // date's own order puts the more precise first (a day, a range, part of a month, a month).
    activities.sort_by_key(|a| (a.planned, a.position));
    Ok(activities)
}

/// A feedback row: id, channel, received, text, rating, institution.
type FeedbackRow = (Uuid, String, NaiveDate, String, Option<i16>, Option<Value>);

/// The feedback a programme received, in the order it was recorded.
pub async fn feedback(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Feedback>, ReadError> {
    let rows: Vec<FeedbackRow> = sqlx::query_as(
        "SELECT feedback_id, channel, received_on, text, rating, institution
           FROM rm_program_feedback WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(
            |(feedback_id, channel, received_on, text, rating, institution)| {
                Ok(Feedback {
                    feedback_id,
                    channel,
                    received_on,
                    text,
                    rating,
                    institution: institution
                        .map(|i| from_json(MODEL, "feedback.institution", i))
                        .transpose()?,
                })
            },
        )
        .collect()
}

/// A programme's consultations in the order they were opened, each with its comments.
pub async fn consultations(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<Consultation>, ReadError> {
    let opened: Vec<(Uuid, String, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT consultation_id, subject, opens_on, closes_on
           FROM rm_program_consultations WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let mut consultations: Vec<Consultation> = opened
        .into_iter()
        .map(
            |(consultation_id, subject, opens_on, closes_on)| Consultation {
                consultation_id,
                subject,
                opens_on,
                closes_on,
                comments: Vec::new(),
            },
        )
        .collect();
    for comment in comments(conn, id).await? {
        // A comment is only accepted within its consultation's window, so its consultation
        // is there; one that is not would have nowhere to be shown.
        if let Some(c) = consultations
            .iter_mut()
            .find(|c| c.consultation_id == comment.consultation_id)
        {
            c.comments.push(comment);
        }
    }
    Ok(consultations)
}

/// A comment row: id, consultation, institution, text, submitted.
type CommentRow = (Uuid, Uuid, Value, String, NaiveDate);

/// Every comment on a programme's consultations, in the order they were submitted.
pub async fn comments(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Comment>, ReadError> {
    let rows: Vec<CommentRow> = sqlx::query_as(
        "SELECT comment_id, consultation_id, institution, text, submitted_on
           FROM rm_program_comments WHERE program_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(
            |(comment_id, consultation_id, institution, text, submitted_on)| {
                Ok(Comment {
                    comment_id,
                    consultation_id,
                    institution: from_json(MODEL, "comments.institution", institution)?,
                    text,
                    submitted_on,
                })
            },
        )
        .collect()
}

/// An activity row as the evaluation reads it: id, kind, status, participants, institutions.
type FactsActivityRow = (Uuid, String, String, Option<i32>, Option<Value>);

/// What the read model holds about a programme, as the facts its evaluation is computed
/// from (None when it has no row). Lenient where the projection may be: an unknown
/// activity status counts as planned, a participants count that is not a count as 0.
pub async fn facts(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<EvaluationFacts>, ReadError> {
    let row: Option<(Value, Option<Value>)> =
        sqlx::query_as("SELECT indicators, evaluation FROM rm_programs WHERE program_id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((indicators, evaluation)) = row else {
        return Ok(None);
    };
    let indicators: Vec<Indicator> = from_json(MODEL, "indicators", indicators)?;
    let evaluation = evaluation.unwrap_or(Value::Null);
    let verdict = evaluation
        .get("verdict")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let manual_values = evaluation
        .get("manual_values")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(code, v)| v.as_u64().map(|v| (code.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let rows: Vec<FactsActivityRow> = sqlx::query_as(
        "SELECT activity_id, kind, status, participants_total, institutions
           FROM rm_program_activities WHERE program_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let activities = rows
        .into_iter()
        .map(|(activity_id, kind, status, participants, institutions)| {
            let status = match status.as_str() {
                "held" => ActivityStatus::Held,
                "cancelled" => ActivityStatus::Cancelled,
                _ => ActivityStatus::Planned,
            };
            let institutions = institutions
                .as_ref()
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|i| i.get("nip").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            let facts = ActivityFacts {
                kind,
                status,
                participants_total: participants
                    .and_then(|p| u64::try_from(p).ok())
                    .unwrap_or(0),
                institutions,
            };
            (activity_id, facts)
        })
        .collect();
    let partners: Vec<Uuid> =
        sqlx::query_scalar("SELECT partner_id FROM rm_program_partners WHERE program_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let feedback: Vec<(Uuid, Option<i16>)> =
        sqlx::query_as("SELECT feedback_id, rating FROM rm_program_feedback WHERE program_id = $1")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(Some(EvaluationFacts {
        indicators,
        activities,
        partners: partners.into_iter().collect(),
        feedback: feedback
            .into_iter()
            .map(|(id, rating)| (id, rating.map(i64::from)))
            .collect(),
        verdict,
        manual_values,
    }))
}

/// [`facts`] together with the read model's checkpoint, read in one snapshot, so that a
/// check against the events replays exactly the events these rows had applied.
pub async fn facts_as_processed(
    pool: &PgPool,
    id: Uuid,
) -> Result<(Checkpoint, Option<EvaluationFacts>), ReadError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let checkpoint = infra::checkpoints::of(&mut tx, MODEL).await?;
    let facts = facts(&mut tx, id).await?;
    tx.commit().await?;
    Ok((checkpoint, facts))
}
