//! What every command needs from its request: correlation, causation and idempotency ids.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use infra::CommandContext;
use uuid::Uuid;

use crate::problem::ApiError;

/// Header carrying the correlation id across systems (echoed on every answer).
pub const CORRELATION_ID: &str = "x-correlation-id";
/// Header carrying the request id set by the tracing layer.
pub const REQUEST_ID: &str = "x-request-id";
/// Header making a POST safe to repeat.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Ids taken from the request headers.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub correlation_id: String,
    pub request_id: String,
    pub idempotency_key: Option<String>,
}

impl RequestMeta {
    /// The command context for `actor` acting within `scope`.
    pub fn context(&self, actor: String, scope: Option<String>, command: &str) -> CommandContext {
        CommandContext {
            actor,
            organizer_scope: scope,
            correlation_id: self.correlation_id.clone(),
            causation_id: format!("request:{}", self.request_id),
            command: command.to_owned(),
            idempotency_key: self.idempotency_key.clone(),
        }
    }
}

fn header(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestMeta {
            correlation_id: header(parts, CORRELATION_ID)
                .unwrap_or_else(|| Uuid::now_v7().to_string()),
            request_id: header(parts, REQUEST_ID).unwrap_or_else(|| Uuid::now_v7().to_string()),
            idempotency_key: header(parts, IDEMPOTENCY_KEY),
        })
    }
}
