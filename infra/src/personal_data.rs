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
/// address gets a fresh id, made real by [`record_application`] in the command's transaction.
pub async fn find_subject(pool: &PgPool, email_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar("SELECT subject_id FROM personal_subjects WHERE email_hash = $1")
        .bind(email_hash)
        .fetch_optional(pool)
        .await
}

/// Why [`record_application`] could not write.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// Another application of the same address created its subject meanwhile, under another
    /// id: decide the command again with this one (the domain may refuse a duplicate), as
    /// [`crate::applications::submit`] does.
    #[error("the subject of this address was created meanwhile")]
    SubjectRaced(Uuid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Records an application's personal data and the hash of its applicant key, inside the
/// transaction that appends the application's events (see `CommandBus::execute_with`), so
/// no event points at missing data and no data outlives a refused or lost command.
pub async fn record_application(
    conn: &mut PgConnection,
    email_hash: &[u8],
    subject: Uuid,
    visit_id: Uuid,
    application_id: Uuid,
    person: &PersonRecord,
    applicant_key: &str,
) -> Result<(), RecordError> {
    // Two round trips rather than four: these run inside a group commit, once per
    // application of the group, while the group's other commands wait for its commit.
    // The subject: ours if we created it, else the one stored.
    let stored: Option<Uuid> = sqlx::query_scalar(
        "WITH created AS (
             INSERT INTO personal_subjects (subject_id, email_hash) VALUES ($1, $2)
             ON CONFLICT (email_hash) DO NOTHING RETURNING subject_id)
         SELECT subject_id FROM created
         UNION ALL
         SELECT subject_id FROM personal_subjects WHERE email_hash = $2
         LIMIT 1",
    )
    .bind(subject)
    .bind(email_hash)
    .fetch_optional(&mut *conn)
    .await?;
    let stored = match stored {
        Some(stored) => stored,
        // The conflicting subject was committed by another transaction after this
        // statement's snapshot was taken: a new statement sees it.
        None => {
            sqlx::query_scalar("SELECT subject_id FROM personal_subjects WHERE email_hash = $1")
                .bind(email_hash)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    if stored != subject {
        return Err(RecordError::SubjectRaced(stored));
    }
    sqlx::query(
        "WITH data AS (
             INSERT INTO personal_data (application_id, subject_id, first_name, last_name, email, phone, job_title)
             VALUES ($1, $2, $3, $4, $5, $6, $7))
         INSERT INTO applicant_keys (application_id, visit_id, key_hash) VALUES ($1, $8, $9)",
    )
    .bind(application_id)
    .bind(subject)
    .bind(&person.first_name)
    .bind(&person.last_name)
    .bind(&person.email)
    .bind(&person.phone)
    .bind(&person.job_title)
    .bind(visit_id)
    .bind(key_hash(applicant_key))
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
