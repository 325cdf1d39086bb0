//! Collecting every invalid field of a request at once, so a person filling a form sees all
//! of their mistakes in one answer (API.md: an `errors` array of `{field, message}`), each
//! with the stable code of its reason (`code`), which the Polish catalogue
//! (`crate::http::messages`) keys on.

use domain::values::ValueError;

use crate::http::problem::{ApiError, FieldError};

/// Accumulates field errors while a request is turned into domain values.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps the value, or records the error under `field` (with the parser's code).
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ValueError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::of(field, e));
                None
            }
        }
    }

    /// Records an error found by other means, with the stable code of its reason: one of the
    /// domain's (`required`, `ends_before_start`, `out_of_range`, …) where it means the same,
    /// else one of the service's own (`crate::http::messages::SERVICE_CODES`).
    pub fn fail(&mut self, field: &str, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// Records text longer than the `max` characters `field` takes (`text_too_long`).
    pub fn too_long(&mut self, field: &str, max: usize, message: impl Into<String>) {
        self.errors.push(FieldError::of(
            field,
            ValueError::new("text_too_long", message).with_limit(max),
        ));
    }

    /// Every recorded error (a 422), or Ok when there were none.
    pub fn finish(self) -> Result<(), Invalid> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Invalid::Fields(self.errors))
        }
    }

    /// Every recorded error (a 422), or the value `build` makes of the checked fields. Each
    /// field checked with [`Fields::check`] is `Some` once no error was recorded, so `build`
    /// is written with `?` on each: `f.finish_with(|| Some(Term { label: label?, … }))`.
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Invalid> {
        self.finish()?;
        build().ok_or(Invalid::Unchecked)
    }
}

/// A request that did not turn into domain values: the `Error` of every `TryFrom` from a
/// request body to what a command needs.
#[derive(Debug)]
pub enum Invalid {
    /// 422: every invalid field, each with its path and what to do.
    Fields(Vec<FieldError>),
    /// A field was left unparsed without an error recorded: a defect of the parser, never
    /// the client's doing (500).
    Unchecked,
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        match e {
            Invalid::Fields(errors) => ApiError::invalid(errors),
            Invalid::Unchecked => ApiError::validated_field_missing(),
        }
    }
}

impl Fields {
    /// A required `YYYY-MM-DD` date.
    pub fn date(&mut self, field: &str, v: &str) -> Option<chrono::NaiveDate> {
        self.check(field, date(v))
    }

    /// Optional free text, trimmed (empty = absent), at most `max` characters.
    pub fn optional_text(&mut self, field: &str, v: &Option<String>, max: usize) -> Option<String> {
        let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        if v.chars().count() > max {
            self.too_long(field, max, format!("must be at most {max} characters"));
        }
        Some(v.to_owned())
    }
}

/// Parses `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<chrono::NaiveDate, ValueError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ValueError::new("date_format", "must be a date written YYYY-MM-DD"))
}

/// Parses an RFC 3339 instant with its offset.
pub fn instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, ValueError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&chrono::Utc))
        .map_err(|_| {
            ValueError::new(
                "instant_format",
                "must be an instant in RFC 3339 with its offset, e.g. 2022-06-23T11:00:00+02:00",
            )
        })
}
