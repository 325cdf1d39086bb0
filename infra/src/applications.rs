//! Submitting an application: the command that appends an application's events together
//! with its applicant's personal data and key (`personal_data::record_applications`), in one
//! transaction, whatever crashes when.
//!
//! The applicant is a subject found by the keyed hash of their e-mail address. The first
//! application of an address creates that subject, so two first applications of one address
//! (to two visits, or twice to one) race to create it: the command is decided with a subject
//! id before its transaction knows who wins. The loser's transaction is aborted, and it is
//! decided again with the winner's subject — the domain may then refuse it as the same
//! person's second application. That retry is here, as a typed outcome of each attempt,
//! so the HTTP layer only maps the answer.

use std::sync::{Arc, Mutex};

use cqrs_es::Aggregate;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::personal_data::{self, ApplicationData, EmailHasher, PersonRecord, RecordError};
use crate::pipeline::{side_write, CommandBus, CommandContext, PipelineError, SideFuture, SideRow};

/// Decisions of one submission at most: every retry follows a subject some other
/// application created meanwhile, so a third loss means a crowd of one address.
const MAX_ATTEMPTS: u32 = 3;

/// An application to submit: where, under which id, and who applies (kept out of events).
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// The visit (aggregate) applied to.
    pub visit_id: Uuid,
    /// The new application's id, named in its command.
    pub application_id: Uuid,
    /// What the applicant typed about themselves.
    pub person: PersonRecord,
    /// The applicant's secret (only its hash is kept), chosen by the caller: the service
    /// derives it from the application id with a secret of its own, so that mails sent
    /// later can link to the applicant's page (random keys of `personal_data::new_applicant_key`
    /// work as well).
    pub applicant_key: String,
}

/// A submission the aggregate accepted and the store recorded.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// Global position of the last event written.
    pub position: i64,
    /// The subject the application was recorded under.
    pub subject_id: Uuid,
    /// The applicant's secret to follow or withdraw the application (only its hash is kept).
    pub applicant_key: String,
}

/// Why a submission was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError<E: std::error::Error> {
    /// The command's own answer: refused by the domain, not visible, or the store busy or
    /// away.
    #[error(transparent)]
    Command(PipelineError<E>),
    /// Other applications of the same address created its subject first, `attempts` times
    /// in a row; the client may retry shortly.
    #[error("the subject of this address kept being created by other applications ({attempts} attempts)")]
    SubjectContended { attempts: u32 },
    /// The subject of the address could not be looked up.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// What became of one decision of the submission.
enum Attempt {
    /// Recorded.
    Done { position: i64 },
    /// Its transaction was aborted because this subject of the address was created
    /// meanwhile: decide again with it.
    Raced { winner: Uuid },
}

/// Submits `application` to its visit on `bus`, the command being `command(subject_id)`:
/// looks up the address's subject (a fresh id for a new address), runs the command with the
/// personal data written in its transaction, and decides again with the winner's subject
/// when another application of the address created it first (at most [`MAX_ATTEMPTS`]).
pub async fn submit<A>(
    bus: &CommandBus<A>,
    pool: &PgPool,
    hasher: &EmailHasher,
    application: &NewApplication,
    ctx: &CommandContext,
    command: impl Fn(Uuid) -> A::Command,
) -> Result<Submitted, SubmitError<A::Error>>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync,
{
    let email_hash = hasher.hash(&application.person.email.trim().to_lowercase());
    let applicant_key = application.applicant_key.clone();
    let mut subject_id = personal_data::find_subject(pool, &email_hash)
        .await?
        .unwrap_or_else(Uuid::now_v7);
    for _ in 0..MAX_ATTEMPTS {
        let attempt = attempt(
            bus,
            application,
            &email_hash,
            &applicant_key,
            subject_id,
            ctx,
            command(subject_id),
        )
        .await
        .map_err(SubmitError::Command)?;
        match attempt {
            Attempt::Done { position } => {
                return Ok(Submitted {
                    position,
                    subject_id,
                    applicant_key,
                })
            }
            Attempt::Raced { winner } => subject_id = winner,
        }
    }
    Err(SubmitError::SubjectContended {
        attempts: MAX_ATTEMPTS,
    })
}

/// One decision of the submission under `subject_id`.
async fn attempt<A>(
    bus: &CommandBus<A>,
    application: &NewApplication,
    email_hash: &[u8],
    applicant_key: &str,
    subject_id: Uuid,
    ctx: &CommandContext,
    command: A::Command,
) -> Result<Attempt, PipelineError<A::Error>>
where
    A: Aggregate + Clone + 'static,
    A::Command: Clone + Send + Sync,
    A::Error: Send + Sync,
{
    let raced = RaceReport::default();
    let write = side_write(Submission {
        data: ApplicationData {
            email_hash: email_hash.to_vec(),
            subject_id,
            visit_id: application.visit_id,
            application_id: application.application_id,
            person: application.person.clone(),
            key_hash: personal_data::key_hash(applicant_key),
        },
        raced: raced.clone(),
    });
    let result = bus
        .execute_with(&application.visit_id.to_string(), command, ctx, Some(write))
        .await;
    // Only a failed command raced: one whose group commit failed for a raced subject may
    // still commit when decided alone, and then it stands.
    match (result, raced.winner()) {
        (Ok(done), _) => Ok(Attempt::Done {
            position: done.position,
        }),
        (Err(_), Some(winner)) => Ok(Attempt::Raced { winner }),
        (Err(e), None) => Err(e),
    }
}

/// The side row of a submission: its personal data and key, and where to report that its
/// subject raced.
struct Submission {
    data: ApplicationData,
    raced: RaceReport,
}

impl SideRow for Submission {
    fn write_all(conn: &mut PgConnection, rows: Vec<Arc<Self>>) -> SideFuture<'_> {
        Box::pin(async move {
            let data: Vec<&ApplicationData> = rows.iter().map(|r| &r.data).collect();
            match personal_data::record_applications(conn, &data).await {
                Ok(()) => Ok(()),
                Err(RecordError::Database(e)) => Err(e),
                Err(RecordError::SubjectRaced(raced)) => {
                    for (i, winner) in raced {
                        if let Some(row) = rows.get(i) {
                            row.raced.report(winner);
                        }
                    }
                    Err(raced_abort())
                }
            }
        })
    }
}

/// Where a side write reports that its subject raced. The write can only abort its
/// transaction with an `sqlx::Error` (the bus's `SideWrite` contract) and the bus turns
/// that into an internal error string; this is how the outcome reaches [`attempt`] typed.
#[derive(Clone, Default)]
struct RaceReport(Arc<Mutex<Option<Uuid>>>);

impl RaceReport {
    fn report(&self, winner: Uuid) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(winner);
    }

    fn winner(&self) -> Option<Uuid> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The error that aborts the transaction of a raced subject. Only its message matters (it
/// is logged when the bus splits a failed group); [`RaceReport`] carries the outcome.
fn raced_abort() -> sqlx::Error {
    sqlx::Error::InvalidArgument(
        "the subject of this e-mail address was created by another application meanwhile; \
         the submission is decided again with it"
            .into(),
    )
}
