//! The JSON forms of the domain's visit values (preferences, funding) as the API sends
//! them, described for the OpenAPI document. The domain's types stay free of documentation
//! concerns: answers serialize the domain values themselves, and fields of those types
//! point here with `#[schema(value_type = …)]`; the tests below hold each description to
//! what a real domain value serializes to.

use serde::Serialize;
use utoipa::ToSchema;

/// How a preference's list of NIPs is read: `listed` is met by the institutions on the
/// list, `not_listed` by those not on it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum PreferenceKind {
    Listed,
    NotListed,
}

/// One of a visit's preferences, in the visit's order of importance.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Preference {
    /// Its stable code.
    #[schema(pattern = "^[a-z0-9_]{1,64}$", example = "cus_declared")]
    pub code: String,
    /// What it means, for people.
    #[schema(min_length = 1)]
    pub label: String,
    pub kind: PreferenceKind,
}

/// The EU funding reference of a project-funded visit; a part not given is empty.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct Funding {
    /// Project title.
    pub project: String,
    /// Operational programme.
    pub programme: String,
    /// Priority axis.
    pub priority_axis: String,
    /// Measure.
    pub measure: String,
    /// Sub-measure.
    pub sub_measure: String,
}

#[cfg(test)]
mod tests {
    use domain::study_visit::{Funding, Preference, PreferenceKind};
    use domain::values::{NonEmptyText, PreferenceCode};
    use serde_json::json;

    fn preference(code: &str, kind: PreferenceKind) -> Preference {
        Preference {
            code: PreferenceCode::parse(code).expect("code"),
            label: NonEmptyText::parse("JST, które zadeklarowały utworzenie CUS").expect("label"),
            kind,
        }
    }

    #[test]
    fn domain_preferences_and_funding_serialize_as_described() {
        for p in [
            preference("cus_declared", PreferenceKind::Listed),
            preference("new_to_project", PreferenceKind::NotListed),
        ] {
            let v = serde_json::to_value(&p).expect("preference");
            tests::contract::check_schema("Preference", &v).unwrap_or_else(|e| panic!("{e}"));
        }
        for f in [
            Funding::default(),
            Funding {
                project: "Koordynacja rozwoju ekonomii społecznej".into(),
                programme: "RPO WK-P 2014-2020".into(),
                priority_axis: "9".into(),
                measure: "9.4".into(),
                sub_measure: "9.4.2".into(),
            },
        ] {
            let v = serde_json::to_value(&f).expect("funding");
            tests::contract::check_schema("Funding", &v).unwrap_or_else(|e| panic!("{e}"));
        }
        // And the mirror refuses what the domain never sends.
        assert!(tests::contract::check_schema(
            "Preference",
            &json!({"code": "x", "label": "y", "kind": "maybe"})
        )
        .is_err());
    }
}
