//! Queries of the `networks` read model: the networks list and one network's registry.
//!
//! The live read model and a replay of it as of a past moment (`crate::replay`, what the
//! registry's `?at=` answers) are read through these same functions, so that both answers
//! are made of the same rows by the same code. They answer typed values of their own, in
//! the domain's vocabulary (institutions, planned dates, roles), never an HTTP type: what a
//! registry looks like on the wire is the HTTP layer's business.

use chrono::NaiveDate;
use domain::network::{OfficerRole, TermEndReason};
use domain::values::{Institution, InstitutionType, PlannedDate};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::read::{from_json, ReadError};

const MODEL: &str = "networks";

/// A network as the list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub id: Uuid,
    pub organizer: String,
    pub name: String,
    pub region: String,
    /// Institution types it admits, as established.
    pub member_types: Vec<InstitutionType>,
    pub established_on: NaiveDate,
    /// Members that have not left.
    pub active_members: i64,
    /// Meetings recorded.
    pub meetings: i64,
    /// Version of the regulations in force (the rule of [`Registry::current_regulations`]).
    pub current_regulations: Option<String>,
}

/// Whether a membership still stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    Left,
}

impl MemberStatus {
    /// The API spelling, as the read model stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Left => "left",
        }
    }

    fn parse(s: &str) -> Result<Self, ReadError> {
        [Self::Active, Self::Left]
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ReadError::corrupt(MODEL, format!("member status {s:?}")))
    }
}

/// One membership, active or left.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub member_id: Uuid,
    pub institution: Institution,
    /// The day its declaration of accession was signed: the day it joined.
    pub joined_on: NaiveDate,
    /// The declaration's document, when one was named.
    pub declaration_ref: Option<String>,
    pub status: MemberStatus,
    pub left_on: Option<NaiveDate>,
    pub left_reason: Option<String>,
}

/// One officer's term of office, current or ended. The officer's name is not here: it is
/// personal data, kept outside the events and the read models (`infra::officers`).
#[derive(Debug, Clone, PartialEq)]
pub struct Officer {
    pub officer_id: Uuid,
    pub role: OfficerRole,
    pub member_id: Uuid,
    /// The member institution as it was when the officer was elected (None only if the
    /// member was unknown to the read model then, which the domain does not allow).
    pub institution: Option<Institution>,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: Option<NaiveDate>,
    /// When the term ended (None while current).
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<TermEndReason>,
}

impl Officer {
    /// Whether the officer still holds the office.
    pub fn is_current(&self) -> bool {
        self.ended_on.is_none()
    }
}

/// One adopted version of the regulations.
#[derive(Debug, Clone, PartialEq)]
pub struct RegulationsVersion {
    pub version: String,
    pub title: String,
    pub adopted_on: NaiveDate,
    pub document_ref: String,
}

/// A recorded meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct Meeting {
    pub meeting_id: Uuid,
    pub title: String,
    /// When, at the precision it was recorded with.
    pub when: PlannedDate,
    pub location: Option<String>,
    pub participants_total: u32,
    pub topics: Vec<String>,
}

/// Everything the read model holds about one network.
#[derive(Debug, Clone, PartialEq)]
pub struct Registry {
    pub id: Uuid,
    pub organizer: String,
    pub name: String,
    pub region: String,
    pub member_types: Vec<InstitutionType>,
    pub established_on: NaiveDate,
    /// Every membership, in joining order.
    pub members: Vec<Member>,
    /// Every term of office, in election order (current and ended).
    pub officers: Vec<Officer>,
    /// Every adopted version, in adoption order.
    pub regulations: Vec<RegulationsVersion>,
    /// The meetings by date: first possible day, then last, then recording order.
    pub meetings: Vec<Meeting>,
}

impl Registry {
    /// The regulations in force: the latest by adoption day, the later adopted on a tie —
    /// the aggregate's rule (`Network::current_regulations`) and the list's.
    pub fn current_regulations(&self) -> Option<&RegulationsVersion> {
        self.regulations
            .iter()
            .enumerate()
            .max_by_key(|(i, r)| (r.adopted_on, *i))
            .map(|(_, r)| r)
    }
}

/// The networks of `organizer` (every organizer's when None), in order of establishment.
pub async fn list(
    conn: &mut PgConnection,
    organizer: Option<&str>,
) -> Result<Vec<Summary>, ReadError> {
    type Row = (
        Uuid,
        String,
        String,
        String,
        Vec<String>,
        NaiveDate,
        i64,
        i64,
        Option<String>,
    );
    // The regulations in force by the rule of `Registry::current_regulations`: the latest
    // adoption day, the later adopted (higher position) on a tie.
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT n.network_id, n.organizer, n.name, n.region, n.member_types, n.established_on,
            (SELECT count(*) FROM rm_network_members m
              WHERE m.network_id = n.network_id AND m.status = 'active'),
            (SELECT count(*) FROM rm_network_meetings g WHERE g.network_id = n.network_id),
            (SELECT r.version FROM rm_network_regulations r WHERE r.network_id = n.network_id
              ORDER BY r.adopted_on DESC, r.position DESC LIMIT 1)
           FROM rm_networks n WHERE ($1::text IS NULL OR n.organizer = $1)
          ORDER BY n.established_on, n.established_at",
    )
    .bind(organizer)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(
                id,
                organizer,
                name,
                region,
                member_types,
                established_on,
                active_members,
                meetings,
                current_regulations,
            )| {
                Ok(Summary {
                    id,
                    organizer,
                    name,
                    region,
                    member_types: institution_types(&member_types)?,
                    established_on,
                    active_members,
                    meetings,
                    current_regulations,
                })
            },
        )
        .collect()
}

/// The registry of network `id`: its founding details, members, officers' terms,
/// regulations and meetings (None when the read model has no such network).
pub async fn registry(conn: &mut PgConnection, id: Uuid) -> Result<Option<Registry>, ReadError> {
    let network: Option<(String, String, String, Vec<String>, NaiveDate)> = sqlx::query_as(
        "SELECT organizer, name, region, member_types, established_on
           FROM rm_networks WHERE network_id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((organizer, name, region, member_types, established_on)) = network else {
        return Ok(None);
    };
    Ok(Some(Registry {
        id,
        organizer,
        name,
        region,
        member_types: institution_types(&member_types)?,
        established_on,
        members: members(conn, id).await?,
        officers: officers(conn, id).await?,
        regulations: regulations(conn, id).await?,
        meetings: meetings(conn, id).await?,
    }))
}

async fn members(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Member>, ReadError> {
    type Row = (
        Uuid,
        Value,
        NaiveDate,
        Option<String>,
        String,
        Option<NaiveDate>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT member_id, institution, joined_on, declaration_ref, status, left_on, left_reason
           FROM rm_network_members WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(member_id, institution, joined_on, declaration_ref, status, left_on, left_reason)| {
                Ok(Member {
                    member_id,
                    institution: from_json(MODEL, "rm_network_members.institution", institution)?,
                    joined_on,
                    declaration_ref,
                    status: MemberStatus::parse(&status)?,
                    left_on,
                    left_reason,
                })
            },
        )
        .collect()
}

async fn officers(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Officer>, ReadError> {
    type Row = (
        Uuid,
        String,
        Uuid,
        Option<Value>,
        NaiveDate,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT officer_id, role, member_id, institution, term_starts_on, term_ends_on,
                ended_on, end_reason
           FROM rm_network_officers WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(
                officer_id,
                role,
                member_id,
                institution,
                term_starts_on,
                term_ends_on,
                ended_on,
                end_reason,
            )| {
                Ok(Officer {
                    officer_id,
                    role: OfficerRole::parse(&role).map_err(|e| {
                        ReadError::corrupt(MODEL, format!("officer role {role:?}: {}", e.message))
                    })?,
                    member_id,
                    institution: institution
                        .map(|i| from_json(MODEL, "rm_network_officers.institution", i))
                        .transpose()?,
                    term_starts_on,
                    term_ends_on,
                    ended_on,
                    end_reason: end_reason.as_deref().map(term_end_reason).transpose()?,
                })
            },
        )
        .collect()
}

async fn regulations(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Vec<RegulationsVersion>, ReadError> {
    let rows: Vec<(String, String, NaiveDate, String)> = sqlx::query_as(
        "SELECT version, title, adopted_on, document_ref
           FROM rm_network_regulations WHERE network_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(version, title, adopted_on, document_ref)| RegulationsVersion {
                version,
                title,
                adopted_on,
                document_ref,
            },
        )
        .collect())
}

async fn meetings(conn: &mut PgConnection, id: Uuid) -> Result<Vec<Meeting>, ReadError> {
    type Row = (Uuid, String, Value, Option<String>, i32, Vec<String>);
    // By date at the precision recorded (a month sorts by its first day, then the longer
    // span after the shorter), recording order on a tie.
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT meeting_id, title, planned, location, participants_total, topics
           FROM rm_network_meetings WHERE network_id = $1
          ORDER BY first_day, last_day, position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    rows.into_iter()
        .map(
            |(meeting_id, title, planned, location, participants_total, topics)| {
                Ok(Meeting {
                    meeting_id,
                    title,
                    when: from_json(MODEL, "rm_network_meetings.planned", planned)?,
                    location,
                    participants_total: u32::try_from(participants_total).map_err(|_| {
                        ReadError::corrupt(
                            MODEL,
                            format!("participants_total {participants_total} is negative"),
                        )
                    })?,
                    topics,
                })
            },
        )
        .collect()
}

/// Institution types as the projection stores them (their API spelling).
fn institution_types(stored: &[String]) -> Result<Vec<InstitutionType>, ReadError> {
    stored
        .iter()
        .map(|t| {
            InstitutionType::parse(t).map_err(|e| {
                ReadError::corrupt(MODEL, format!("institution type {t:?}: {}", e.message))
            })
        })
        .collect()
}

fn term_end_reason(stored: &str) -> Result<TermEndReason, ReadError> {
    [TermEndReason::Succeeded, TermEndReason::MemberLeft]
        .into_iter()
        .find(|r| r.as_str() == stored)
        .ok_or_else(|| ReadError::corrupt(MODEL, format!("term end reason {stored:?}")))
}
