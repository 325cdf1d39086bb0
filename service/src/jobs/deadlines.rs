//! The deadline watcher: closes each open term when its recruitment deadline passes, and
//! records the expiry of each seat offer whose time ran out (the next person is then
//! offered the seat), both by the service's clock.
//!
//! It keeps no state of its own: open terms and their deadlines come from the `study_visits`
//! read model, so it picks up where it was after a restart. Exactly once is the aggregate's
//! job: closing a term that is no longer open is refused, so a second close (another
//! instance, a restart mid-way, a manual close) writes nothing.

use std::time::Duration;

use domain::study_visit::{CloseTrigger, StudyVisitCommand};
use infra::{CommandContext, PipelineError};
use projections::study_visits::read::{self, DueTerm};
use projections::ReadError;

use crate::http::state::AppState;

/// Runs forever, in one instance at a time (a lease; another instance takes over within a
/// second or so of this one dying), checking at most every `poll` and waking at the next
/// known deadline.
pub async fn run(state: AppState, poll: Duration) {
    let leases = infra::locks::Leases::start(&state.pool, projections::runner::LEASE_RETRY);
    leases
        .lease("deadline-watcher")
        .run(|| watch(state.clone(), poll))
        .await;
}

async fn watch(state: AppState, poll: Duration) {
    loop {
        let next = match close_due(&state).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "deadline watcher could not read open terms");
                None
            }
        };
        let next_offer = match expire_offers(&state).await {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "deadline watcher could not read standing offers");
                None
            }
        };
        let next = match (next, next_offer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let now = state.clock.now();
        let wait = next
            .and_then(|at| (at - now).to_std().ok())
            .map_or(poll, |until| until.min(poll))
            .max(Duration::from_millis(20));
        tokio::time::sleep(wait).await;
    }
}

/// Records the expiry of every standing offer whose time ran out; returns the next expiry.
pub async fn expire_offers(
    state: &AppState,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ReadError> {
    let now = state.clock.now();
    let due =
        projections::applications::read::expired_offers(&mut *state.pool.acquire().await?, now)
            .await?;
    for (visit_id, application_id) in due {
        let ctx = CommandContext {
            actor: "system:deadline-watcher".into(),
            organizer_scope: None,
            correlation_id: format!("offer:{application_id}"),
            causation_id: format!("offer:{application_id}"),
            command: "ExpireOffer".into(),
            idempotency_key: None,
        };
        let cmd = StudyVisitCommand::ExpireOffer { application_id };
        match state.visits.execute(&visit_id.to_string(), cmd, &ctx).await {
            Ok(done) => {
                tracing::info!(%visit_id, %application_id, position = done.position, "seat offer expired")
            }
            // Accepted or declined meanwhile, or expired by another instance.
            Err(PipelineError::Domain(e)) => {
                tracing::debug!(%application_id, reason = %e, "offer not expired by the watcher")
            }
            Err(e) => {
                tracing::warn!(%application_id, error = %e, "recording an offer's expiry failed; will retry")
            }
        }
    }
    projections::applications::read::next_offer_expiry(&mut *state.pool.acquire().await?).await
}

/// Closes every open term whose deadline has passed; returns the next deadline ahead.
pub async fn close_due(
    state: &AppState,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ReadError> {
    let now = state.clock.now();
    // A connection only for the read: the commands below take their own.
    let due = read::due_terms(&mut *state.pool.acquire().await?, now).await?;
    for DueTerm { visit_id, term_id } in due {
        let ctx = CommandContext {
            actor: "system:deadline-watcher".into(),
            organizer_scope: None,
            correlation_id: format!("deadline:{term_id}"),
            causation_id: format!("deadline:{term_id}"),
            command: "CloseRecruitment".into(),
            idempotency_key: None,
        };
        let cmd = StudyVisitCommand::CloseRecruitment {
            term_id,
            trigger: CloseTrigger::Deadline,
        };
        match state.visits.execute(&visit_id.to_string(), cmd, &ctx).await {
            Ok(done) => {
                tracing::info!(%visit_id, %term_id, position = done.position, "term closed at its deadline")
            }
            // Already closed (by hand, by another instance, before a restart): nothing to do.
            Err(PipelineError::Domain(e)) => {
                tracing::debug!(%term_id, reason = %e, "term not closed by the watcher")
            }
            Err(e) => {
                tracing::warn!(%term_id, error = %e, "closing at the deadline failed; will retry")
            }
        }
    }
    read::next_deadline(&mut *state.pool.acquire().await?).await
}
