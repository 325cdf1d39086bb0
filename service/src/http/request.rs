//! What every command needs from its request: correlation, causation and idempotency ids.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use infra::CommandContext;
use uuid::Uuid;

use crate::http::problem::ApiError;

/// Header carrying the correlation id across systems (echoed on every answer).
pub const CORRELATION_ID: &str = "x-correlation-id";
/// Header carrying the request id, generated for every request by [`assign_ids`].
pub const REQUEST_ID: &str = "x-request-id";
/// Header with which an applicant proves an application is theirs (the key given once at
/// submission): their credential on the applicant's own routes.
pub const APPLICANT_KEY: &str = "x-applicant-key";

/// A request's path as it may be logged: an applicant's page holds their key in its address
/// (`/zgloszenia/{id}/{key}…`), a credential no log line may carry.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/zgloszenia/") {
        Some(rest) => {
            let mut parts = rest.splitn(3, '/');
            let id = parts.next().unwrap_or_default();
            match (parts.next(), parts.next()) {
                (Some(_key), Some(tail)) => format!("/zgloszenia/{id}/[klucz]/{tail}").into(),
                (Some(_key), None) => format!("/zgloszenia/{id}/[klucz]").into(),
                _ => path.into(),
            }
        }
        None => path.into(),
    }
}

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

/// Longest correlation id taken from a client.
const MAX_ID_LEN: usize = 128;

/// A client's id when it is safe to log and to store: 1 to 128 characters of letters,
/// digits and `-_.:/@+`. Anything else is ignored (not an error): a log line must not carry
/// whatever a client chose to put there.
fn well_formed(value: Option<&HeaderValue>) -> Option<HeaderValue> {
    let v = value?.to_str().ok()?.trim();
    let ok = !v.is_empty()
        && v.len() <= MAX_ID_LEN
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@+".contains(&b));
    ok.then(|| HeaderValue::from_str(v).ok()).flatten()
}

/// Middleware giving every request a fresh request id (`X-Request-Id`) and a correlation id
/// (`X-Correlation-Id`): the client's `X-Correlation-Id`, else its `X-Request-Id`, when well
/// formed, else the request id. Both are set on the request (for the log span and the
/// command metadata) and echoed on the answer.
pub async fn assign_ids(mut req: Request, next: Next) -> Response {
    let request_id =
        HeaderValue::from_str(&Uuid::now_v7().to_string()).unwrap_or(HeaderValue::from_static("-"));
    let correlation_id = well_formed(req.headers().get(CORRELATION_ID))
        .or_else(|| well_formed(req.headers().get(REQUEST_ID)))
        .unwrap_or_else(|| request_id.clone());
    req.headers_mut().insert(REQUEST_ID, request_id.clone());
    req.headers_mut()
        .insert(CORRELATION_ID, correlation_id.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(REQUEST_ID, request_id);
    res.headers_mut().insert(CORRELATION_ID, correlation_id);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_ids_are_taken_from_clients() {
        let ok = HeaderValue::from_static("korelacja-0192f0c1:abc/1");
        assert_eq!(well_formed(Some(&ok)), Some(ok.clone()));
        for bad in ["", "a b", "x\"y", "ą", "<script>"] {
            let v = HeaderValue::from_str(bad).ok();
            assert_eq!(well_formed(v.as_ref()), None, "{bad:?}");
        }
        let long = HeaderValue::from_str(&"a".repeat(129)).expect("header");
        assert_eq!(well_formed(Some(&long)), None);
        assert_eq!(well_formed(None), None);
    }
}
