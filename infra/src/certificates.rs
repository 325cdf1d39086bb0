//! Certificates of participation: the verification code printed on each, tied to the
//! attendance event it was issued on (its stream sequence, global position and chain hash).
//!
//! The code is 80 random bits in Crockford's base32, so it cannot be guessed or enumerated
//! (a public page answers for it), and is stored once per application and attendance record:
//! printing the same certificate again gives the same code, and a later attendance record
//! gives a new certificate a new code. Whether a code is still valid is not stored: it is
//! worked out from the events recorded after it (the service decodes them), so a revocation
//! is a fact in the record, never an edit of this table.

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;
use sqlx::PgPool;
use uuid::Uuid;

use crate::feed::StoredEvent;

/// Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is not
/// mistaken.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of a code (80 bits).
pub const CODE_LEN: usize = 16;

/// A certificate as issued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Certificate {
    /// The code without dashes (see [`printed`]).
    pub code: String,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub application_id: Uuid,
    pub event_sequence: i64,
    pub event_position: i64,
    pub event_hash: Option<Vec<u8>>,
    pub days_present: Vec<NaiveDate>,
    pub issued_at: DateTime<Utc>,
}

/// The attendance event a certificate is issued on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceRecord {
    pub sequence: i64,
    pub position: i64,
    pub hash: Option<Vec<u8>>,
}

/// A fresh random code.
fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::thread_rng().fill_bytes(&mut bytes);
    // 80 bits, 5 at a time.
    let mut bits = u128::from_be_bytes({
        let mut b = [0u8; 16];
        b[6..].copy_from_slice(&bytes);
        b
    });
    let mut code = vec![0u8; CODE_LEN];
    for c in code.iter_mut().rev() {
        *c = ALPHABET[(bits & 31) as usize];
        bits >>= 5;
    }
    String::from_utf8_lossy(&code).into_owned()
}

/// The code as printed: four groups of four, e.g. `K7QF-2M9X-ABCD-EFGH`.
pub fn printed(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// A code as someone typed it, in its stored form: dashes and spaces dropped, lower case
/// raised, and the letters Crockford's alphabet reads as digits (O → 0, I and L → 1). None
/// when it cannot be a code.
pub fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{a0}'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// The certificate of `application_id` issued on `record`: the one issued before, or a new
/// one with a fresh code. Two requests at once get the same code (the unique key decides).
pub async fn issue(
    pool: &PgPool,
    visit_id: Uuid,
    term_id: Uuid,
    application_id: Uuid,
    record: &AttendanceRecord,
    days_present: &[NaiveDate],
) -> Result<Certificate, sqlx::Error> {
    sqlx::query(
        "INSERT INTO certificates (code, visit_id, term_id, application_id, event_sequence,
                                   event_position, event_hash, days_present)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (application_id, event_sequence) DO NOTHING",
    )
    .bind(new_code())
    .bind(visit_id)
    .bind(term_id)
    .bind(application_id)
    .bind(record.sequence)
    .bind(record.position)
    .bind(&record.hash)
    .bind(days_present)
    .execute(pool)
    .await?;
    sqlx::query_as(
        "SELECT code, visit_id, term_id, application_id, event_sequence, event_position,
                event_hash, days_present, issued_at
           FROM certificates WHERE application_id = $1 AND event_sequence = $2",
    )
    .bind(application_id)
    .bind(record.sequence)
    .fetch_one(pool)
    .await
}

/// The certificate with `code` (stored form), if one was issued.
pub async fn find(pool: &PgPool, code: &str) -> Result<Option<Certificate>, sqlx::Error> {
    sqlx::query_as(
        "SELECT code, visit_id, term_id, application_id, event_sequence, event_position,
                event_hash, days_present, issued_at
           FROM certificates WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(pool)
    .await
}

/// The chain hash of the event at `sequence` of the visit's stream (None: no such event,
/// or one written before the chain existed).
pub async fn event_hash(
    pool: &PgPool,
    visit_id: Uuid,
    sequence: i64,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    crate::feed::hash_of(pool, "StudyVisit", &visit_id.to_string(), sequence).await
}

/// The `AttendanceRecorded` events of the certificate's application recorded after its
/// event, in order: what may have revoked it. Found by the application id in the payload
/// (a public page asks this, so it does not load the visit's whole history).
pub async fn later_attendance(
    pool: &PgPool,
    c: &Certificate,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT position, tx_id::text::bigint AS tx_id, aggregate_type, aggregate_id, sequence,
                event_type, event_version, payload, metadata, recorded_at
           FROM events
          WHERE aggregate_type = 'StudyVisit' AND aggregate_id = $1 AND sequence > $2
            AND event_type = 'AttendanceRecorded'
            AND payload -> 'AttendanceRecorded' ->> 'application_id' = $3
          ORDER BY sequence",
    )
    .bind(c.visit_id.to_string())
    .bind(c.event_sequence)
    .bind(c.application_id.to_string())
    .fetch_all(pool)
    .await?;
    rows.iter().map(crate::feed::from_row).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sixteen_characters_of_the_alphabet_and_differ() {
        let a = new_code();
        let b = new_code();
        assert_eq!(a.len(), CODE_LEN);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        assert_ne!(a, b);
        assert_eq!(normalize(&a).as_deref(), Some(a.as_str()));
    }

    #[test]
    fn a_code_typed_from_paper_is_found() {
        assert_eq!(printed("K7QF2M9XABCDEFGH"), "K7QF-2M9X-ABCD-EFGH");
        assert_eq!(
            normalize("k7qf-2m9x abcd-efgh").as_deref(),
            Some("K7QF2M9XABCDEFGH")
        );
        // O and I/L read as the digits they look like.
        assert_eq!(
            normalize("O0IL-0000-0000-0000").as_deref(),
            Some("0011000000000000")
        );
        assert_eq!(normalize("K7QF-2M9X"), None);
        assert_eq!(normalize("K7QF-2M9X-ABCD-EFGU"), None);
        assert_eq!(normalize("'; DROP TABLE x; --"), None);
    }
}
