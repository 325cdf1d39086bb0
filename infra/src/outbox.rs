//! The mail outbox (`mail_outbox`): what the notifier decided to tell applicants, and what
//! the sender did with it. The notifier writes rows in the transaction that moves its
//! checkpoint (`enqueue`, `drop_reminders`); the sender takes the due ones (`due`), and marks
//! each sent, retried or failed. Rows carry no address: `infra::personal_data` is read at
//! sending time, so an erased person is never written to again.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// The checkpoint name under which the notifier keeps its place in commit order.
pub const NOTIFIER: &str = "mail";

/// A mail to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMail {
    pub organizer: String,
    pub kind: &'static str,
    pub application_id: Uuid,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    /// What the mail says that is not personal (titles, dates, a position).
    pub facts: Value,
    pub cause_position: i64,
    pub due_at: DateTime<Utc>,
}

impl NewMail {
    /// The row's id and Message-ID: the same event, application and kind always give the same
    /// id, so a notifier that runs an event twice writes one row.
    pub fn mail_id(&self) -> Uuid {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(
            format!(
                "{}|{}|{}",
                self.application_id, self.kind, self.cause_position
            )
            .as_bytes(),
        );
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Uuid::new_v8(bytes)
    }
}

/// A row of the outbox as the sender and the outbox endpoint see it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Mail {
    pub mail_id: Uuid,
    pub organizer: String,
    pub kind: String,
    pub application_id: Uuid,
    pub visit_id: Uuid,
    pub term_id: Uuid,
    pub facts: Value,
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "mail_id, organizer, kind, application_id, visit_id, term_id, facts, \
    status, due_at, attempts, last_error, created_at, sent_at";

/// Writes `mails` (in the notifier's transaction); a row already written is left as it is.
pub async fn enqueue(conn: &mut PgConnection, mails: &[NewMail]) -> Result<(), sqlx::Error> {
    if mails.is_empty() {
        return Ok(());
    }
    let mut ids = Vec::with_capacity(mails.len());
    let mut organizers = Vec::with_capacity(mails.len());
    let mut kinds = Vec::with_capacity(mails.len());
    let mut applications = Vec::with_capacity(mails.len());
    let mut visits = Vec::with_capacity(mails.len());
    let mut terms = Vec::with_capacity(mails.len());
    let mut facts = Vec::with_capacity(mails.len());
    let mut causes = Vec::with_capacity(mails.len());
    let mut due = Vec::with_capacity(mails.len());
    for m in mails {
        ids.push(m.mail_id());
        organizers.push(m.organizer.clone());
        kinds.push(m.kind.to_owned());
        applications.push(m.application_id);
        visits.push(m.visit_id);
        terms.push(m.term_id);
        facts.push(m.facts.clone());
        causes.push(m.cause_position);
        due.push(m.due_at);
    }
    sqlx::query(
        "INSERT INTO mail_outbox (mail_id, organizer, kind, application_id, visit_id, term_id,
                                  facts, cause_position, due_at)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[],
                              $6::uuid[], $7::jsonb[], $8::bigint[], $9::timestamptz[])
         ON CONFLICT DO NOTHING",
    )
    .bind(&ids)
    .bind(&organizers)
    .bind(&kinds)
    .bind(&applications)
    .bind(&visits)
    .bind(&terms)
    .bind(&facts)
    .bind(&causes)
    .bind(&due)
    .execute(conn)
    .await?;
    Ok(())
}

/// Whose pending reminders to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reminders {
    /// One application's (its seat was given up).
    Of(Uuid),
    /// Every application's of a term (the term was cancelled).
    OfTerm(Uuid),
}

/// Drops pending reminders (in the notifier's transaction).
pub async fn drop_reminders(conn: &mut PgConnection, which: Reminders) -> Result<(), sqlx::Error> {
    let (column, id, why) = match which {
        Reminders::Of(id) => ("application_id", id, "the seat was given up"),
        Reminders::OfTerm(id) => ("term_id", id, "the term was cancelled"),
    };
    sqlx::query(&format!(
        "UPDATE mail_outbox SET status = 'dropped', last_error = $2
          WHERE {column} = $1 AND kind = 'reminder' AND status = 'pending'"
    ))
    .bind(id)
    .bind(why)
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` pending mails due at `now`, oldest first.
pub async fn due(pool: &PgPool, now: DateTime<Utc>, limit: i64) -> Result<Vec<Mail>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mail_outbox WHERE status = 'pending' AND due_at <= $1
          ORDER BY due_at, created_at, mail_id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The next instant a pending mail falls due (None when none is pending).
pub async fn next_due(pool: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar("SELECT min(due_at) FROM mail_outbox WHERE status = 'pending'")
        .fetch_one(pool)
        .await
}

/// Records that `mail_id` was delivered to the mail server at `at`.
pub async fn mark_sent(pool: &PgPool, mail_id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL
          WHERE mail_id = $1 AND status = 'pending'",
    )
    .bind(mail_id)
    .bind(at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: tried again at `retry_at`, or, with None, given up (`failed`).
pub async fn mark_attempt_failed(
    pool: &PgPool,
    mail_id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox
            SET attempts = attempts + 1, last_error = $2,
                status = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE status END,
                due_at = COALESCE($3, due_at)
          WHERE mail_id = $1 AND status = 'pending'",
    )
    .bind(mail_id)
    .bind(error)
    .bind(retry_at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records that `mail_id` will not be sent, and why (the person was erased).
pub async fn mark_dropped(pool: &PgPool, mail_id: Uuid, why: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE mail_outbox SET status = 'dropped', last_error = $2
          WHERE mail_id = $1 AND status = 'pending'",
    )
    .bind(mail_id)
    .bind(why)
    .execute(pool)
    .await?;
    Ok(())
}

/// The outbox for the outbox endpoint: newest first, only `organizers` (all with None),
/// only `status` when given.
pub async fn list(
    pool: &PgPool,
    organizers: Option<&[String]>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Mail>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM mail_outbox
          WHERE ($1::text[] IS NULL OR organizer = ANY($1))
            AND ($2::text IS NULL OR status = $2)
          ORDER BY created_at DESC, mail_id LIMIT $3"
    ))
    .bind(organizers)
    .bind(status)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many mails wait to be sent.
pub async fn pending(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE status = 'pending'")
        .fetch_one(pool)
        .await
}

/// Creates the notifier's checkpoint when it has none, at the newest settled event: a
/// service that gains mail on a database with a history does not mail that history.
pub async fn start_notifier_at_head(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (name, schema_version, last_tx_id, last_position)
         SELECT $1, 1, COALESCE(h.tx_id, '0'), COALESCE(h.position, 0)
           FROM (SELECT NULL) AS one
           LEFT JOIN LATERAL (
                SELECT tx_id, position FROM events
                 WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
                 ORDER BY tx_id DESC, position DESC LIMIT 1) h ON true
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(NOTIFIER)
    .execute(pool)
    .await?;
    Ok(())
}

/// Takes the notifier's transaction lock, so two instances never decide the same events at
/// once (the second waits, then finds the checkpoint moved).
pub async fn lock_notifier(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('koordynator.mail.notifier'))")
        .execute(conn)
        .await?;
    Ok(())
}
