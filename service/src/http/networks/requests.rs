//! The bodies of the network commands and what each turns into: the domain values a command
//! is made of, checked field by field so that a coordinator sees every mistake of a form in
//! one 422 (each field error under its JSON path, in the order of the form).
//!
//! A body parses on its own (`TryFrom`, the error an [`Invalid`]) except the establishment,
//! whose organizer comes from the caller's token: [`EstablishRequest::check`] records its
//! errors beside the organizer's, and the handler finishes both together. Ids are not made
//! here: the handler gives each new thing its id when it builds the command.
//!
//! The `#[schema]` attributes on each body state the same rules for the OpenAPI document
//! (which fields are required, lengths, formats, closed sets from `super::schemas`), so a
//! client learns them before it is refused.

use chrono::NaiveDate;
use domain::network::{Declaration, OfficerRole, RegulationsVersion};
use domain::values::{Institution, InstitutionType, NonEmptyText, PlannedDate};
use infra::officers::OfficerName;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas;
use crate::http::institution::InstitutionRequest;
use crate::http::validate::{Fields, Invalid};

/// Most participants a meeting may record.
const MAX_PARTICIPANTS: i64 = 1_000_000;

fn text(f: &mut Fields, field: &str, v: &str) -> Option<NonEmptyText> {
    f.check(field, NonEmptyText::parse(v))
}

/// Optional text: absent or blank is `Some(None)`; `None` only when it is invalid.
fn optional_text(f: &mut Fields, field: &str, v: Option<&str>) -> Option<Option<NonEmptyText>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(None),
        Some(s) => f.check(field, NonEmptyText::parse(s)).map(Some),
    }
}

/// Body of `POST /api/v1/networks`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EstablishRequest {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub name: String,
    /// The region (voivodeship) it covers.
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub region: String,
    /// Institution types it admits, at least one (PES admits its kinds CIS, KIS, ZAZ, WTZ
    /// and NGO).
    #[schema(value_type = Vec<crate::http::openapi::InstitutionType>, min_items = 1)]
    pub member_types: Vec<String>,
    #[schema(format = Date)]
    pub established_on: String,
    /// The organizer (slug) it belongs to: required with an admin token; a coordinator's
    /// token implies its own (naming another is 403).
    #[serde(default)]
    #[schema(
        pattern = r"^[a-z0-9]+(-[a-z0-9]+)*$",
        min_length = 2,
        max_length = 64,
        example = "rops-torun"
    )]
    pub organizer: Option<String>,
}

/// What a network is established with, but for its organizer (the caller's to give).
pub struct Founding {
    pub name: NonEmptyText,
    pub region: NonEmptyText,
    pub member_types: Vec<InstitutionType>,
    pub established_on: NaiveDate,
}

impl EstablishRequest {
    /// The founding details, or their field errors recorded in `f` (None then). The
    /// organizer is not checked here: it depends on the token (`Auth::organizer_for_new`).
    pub fn check(&self, f: &mut Fields) -> Option<Founding> {
        let name = text(f, "name", &self.name);
        let region = text(f, "region", &self.region);
        if self.member_types.is_empty() {
            f.fail(
                "member_types",
                "required",
                "must list at least one institution type",
            );
        }
        let member_types: Vec<InstitutionType> = self
            .member_types
            .iter()
            .enumerate()
            .filter_map(|(i, t)| f.check(&format!("member_types[{i}]"), InstitutionType::parse(t)))
            .collect();
        let established_on = f.date("established_on", &self.established_on);
        Some(Founding {
            name: name?,
            region: region?,
            member_types,
            established_on: established_on?,
        })
    }
}

/// Body of `POST /api/v1/networks/{id}/regulations`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegulationsRequest {
    /// Version label, unique within the network (e.g. `1.0`).
    #[schema(min_length = 1, max_length = 50, pattern = r"\S", example = "1.0")]
    pub version: String,
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    /// Not before the network was established.
    #[schema(format = Date)]
    pub adopted_on: String,
    /// Reference to the document (file name, register number).
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub document_ref: String,
}

impl TryFrom<RegulationsRequest> for RegulationsVersion {
    type Error = Invalid;

    fn try_from(body: RegulationsRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let version = f.check("version", NonEmptyText::parse_max(&body.version, 50));
        let title = text(&mut f, "title", &body.title);
        let adopted_on = f.date("adopted_on", &body.adopted_on);
        let document_ref = text(&mut f, "document_ref", &body.document_ref);
        f.finish_with(|| {
            Some(RegulationsVersion {
                version: version?,
                title: title?,
                adopted_on: adopted_on?,
                document_ref: document_ref?,
            })
        })
    }
}

/// A declaration of accession.
#[derive(Debug, Deserialize, ToSchema)]
pub struct DeclarationRequest {
    /// The member's joining day.
    #[schema(format = Date)]
    pub signed_on: String,
    /// Reference to the signed document (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub document_ref: Option<String>,
}

/// Body of `POST /api/v1/networks/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRequest {
    pub institution: InstitutionRequest,
    pub declaration: DeclarationRequest,
}

/// An institution joining, with its declaration of accession.
pub struct Accession {
    pub institution: Institution,
    pub declaration: Declaration,
}

impl TryFrom<MemberRequest> for Accession {
    type Error = Invalid;

    fn try_from(body: MemberRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let institution = body.institution.check(&mut f, "institution");
        let signed_on = f.date("declaration.signed_on", &body.declaration.signed_on);
        let document_ref = optional_text(
            &mut f,
            "declaration.document_ref",
            body.declaration.document_ref.as_deref(),
        );
        f.finish_with(|| {
            Some(Accession {
                institution: institution?,
                declaration: Declaration {
                    signed_on: signed_on?,
                    document_ref: document_ref?,
                },
            })
        })
    }
}

/// Body of a member's leaving.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LeaveRequest {
    /// Not before the member joined.
    #[schema(format = Date)]
    pub left_on: String,
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub reason: String,
}

/// When and why a member leaves.
pub struct Leaving {
    pub left_on: NaiveDate,
    pub reason: NonEmptyText,
}

impl TryFrom<LeaveRequest> for Leaving {
    type Error = Invalid;

    fn try_from(body: LeaveRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let left_on = f.date("left_on", &body.left_on);
        let reason = text(&mut f, "reason", &body.reason);
        f.finish_with(|| {
            Some(Leaving {
                left_on: left_on?,
                reason: reason?,
            })
        })
    }
}

/// An officer's name (personal data: kept out of the events).
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficerPersonRequest {
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub first_name: String,
    #[schema(min_length = 1, max_length = 100, pattern = r"\S")]
    pub last_name: String,
}

/// Body of `POST /api/v1/networks/{id}/officers`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OfficerRequest {
    #[schema(value_type = schemas::OfficerRole)]
    pub role: String,
    pub person: OfficerPersonRequest,
    /// The active member the officer comes from.
    pub member_id: Uuid,
    /// Not before the network was established.
    #[schema(format = Date)]
    pub term_starts_on: String,
    /// Not before `term_starts_on`; null or absent for a term without a fixed end.
    #[serde(default)]
    #[schema(format = Date)]
    pub term_ends_on: Option<String>,
}

/// An election: the office and term, which go into the event, and the officer's name,
/// which does not (it is stored beside the event, `infra::officers`).
pub struct Election {
    pub role: OfficerRole,
    pub name: OfficerName,
    pub member_id: Uuid,
    pub term_starts_on: NaiveDate,
    pub term_ends_on: Option<NaiveDate>,
}

impl TryFrom<OfficerRequest> for Election {
    type Error = Invalid;

    fn try_from(body: OfficerRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let role = f.check("role", OfficerRole::parse(&body.role));
        let first_name = f.check(
            "person.first_name",
            NonEmptyText::parse_max(&body.person.first_name, 100),
        );
        let last_name = f.check(
            "person.last_name",
            NonEmptyText::parse_max(&body.person.last_name, 100),
        );
        let starts = f.date("term_starts_on", &body.term_starts_on);
        // Blank is absent, as for the optional dates of programmes.
        let ends = match body
            .term_ends_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(None),
            Some(s) => f.date("term_ends_on", s).map(Some),
        };
        // Said here, beside the other fields, though the domain refuses it too.
        if let (Some(s), Some(Some(e))) = (starts, ends) {
            if e < s {
                f.fail(
                    "term_ends_on",
                    "ends_before_start",
                    "must not be before term_starts_on",
                );
            }
        }
        f.finish_with(|| {
            Some(Election {
                role: role?,
                name: OfficerName {
                    first_name: first_name?.as_str().to_owned(),
                    last_name: last_name?.as_str().to_owned(),
                },
                member_id: body.member_id,
                term_starts_on: starts?,
                term_ends_on: ends?,
            })
        })
    }
}

/// Body of `POST /api/v1/networks/{id}/meetings`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MeetingRequest {
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub title: String,
    /// When it took place, at the precision known; not before the network was established.
    #[schema(value_type = crate::http::openapi::PlannedDate)]
    pub when: serde_json::Value,
    /// Where (blank is none).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub location: Option<String>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub participants_total: i64,
    /// What was discussed, each 1 to 500 characters.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub topics: Vec<String>,
}

/// A meeting to record.
pub struct NewMeeting {
    pub title: NonEmptyText,
    pub when: PlannedDate,
    pub location: Option<NonEmptyText>,
    pub participants_total: u32,
    pub topics: Vec<NonEmptyText>,
}

impl TryFrom<MeetingRequest> for NewMeeting {
    type Error = Invalid;

    fn try_from(body: MeetingRequest) -> Result<Self, Invalid> {
        let mut f = Fields::default();
        let title = text(&mut f, "title", &body.title);
        let when = f.check("when", PlannedDate::from_json(&body.when));
        let location = optional_text(&mut f, "location", body.location.as_deref());
        let participants_total = match u32::try_from(body.participants_total) {
            Ok(n) if i64::from(n) <= MAX_PARTICIPANTS => Some(n),
            _ => {
                f.fail(
                    "participants_total",
                    "out_of_range",
                    format!("must be between 0 and {MAX_PARTICIPANTS}"),
                );
                None
            }
        };
        let topics: Vec<NonEmptyText> = body
            .topics
            .iter()
            .enumerate()
            .filter_map(|(i, t)| f.check(&format!("topics[{i}]"), NonEmptyText::parse(t)))
            .collect();
        f.finish_with(|| {
            Some(NewMeeting {
                title: title?,
                when: when?,
                location: location?,
                participants_total: participants_total?,
                topics,
            })
        })
    }
}
