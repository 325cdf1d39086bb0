//! The one error type every aggregate returns, shaped so the service can map it to
//! an HTTP status and a problem document without knowing the rule that refused.

use std::fmt;

/// What kind of refusal an error is; the service maps it to a status code
/// (Invalid → 422, Conflict → 409, NotFound → 404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The command was understood but a field holds a value the domain rejects.
    Invalid,
    /// A rule of the domain refuses the command in the aggregate's current state.
    Conflict,
    /// The command names an aggregate, term or application that does not exist.
    NotFound,
}

/// A refused command: a machine code for clients, a sentence for people and, for
/// invalid input, the JSON path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    /// Which family of refusal this is (decides the HTTP status).
    pub kind: ErrorKind,
    /// Stable machine-readable code, e.g. `deadline_passed`.
    pub code: &'static str,
    /// A clear English sentence for the person who sent the command.
    pub message: String,
    /// JSON field path for `Invalid` errors, e.g. `institution.type`.
    pub field: Option<String>,
}

impl DomainError {
    /// Builds an `Invalid` error pointing at `field`.
    pub fn invalid(
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind: ErrorKind::Invalid,
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// Builds a `Conflict` error: a domain rule refuses the command.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Conflict,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Builds a `NotFound` error: the command names something that does not exist.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::NotFound,
            code,
            message: message.into(),
            field: None,
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DomainError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_set_kind_and_field() {
        let e = DomainError::invalid("consent", "consent_required", "Consent is required.");
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.field.as_deref(), Some("consent"));
        assert_eq!(e.to_string(), "Consent is required.");
        let c = DomainError::conflict("deadline_passed", "late");
        assert_eq!((c.kind, c.field), (ErrorKind::Conflict, None));
        let n = DomainError::not_found("term_not_found", "no term");
        assert_eq!(n.kind, ErrorKind::NotFound);
    }
}
