//! Tamper evidence for evaluators: re-compute every hash and seal (`/audit/integrity`) and
//! see the newest seal, whose hash is the fingerprint of the whole history.

use axum::extract::State;
use axum::Json;
use infra::integrity::{self, Report};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Auth;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check))
        .routes(routes!(latest_seal))
}

/// Re-computes every event's hash, the chain of each stream and every seal; names the first
/// altered, removed or inserted event. Covers the whole store (a change anywhere matters to
/// everyone); a finding in another organizer's stream is shown without its aggregate.
#[utoipa::path(get, path = "/api/v1/audit/integrity", operation_id = "check_integrity", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = Object, description = "`{verified, intact, first_broken, problem_count, problems, seals_verified, latest_seal, unsealed}`"),
              (status = 401), (status = 403)))]
async fn check(State(state): State<AppState>, auth: Auth) -> Result<Json<Report>, ApiError> {
    auth.audit_scope()?;
    let mut report = integrity::verify(&state.pool, &mut |_| {}).await?;
    if let Some(scope) = auth.read_scope() {
        let mut redact = Vec::new();
        for p in report.problems.iter().chain(report.first_broken.iter()) {
            if let (Some(t), Some(id)) = (&p.aggregate_type, &p.aggregate_id) {
                if infra::feed::organizer_of(&state.pool, t, id)
                    .await?
                    .as_deref()
                    != Some(scope.as_str())
                {
                    redact.push((t.clone(), id.clone()));
                }
            }
        }
        for p in report
            .problems
            .iter_mut()
            .chain(report.first_broken.iter_mut())
        {
            let key = (p.aggregate_type.clone(), p.aggregate_id.clone());
            if redact
                .iter()
                .any(|(t, id)| key == (Some(t.clone()), Some(id.clone())))
            {
                p.aggregate_type = None;
                p.aggregate_id = None;
                p.detail = "in a stream of another organizer".to_owned();
            }
        }
    }
    Ok(Json(report))
}

/// The newest seal.
#[derive(Debug, Serialize, ToSchema)]
pub struct SealView {
    pub seal_no: i64,
    /// Events covered by this seal and all before it.
    pub events_total: i64,
    pub sealed_at: String,
    /// The fingerprint of the whole history up to this seal (hex SHA-256).
    pub seal_hash: String,
}

/// The newest seal: write its hash down (or publish it) to detect any later rewrite.
#[utoipa::path(get, path = "/api/v1/audit/seals/latest", operation_id = "get_latest_seal", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = SealView), (status = 404, description = "nothing sealed yet"), (status = 401), (status = 403)))]
async fn latest_seal(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<SealView>, ApiError> {
    auth.audit_scope()?;
    let seal = infra::seal::latest(&state.pool)
        .await?
        .ok_or_else(|| ApiError::NotFound("Nothing has been sealed yet.".into()))?;
    Ok(Json(SealView {
        seal_no: seal.seal_no,
        events_total: seal.events_total,
        sealed_at: infra::chain::instant(seal.sealed_at),
        seal_hash: infra::chain::to_hex(&seal.seal_hash),
    }))
}
