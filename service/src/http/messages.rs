//! Messages for people in Polish: every field error and every refusal of the domain, from
//! one catalogue keyed by their stable codes, used by the pages and by the JSON API when a
//! client asks for Polish (`Accept-Language: pl`).
//!
//! (Being filled in: until every code has its text, a message falls back to the English
//! sentence it came with.)

use crate::http::problem::FieldError;

/// The Polish message for a field error (how to fix the input).
pub fn field_pl(e: &FieldError) -> String {
    e.message.clone()
}

/// The Polish sentence for a refusal of the domain with `code`; `detail` is the English
/// sentence it came with (it carries the values, e.g. the deadline).
pub fn refusal_pl(code: &str, detail: &str) -> String {
    let _ = code;
    detail.to_owned()
}
