//! Request extractors that answer in problem+json instead of axum's plain-text rejections.
//!
//! serde's own refusals get codes like every other field error (`missing_field`,
//! `wrong_type`, `nul_character`, …; see [`serde_code`]), so a client, and the Polish
//! catalogue, can tell them apart without reading serde's English.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::problem::{ApiError, FieldError};

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
                    ApiError::PayloadTooLarge(format!(
                        "The request body is larger than the service accepts ({} KiB).",
                        crate::http::limits::BODY_LIMIT_BYTES / 1024
                    ))
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

/// Deepest nesting of arrays and objects a body may have. No form of the API nests deeper
/// than a handful of levels; a deep document only costs stack and time (serde_json itself
/// stops at 128, with a message that does not say why).
pub const MAX_JSON_DEPTH: usize = 32;

/// The deepest nesting of arrays and objects in `bytes`, counted without parsing (a loop
/// over the bytes, so no recursion however deep the input), stopping once it passes `limit`.
/// Brackets inside strings do not count; malformed JSON is left for the parser to refuse.
pub fn json_depth_exceeds(bytes: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Parses a JSON document with the field-aware error mapping of [`ApiJson`]; a document
/// nested deeper than [`MAX_JSON_DEPTH`] is 400.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if json_depth_exceeds(bytes, MAX_JSON_DEPTH) {
        return Err(ApiError::BadRequest {
            detail: format!(
                "The body is nested too deeply: at most {MAX_JSON_DEPTH} levels of arrays and objects are accepted."
            ),
            errors: vec![],
        });
    }
    // JSON can carry the NUL character only escaped; PostgreSQL text cannot hold it at all,
    // so a body with one would pass every check and fail when stored.
    if contains_nul_escape(bytes) {
        if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) {
            let mut fields = Vec::new();
            nul_fields(&doc, String::new(), &mut fields);
            if !fields.is_empty() {
                return Err(ApiError::invalid(
                    fields
                        .into_iter()
                        .map(|f| FieldError::new(f, NUL_CODE, NUL_MESSAGE))
                        .collect(),
                ));
            }
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let field = field_of(&path, &inner);
            let message = clean_message(&inner);
            return Err(match inner.classify() {
                serde_json::error::Category::Data => {
                    ApiError::invalid(vec![FieldError::new(field, serde_code(&message), message)])
                }
                _ => ApiError::BadRequest {
                    detail: format!("The body is not valid JSON: {inner}"),
                    errors: vec![FieldError::new(field, "invalid_json", message)],
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

/// What a field holding the NUL character is told, and its code.
const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000)";
const NUL_CODE: &str = "nul_character";

/// The start of each of serde's sentences [`serde_code`] tells apart, and its code.
pub const SERDE_CODES: [(&str, &str); 6] = [
    ("missing field", "missing_field"),
    ("invalid type", "wrong_type"),
    ("unknown field", "unknown_field"),
    ("unknown variant", "unknown_variant"),
    ("invalid length", "invalid_length"),
    ("duplicate field", "duplicate_field"),
];

/// The code of a refusal of serde's (a well-formed body that does not fit the request's
/// type), from the start of its sentence, which serde keeps stable: `missing field`,
/// `invalid type`, `unknown field`, `unknown variant`, `invalid length`, `duplicate field`;
/// anything else (`invalid value`, a value type's own refusal such as a malformed UUID) is
/// `invalid_value`.
pub fn serde_code(message: &str) -> &'static str {
    SERDE_CODES
        .iter()
        .find(|(prefix, _)| message.starts_with(prefix))
        .map_or("invalid_value", |(_, code)| code)
}

/// Whether `bytes` hold the escape `\u0000` (any case of hex digits) outside an escaped
/// backslash: the only way JSON text can carry a NUL character.
fn contains_nul_escape(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// The paths (`person.first_name`, `preferences[1].label`) of every string, or object key,
/// holding the NUL character.
fn nul_fields(v: &serde_json::Value, path: String, out: &mut Vec<String>) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_owned()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        serde_json::Value::String(s) if s.contains('\0') => out.push(path),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nul_fields(item, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                if key.contains('\0') {
                    out.push(join(&key.replace('\0', "\\u0000")));
                } else {
                    nul_fields(item, join(key), out);
                }
            }
        }
        _ => {}
    }
}

/// The path of the field an error is about. serde reports a missing field at the object
/// that lacks it (the root is "."), naming the field only in its message; the field itself
/// is what a client must fix, so it is named: `destination`, `person.email`.
fn field_of(path: &str, e: &serde_json::Error) -> String {
    let parent = if path == "." { "" } else { path };
    let missing = e
        .to_string()
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next().map(str::to_owned));
    match missing {
        Some(name) if parent.is_empty() => name,
        Some(name) => format!("{parent}.{name}"),
        None => parent.to_owned(),
    }
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
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, _)) = url_pairs(query).find(|(_, v)| v.contains('\0')) {
            return Err(ApiError::bad_param(&name, NUL_CODE, NUL_MESSAGE));
        }
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::BadRequest {
                detail: e.body_text(),
                errors: vec![],
            })
    }
}

/// The decoded `name=value` pairs of a query string.
fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting_not_brackets_in_strings() {
        assert!(!json_depth_exceeds(br#"{"a": [1, {"b": "[[[[["}]}"#, 3));
        assert!(json_depth_exceeds(br#"{"a": [1, {"b": [[]]}]}"#, 3));
        assert!(!json_depth_exceeds(br#"{"a": "\\\"[[[[\""}"#, 1));
        let deep = "[".repeat(100_000);
        assert!(json_depth_exceeds(deep.as_bytes(), MAX_JSON_DEPTH));
    }

    #[test]
    fn a_missing_field_is_named_with_its_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Person {
            email: String,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            destination: String,
            person: Person,
        }
        let fields = |body: &str| match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Invalid { errors, .. }) => errors
                .into_iter()
                .map(|e| (e.field, e.message, e.code))
                .collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(r#"{"person": {"email": "a@b.pl"}}"#),
            vec![(
                "destination".into(),
                "missing field `destination`".into(),
                "missing_field".into()
            )]
        );
        assert_eq!(
            fields(r#"{"destination": "x", "person": {}}"#),
            vec![(
                "person.email".into(),
                "missing field `email`".into(),
                "missing_field".into()
            )]
        );
        // A wrong type keeps the path serde gives.
        let wrong = fields(r#"{"destination": 1, "person": {"email": "a"}}"#);
        assert_eq!(
            (wrong[0].0.as_str(), wrong[0].2.as_str()),
            ("destination", "wrong_type")
        );
    }

    #[test]
    fn the_nul_character_is_refused_naming_each_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            title: String,
            tags: Vec<String>,
        }
        match parse_json::<Body>(
            br#"{"title": "a\u0000b", "tags": ["x", "\u0000"], "extra": {"k": "\u0000"}}"#,
        ) {
            Err(ApiError::Invalid { errors, .. }) => {
                let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, vec!["extra.k", "tags[1]", "title"]);
                assert!(errors.iter().all(|e| e.code == "nul_character"));
            }
            other => panic!("{other:?}"),
        }
        // An escaped backslash followed by `u0000` is text, not a NUL.
        assert!(parse_json::<Body>(br#"{"title": "\\u0000", "tags": []}"#).is_ok());
        assert!(!contains_nul_escape(br#"{"a": "\\u0000"}"#));
    }

    #[test]
    fn serde_refusals_get_codes_and_syntax_errors_are_invalid_json() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Body {
            kind: Kind,
            id: uuid::Uuid,
            pair: (u8, u8),
        }
        #[derive(Debug, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum Kind {
            Listed,
        }
        let code = |body: &str| match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Invalid { errors, .. }) | Err(ApiError::BadRequest { errors, .. }) => {
                errors.into_iter().map(|e| e.code).collect::<Vec<_>>()
            }
            other => panic!("{other:?}"),
        };
        let ok =
            r#""kind": "listed", "id": "0190c6a0-0000-7000-8000-000000000000", "pair": [1, 2]"#;
        assert_eq!(code(&format!("{{{ok}, \"x\": 1}}")), ["unknown_field"]);
        assert_eq!(
            code(r#"{"kind": "other", "id": "x", "pair": [1, 2]}"#),
            ["unknown_variant"]
        );
        assert_eq!(
            code(r#"{"kind": "listed", "id": "x", "pair": [1, 2]}"#),
            ["invalid_value"]
        );
        assert_eq!(
            code(
                r#"{"kind": "listed", "id": "0190c6a0-0000-7000-8000-000000000000", "pair": [1]}"#
            ),
            ["invalid_length"]
        );
        assert_eq!(
            code(r#"{"kind": "listed", "kind": "listed"}"#),
            ["duplicate_field"]
        );
        assert_eq!(code(r#"{"kind": ["#), ["invalid_json"]);
    }

    #[test]
    fn too_deep_is_400_naming_the_reason() {
        let body = format!("{}{}", "[".repeat(40), "]".repeat(40));
        match parse_json::<serde_json::Value>(body.as_bytes()) {
            Err(ApiError::BadRequest { detail, .. }) => {
                assert!(detail.contains("nested too deeply"))
            }
            other => panic!("{other:?}"),
        }
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(parse_json::<serde_json::Value>(ok.as_bytes()).is_ok());
    }
}
