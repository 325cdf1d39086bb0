//! Text-like values: bounded non-empty text, e-mail addresses and the slugs used as
//! organizer ids and preference codes.

use serde::{Deserialize, Serialize};

use super::{string_value, ValueError};

/// Trimmed, non-empty text of bounded length, for names, titles and labels.
///
/// The bound is a rule of the input that makes a value (500 characters by default, more
/// where a command allows it: feedback, comments, goals), so a stored value is read back
/// (deserialized) with only the non-empty rule: an event holding a 10,000-character
/// comment the API accepted must load as it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct NonEmptyText(String);

impl<'de> Deserialize<'de> for NonEmptyText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_max(&s, usize::MAX).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl NonEmptyText {
    /// The default maximum length in characters.
    pub const MAX_CHARS: usize = 500;

    /// Trims and accepts text of 1..=500 characters.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::parse_max(s, Self::MAX_CHARS)
    }

    /// Trims and accepts text of 1..=`max` characters.
    pub fn parse_max(s: &str, max: usize) -> Result<Self, ValueError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ValueError::new("text_empty", "must not be empty"));
        }
        if t.chars().count() > max {
            return Err(ValueError::new(
                "text_too_long",
                format!("must be at most {max} characters long"),
            )
            .with_limit(max));
        }
        Ok(Self(t.to_owned()))
    }
}
string_value!(NonEmptyText);

/// An e-mail address, trimmed and plausibly shaped (the service does not send mail
/// to check it). Kept as typed; [`Email::normalized`] gives the form for duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld`: one '@', non-empty local part, a dotted domain
    /// without empty labels, no whitespace, at most 254 characters.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        let t = s.trim();
        if t.is_empty() {
            return Err(ValueError::new(
                "email_empty",
                "e-mail address must not be empty",
            ));
        }
        if t.chars().count() > 254 {
            return Err(ValueError::new(
                "email_too_long",
                "e-mail address must be at most 254 characters long",
            ));
        }
        if t.chars().any(char::is_whitespace) {
            return Err(ValueError::new(
                "email_whitespace",
                "e-mail address must not contain spaces",
            ));
        }
        let mut parts = t.split('@');
        let (local, domain) = match (parts.next(), parts.next(), parts.next()) {
            (Some(l), Some(d), None) => (l, d),
            _ => {
                return Err(ValueError::new(
                    "email_at_sign",
                    "e-mail address must contain exactly one '@'",
                ))
            }
        };
        if local.is_empty() {
            return Err(ValueError::new(
                "email_local_part",
                "e-mail address needs a name before the '@'",
            ));
        }
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(ValueError::new(
                "email_domain",
                "e-mail address needs a domain such as example.org after the '@'",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// Lower-case form, used to detect the same person applying twice.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}
string_value!(Email);

/// Checks `^[a-z0-9]+(-[a-z0-9]+)*$`.
fn is_hyphen_slug(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The id of an organizer (one ROPS = one tenant), a slug such as `rops-torun`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OrganizerId(String);

impl OrganizerId {
    /// Accepts lower-case letters and digits in groups joined by single hyphens,
    /// 2..=64 characters.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if !(2..=64).contains(&s.len()) {
            return Err(ValueError::new(
                "organizer_length",
                "organizer id must be 2 to 64 characters long",
            ));
        }
        if !is_hyphen_slug(s) {
            return Err(ValueError::new(
                "organizer_slug",
                "organizer id may contain only lower-case letters, digits and single hyphens between them (e.g. rops-torun)",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}
string_value!(OrganizerId);

/// The code of one of a visit's preferences, e.g. `cus_declared`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PreferenceCode(String);

impl PreferenceCode {
    /// Accepts `^[a-z0-9_]+$`, 1..=64 characters.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        if !(1..=64).contains(&s.len()) {
            return Err(ValueError::new(
                "preference_code_length",
                "preference code must be 1 to 64 characters long",
            ));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(ValueError::new(
                "preference_code_characters",
                "preference code may contain only lower-case letters, digits and '_'",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}
string_value!(PreferenceCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_empty_text_trims_and_bounds() {
        assert_eq!(
            NonEmptyText::parse("  Wizyta  ").expect("ok").as_str(),
            "Wizyta"
        );
        assert!(NonEmptyText::parse("   ").is_err());
        assert!(NonEmptyText::parse(&"ż".repeat(500)).is_ok());
        // Longer text a command allowed is read back as it was written; empty never is.
        let long = NonEmptyText::parse_max(&"ż".repeat(10_000), 10_000).expect("allowed");
        let json = serde_json::to_string(&long).expect("serializes");
        assert_eq!(serde_json::from_str::<NonEmptyText>(&json).ok(), Some(long));
        assert!(serde_json::from_str::<NonEmptyText>("\"  \"").is_err());
        assert!(NonEmptyText::parse(&"ż".repeat(501)).is_err());
        assert!(NonEmptyText::parse_max("abcd", 3).is_err());
        assert!(serde_json::from_str::<NonEmptyText>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<NonEmptyText>("\" x \"")
                .expect("de")
                .as_str(),
            "x"
        );
    }

    #[test]
    fn email_rules() {
        let e = Email::parse("  Anna.Nowak@Example.PL ").expect("ok");
        assert_eq!(e.as_str(), "Anna.Nowak@Example.PL");
        assert_eq!(e.normalized(), "anna.nowak@example.pl");
        for bad in [
            "",
            "anna",
            "@example.pl",
            "anna@",
            "anna@example",
            "an na@example.pl",
            "a@b@example.pl",
            "anna@.pl",
            "anna@example.",
            "anna@ex..pl",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.pl", "a".repeat(243));
        assert_eq!(long.len(), 254);
        assert!(Email::parse(&long).is_ok());
        assert!(Email::parse(&format!("a{long}")).is_err());
        assert!(serde_json::from_str::<Email>("\"nobody\"").is_err());
    }

    #[test]
    fn organizer_slug() {
        for ok in ["rops-torun", "ab", "rops2", "a-b-c"] {
            assert!(OrganizerId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "a",
            "Rops",
            "rops--torun",
            "-rops",
            "rops-",
            "rops_torun",
            "rops torun",
            &"a".repeat(65),
        ] {
            assert!(OrganizerId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn preference_code_slug() {
        for ok in ["cus_declared", "a", "new_to_project_2019"] {
            assert!(PreferenceCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Cus", "cus-declared", "cus declared", &"a".repeat(65)] {
            assert!(PreferenceCode::parse(bad).is_err(), "{bad}");
        }
    }
}

/// Properties of the e-mail parser over arbitrary input.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn email_never_panics(s in "\\PC*", t in "[a-z@. ]{0,30}") {
            let _ = Email::parse(&s);
            let _ = Email::parse(&t);
        }

        #[test]
        fn valid_emails_round_trip(
            local in "[a-zA-Z0-9._%+-]{1,30}",
            labels in proptest::collection::vec("[a-z0-9-]{1,12}", 2..4),
            pad in "[ \t]{0,2}",
        ) {
            let address = format!("{local}@{}", labels.join("."));
            let email = Email::parse(&format!("{pad}{address}{pad}")).map_err(|e| TestCaseError::fail(e.message))?;
            prop_assert_eq!(email.as_str(), address.as_str());
            prop_assert_eq!(Email::parse(&format!("{email}")), Ok(email.clone()));
            prop_assert_eq!(email.normalized(), address.to_lowercase());
        }

        #[test]
        fn accepted_emails_have_the_promised_shape(s in "\\PC{0,40}") {
            if let Ok(e) = Email::parse(&s) {
                let text = e.as_str();
                prop_assert_eq!(text.matches('@').count(), 1);
                prop_assert!(!text.chars().any(char::is_whitespace));
                prop_assert_eq!(Email::parse(text), Ok(e.clone()));
            }
        }
    }
}
