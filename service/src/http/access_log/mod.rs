//! Who looked at what: the record of audit reads, for admins and evaluators of every organizer.

use axum::extract::State;
use axum::Json;
use infra::access_log::{self, AccessEntry};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Auth;
use crate::http::extract::ApiQuery;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(access_log))
}

/// Paging of the access log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccessLogParams {
    /// Id of the last entry already seen.
    pub after: Option<i64>,
    /// At most this many entries (1–1000, default 100).
    pub limit: Option<i64>,
    /// Only reads by this actor (`token:<id>`).
    pub actor: Option<String>,
}

/// A page of the access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogPage {
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<AccessEntry>,
    pub next_after: i64,
}

/// Every audit read (the history, replays with `?at=`, verify, integrity, export), oldest first.
#[utoipa::path(get, path = "/api/v1/audit/access-log", operation_id = "list_access_log", tag = "audit", security(("bearer" = [])), params(AccessLogParams),
    responses((status = 200, body = AccessLogPage), (status = 400), (status = 401), (status = 403)))]
async fn access_log(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<AccessLogParams>,
) -> Result<Json<AccessLogPage>, ApiError> {
    auth.audit_scope()?;
    if auth.read_scope().is_some() {
        return Err(ApiError::Forbidden(
            "The access log covers every organizer: only admins and evaluators without an organizer read it."
                .into(),
        ));
    }
    let after = p.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_param("after", "must be 0 or more"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_param("limit", "must be between 1 and 1000"));
    }
    let entries = access_log::page(&state.pool, after, limit, p.actor.as_deref()).await?;
    let next_after = entries.last().map_or(after, |e| e.id);
    Ok(Json(AccessLogPage {
        entries,
        next_after,
    }))
}
