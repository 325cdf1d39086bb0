//! Collecting every invalid field of a request at once, so a person filling a form sees all
//! of their mistakes in one answer (API.md: an `errors` array of `{field, message}`).

use domain::values::ValueError;

use crate::problem::{ApiError, FieldError};

/// Accumulates field errors while a request is turned into domain values.
#[derive(Default)]
pub struct Fields {
    errors: Vec<FieldError>,
}

impl Fields {
    /// Keeps the value, or records the error under `field`.
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, ValueError>) -> Option<T> {
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::new(field, e.message));
                None
            }
        }
    }

    /// Records an error found by other means.
    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// 422 with every recorded error, or Ok when there were none.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errors))
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
            self.fail(field, format!("must be at most {max} characters"));
        }
        Some(v.to_owned())
    }
}

/// Parses `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<chrono::NaiveDate, ValueError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ValueError::new("must be a date written YYYY-MM-DD"))
}

/// Parses an RFC 3339 instant with its offset.
pub fn instant(s: &str) -> Result<chrono::DateTime<chrono::Utc>, ValueError> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|d| d.with_timezone(&chrono::Utc))
        .map_err(|_| {
            ValueError::new(
                "must be an instant in RFC 3339 with its offset, e.g. 2022-06-23T11:00:00+02:00",
            )
        })
}
