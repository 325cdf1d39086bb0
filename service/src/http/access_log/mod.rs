//! Who looked at what: the record of audit reads, for admins and evaluators of every organizer.

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use infra::access_log::{self, AccessEntry};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::AdditionalProperties;
use utoipa::openapi::{ObjectBuilder, Schema, Type};
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
    /// Id of the last entry already seen (0 = from the start).
    #[param(minimum = 0, default = 0)]
    pub after: Option<i64>,
    /// At most this many entries.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    pub limit: Option<i64>,
    /// Only reads by this actor (`token:<id>`).
    pub actor: Option<String>,
}

/// A page of the access log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogPage {
    /// Oldest first.
    #[schema(value_type = Vec<AccessLogEntry>)]
    pub entries: Vec<AccessEntry>,
    /// Pass as `after` for the next page (`after` itself when the page is empty).
    #[schema(minimum = 0)]
    pub next_after: i64,
}

/// Who may have read an audit record, as the access log notes it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum AccessRole {
    Admin,
    Coordinator,
    Evaluator,
    /// The request carried no valid token.
    None,
}

/// One recorded audit read (`infra::access_log::AccessEntry`). Every field is always
/// present.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AccessLogEntry {
    /// The entry's id: entries are numbered in the order they were written.
    #[schema(minimum = 1)]
    pub id: i64,
    /// When it was written (after the answer).
    pub at: DateTime<Utc>,
    /// `token:<id>`, `anonymous` when the request carried no valid token, or the actor of
    /// a purge.
    pub actor: String,
    pub role: AccessRole,
    /// The token's organizer; null for a token without one (and for no token).
    #[schema(required = true)]
    pub organizer: Option<String>,
    /// Method and route, e.g. `GET /api/v1/audit/export`; `PURGE access log` for a purge.
    pub action: String,
    /// The path read (empty for a purge).
    pub target: String,
    #[schema(schema_with = access_parameters)]
    pub parameters: serde_json::Value,
}

/// `parameters` of an access-log entry.
fn access_parameters() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            r#"What the read asked and how it was answered: `{"query": <query string or null>, "status": <answer status>}` for an audit read, `{"subjects": <n>, "status": 200}` for a personal-data look-up, `{"before": <instant>, "removed": <n>}` for a purge of the log."#,
        ))
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

/// Every audit read (the history, replays with `?at=`, verify, integrity, export), oldest first.
#[utoipa::path(get, path = "/api/v1/audit/access-log", operation_id = "list_access_log", tag = "audit", security(("bearer" = [])), params(AccessLogParams),
    responses((status = 200, body = AccessLogPage, description = "The entries after `after`, oldest first."),
        (status = 400, description = "`after` is negative, or `limit` is not 1 to 1000."),
        (status = 403, description = "A coordinator's token, or a token bound to one organizer: the log covers every organizer.")))]
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
        return Err(ApiError::bad_param(
            "after",
            "negative_number",
            "must be 0 or more",
        ));
    }
    let limit = crate::http::problem::page_limit(p.limit)?;
    let entries = access_log::page(&state.pool, after, limit, p.actor.as_deref()).await?;
    let next_after = entries.last().map_or(after, |e| e.id);
    Ok(Json(AccessLogPage {
        entries,
        next_after,
    }))
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use infra::access_log::AccessEntry;
    use serde_json::json;

    #[test]
    fn access_log_entries_serialize_as_described() {
        let entry = |role: &str, organizer: Option<&str>, parameters| AccessEntry {
            id: 7,
            at: Utc::now(),
            actor: "token:01".into(),
            role: role.into(),
            organizer: organizer.map(str::to_owned),
            action: "GET /api/v1/audit/events".into(),
            target: "/api/v1/audit/events".into(),
            parameters,
        };
        for e in [
            entry(
                "evaluator",
                Some("rops-torun"),
                json!({"query": "limit=10", "status": 200}),
            ),
            entry("none", None, json!({"query": null, "status": 401})),
            entry("admin", None, json!({"subjects": 1, "status": 200})),
        ] {
            let v = serde_json::to_value(&e).expect("json");
            tests::contract::check_schema("AccessLogEntry", &v).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
