//! An institution as a request names it (name, type, NIP, REGON), checked into the domain's
//! `Institution`: the same input in applications, programme partners, feedback, comments,
//! held activities and network members, so it is parsed in one place.

use domain::values::{Institution, InstitutionType, Nip, NonEmptyText, Regon};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::http::validate::Fields;

/// An institution reference.
#[derive(Debug, Deserialize, ToSchema)]
pub struct InstitutionRequest {
    pub name: String,
    /// JST, JOPS, OWES, PES, CIS, KIS, ZAZ, WTZ, NGO or OTHER.
    #[serde(rename = "type")]
    pub kind: String,
    /// 10 digits with a valid check digit.
    pub nip: String,
    #[serde(default)]
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
