//! What an applicant was told and on which legal basis their data is processed, recorded
//! with each submission (RODO/GDPR art. 13 information clause, art. 6 legal basis), so an
//! evaluator or a data-protection officer can show, years later, under which clause each
//! application was accepted.

use serde::{Deserialize, Serialize};

use crate::values::NonEmptyText;

/// The clause id given to submissions stored as `ApplicationSubmitted` version 1, which
/// recorded only `consent: true`. The clause actually shown then is not known, and guessing
/// one would be a false record, so the gap is named explicitly (docs/events.md).
pub const UNRECORDED_V1_CLAUSE: &str = "unrecorded-v1";

/// The applicant's acceptance of the information clause, recorded in `ApplicationSubmitted`
/// (version 2 onwards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// Version id of the information clause shown on the form, e.g. `2026-01`, or
    /// [`UNRECORDED_V1_CLAUSE`] for submissions stored before it was recorded.
    pub information_clause: NonEmptyText,
    /// The legal basis of the processing of the applicant's personal data.
    pub legal_basis: LegalBasis,
}

impl ConsentRecord {
    /// The record an upcast version-1 submission carries: the form then asked for consent
    /// (art. 6(1)(a)), and the clause version was not recorded.
    pub fn unrecorded_v1() -> Self {
        Self {
            information_clause: NonEmptyText::parse(UNRECORDED_V1_CLAUSE)
                .unwrap_or_else(|_| unreachable!("the marker is a non-empty constant")),
            legal_basis: LegalBasis::Consent,
        }
    }

    /// Whether the clause version shown was recorded (false for upcast version-1 events).
    pub fn clause_recorded(&self) -> bool {
        self.information_clause.as_str() != UNRECORDED_V1_CLAUSE
    }
}

/// The information clause (RODO art. 13) a visit's applicants are shown: a version id the
/// submissions record, and the full text. A version names one text for good: a changed text
/// is a new version, so an application's recorded version always says what its applicant read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InformationClause {
    /// The version id, e.g. `2026-02` (at most 50 characters).
    pub version: NonEmptyText,
    /// The full text; paragraphs are separated by an empty line (at most 10,000 characters).
    pub text: NonEmptyText,
}

/// The legal basis (RODO art. 6(1)) on which an applicant's personal data is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a): the applicant's consent, given by ticking the form's clause.
    Consent,
    /// Art. 6(1)(e): a task carried out in the public interest (the ROPS's statutory tasks).
    PublicTask,
}

impl LegalBasis {
    /// The serialized spelling, e.g. `consent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::PublicTask => "public_task",
        }
    }

    /// The provision, as Polish documents cite it.
    pub fn provision(self) -> &'static str {
        match self {
            Self::Consent => "art. 6 ust. 1 lit. a RODO",
            Self::PublicTask => "art. 6 ust. 1 lit. e RODO",
        }
    }
}
