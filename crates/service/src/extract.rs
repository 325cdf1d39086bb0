//! Request extractors that answer in problem+json instead of axum's plain-text rejections.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, FieldError};

/// A JSON body: unparsable JSON is 400; a well-formed body with a missing field or a value
/// of the wrong type is 422 naming the field (through `serde_path_to_error`).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::BadRequest {
                        detail: "The request body is too large.".to_owned(),
                        errors: vec![],
                    }
                } else {
                    ApiError::BadRequest {
                        detail: format!("Cannot read the request body: {e}"),
                        errors: vec![],
                    }
                }
            })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON document with the field-aware error mapping of [`ApiJson`].
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let field = if path == "." { String::new() } else { path };
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    ApiError::invalid(vec![FieldError::new(field, clean_message(&inner))])
                }
                _ => ApiError::BadRequest {
                    detail: format!("The body is not valid JSON: {inner}"),
                    errors: vec![FieldError::new(field, clean_message(&inner))],
                },
            });
        }
    };
    de.end().map_err(|e| ApiError::BadRequest {
        detail: format!("The body is not valid JSON: {e}"),
        errors: vec![],
    })?;
    Ok(value)
}

/// serde_json appends " at line L column C"; people do not need it.
fn clean_message(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_owned(),
        None => s,
    }
}

/// Path parameters; a malformed id is 404 (there is no such resource), not a 500.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| {
                ApiError::NotFound(format!("No such resource ({}).", e.body_text()))
            })
    }
}

/// Query parameters; a malformed one is 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest {
                detail: e.body_text(),
                errors: vec![],
            })
    }
}
