//! The `Idempotency-Key` middleware (API.md): a repeated POST or PUT with the same key and
//! body gets the first answer again and writes nothing. Done once here for every route, so
//! a new command cannot forget it.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use infra::idempotency::{self, Reservation};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;
use crate::request::IDEMPOTENCY_KEY;
use crate::state::AppState;

const MAX_BODY: usize = 256 * 1024;

/// Axum middleware applying idempotency keys.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !(req.method() == Method::POST || req.method() == Method::PUT) {
        return next.run(req).await;
    }
    let Some(key) = req
        .headers()
        .get(IDEMPOTENCY_KEY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    if key.is_empty() || key.len() > 200 {
        return ApiError::bad_param("Idempotency-Key", "must be 1 to 200 characters")
            .into_response();
    }
    // A key is private to its caller: the same key from another token is another request.
    let caller = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| hex::encode(&Sha256::digest(v.as_bytes())[..12]))
        .unwrap_or_else(|| "public".to_owned());
    let scope = format!("{} {} {}", req.method(), req.uri().path(), caller);
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return ApiError::BadRequest {
            detail: "The request body is too large or unreadable.".into(),
            errors: vec![],
        }
        .into_response();
    };
    let hash = idempotency::request_hash(&bytes);
    match idempotency::reserve(&state.pool, &scope, &key, &hash).await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Reservation::Mismatch) => ApiError::invalid_field(
            "Idempotency-Key",
            "this key was already used for a request with a different body",
        )
        .into_response(),
        Ok(Reservation::InProgress) => ApiError::Conflict {
            code: "idempotency_in_progress".into(),
            detail: "A request with this Idempotency-Key is still being processed.".into(),
        }
        .into_response(),
        Ok(Reservation::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let content_type = if status.is_success() {
                "application/json"
            } else {
                "application/problem+json"
            };
            let mut res = (status, body.to_string()).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            res.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            res
        }
        Ok(Reservation::Fresh) => {
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if res.status().is_server_error() {
                if let Err(e) = idempotency::release(&state.pool, &scope, &key).await {
                    tracing::warn!(error = %e, "could not release an idempotency key");
                }
                return res;
            }
            let (parts, body) = res.into_parts();
            let Ok(bytes) = to_bytes(body, usize::MAX).await else {
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let stored: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            });
            if let Err(e) =
                idempotency::complete(&state.pool, &scope, &key, parts.status.as_u16(), &stored)
                    .await
            {
                tracing::warn!(error = %e, "could not store an idempotent answer");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
