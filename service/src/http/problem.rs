//! The HTTP error boundary: every refusal becomes an RFC 9457 problem document
//! (`application/problem+json`) with the status API.md prescribes.
//!
//! One enum for the whole API, built from each lower layer's error (domain, pipeline,
//! database), so a handler can use `?` and never invent a status of its own.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::error::{DomainError, ErrorKind};
use domain::values::ValueError;
use infra::PipelineError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One invalid field of a request: where, why (a stable code a program can branch on and
/// the Polish catalogue keys on), and a sentence for a person.
///
/// Deserializable too, so an answer already written (a replayed one included) can be read
/// back and said again in another language (`crate::http::messages::localize`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// JSON path of the field, e.g. `institution.nip`.
    pub field: String,
    /// Stable machine-readable reason, e.g. `nip_check_digit`, `text_too_long`,
    /// `missing_field`: one of the domain's codes (refusals and invalid values) or the
    /// service's own (docs/clients.md). Unlike `message`, it never changes with the wording
    /// or the language, so a client can branch on it or say it in its own words.
    #[schema(pattern = "^[a-z0-9_]+$", example = "nip_check_digit")]
    pub code: String,
    /// What is wrong with it, for a person: English, or Polish when the request asked for it
    /// (`Accept-Language: pl`).
    pub message: String,
    /// The bound the rule names, where the field chooses it: the most characters, for
    /// `text_too_long`. Absent for every other code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, example = 500)]
    pub limit: Option<usize>,
}

impl FieldError {
    /// A field error from its path, code and message.
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_owned(),
            message: message.into(),
            limit: None,
        }
    }

    /// The error a value's parser gave, under `field`: its code, sentence and bound.
    pub fn of(field: impl Into<String>, e: ValueError) -> Self {
        Self {
            field: field.into(),
            code: e.code.to_owned(),
            message: e.message,
            limit: e.limit,
        }
    }
}

/// The problem document as sent (RFC 9457).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// What kind of problem, as a URI reference relative to the service: `/problems/` and
    /// a code (`not_found`, `invalid_input`, or for a 409 the rule that refused, e.g.
    /// `/problems/recruitment_closed`).
    #[serde(rename = "type")]
    #[schema(
        format = "uri-reference",
        pattern = "^/problems/[a-z0-9_]+$",
        example = "/problems/not_found"
    )]
    pub kind: String,
    /// The status's reason phrase, e.g. `Not Found` (`Nie znaleziono` in Polish).
    pub title: String,
    /// The HTTP status of the answer.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong, for a person: English, or Polish when the request asked for it
    /// (`Accept-Language: pl`).
    pub detail: String,
    /// The precise reason where `type` names only its family: for a 404 the domain gave,
    /// what is missing (`term_not_found`, `application_not_found`, …). Absent otherwise
    /// (`type` is the reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9_]+$", example = "term_not_found")]
    pub code: Option<String>,
    /// Each invalid field (400 and 422); absent when no field is to blame.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(min_items = 1)]
    pub errors: Vec<FieldError>,
}

/// Everything the API can refuse with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body or a parameter could not be parsed at all.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 422: parsed, but some fields are invalid.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// 401: no token, or not a valid one.
    #[error("authentication required")]
    Unauthorized,
    /// 403: a valid token without the right.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource (or not visible to this caller).
    #[error("{0}")]
    NotFound(String),
    /// 404 for a reason the domain named (`term_not_found`, …): `type` stays
    /// `/problems/not_found`, and the problem's `code` says which thing is missing (so the
    /// answer can be said in Polish as precisely as in English).
    #[error("{detail}")]
    NotFoundCode { code: String, detail: String },
    /// 413: the body is larger than the service accepts.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429: this client sent too many requests of a limited kind; try again after a while.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_secs: u32,
    },
    /// 409: a rule of the domain refuses the command.
    #[error("{detail}")]
    Conflict { code: String, detail: String },
    /// 503: the database is unreachable or a read model is not there yet; try again.
    #[error("{detail}")]
    Unavailable {
        detail: String,
        retry_after_secs: u32,
    },
    /// 500: a defect on our side. Never caused by what a client sent.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// 422 for a list of field errors.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        ApiError::Invalid { detail, errors }
    }

    /// 422 for one field.
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::invalid(vec![FieldError::new(field, code, message)])
    }

    /// A value that validation accepted is missing afterwards: a defect of ours, never the
    /// client's (handlers return it where every field was checked with `Fields` first).
    pub fn validated_field_missing() -> Self {
        ApiError::Internal("a validated field is missing".into())
    }

    /// 400 for one unparsable parameter.
    pub fn bad_param(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::bad_param_error(FieldError::new(field, code, message))
    }

    /// 400 for a parameter its value's parser refused (keeping the parser's code).
    pub fn bad_value(field: &str, e: ValueError) -> Self {
        Self::bad_param_error(FieldError::of(field, e))
    }

    fn bad_param_error(e: FieldError) -> Self {
        ApiError::BadRequest {
            detail: format!("{}: {}", e.field, e.message),
            errors: vec![e],
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NotFoundCode { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &str {
        match self {
            ApiError::BadRequest { .. } => "bad_request",
            ApiError::Invalid { .. } => "invalid_input",
            ApiError::Unauthorized => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) | ApiError::NotFoundCode { .. } => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Unavailable { .. } => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let (detail, errors) = match self {
            ApiError::BadRequest { detail, errors } | ApiError::Invalid { detail, errors } => {
                (detail.clone(), errors.clone())
            }
            ApiError::Unauthorized => ("A valid bearer token is required.".to_owned(), vec![]),
            // Never leak internals to the client; they are in the log.
            ApiError::Internal(_) => (
                "An unexpected error occurred; it has been logged.".to_owned(),
                vec![],
            ),
            other => (other.to_string(), vec![]),
        };
        let code = match self {
            ApiError::NotFoundCode { code, .. } => Some(code.clone()),
            _ => None,
        };
        Problem {
            kind: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(msg) = &self {
            tracing::error!(error = %msg, "internal error");
        }
        let status = self.status();
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Unavailable {
                retry_after_secs, ..
            }
            | ApiError::TooManyRequests {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e.kind {
            ErrorKind::Invalid => ApiError::invalid(vec![FieldError::new(
                e.field.clone().unwrap_or_default(),
                e.code,
                e.message.clone(),
            )]),
            ErrorKind::Conflict => ApiError::Conflict {
                code: e.code.to_owned(),
                detail: e.message,
            },
            ErrorKind::NotFound => ApiError::NotFoundCode {
                code: e.code.to_owned(),
                detail: e.message,
            },
        }
    }
}

impl From<PipelineError<DomainError>> for ApiError {
    fn from(e: PipelineError<DomainError>) -> Self {
        match e {
            PipelineError::Domain(d) => d.into(),
            PipelineError::NotVisible => ApiError::NotFound("No such resource.".to_owned()),
            PipelineError::Contention { .. } | PipelineError::Unavailable(_) => {
                tracing::warn!(error = %e, "command could not be completed now");
                ApiError::Unavailable {
                    detail: "The service is busy or its database is unavailable; retry shortly."
                        .to_owned(),
                    retry_after_secs: 1,
                }
            }
            PipelineError::Internal(msg) => ApiError::Internal(msg),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        if infra::pipeline::is_unavailable(&e) {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::Unavailable {
                detail: "The database is unavailable; retry shortly.".to_owned(),
                retry_after_secs: 2,
            }
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

impl From<projections::ReadError> for ApiError {
    fn from(e: projections::ReadError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            ApiError::Unavailable {
                detail: "The database is unavailable; retry shortly.".to_owned(),
                retry_after_secs: 2,
            }
        } else {
            ApiError::Internal(e.to_string())
        }
    }
}

/// Turns an error answer that is not a problem document (made by a layer or by axum itself:
/// a timeout, 405, 413 of a raw-body route, 408 of a slow body) into one, keeping its status
/// and headers, so every refusal a client sees has the same shape.
pub async fn plain_errors_as_problems(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    // Problems pass, and so do JSON answers a handler chose to give with an error status
    // (`/health` and `/ready` say what is unavailable with 503).
    let is_deliberate = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/problem+json")
                || v.starts_with("application/json")
                // The pages answer their refusals as pages.
                || v.starts_with("text/html")
        });
    if is_deliberate {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let detail = match status {
        StatusCode::SERVICE_UNAVAILABLE => "The request took too long to answer; retry shortly.",
        StatusCode::REQUEST_TIMEOUT => "The request body was not sent in time.",
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than the service accepts.",
        StatusCode::METHOD_NOT_ALLOWED => "This method is not allowed on this path.",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "This content type is not accepted here.",
        _ => status.canonical_reason().unwrap_or("Error"),
    };
    let code = status
        .canonical_reason()
        .unwrap_or("error")
        .to_lowercase()
        .replace(' ', "_");
    let problem = Problem {
        kind: format!("/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.to_owned(),
        code: None,
        errors: vec![],
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    if status == StatusCode::SERVICE_UNAVAILABLE && !parts.headers.contains_key(header::RETRY_AFTER)
    {
        parts
            .headers
            .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
    }
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// A page's `limit` query parameter: 1 to 1000, 100 when absent (400 naming it otherwise).
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let limit = limit.unwrap_or(100);
    if (1..=1000).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::bad_param(
            "limit",
            "out_of_range",
            "must be between 1 and 1000",
        ))
    }
}
