//! An institution as a request names it (name, type, NIP, REGON), checked into the domain's
//! `Institution`: the same input in applications, programme partners, feedback, comments,
//! held activities and network members, so it is parsed in one place.
//!
//! Its OpenAPI schema says what the parser accepts. NIP and REGON are checked by their check
//! digits, which JSON Schema cannot express: they carry the custom formats `nip` and `regon`
//! (a form or a fuzzer can register a generator or a check for each) and a valid example,
//! and no pattern, since the service also takes them as people write them (`956-230-79-84`,
//! `PL 956 230 79 84`).

use domain::values::{Institution, InstitutionType, Nip, NonEmptyText, Regon};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::validate::Fields;

/// An institution, identified by its NIP.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InstitutionRequest {
    /// Its name (trimmed).
    #[schema(min_length = 1, max_length = 500, pattern = r"\S")]
    pub name: String,
    #[serde(rename = "type")]
    #[schema(value_type = crate::http::openapi::InstitutionType)]
    pub kind: String,
    /// NIP: 10 digits, the last a check digit (weights 6, 5, 7, 2, 3, 4, 5, 6, 7, modulo
    /// 11); spaces, hyphens and a leading `PL` are ignored.
    #[schema(format = "nip", example = "9562307984")]
    pub nip: String,
    /// REGON, optional: 9 or 14 digits, the last a check digit; spaces and hyphens are
    /// ignored, and blank is none.
    #[serde(default)]
    #[schema(format = "regon", example = "123456785")]
    pub regon: Option<String>,
}

impl InstitutionRequest {
    /// The institution, or its field errors recorded in `f` under `prefix` (e.g.
    /// `institution.nip`).
    pub fn check(&self, f: &mut Fields, prefix: &str) -> Option<Institution> {
        let r = self;
        let name = f.check(&format!("{prefix}.name"), NonEmptyText::parse(&r.name));
        let kind = f.check(&format!("{prefix}.type"), InstitutionType::parse(&r.kind));
        let nip = f.check(&format!("{prefix}.nip"), Nip::parse(&r.nip));
        let regon = match r.regon.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => f
                .check(&format!("{prefix}.regon"), Regon::parse(s))
                .map(Some),
            None => Some(None),
        };
        Some(Institution {
            name: name?,
            kind: kind?,
            nip: nip?,
            regon: regon?,
        })
    }
}
