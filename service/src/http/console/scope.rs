//! A visit, or one term's roster, as the console's pages load it: from the read models, and
//! only when the signed-in account may see it. Another organizer's visit is 404 as one that
//! does not exist, as in the API, so a page cannot tell which ids exist elsewhere. One place
//! for the rule, since every page of a visit starts with it.

use axum::response::Response;
use domain::study_visit::Roster;
use infra::accounts::User;
use projections::study_visits::read::{self as visits, Term, Visit};
use uuid::Uuid;

use crate::http::page::{not_found, private, service_error};
use crate::http::state::AppState;

/// Whether `user` may read what `organizer` runs (an admin or an evaluator without an
/// organizer reads every organizer's).
pub fn may_read(user: &User, organizer: &str) -> bool {
    user.organizer.as_deref().is_none_or(|own| own == organizer)
}

/// The visit `visit_id` and its terms, or the page to answer instead (404 for an id that is
/// not one, a visit that does not exist or one of another organizer).
pub async fn visit(
    state: &AppState,
    user: &User,
    visit_id: &str,
) -> Result<(Uuid, Visit, Vec<Term>), Response> {
    let Ok(visit_id) = Uuid::parse_str(visit_id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        let Some(visit) = visits::visit(&mut conn, visit_id).await? else {
            return Ok(None);
        };
        let terms = visits::terms(&mut conn, &[visit_id]).await?;
        Ok::<_, projections::ReadError>(Some((visit, terms)))
    }
    .await;
    match loaded {
        Ok(Some((v, t))) if may_read(user, &v.organizer) => Ok((visit_id, v, t)),
        Ok(_) => Err(private(not_found())),
        Err(e) => Err(private(service_error(e.into()))),
    }
}

/// A term of a visit with its roster (the provisional ranking while open), or the page to
/// answer instead, as [`visit`].
pub async fn roster(
    state: &AppState,
    user: &User,
    visit_id: &str,
    term_id: &str,
) -> Result<(Uuid, Visit, Term, Roster), Response> {
    let Ok(term_id) = Uuid::parse_str(term_id) else {
        return Err(private(not_found()));
    };
    let (visit_id, visit, terms) = visit(state, user, visit_id).await?;
    let Some(term) = terms.into_iter().find(|t| t.term_id == term_id) else {
        return Err(private(not_found()));
    };
    let loaded = async {
        let mut conn = state.pool.acquire().await?;
        projections::applications::read::roster(&mut conn, visit_id, term_id).await
    }
    .await;
    match loaded {
        Ok(Some(r)) => Ok((visit_id, visit, term, r)),
        Ok(None) => Err(private(not_found())),
        Err(e) => Err(private(service_error(e.into()))),
    }
}

/// Waits (up to the read wait) for the read models to show the console's own change; a
/// page shown a moment early is better than an error, so a timeout is let pass.
pub async fn settle(state: &AppState, po: Option<i64>) {
    if let Some(po) = po.filter(|p| *p > 0) {
        let _ =
            crate::http::consistency::wait_for(state, &["study_visits", "applications"], Some(po))
                .await;
    }
}
