//! What the service holds about one person (RODO art. 15, the right of access), found by
//! the keyed hash of their e-mail, never by scanning addresses: the subjects filed under it,
//! the personal rows of their applications (with the visit from the applicant key), the
//! erasures already done, and officers of networks with the same name. Officers are held by
//! name only, so those are candidates the caller decides about.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// One subject: one e-mail address, through its keyed hash.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Subject {
    pub subject_id: Uuid,
    pub first_seen_at: DateTime<Utc>,
}

/// The personal fields of one application, as the form recorded them.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PersonalRow {
    pub application_id: Uuid,
    pub subject_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
    /// From the applicant key (None once the key is gone).
    pub visit_id: Option<Uuid>,
}

/// An erasure of one application's personal data.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ErasureRow {
    pub application_id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// `request` or `retention`.
    pub reason: String,
}

/// Everything held under one address.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Held {
    /// In the order they were first seen.
    pub subjects: Vec<Subject>,
    pub personal: Vec<PersonalRow>,
    pub erasures: Vec<ErasureRow>,
}

/// What is held under the e-mail whose keyed hash is `email_hash`.
pub async fn held(pool: &PgPool, email_hash: &[u8]) -> Result<Held, sqlx::Error> {
    let subjects: Vec<Subject> = sqlx::query_as(
        "SELECT subject_id, created_at AS first_seen_at FROM personal_subjects
          WHERE email_hash = $1 ORDER BY created_at",
    )
    .bind(email_hash)
    .fetch_all(pool)
    .await?;
    let ids: Vec<Uuid> = subjects.iter().map(|s| s.subject_id).collect();
    let personal: Vec<PersonalRow> = sqlx::query_as(
        "SELECT p.application_id, p.subject_id, p.first_name, p.last_name, p.email, p.phone, p.job_title,
                k.visit_id
           FROM personal_data p LEFT JOIN applicant_keys k USING (application_id)
          WHERE p.subject_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let erasures: Vec<ErasureRow> = sqlx::query_as(
        "SELECT application_id, erased_at, reason FROM personal_data_erasures WHERE subject_id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(Held {
        subjects,
        personal,
        erasures,
    })
}

/// An officer of a network held under a name equal to one of the person's.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OfficerNamesake {
    pub officer_id: Uuid,
    pub network_id: Uuid,
    pub first_name: String,
    pub last_name: String,
}

/// Officers whose name equals one of `names` (first, last), ignoring case, in the order
/// they were recorded.
pub async fn officer_namesakes(
    pool: &PgPool,
    names: &[(String, String)],
) -> Result<Vec<OfficerNamesake>, sqlx::Error> {
    let (firsts, lasts): (Vec<String>, Vec<String>) = names
        .iter()
        .map(|(f, l)| (f.to_lowercase(), l.to_lowercase()))
        .unzip();
    sqlx::query_as(
        "SELECT o.officer_id, o.network_id, o.first_name, o.last_name
           FROM officer_personal_data o
           JOIN unnest($1::text[], $2::text[]) AS n(first_name, last_name)
             ON lower(o.first_name) = n.first_name AND lower(o.last_name) = n.last_name
          ORDER BY o.created_at",
    )
    .bind(&firsts)
    .bind(&lasts)
    .fetch_all(pool)
    .await
}
