//! Institutions as the domain refers to them: a name, a type and the NIP that is
//! their identity everywhere in the service.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Nip, NonEmptyText, Regon, ValueError};

/// The kinds of institution the service knows, in the users' own abbreviations.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InstitutionType {
    /// Local government unit (jednostka samorządu terytorialnego).
    JST,
    /// Social assistance unit (jednostka organizacyjna pomocy społecznej).
    JOPS,
    /// Social economy support centre (ośrodek wsparcia ekonomii społecznej).
    OWES,
    /// Social economy entity (podmiot ekonomii społecznej).
    PES,
    /// Social integration centre, a kind of PES.
    CIS,
    /// Social integration club, a kind of PES.
    KIS,
    /// Vocational activity establishment, a kind of PES.
    ZAZ,
    /// Occupational therapy workshop, a kind of PES.
    WTZ,
    /// Non-governmental organisation, a kind of PES.
    NGO,
    /// Anything else.
    OTHER,
}

impl InstitutionType {
    /// Every type, in the order of the API documentation.
    pub const ALL: [InstitutionType; 10] = [
        Self::JST,
        Self::JOPS,
        Self::OWES,
        Self::PES,
        Self::CIS,
        Self::KIS,
        Self::ZAZ,
        Self::WTZ,
        Self::NGO,
        Self::OTHER,
    ];

    /// The API spelling, e.g. `"JOPS"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::JST => "JST",
            Self::JOPS => "JOPS",
            Self::OWES => "OWES",
            Self::PES => "PES",
            Self::CIS => "CIS",
            Self::KIS => "KIS",
            Self::ZAZ => "ZAZ",
            Self::WTZ => "WTZ",
            Self::NGO => "NGO",
            Self::OTHER => "OTHER",
        }
    }

    /// Parses the exact API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                ValueError::new(
                    "institution_type_unknown",
                    "institution type must be one of JST, JOPS, OWES, PES, CIS, KIS, ZAZ, WTZ, NGO, OTHER",
                )
            })
    }

    /// Whether this type is one of the kinds of social economy entity (PES).
    pub fn is_kind_of_pes(self) -> bool {
        matches!(
            self,
            Self::CIS | Self::KIS | Self::ZAZ | Self::WTZ | Self::NGO
        )
    }

    /// Whether an institution of this type may take part where `eligible` types are
    /// admitted: listed itself, or a kind of PES where PES is listed.
    pub fn is_covered_by(self, eligible: &[InstitutionType]) -> bool {
        eligible.contains(&self) || (self.is_kind_of_pes() && eligible.contains(&Self::PES))
    }
}

impl fmt::Display for InstitutionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InstitutionType {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A reference to an institution as applications, partners and members carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    /// The institution's name as given.
    pub name: NonEmptyText,
    /// Its type (serialized as `type`).
    #[serde(rename = "type")]
    pub kind: InstitutionType,
    /// Its NIP: the institution's identity.
    pub nip: Nip,
    /// Its REGON, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regon: Option<Regon>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_serialize_uppercase() {
        for t in InstitutionType::ALL {
            let json = serde_json::to_string(&t).expect("ser");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(
                serde_json::from_str::<InstitutionType>(&json).expect("de"),
                t
            );
            assert_eq!(InstitutionType::parse(t.as_str()).expect("parse"), t);
        }
        assert!(serde_json::from_str::<InstitutionType>("\"jst\"").is_err());
        assert!(InstitutionType::parse("ROPS").is_err());
    }

    #[test]
    fn pes_covers_its_kinds() {
        use InstitutionType::*;
        let eligible = [JST, JOPS, PES, OWES];
        for t in [JST, JOPS, PES, OWES, CIS, KIS, ZAZ, WTZ, NGO] {
            assert!(t.is_covered_by(&eligible), "{t}");
        }
        assert!(!OTHER.is_covered_by(&eligible));
        assert!(!CIS.is_covered_by(&[JST]));
        assert!(CIS.is_covered_by(&[CIS]));
        assert!(!PES.is_covered_by(&[CIS]));
    }

    #[test]
    fn institution_json_shape() {
        let json = r#"{"name":"Gmina Testowo","type":"JST","nip":"956-230-79-84"}"#;
        let inst: Institution = serde_json::from_str(json).expect("de");
        assert_eq!(inst.nip.as_str(), "9562307984");
        assert_eq!(inst.regon, None);
        assert_eq!(
            serde_json::to_string(&inst).expect("ser"),
            r#"{"name":"Gmina Testowo","type":"JST","nip":"9562307984"}"#
        );
        let with_regon = r#"{"name":"X","type":"PES","nip":"9562307984","regon":"123456785"}"#;
        assert!(serde_json::from_str::<Institution>(with_regon).is_ok());
        let bad = r#"{"name":"X","type":"PES","nip":"9562307985"}"#;
        assert!(serde_json::from_str::<Institution>(bad).is_err());
    }
}
