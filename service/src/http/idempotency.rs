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

use crate::http::auth::ConsoleCaller;
use crate::http::problem::ApiError;
use crate::http::request::{APPLICANT_KEY, IDEMPOTENCY_KEY};
use crate::http::state::AppState;

const MAX_BODY: usize = 256 * 1024;

/// Axum middleware applying idempotency keys.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if !(req.method() == Method::POST || req.method() == Method::PUT) {
        return next.run(req).await;
    }
    let Some(key) = req.headers().get(IDEMPOTENCY_KEY) else {
        return next.run(req).await;
    };
    // A key that is not printable ASCII is refused rather than ignored: ignoring it would
    // carry the request out without the protection its sender asked for.
    let key = match key.to_str() {
        Ok(k) if k.bytes().all(|b| (b' '..=b'~').contains(&b)) => k.to_owned(),
        _ => {
            return ApiError::bad_param(
                "Idempotency-Key",
                "idempotency_key_characters",
                "must be printable ASCII characters (letters, digits, punctuation, spaces)",
            )
            .into_response()
        }
    };
    if key.is_empty() || key.len() > 200 {
        return ApiError::bad_param(
            "Idempotency-Key",
            "idempotency_key_length",
            "must be 1 to 200 characters",
        )
        .into_response();
    }
    // A key is private to its caller: the same key from another token, or from another
    // applicant (their key is their credential), is another request; a stored answer is
    // never given to whoever merely knows someone's Idempotency-Key.
    // The console's account (an in-process call, `console::api`) is a credential too.
    let console = req
        .extensions()
        .get::<ConsoleCaller>()
        .map(|ConsoleCaller(p)| format!("console-user:{}", p.token_id));
    let mut credentials: Vec<&[u8]> = [header::AUTHORIZATION.as_str(), APPLICANT_KEY]
        .into_iter()
        .filter_map(|name| req.headers().get(name).map(|v| v.as_bytes()))
        .collect();
    if let Some(c) = &console {
        credentials.push(c.as_bytes());
    }
    let caller = if credentials.is_empty() {
        "public".to_owned()
    } else {
        let mut digest = Sha256::new();
        for c in &credentials {
            digest.update((c.len() as u64).to_be_bytes());
            digest.update(c);
        }
        hex::encode(&digest.finalize()[..12])
    };
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
    let holder = uuid::Uuid::now_v7();
    match idempotency::reserve(&state.pool, &scope, &key, &hash, holder).await {
        Err(e) => {
            if infra::pipeline::is_unavailable(&e) {
                // The reservation may have been stored just before the database went away
                // (its commit unacknowledged): free it once the database is back, or the key
                // would answer "in progress" until the lease ends.
                retry_later(state.pool.clone(), scope, key, holder, None);
            }
            ApiError::from(e).into_response()
        }
        Ok(Reservation::Mismatch) => ApiError::invalid_field(
            "Idempotency-Key",
            "idempotency_key_reused",
            "this key was already used for a request with a different body",
        )
        .into_response(),
        Ok(Reservation::InProgress) => ApiError::Conflict {
            code: "idempotency_in_progress".into(),
            detail: "A request with this Idempotency-Key is still being processed.".into(),
        }
        .into_response(),
        Ok(Reservation::Applied { position }) => {
            tracing::warn!(
                position,
                "an abandoned idempotency reservation had committed; its answer was lost"
            );
            replay(409, idempotency::applied_answer(position))
        }
        Ok(Reservation::Replay { status, body }) => replay(status, body),
        Ok(Reservation::Fresh) => {
            let res = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if res.status() == StatusCode::SERVICE_UNAVAILABLE {
                // The database is likely away: free the key in the background rather than
                // keep the client waiting another pool timeout for the answer.
                retry_later(state.pool.clone(), scope, key, holder, None);
                return res;
            }
            if res.status().is_server_error() {
                if let Err(e) = idempotency::release(&state.pool, &scope, &key, holder).await {
                    tracing::warn!(error = %e, "could not release an idempotency key; retrying");
                    retry_later(state.pool.clone(), scope, key, holder, None);
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
            let status = parts.status.as_u16();
            if let Err(e) = idempotency::complete(&state.pool, &scope, &key, status, &stored).await
            {
                // The command has committed: its answer must reach the table, or a repeat
                // would wait for the lease and then learn only that it was carried out.
                tracing::warn!(error = %e, "could not store an idempotent answer; retrying");
                retry_later(
                    state.pool.clone(),
                    scope,
                    key,
                    holder,
                    Some((status, stored)),
                );
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}

/// Keeps trying, in the background, to store an answer (`Some`) or free a reservation
/// (`None`) that failed because the database was away, so a client that retries after the
/// outage gets its answer or a fresh run instead of "still in progress" until the lease ends.
fn retry_later(
    pool: sqlx::PgPool,
    scope: String,
    key: String,
    holder: uuid::Uuid,
    answer: Option<(u16, serde_json::Value)>,
) {
    tokio::spawn(async move {
        let mut wait = std::time::Duration::from_millis(100);
        // Past the lease the reservation is taken over anyway; stop there.
        let give_up = tokio::time::Instant::now() + idempotency::LEASE;
        while tokio::time::Instant::now() < give_up {
            let done = match &answer {
                Some((status, body)) => {
                    idempotency::complete(&pool, &scope, &key, *status, body).await
                }
                None => idempotency::release(&pool, &scope, &key, holder).await,
            };
            if done.is_ok() {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(std::time::Duration::from_secs(5));
        }
        tracing::error!("gave up storing an idempotency answer; the lease will free the key");
    });
}

/// The stored answer of an earlier request with the same key.
fn replay(status: u16, body: serde_json::Value) -> Response {
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
