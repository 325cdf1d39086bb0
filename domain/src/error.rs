//! The one error type every aggregate returns, shaped so the service can map it to
//! an HTTP status and a problem document without knowing the rule that refused.

use std::fmt;

/// Every code a [`DomainError`] can carry, sorted: the reasons the aggregates give when they
/// refuse a command. Clients branch on them (`/problems/<code>`), and the Polish catalogue
/// (`service::http::messages`) has a sentence for each; so a code is listed here when a rule
/// gains it, and `domain/tests/error_codes.rs` fails when a call site uses one that is not
/// listed, or the list names one no call site uses. The codes of invalid values are
/// [`crate::values::CODES`]; the two lists share one namespace and never overlap.
pub const CODES: &[&str] = &[
    "activity_cancelled",
    "activity_held",
    "activity_not_found",
    "already_announced",
    "already_created",
    "already_established",
    "already_evaluated",
    "already_member",
    "already_partner",
    "already_withdrawn",
    "application_late",
    "application_not_found",
    "before_establishment",
    "before_joining",
    "closes_before_opening",
    "consent_required",
    "consultation_not_found",
    "date_required",
    "dates_not_fixed",
    "day_outside_term",
    "deadline_after_term",
    "deadline_not_reached",
    "deadline_passed",
    "delivered_before_sent",
    "duplicate",
    "duplicate_application",
    "duplicate_application_id",
    "duplicate_id",
    "duplicate_indicator",
    "duplicate_term",
    "election_predates_current_term",
    "empty_schedule",
    "ends_before_start",
    "information_clause_changed",
    "information_clause_version_taken",
    "institution_type_not_eligible",
    "meeting_id_taken",
    "member_id_taken",
    "member_not_active",
    "member_not_found",
    "network_not_found",
    "no_offer",
    "no_seat",
    "not_a_manual_indicator",
    "not_an_active_member",
    "not_waiting",
    "offer_expired",
    "offer_not_expired",
    "officer_id_taken",
    "out_of_range",
    "outside_consultation_window",
    "preference_not_found",
    "preferences_frozen",
    "program_closed",
    "program_not_found",
    "rating_out_of_range",
    "recruitment_already_open",
    "recruitment_closed",
    "recruitment_not_open",
    "regulations_version_exists",
    "required",
    "term_cancelled",
    "term_not_editable",
    "term_not_found",
    "testing_period_not_over",
    "testing_period_not_set",
    "type_not_admitted",
    "visit_not_found",
];

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
    /// Stable machine-readable code, e.g. `deadline_passed` (one of [`CODES`]).
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
