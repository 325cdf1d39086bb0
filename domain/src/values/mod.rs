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

/// Why a string could not become a value; the message is a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Clear English explanation, e.g. "NIP check digit is wrong".
    pub message: String,
}

impl ValueError {
    /// Wraps a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

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
