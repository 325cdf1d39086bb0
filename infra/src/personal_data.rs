//! Personal data of applicants, kept out of the events.
//!
//! Events reference a `subject_id`; the names, e-mail and phone live in `personal_data`,
//! keyed by application. The subject is found from the e-mail through an HMAC-SHA-256 with a
//! key the service generated for itself, so duplicate applications are detected without a
//! plain address in an index, and erasure later only has to delete rows here.

use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// What an applicant typed in the form about themselves.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecord {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub job_title: Option<String>,
}

/// The keyed hash of e-mail addresses, with the key loaded once from the database.
#[derive(Clone)]
pub struct EmailHasher {
    key: Vec<u8>,
}

impl EmailHasher {
    /// Loads the hash key, generating and storing it on first use.
    pub async fn load(pool: &PgPool) -> Result<Self, sqlx::Error> {
        Ok(Self {
            key: crate::secrets::load_or_create(pool, "email_hash_key").await?,
        })
    }

    /// HMAC of the normalised (trimmed, lower-case) address.
    pub fn hash(&self, normalized_email: &str) -> Vec<u8> {
        match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(normalized_email.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC accepts keys of any length; keep a keyed fallback rather than panic.
            Err(_) => Sha256::new()
                .chain_update(&self.key)
                .chain_update(normalized_email)
                .finalize()
                .to_vec(),
        }
    }
}

/// The subject already known under an e-mail hash, if any. A new application of a new
/// address gets a fresh id, made real by [`record_applications`] in the command's transaction.
pub async fn find_subject(pool: &PgPool, email_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT subject_id FROM personal_subjects WHERE email_hash = $1")
        .bind(email_hash)
        .fetch_optional(pool)
        .await
}

/// An application's personal data and key, as written beside its events.
#[derive(Debug, Clone)]
pub struct ApplicationData {
    /// The keyed hash of the applicant's address ([`EmailHasher`]).
    pub email_hash: Vec<u8>,
    /// The subject the command was decided with (found, or fresh for a new address).
    pub subject_id: Uuid,
    pub visit_id: Uuid,
    pub application_id: Uuid,
    pub person: PersonRecord,
    /// The [`key_hash`] of the applicant's secret.
    pub key_hash: Vec<u8>,
}

/// Why [`record_applications`] could not write.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Other applications of the same addresses created their subjects meanwhile, under
    /// other ids: each listed application (its index in the rows, and the subject stored)
    /// is to be decided again with that subject (the domain may refuse a duplicate), as
    /// [`crate::applications::submit`] does.
    #[error("the subject of an address was created meanwhile")]
    SubjectRaced(Vec<(usize, Uuid)>),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records applications' personal data and the hashes of their applicant keys, inside the
/// transaction that appends their events (see `CommandBus::execute_with`), so no event
/// points at missing data and no data outlives a refused or lost command.
///
/// Two statements for any number of applications (a group commit carries many): one
/// creates the new addresses' subjects and reads every address's subject, one writes the
/// data and the keys. A third runs only when a subject was committed by another
/// transaction after the first statement's snapshot.
pub async fn record_applications(
    conn: &mut PgConnection,
    rows: &[&ApplicationData],
) -> Result<(), RecordError> {
    if rows.is_empty() {
        return Ok(());
    }
    // Addresses in one order in every transaction: two groups creating the same new
    // subjects then wait for each other instead of deadlocking.
    let mut by_hash: Vec<&&ApplicationData> = rows.iter().collect();
    by_hash.sort_by(|a, b| a.email_hash.cmp(&b.email_hash));
    let new_subjects: Vec<Uuid> = by_hash.iter().map(|r| r.subject_id).collect();
    let hashes: Vec<&[u8]> = by_hash.iter().map(|r| r.email_hash.as_slice()).collect();
    // The subjects: ours where we created them, else the ones stored. One address twice in
    // the group: the first row creates it, the second finds it raced.
    let found: Vec<(Vec<u8>, Uuid)> = sqlx::query_as(
        "WITH created AS (
             INSERT INTO personal_subjects (subject_id, email_hash)
             SELECT * FROM UNNEST($1::uuid[], $2::bytea[])
             ON CONFLICT (email_hash) DO NOTHING RETURNING email_hash, subject_id)
         SELECT email_hash, subject_id FROM created
         UNION ALL
         SELECT email_hash, subject_id FROM personal_subjects WHERE email_hash = ANY($2)",
    )
    .bind(&new_subjects)
    .bind(&hashes)
    .fetch_all(&mut *conn)
    .await?;
    let mut stored: std::collections::HashMap<Vec<u8>, Uuid> = found.into_iter().collect();
    let missing: Vec<&[u8]> = hashes
        .iter()
        .copied()
        .filter(|h| !stored.contains_key(*h))
        .collect();
    if !missing.is_empty() {
        // Committed by another transaction after the statement's snapshot was taken (the
        // insert waited for it): a new statement sees it.
        let late: Vec<(Vec<u8>, Uuid)> = sqlx::query_as(
            "SELECT email_hash, subject_id FROM personal_subjects WHERE email_hash = ANY($1)",
        )
        .bind(&missing)
        .fetch_all(&mut *conn)
        .await?;
        stored.extend(late);
    }
    let raced: Vec<(usize, Uuid)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match stored.get(&r.email_hash) {
            Some(s) if *s == r.subject_id => None,
            Some(s) => Some((i, *s)),
            // Not stored although inserted or found: only a concurrent erasure of that
            // very subject; decide again with a fresh one.
            None => Some((i, Uuid::now_v7())),
        })
        .collect();
    if !raced.is_empty() {
        return Err(RecordError::SubjectRaced(raced));
    }
    let applications: Vec<Uuid> = rows.iter().map(|r| r.application_id).collect();
    let subjects: Vec<Uuid> = rows.iter().map(|r| r.subject_id).collect();
    let first: Vec<&str> = rows.iter().map(|r| r.person.first_name.as_str()).collect();
    let last: Vec<&str> = rows.iter().map(|r| r.person.last_name.as_str()).collect();
    let email: Vec<&str> = rows.iter().map(|r| r.person.email.as_str()).collect();
    let phone: Vec<Option<&str>> = rows.iter().map(|r| r.person.phone.as_deref()).collect();
    let job: Vec<Option<&str>> = rows.iter().map(|r| r.person.job_title.as_deref()).collect();
    let visits: Vec<Uuid> = rows.iter().map(|r| r.visit_id).collect();
    let keys: Vec<&[u8]> = rows.iter().map(|r| r.key_hash.as_slice()).collect();
    sqlx::query(
        "WITH data AS (
             INSERT INTO personal_data (application_id, subject_id, first_name, last_name, email, phone, job_title)
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
                                  $6::text[], $7::text[]))
         INSERT INTO applicant_keys (application_id, visit_id, key_hash)
         SELECT * FROM UNNEST($1::uuid[], $8::uuid[], $9::bytea[])",
    )
    .bind(&applications)
    .bind(&subjects)
    .bind(&first)
    .bind(&last)
    .bind(&email)
    .bind(&phone)
    .bind(&job)
    .bind(&visits)
    .bind(&keys)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A new applicant key: 24 random bytes, URL-safe base64 (32 characters). Shown to the
/// applicant once; only its [`key_hash`] is kept.
pub fn new_applicant_key() -> String {
    use base64::Engine;
    let mut secret = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut secret);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

/// The hash under which an applicant key is kept.
pub fn key_hash(applicant_key: &str) -> Vec<u8> {
    Sha256::digest(applicant_key.as_bytes()).to_vec()
}

/// The visit of `application_id` when `applicant_key` opens it, else None.
pub async fn applicant_visit(
    pool: &PgPool,
    application_id: Uuid,
    applicant_key: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT visit_id FROM applicant_keys WHERE application_id = $1 AND key_hash = $2",
    )
    .bind(application_id)
    .bind(key_hash(applicant_key))
    .fetch_optional(pool)
    .await
}

/// The personal data of many applications at once (rosters), keyed by application id.
pub async fn people(
    pool: &PgPool,
    application_ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, PersonRecord>, sqlx::Error> {
    type Row = (Uuid, String, String, String, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT application_id, first_name, last_name, email, phone, job_title
           FROM personal_data WHERE application_id = ANY($1)",
    )
    .bind(application_ids)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, first_name, last_name, email, phone, job_title)| {
            (
                id,
                PersonRecord {
                    first_name,
                    last_name,
                    email,
                    phone,
                    job_title,
                },
            )
        })
        .collect())
}
