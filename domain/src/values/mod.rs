//! Value types: parsed once at the edge, valid everywhere after ("parse, don't
//! validate"). Each serializes as its canonical string and deserializes through its
//! parser, so an invalid value can never enter a command, an event or a state.

mod identifiers;
mod institution;
mod planned_date;
mod text;

use std::fmt;

pub use identifiers::{Nip, Regon};
pub use institution::{Institution, InstitutionType};
pub use planned_date::{DateRange, MonthPart, PlannedDate, YearMonth};
pub use text::{Email, NonEmptyText, OrganizerId, PreferenceCode};

/// Why a string could not become a value: a stable code for programs (and for the catalogue
/// that says it in Polish), a sentence for people, and the bound the sentence names.
///
/// The code is what a translation keys on: the English `message` stays as it always was
/// (the JSON API answers it by default), while `service::http::messages` says the same in
/// Polish from `code` and `limit` alone. Every code is listed in [`CODES`]
/// (`domain/tests/error_codes.rs` holds the list to the sources).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Stable machine-readable reason, e.g. `nip_check_digit` (one of [`CODES`]).
    pub code: &'static str,
    /// Clear English explanation, e.g. "NIP check digit is wrong".
    pub message: String,
    /// The bound a rule with a bound of the caller's choosing names: the most characters
    /// for `text_too_long`. None for every other code (their bounds are fixed, and the code
    /// says them).
    pub limit: Option<usize>,
}

impl ValueError {
    /// An error with its code and English message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            limit: None,
        }
    }

    /// The same error naming its bound (see [`ValueError::limit`]).
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// Every code a [`ValueError`] can carry, sorted. A code is a promise to clients and to the
/// Polish catalogue: add one here when a parser gains a reason, never reuse one for another.
pub const CODES: &[&str] = &[
    "activity_kind_unknown",
    "channel_unknown",
    "date_format",
    "date_range_incomplete",
    "date_range_reversed",
    "email_at_sign",
    "email_domain",
    "email_empty",
    "email_local_part",
    "email_too_long",
    "email_whitespace",
    "feedback_channel_unknown",
    "institution_type_unknown",
    "measure_unknown",
    "month_format",
    "month_number",
    "month_part_unknown",
    "month_part_without_month",
    "nip_characters",
    "nip_check_digit",
    "nip_digits",
    "officer_role_unknown",
    "organizer_length",
    "organizer_slug",
    "planned_date_empty",
    "planned_date_shape",
    "planned_date_text",
    "preference_code_characters",
    "preference_code_length",
    "program_kind_unknown",
    "regon_characters",
    "regon_check_digit",
    "regon_digits",
    "text_empty",
    "text_too_long",
    "verdict_unknown",
    "year_digits",
];

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

/// Implements the string plumbing every string-backed value shares: `as_str`,
/// `Display`, `FromStr`, `TryFrom<String>` (via `parse`) and `From<T> for String`.
macro_rules! string_value {
    ($t:ty) => {
        impl $t {
            /// The canonical string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = $crate::values::ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::parse(s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::values::ValueError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                <$t>::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use string_value;

#[cfg(test)]
mod tests {
    use super::*;

    /// The code of what `parsed` refused.
    fn code<T: fmt::Debug>(parsed: Result<T, ValueError>) -> &'static str {
        parsed.expect_err("refused").code
    }

    #[test]
    fn each_refusal_names_its_reason_by_code() {
        assert_eq!(code(Nip::parse("956230798")), "nip_digits");
        assert_eq!(code(Nip::parse("9562307985")), "nip_check_digit");
        assert_eq!(code(Nip::parse("95623O7984")), "nip_characters");
        assert_eq!(code(Regon::parse("1234567")), "regon_digits");
        assert_eq!(code(Regon::parse("123456786")), "regon_check_digit");
        assert_eq!(code(Regon::parse("12345678a")), "regon_characters");
        assert_eq!(code(Email::parse(" ")), "email_empty");
        assert_eq!(code(Email::parse("a b@c.pl")), "email_whitespace");
        assert_eq!(code(Email::parse("a@b@c.pl")), "email_at_sign");
        assert_eq!(code(Email::parse("@c.pl")), "email_local_part");
        assert_eq!(code(Email::parse("a@localhost")), "email_domain");
        assert_eq!(
            code(InstitutionType::parse("ROPS")),
            "institution_type_unknown"
        );
        assert_eq!(code(OrganizerId::parse("Rops")), "organizer_slug");
        assert_eq!(code(PreferenceCode::parse("")), "preference_code_length");
        assert_eq!(code(PlannedDate::parse_polish("")), "planned_date_empty");
        assert_eq!(
            code(PlannedDate::parse_polish("31.02.2020")),
            "planned_date_text"
        );
        assert_eq!(code(NonEmptyText::parse("  ")), "text_empty");
        assert_eq!(code(YearMonth::parse("2020-9")), "month_format");
        assert_eq!(code(YearMonth::new(99, 1)), "year_digits");
    }

    #[test]
    fn too_long_text_names_its_limit_and_keeps_its_sentence() {
        let e = NonEmptyText::parse_max("abcd", 3).expect_err("too long");
        assert_eq!((e.code, e.limit), ("text_too_long", Some(3)));
        assert_eq!(e.message, "must be at most 3 characters long");
        assert_eq!(NonEmptyText::parse("").expect_err("empty").limit, None);
    }

    #[test]
    fn a_planned_date_from_json_keeps_the_code_serde_would_drop() {
        let from = |v: serde_json::Value| PlannedDate::from_json(&v);
        assert_eq!(
            from(serde_json::json!({"day": "2020-02-07"})).ok(),
            PlannedDate::parse_polish("7.02.2020").ok()
        );
        for (json, expected) in [
            (
                serde_json::json!({"from": "2020-05-08", "to": "2020-05-07"}),
                "date_range_reversed",
            ),
            (
                serde_json::json!({"from": "2020-05-08"}),
                "date_range_incomplete",
            ),
            (
                serde_json::json!({"part": "late"}),
                "month_part_without_month",
            ),
            (
                serde_json::json!({"month": "2020-09", "part": "end"}),
                "month_part_unknown",
            ),
            (serde_json::json!({"month": "2020-13"}), "month_number"),
            (serde_json::json!({"day": "7.02.2020"}), "date_format"),
            (serde_json::json!({}), "planned_date_shape"),
            (serde_json::json!({"day": 7}), "planned_date_shape"),
            (serde_json::json!("2020-02-07"), "planned_date_shape"),
        ] {
            let e = from(json.clone()).expect_err("refused");
            assert_eq!(e.code, expected, "{json}");
            // The sentence is serde's own, as answered before codes existed.
            let serde = serde_json::from_value::<PlannedDate>(json).expect_err("refused");
            assert_eq!(e.message, serde.to_string());
        }
    }
}
