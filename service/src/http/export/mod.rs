//! The audit export: JSON Lines of events with metadata and hashes, streamed in constant
//! memory, ending with a trailer for completeness (format in docs/audit.md).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use infra::export::{ExportFilter, Exporter};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::http::auth::Auth;
use crate::http::extract::ApiQuery;
use crate::http::history::AGGREGATE_TYPES;
use crate::http::problem::ApiError;
use crate::http::state::AppState;
use crate::http::validate;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export))
}

/// Which events to export; all parameters optional.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// Events recorded at or after this instant (RFC 3339 with its offset).
    #[param(value_type = Option<String>, format = DateTime, example = "2022-06-01T00:00:00+02:00")]
    pub from: Option<String>,
    /// Events recorded before this instant (RFC 3339 with its offset), after `from`.
    #[param(value_type = Option<String>, format = DateTime, example = "2022-07-01T00:00:00+02:00")]
    pub to: Option<String>,
    /// One organizer (a slug; a token with an organizer exports only its own, naming
    /// another is 403).
    pub organizer: Option<String>,
    /// Only events of this aggregate type.
    #[param(value_type = Option<crate::http::openapi::AggregateType>)]
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate (its id; ids are unique across aggregate types).
    pub aggregate_id: Option<String>,
}

/// Streams the events of a period, an organizer or one aggregate as JSON Lines; the last
/// line is `{"export": {"events", "digest", "streams", "seal", ...}}`.
#[utoipa::path(get, path = "/api/v1/audit/export", operation_id = "export_history", tag = "audit", security(("bearer" = [])), params(ExportParams),
    responses((status = 200, content_type = "application/x-ndjson", body = String,
            description = "JSON Lines (docs/audit.md): one event per line with its metadata and hashes, in commit order, then the trailer `{\"export\": {\"events\", \"digest\", \"streams\", \"seal\", …}}`. A body without the trailer was cut short and is incomplete.",
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"koordynator-audit.jsonl\"`"))),
        (status = 400, description = "`from` or `to` is not an RFC 3339 instant, `to` is not after `from`, or `aggregate_type` is not one of the three."),
        (status = 403, description = "A coordinator's token, or a token bound to one organizer naming another.")))]
async fn export(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    auth.audit_scope()?;
    let instant = |field: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| validate::instant(v).map_err(|e| ApiError::bad_value(field, e)))
            .transpose()
    };
    let from = instant("from", &p.from)?;
    let to = instant("to", &p.to)?;
    if let (Some(a), Some(b)) = (from, to) {
        if b <= a {
            return Err(ApiError::bad_param(
                "to",
                "range_empty",
                "must be after from",
            ));
        }
    }
    if let Some(t) = &p.aggregate_type {
        if !AGGREGATE_TYPES.contains(&t.as_str()) {
            return Err(ApiError::bad_param(
                "aggregate_type",
                "aggregate_type_unknown",
                "must be StudyVisit, CooperationProgram or Network",
            ));
        }
    }
    let organizer = match (auth.read_scope(), p.organizer) {
        (Some(own), Some(asked)) if own != asked => {
            return Err(ApiError::Forbidden(
                "A token with an organizer can export only that organizer's events.".into(),
            ))
        }
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let filter = ExportFilter {
        organizer,
        aggregate_type: p.aggregate_type,
        aggregate_id: p.aggregate_id,
        from,
        to,
    };
    let exporter = Exporter::start(state.reads().clone(), filter, chrono::Utc::now()).await?;
    let stream = futures::stream::unfold(exporter, |mut ex| async move {
        match ex.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok::<_, std::io::Error>(chunk), ex)),
            Ok(None) => None,
            Err(e) => {
                // The status line is gone already: end the body early. The missing trailer
                // tells the receiver the export is incomplete.
                tracing::error!(error = %e, "audit export aborted");
                None
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"koordynator-audit.jsonl\"",
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
