//! The OpenAPI schemas of the network routes' closed sets.
//!
//! Why types of their own: the election's `role` is kept as text until it is checked (so a
//! wrong one is one more field error in the 422), and the registry answers statuses as the
//! read model spells them; the document must still list the values. They are the domain's
//! and the read model's own spellings (`as_str`, `ALL`), never a second copy, so the schema
//! cannot drift from them; the tests below hold the two equal. The domain crate stays free
//! of documentation concerns.

use domain::network::{OfficerRole as DomainOfficerRole, TermEndReason as DomainTermEndReason};
use projections::networks::read::MemberStatus as ReadMemberStatus;
use serde_json::Value;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// A string schema admitting exactly `values`.
fn closed_set<V: Into<Value>>(
    description: &str,
    values: impl IntoIterator<Item = V>,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values))
        .into()
}

/// Declares a schema (named as the type) of a closed set of strings.
macro_rules! closed_set {
    ($name:ident, $description:literal, $values:expr) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                closed_set($description, $values)
            }
        }

        impl ToSchema for $name {}
    };
}

closed_set!(
    OfficerRole,
    "An office of a network: chair (*przewodniczący*), vice-chair, coordinator or secretary.",
    DomainOfficerRole::ALL.map(DomainOfficerRole::as_str)
);

closed_set!(
    MemberStatus,
    "Whether a membership stands (`active`) or the member left (`left`).",
    [ReadMemberStatus::Active, ReadMemberStatus::Left].map(ReadMemberStatus::as_str)
);

closed_set!(
    OfficerStatus,
    "Whether the officer holds the office now (`current`) or the term ended (`ended`).",
    ["current", "ended"]
);

closed_set!(
    TermEndReason,
    "Why a term of office ended: a new holder was elected (`succeeded`), or the officer's member institution left the network (`member_left`).",
    [DomainTermEndReason::Succeeded, DomainTermEndReason::MemberLeft]
        .map(DomainTermEndReason::as_str)
);

#[cfg(test)]
mod tests {
    use super::*;

    /// The values a closed-set schema admits.
    fn values<T: PartialSchema>() -> Vec<String> {
        let json = serde_json::to_value(T::schema()).expect("a schema is JSON");
        json["enum"]
            .as_array()
            .expect("a closed set")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn every_role_is_one_the_domain_parses() {
        let roles = values::<OfficerRole>();
        assert_eq!(roles.len(), DomainOfficerRole::ALL.len());
        for r in roles {
            assert_eq!(DomainOfficerRole::parse(&r).map(|p| p.as_str()), Ok(&*r));
        }
        assert_eq!(values::<MemberStatus>(), ["active", "left"]);
    }
}
