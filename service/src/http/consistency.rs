//! Reading one's own writes (API.md): every command answers the position it wrote, and a
//! read with `?min_position=N` answers only once its read models (or the audit history)
//! have that position, waiting up to the read wait, else 503 with `Retry-After`.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// `?min_position=`: read your own writes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Consistency {
    /// Answer only once the read model has processed this position, the `position` a
    /// command answered (waits up to 5 s, then 503).
    #[param(minimum = 0)]
    pub min_position: Option<i64>,
}

/// Waits for `projections` to reach `min_position`, else 503 with Retry-After.
pub async fn wait_for(
    state: &AppState,
    projections: &[&str],
    min_position: Option<i64>,
) -> Result<(), ApiError> {
    let Some(position) = min_position else {
        return Ok(());
    };
    if position < 0 {
        return Err(ApiError::bad_param(
            "min_position",
            "negative_number",
            "must be 0 or more",
        ));
    }
    let reached = projections::runner::wait_for_position(
        state.reads(),
        projections,
        position,
        state.read_wait,
    )
    .await?;
    if reached {
        Ok(())
    } else {
        Err(ApiError::Unavailable {
            detail: format!(
                "The read model has not yet processed position {position}; retry shortly."
            ),
            retry_after_secs: 1,
        })
    }
}

/// Waits until the event at `position` is in the commit-ordered history (the audit's
/// `?min_position=`), else 503 with Retry-After.
pub async fn wait_for_history(state: &AppState, position: i64) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + state.read_wait;
    while !infra::feed::is_settled(state.reads(), position).await? {
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::Unavailable {
                detail: format!("Position {position} is not yet in the history; retry shortly."),
                retry_after_secs: 1,
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    }
    Ok(())
}

/// Where a projection stands (the `position` of a read answer).
pub async fn position(state: &AppState, name: &str) -> Result<i64, ApiError> {
    Ok(infra::checkpoints::position(state.reads(), name).await?)
}
