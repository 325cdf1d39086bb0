//! Submitting an application, for the JSON API and the public form alike: the body of the
//! form (`ApplicationRequest`, binding field names of API.md), its checked form
//! ([`Applicant`]), the information clause a submission records as accepted, and the one
//! path to the store (`infra::applications::submit`: the personal data written with the
//! events, the subject race decided again), so both doors record the same thing.

use domain::study_visit::{ConsentRecord, LegalBasis, StudyVisitCommand};
use domain::values::{Email, Institution, NonEmptyText};
use domain::DomainError;
use infra::applications::{NewApplication, SubmitError, Submitted};
use infra::personal_data::PersonRecord;
use projections::study_visits::read::Visit;
use serde::Deserialize;
use utoipa::openapi::{ObjectBuilder, Schema, Type};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::forms::FormKeys;
use crate::http::institution::InstitutionRequest;
use crate::http::problem::ApiError;
use crate::http::request::RequestMeta;
use crate::http::state::{AppState, SiteInfo};
use crate::http::validate::{Fields, Invalid};

/// The version id of the default information clause (RODO art. 13): the one shown for a
/// visit whose coordinator set none ([`default_clause_text`]). Change it whenever that text
/// changes: every submission records the version its applicant accepted (ApplicationSubmitted
/// version 2), so the old records keep naming the old text.
pub const INFORMATION_CLAUSE_VERSION: &str = "2026-01";

/// The information clause applicants of a visit are shown: its own, or the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownClause {
    pub version: String,
    pub text: String,
    /// Whether it is the service's default (the coordinator set none).
    pub default: bool,
}

impl ShownClause {
    /// The text's paragraphs (separated by an empty line), for a page.
    pub fn paragraphs(&self) -> Vec<String> {
        self.text
            .split("\n\n")
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    }
}

/// The clause `visit`'s applicants are shown: the one its coordinator set, else the default.
pub fn clause_of(visit: &Visit, site: &SiteInfo) -> ShownClause {
    match &visit.information_clause {
        Some(c) => ShownClause {
            version: c.version.clone(),
            text: c.text.clone(),
            default: false,
        },
        None => ShownClause {
            version: INFORMATION_CLAUSE_VERSION.to_owned(),
            text: default_clause_text(&visit.organizer, site),
            default: true,
        },
    }
}

/// The default clause (version [`INFORMATION_CLAUSE_VERSION`]): the organizer of the visit
/// as the controller, the purpose, the basis (consent), retention, rights. A coordinator
/// replaces it with their own (`information_clause` when announcing, or later).
pub fn default_clause_text(organizer: &str, site: &SiteInfo) -> String {
    [
        format!("Administratorem Twoich danych osobowych jest organizator wizyty, oznaczony w serwisie jako „{organizer}”; serwis prowadzi {}. Dane kontaktowe administratora i inspektora ochrony danych podaje organizator w ogłoszeniu o wizycie.", site.organization),
        "Dane (imię, nazwisko, adres e-mail, telefon, stanowisko) przetwarzamy wyłącznie w celu rekrutacji na wizytę studyjną, kontaktu w jej sprawie i rozliczenia projektu, na podstawie Twojej zgody (art. 6 ust. 1 lit. a RODO), którą możesz w każdej chwili wycofać, wycofując zgłoszenie; wycofanie zgody nie wpływa na zgodność z prawem przetwarzania sprzed jej wycofania.".to_owned(),
        "Dane przechowujemy przez okres trwałości projektu, nie dłużej niż 5 lat od zakończenia wizyty, a potem je usuwamy. Dane instytucji i decyzje rekrutacyjne zostają w zapisie zdarzeń bez danych osobowych.".to_owned(),
        "Masz prawo dostępu do swoich danych, ich sprostowania, usunięcia, ograniczenia przetwarzania oraz wniesienia skargi do Prezesa Urzędu Ochrony Danych Osobowych. Podanie danych jest dobrowolne, ale bez nich nie możemy przyjąć zgłoszenia. Dane nie są przekazywane poza Europejski Obszar Gospodarczy ani wykorzystywane do profilowania.".to_owned(),
    ]
    .join("\n\n")
}

/// The legal basis the clause names for processing applicants' data: their consent, given
/// by ticking the clause (art. 6(1)(a)).
pub const LEGAL_BASIS: LegalBasis = LegalBasis::Consent;

/// What a submission accepted with `"consent": true` records: the clause `version` shown.
/// A version that is not a valid record is a defect of ours (500), never the applicant's
/// doing (an applicant's version was checked by [`Applicant`]'s parse).
pub fn accepted_clause(version: &str) -> Result<ConsentRecord, ApiError> {
    let information_clause = NonEmptyText::parse(version)
        .map_err(|e| ApiError::Internal(format!("information clause version: {e}")))?;
    Ok(ConsentRecord {
        information_clause,
        legal_basis: LEGAL_BASIS,
    })
}

/// The applicant as typed in the form (kept out of events, erasable). Text is trimmed.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PersonRequest {
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub first_name: String,
    /// 1 to 100 characters, not blank.
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub last_name: String,
    /// The address mail about the application goes to; also what makes two applications
    /// the same person's (case ignored): one `@`, a name before it, a dotted domain after
    /// it, no spaces, at most 254 characters.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$",
        example = "jan.kowalski@gmina-testowo.pl"
    )]
    pub email: String,
    /// At most 40 characters; empty or absent = none.
    #[serde(default)]
    #[schema(max_length = 40)]
    pub phone: Option<String>,
    /// At most 200 characters; empty or absent = none.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub job_title: Option<String>,
}

/// Body of the public application form.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ApplicationRequest {
    pub person: PersonRequest,
    /// The institution the person represents; its type must be eligible for the visit
    /// (`PES` admits its kinds), else 422 naming `institution.type`.
    pub institution: InstitutionRequest,
    /// Required, and `true`: the applicant accepts the information clause. Absent or
    /// `false` is 422 naming `consent` (absence is not a parse error, so that the form's
    /// answer names the field like every other).
    #[serde(default)]
    #[schema(schema_with = consent_schema, required = true)]
    pub consent: bool,
    /// The version of the information clause the applicant was shown (the visit's
    /// `information_clause.version`); absent = the visit's current clause. A version that is
    /// no longer current is refused (409 `information_clause_changed`): show the new text.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50, pattern = r"\S", example = "2026-01")]
    pub information_clause: Option<String>,
}

/// `consent`: a boolean that must be `true`.
fn consent_schema() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Boolean)
        .enum_values(Some([true]))
        .description(Some(
            "The applicant accepts the information clause (RODO art. 13) on the processing of their personal data for the recruitment: must be `true`. The submission records the clause's version and the legal basis (consent, art. 6(1)(a)).",
        ))
        .into()
}

/// A checked application form: who applies (their data goes to `personal_data`, never to
/// an event) and the institution they represent. The consent was given.
#[derive(Debug)]
pub struct Applicant {
    pub person: PersonRecord,
    pub institution: Institution,
    /// The clause version the applicant was shown, when their client said.
    pub clause_version: Option<NonEmptyText>,
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
        let clause_version = body
            .information_clause
            .as_deref()
            .and_then(|v| f.check("information_clause", NonEmptyText::parse_max(v, 50)));
        if !body.consent {
            f.fail(
                "consent",
                "consent_required",
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
                clause_version,
            })
        })
    }
}

/// What the service calls the new application and its applicant's key.
pub struct NewIds {
    pub application_id: Uuid,
    pub applicant_key: String,
}

impl NewIds {
    /// A fresh id and its key (the JSON API: a repeat is recognised by its
    /// `Idempotency-Key`); the key is derived from the id (`FormKeys::applicant_key`), so
    /// the mails can link to the applicant's page.
    pub fn fresh(forms: &FormKeys) -> Self {
        let application_id = Uuid::now_v7();
        Self {
            application_id,
            applicant_key: forms.applicant_key(application_id),
        }
    }
}

/// Records `applicant`'s application to `term_id` of `visit_id` from the public (no token:
/// the actor is `public`, nothing scopes the command).
pub async fn submit(
    state: &AppState,
    meta: &RequestMeta,
    visit_id: Uuid,
    term_id: Uuid,
    applicant: Applicant,
    ids: NewIds,
) -> Result<Submitted, ApiError> {
    let Applicant {
        person,
        institution,
        clause_version,
    } = applicant;
    let version = match clause_version {
        Some(v) => v.as_str().to_owned(),
        None => current_clause_version(state, visit_id).await?,
    };
    let consent = accepted_clause(&version)?;
    let application = NewApplication {
        visit_id,
        application_id: ids.application_id,
        person,
        applicant_key: ids.applicant_key,
    };
    let application_id = application.application_id;
    let ctx = meta.context("public".into(), None, "SubmitApplication");
    infra::applications::submit(
        &state.visits,
        &state.pool,
        &state.hasher,
        &application,
        &ctx,
        |subject_id| StudyVisitCommand::SubmitApplication {
            application_id,
            term_id,
            subject_id,
            institution: institution.clone(),
            consent: Some(consent.clone()),
        },
    )
    .await
    .map_err(not_submitted)
}

/// The version of the clause `visit_id`'s applicants are shown now, as the read model has it
/// (a visit it does not know yet gets the default: the aggregate refuses the submission if
/// the visit has a clause of its own, or does not exist).
async fn current_clause_version(state: &AppState, visit_id: Uuid) -> Result<String, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let set = projections::study_visits::read::clause_version(&mut conn, visit_id).await?;
    Ok(set.unwrap_or_else(|| INFORMATION_CLAUSE_VERSION.to_owned()))
}

/// What a submission that was not recorded answers.
fn not_submitted(e: SubmitError<DomainError>) -> ApiError {
    match e {
        SubmitError::Command(e) => e.into(),
        SubmitError::SubjectContended { .. } => ApiError::Unavailable {
            detail: "Too many simultaneous applications from this address; retry shortly.".into(),
            retry_after_secs: 1,
        },
        SubmitError::Database(e) => e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_clause_is_a_valid_record() {
        let record =
            accepted_clause(INFORMATION_CLAUSE_VERSION).expect("the clause constant is valid");
        assert_eq!(
            record.information_clause.as_str(),
            INFORMATION_CLAUSE_VERSION
        );
        // An upcast version-1 submission must stay distinguishable from a recorded one.
        assert!(record.clause_recorded());
    }

    /// Whether the document's `ApplicationRequest` schema takes `body`.
    fn schema_takes(body: &serde_json::Value) -> bool {
        ::tests::contract::check_schema("ApplicationRequest", body).is_ok()
    }

    #[test]
    fn the_form_schema_requires_consent_as_the_server_does() {
        let body = ::tests::application_body("zofia@gmina-testowo.pl", "9562307984", "JST");
        assert!(schema_takes(&body));
        let parsed: ApplicationRequest = serde_json::from_value(body.clone()).expect("parses");
        assert!(Applicant::try_from(parsed).is_ok());
        let mut without = body.clone();
        without.as_object_mut().map(|o| o.remove("consent"));
        let mut refused = body.clone();
        refused["consent"] = false.into();
        for b in [without, refused] {
            assert!(!schema_takes(&b), "schema takes {b}");
            let parsed: ApplicationRequest = serde_json::from_value(b).expect("still parses");
            assert!(Applicant::try_from(parsed).is_err());
        }
        for email in ["zofia", "zofia@localhost", "zo fia@x.pl", "a@b@c.pl"] {
            let mut b = body.clone();
            b["person"]["email"] = email.into();
            assert!(!schema_takes(&b), "schema takes {email}");
            let parsed: ApplicationRequest = serde_json::from_value(b).expect("parses");
            assert!(Applicant::try_from(parsed).is_err(), "server takes {email}");
        }
    }
}
