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
    responses((status = 200, body = IntegrityReport, description = "Every event's hash, each stream's chain and every seal re-computed; the first finding named."),
              (status = 403, description = "A coordinator's token: audit checks are for evaluators and admins.")))]
async fn check(State(state): State<AppState>, auth: Auth) -> Result<Json<Report>, ApiError> {
    auth.audit_scope()?;
    let mut report = integrity::verify(state.reads(), &mut |_| {}).await?;
    if let Some(scope) = auth.read_scope() {
        let mut redact = Vec::new();
        for p in report.problems.iter().chain(report.first_broken.iter()) {
            if let (Some(t), Some(id)) = (&p.aggregate_type, &p.aggregate_id) {
                if infra::feed::organizer_of(state.reads(), t, id)
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

/// The newest seal (also the `latest_seal` of the integrity report and of the export's
/// trailer).
#[derive(Debug, Serialize, ToSchema)]
pub struct SealView {
    /// Seals are numbered 1, 2, … in the order they were taken.
    #[schema(minimum = 1)]
    pub seal_no: i64,
    /// Events covered by this seal and all before it.
    #[schema(minimum = 0)]
    pub events_total: i64,
    /// When the seal was taken (RFC 3339, UTC, microseconds).
    #[schema(format = DateTime)]
    pub sealed_at: String,
    /// The fingerprint of the whole history up to this seal (hex SHA-256).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub seal_hash: String,
}

/// What kind of tampering a finding points to: `altered` (an event's content no longer
/// matches its hash, or its successor recorded another), `removed` (a gap in a stream, or
/// fewer events than a seal counted), `inserted` (an event the service did not write), or
/// `seal_broken` (a seal does not match its content or its predecessor).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum IntegrityProblemKind {
    Altered,
    Removed,
    Inserted,
    SealBroken,
}

/// One finding of the integrity check, located as precisely as the evidence allows
/// (`infra::integrity::Problem`). Every field is always present; the location is null
/// where the evidence does not give it, or where it lies in another organizer's stream.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct IntegrityProblem {
    pub kind: IntegrityProblemKind,
    /// The position of the event concerned (for a removal: of the event after the gap).
    #[schema(required = true)]
    pub position: Option<i64>,
    #[schema(required = true, value_type = Option<crate::http::openapi::AggregateType>)]
    pub aggregate_type: Option<String>,
    #[schema(required = true)]
    pub aggregate_id: Option<String>,
    /// The sequence concerned (for a removal: the first missing one).
    #[schema(required = true)]
    pub sequence: Option<i64>,
    /// The seal that revealed it, when a seal did.
    #[schema(required = true)]
    pub seal_no: Option<i64>,
    /// What was found, in words.
    pub detail: String,
}

/// The outcome of a full integrity check (`infra::integrity::Report`). Every field is
/// always present.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct IntegrityReport {
    /// Events re-computed.
    pub verified: u64,
    /// Seals re-computed.
    pub seals_verified: u64,
    /// True when nothing was found.
    pub intact: bool,
    /// The first problem in commit order; null when intact.
    #[schema(required = true)]
    pub first_broken: Option<IntegrityProblem>,
    /// How many problems were found in all.
    pub problem_count: u64,
    /// The first problems (at most 20), in the order found.
    #[schema(max_items = 20)]
    pub problems: Vec<IntegrityProblem>,
    /// The newest seal checked: its hash is the fingerprint to hand to outsiders; null
    /// when nothing is sealed yet.
    #[schema(required = true)]
    pub latest_seal: Option<SealView>,
    /// Events written after the newest seal: the chain protects them, a seal not yet.
    pub unsealed: u64,
}

/// The newest seal: write its hash down (or publish it) to detect any later rewrite.
#[utoipa::path(get, path = "/api/v1/audit/seals/latest", operation_id = "get_latest_seal", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = SealView, description = "The newest seal."),
        (status = 403, description = "A coordinator's token: audit checks are for evaluators and admins."),
        (status = 404, description = "Nothing has been sealed yet.")))]
async fn latest_seal(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<SealView>, ApiError> {
    auth.audit_scope()?;
    let seal = infra::seal::latest(state.reads())
        .await?
        .ok_or_else(|| ApiError::NotFound("Nothing has been sealed yet.".into()))?;
    Ok(Json(SealView {
        seal_no: seal.seal_no,
        events_total: seal.events_total,
        sealed_at: infra::chain::instant(seal.sealed_at),
        seal_hash: infra::chain::to_hex(&seal.seal_hash),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use infra::integrity::{Problem, ProblemKind, Report};
    use infra::seal::Seal;

    fn holds(schema: &str, value: &impl serde::Serialize) {
        let v = serde_json::to_value(value).expect("json");
        tests::contract::check_schema(schema, &v).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn integrity_reports_serialize_as_described() {
        let seal = Seal {
            seal_no: 3,
            horizon: 1234,
            events_total: 120,
            heads: vec![],
            prev_seal: [7; 32],
            seal_hash: [9; 32],
            sealed_at: Utc::now(),
        };
        holds("SealView", &seal.summary());
        let problem = |kind, located: bool| Problem {
            kind,
            position: located.then_some(17),
            aggregate_type: located.then(|| "StudyVisit".to_owned()),
            aggregate_id: located.then(|| uuid::Uuid::now_v7().to_string()),
            sequence: located.then_some(4),
            seal_no: None,
            detail: "the stored hash does not match the event".to_owned(),
        };
        let intact = Report {
            verified: 120,
            seals_verified: 3,
            intact: true,
            first_broken: None,
            problem_count: 0,
            problems: vec![],
            latest_seal: Some(seal.summary()),
            unsealed: 0,
        };
        holds("IntegrityReport", &intact);
        let broken = Report {
            verified: 120,
            seals_verified: 0,
            intact: false,
            first_broken: Some(problem(ProblemKind::Altered, true)),
            problem_count: 4,
            problems: vec![
                problem(ProblemKind::Altered, true),
                problem(ProblemKind::Removed, true),
                problem(ProblemKind::Inserted, false),
                problem(ProblemKind::SealBroken, false),
            ],
            latest_seal: None,
            unsealed: 120,
        };
        holds("IntegrityReport", &broken);
    }
}
