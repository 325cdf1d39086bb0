//! What the public form and the coordinator send about applications, and how each request
//! becomes the domain values its command needs, every invalid field answered at once
//! ([`Invalid`]). Also the information clause a submission records as accepted.

use domain::study_visit::{ConsentRecord, LegalBasis};
use domain::values::{Email, Institution, NonEmptyText};
use infra::personal_data::PersonRecord;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::institution::InstitutionRequest;
use crate::http::problem::ApiError;
use crate::http::validate::{Fields, Invalid};

/// The version id of the information clause (RODO art. 13) the public form shows. Change it
/// whenever the clause's text changes: every submission records the version its applicant
/// accepted (ApplicationSubmitted version 2), so the old records keep naming the old text.
pub const INFORMATION_CLAUSE_VERSION: &str = "2026-01";

/// The legal basis the clause names for processing applicants' data: their consent, given
/// by ticking the clause (art. 6(1)(a)).
pub const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;

/// What a submission accepted with `"consent": true` records. A clause constant that is
/// not a valid record is a defect of ours (500), never the applicant's doing.
pub fn accepted_clause() -> Result<ConsentRecord, ApiError> {
    let information_clause = NonEmptyText::parse(INFORMATION_CLAUSE_VERSION)
        .map_err(|e| ApiError::Internal(format!("INFORMATION_CLAUSE_VERSION: {e}")))?;
    Ok(ConsentRecord {
        information_clause,
        legal_basis: LEGAL_BASIS,
    })
}

/// The applicant as typed in the form (kept out of events).
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonRequest {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub job_title: Option<String>,
}

/// Body of the public application form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationRequest {
    pub person: PersonRequest,
    pub institution: InstitutionRequest,
    /// The applicant accepts the information clause on the processing of their personal
    /// data; required. The submission records the clause's version and legal basis.
    #[serde(default)]
    pub consent: bool,
}

/// A checked application form: who applies (their data goes to `personal_data`, never to
/// an event) and the institution they represent. The consent was given.
#[derive(Debug)]
pub struct Applicant {
    pub person: PersonRecord,
    pub institution: Institution,
}

impl TryFrom<ApplicationRequest> for Applicant {
    type Error = Invalid;

    fn try_from(body: ApplicationRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let p = &body.person;
        let first_name = f.check(
            "person.first_name",
            NonEmptyText::parse_max(&p.first_name, 100),
        );
        let last_name = f.check(
            "person.last_name",
            NonEmptyText::parse_max(&p.last_name, 100),
        );
        let email = f.check("person.email", Email::parse(&p.email));
        let phone = f.optional_text("person.phone", &p.phone, 40);
        let job_title = f.optional_text("person.job_title", &p.job_title, 200);
        let institution = body.institution.check(&mut f, "institution");
        if !body.consent {
            f.fail(
                "consent",
                "consent to the processing of personal data for the recruitment is required",
            );
        }
        f.finish_with(|| {
            Some(Applicant {
                person: PersonRecord {
                    first_name: first_name?.as_str().to_owned(),
                    last_name: last_name?.as_str().to_owned(),
                    email: email?.as_str().to_owned(),
                    phone,
                    job_title,
                },
                institution: institution?,
            })
        })
    }
}

/// Body of a seat release.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReleaseRequest {
    pub reason: String,
}

/// The reason for the record, not empty.
impl TryFrom<ReleaseRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: ReleaseRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse(&body.reason));
        f.finish_with(|| reason)
    }
}

/// Body of a seat given by hand.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AllocateRequest {
    /// Why the seat is given outside the policy's order (1–500 characters), for the record.
    pub reason: String,
}

/// The reason for the record: 1–500 characters.
impl TryFrom<AllocateRequest> for NonEmptyText {
    type Error = Invalid;

    fn try_from(body: AllocateRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let reason = f.check("reason", NonEmptyText::parse_max(&body.reason, 500));
        f.finish_with(|| reason)
    }
}

/// Body of an attendance record.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AttendanceRequest {
    pub attended: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_clause_is_a_valid_record() {
        let record = accepted_clause().expect("the clause constant is valid");
        assert_eq!(
            record.information_clause.as_str(),
            INFORMATION_CLAUSE_VERSION
        );
        // An upcast version-1 submission must stay distinguishable from a recorded one.
        assert!(record.clause_recorded());
    }
}
