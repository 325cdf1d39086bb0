//! Erasure of personal data (RODO art. 17) and its expiry after the retention period.
//!
//! The events never name anyone (they carry subject and application ids), so erasing a
//! person means deleting the rows kept beside them: `personal_data`, the subject's e-mail
//! hash in `personal_subjects` (so the address no longer links to the subject), the
//! applicant key, idempotent answers stored for the person's submissions, and officers'
//! names chosen by the caller. What remains is a record naming nobody (migration 0006).
//!
//! Every function takes the caller's transaction: an erasure is all or nothing.

use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Why personal data was erased (`personal_data_erasures.reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The person (or the controller on their behalf) asked for it.
    Request,
    /// The retention period after the visit ended has passed.
    Retention,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Request => "request",
            Reason::Retention => "retention",
        }
    }
}

/// What one erasure removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Erased {
    /// Subjects whose e-mail hash was deleted.
    pub subjects: u64,
    /// Applications whose personal data row was deleted.
    pub applications: u64,
    /// Officers whose name was deleted.
    pub officers: u64,
}

/// Erases the applications' personal data, applicant keys and stored idempotent answers,
/// then the e-mail hash of every subject left without personal data.
pub async fn erase_applications(
    tx: &mut Transaction<'_, Postgres>,
    application_ids: &[Uuid],
    reason: Reason,
    actor: &str,
) -> Result<Erased, sqlx::Error> {
    if application_ids.is_empty() {
        return Ok(Erased::default());
    }
    let removed: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "DELETE FROM personal_data WHERE application_id = ANY($1) RETURNING application_id, subject_id",
    )
    .bind(application_ids)
    .fetch_all(&mut **tx)
    .await?;
    let (apps, subjects): (Vec<Uuid>, Vec<Uuid>) = removed.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO personal_data_erasures (application_id, subject_id, reason, actor)
         SELECT * , $3, $4 FROM unnest($1::uuid[], $2::uuid[])
         ON CONFLICT (application_id) DO NOTHING",
    )
    .bind(&apps)
    .bind(&subjects)
    .bind(reason.as_str())
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    // The key's hash names nobody, but it still ties whoever holds the key to the
    // application; an erased applicant is no longer someone the service can recognise.
    sqlx::query("DELETE FROM applicant_keys WHERE application_id = ANY($1)")
        .bind(application_ids)
        .execute(&mut **tx)
        .await?;
    // A stored answer to the public form holds the applicant key, and its request hash is
    // an unkeyed digest of a body with the person's name and address in it.
    let as_text: Vec<String> = application_ids.iter().map(Uuid::to_string).collect();
    sqlx::query("DELETE FROM idempotency_keys WHERE response ->> 'application_id' = ANY($1)")
        .bind(&as_text)
        .execute(&mut **tx)
        .await?;
    let subjects_gone = sqlx::query(
        "DELETE FROM personal_subjects s WHERE s.subject_id = ANY($1)
            AND NOT EXISTS (SELECT 1 FROM personal_data p WHERE p.subject_id = s.subject_id)",
    )
    .bind(&subjects)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(Erased {
        subjects: subjects_gone,
        applications: removed.len() as u64,
        officers: 0,
    })
}

/// Erases everything held under the e-mail whose keyed hash is `email_hash`: every
/// application's personal data and the subject itself (even when retention already took
/// its applications, so the address stops linking to it).
pub async fn erase_subject(
    tx: &mut Transaction<'_, Postgres>,
    email_hash: &[u8],
    actor: &str,
) -> Result<Erased, sqlx::Error> {
    // Locking the subject makes a concurrent submission of the same address wait, so its
    // personal data row is either seen (and erased) here or written to a fresh subject.
    let subjects: Vec<Uuid> = sqlx::query_scalar(
        "SELECT subject_id FROM personal_subjects WHERE email_hash = $1 FOR UPDATE",
    )
    .bind(email_hash)
    .fetch_all(&mut **tx)
    .await?;
    if subjects.is_empty() {
        return Ok(Erased::default());
    }
    let apps: Vec<Uuid> =
        sqlx::query_scalar("SELECT application_id FROM personal_data WHERE subject_id = ANY($1)")
            .bind(&subjects)
            .fetch_all(&mut **tx)
            .await?;
    let mut erased = erase_applications(tx, &apps, Reason::Request, actor).await?;
    let rest = sqlx::query("DELETE FROM personal_subjects WHERE subject_id = ANY($1)")
        .bind(&subjects)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    erased.subjects += rest;
    Ok(erased)
}

/// Erases officers' names (the offices and their history stay); answers how many were held.
pub async fn erase_officers(
    tx: &mut Transaction<'_, Postgres>,
    officer_ids: &[Uuid],
    actor: &str,
) -> Result<u64, sqlx::Error> {
    if officer_ids.is_empty() {
        return Ok(0);
    }
    let removed: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "DELETE FROM officer_personal_data WHERE officer_id = ANY($1) RETURNING officer_id, network_id",
    )
    .bind(officer_ids)
    .fetch_all(&mut **tx)
    .await?;
    let (officers, networks): (Vec<Uuid>, Vec<Uuid>) = removed.iter().copied().unzip();
    sqlx::query(
        "INSERT INTO officer_erasures (officer_id, network_id, actor)
         SELECT *, $3 FROM unnest($1::uuid[], $2::uuid[])
         ON CONFLICT (officer_id) DO NOTHING",
    )
    .bind(&officers)
    .bind(&networks)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(removed.len() as u64)
}

/// Erases a person on request (RODO art. 17), all or nothing: everything held under the
/// e-mail whose keyed hash is `email_hash`, the officers the caller names as this person,
/// and the stored answers of earlier requests to the route `erasure_route` (e.g.
/// `POST /api/v1/personal-data/erasure`): such an answer keeps an unkeyed digest of a body
/// that held the address, and an erasure is safe to repeat, so they are not worth that link.
/// Answers what was erased and the position of the newest event at the erasure.
pub async fn erase_person(
    pool: &PgPool,
    email_hash: &[u8],
    officer_ids: &[Uuid],
    erasure_route: &str,
    actor: &str,
) -> Result<(Erased, i64), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut erased = erase_subject(&mut tx, email_hash, actor).await?;
    erased.officers = erase_officers(&mut tx, officer_ids, actor).await?;
    crate::idempotency::forget_route(&mut tx, erasure_route).await?;
    let position = current_position(&mut tx).await?;
    tx.commit().await?;
    Ok((erased, position))
}

/// The applications of a visit whose personal data is still held, in id order. The
/// applicant keys carry the visit of every application with personal data, so this does
/// not depend on any read model having caught up.
pub async fn held_applications_of_visit(
    conn: &mut PgConnection,
    visit_id: Uuid,
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT p.application_id FROM personal_data p JOIN applicant_keys k USING (application_id)
          WHERE k.visit_id = $1 ORDER BY p.application_id",
    )
    .bind(visit_id)
    .fetch_all(conn)
    .await
}

/// The global position of the newest event: where the record stood at the erasure (which
/// itself writes no event; the events never held the data).
pub async fn current_position(tx: &mut Transaction<'_, Postgres>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM events")
        .fetch_one(&mut **tx)
        .await
}
