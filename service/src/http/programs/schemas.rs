//! The OpenAPI schemas of the programme routes' closed sets and of the values the requests
//! keep as text until they are checked.
//!
//! Why types of their own: the request bodies keep these fields as strings, so that a wrong
//! value is one more field error in the 422 that lists them all (`requests`), not a
//! deserialization failure that hides the others. The document must still tell a client
//! the values the server accepts, so each field points here with `#[schema(value_type = …)]`.
//! The values are the domain's own spellings (`as_str`, `Display`, `ALL`), never a second
//! copy, so the schema cannot drift from what the domain parses; the tests below hold the
//! two equal. The domain crate stays free of documentation concerns.

use domain::cooperation_program::{
    ActivityKind as DomainActivityKind, ActivityStatus as DomainActivityStatus,
    Channel as DomainChannel, FeedbackChannel as DomainFeedbackChannel, Measure as DomainMeasure,
    ProgramKind as DomainProgramKind, Verdict as DomainVerdict,
};
use serde_json::Value;
use utoipa::openapi::{ObjectBuilder, OneOfBuilder, Ref, RefOr, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::http::openapi::PlannedDate;

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
    ProgramKind,
    "A cooperation programme (*program współpracy*) or a project.",
    [
        DomainProgramKind::CooperationProgramme,
        DomainProgramKind::Project
    ]
    .map(DomainProgramKind::as_str)
);

closed_set!(
    ActivityKind,
    "The kind of a programme's activity.",
    DomainActivityKind::ALL.map(DomainActivityKind::as_str)
);

closed_set!(
    Measure,
    "How an indicator's actual value is measured from what was recorded: `participants_total` (participants of held activities), `activities_held` (held activities), `activities_held:<kind>` (held activities of one kind, e.g. `activities_held:training`), `distinct_institutions` (institutions of held activities, once each by NIP), `partners`, `feedback_received`, or `manual` (given in the evaluation's `manual_values`).",
    measures()
);

closed_set!(
    PartnerChannel,
    "How a partner's application card came: by e-mail (`sent_on` counts), by post (`postmarked_on` counts) or in person (`delivered_on` counts).",
    [
        DomainChannel::Email,
        DomainChannel::Post,
        DomainChannel::InPerson
    ]
    .map(DomainChannel::as_str)
);

closed_set!(
    FeedbackChannel,
    "How an opinion, proposal or suggestion came.",
    DomainFeedbackChannel::ALL.map(DomainFeedbackChannel::as_str)
);

closed_set!(
    Verdict,
    "Whether the programme achieved its goals.",
    [
        DomainVerdict::Achieved,
        DomainVerdict::PartiallyAchieved,
        DomainVerdict::NotAchieved
    ]
    .map(DomainVerdict::as_str)
);

closed_set!(
    ActivityStatus,
    "Where an activity stands: planned, held (took place) or cancelled.",
    [
        DomainActivityStatus::Planned,
        DomainActivityStatus::Held,
        DomainActivityStatus::Cancelled
    ]
    .map(DomainActivityStatus::as_str)
);

closed_set!(
    ProgramStatus,
    "`active` until the programme is closed, then `closed` (nothing more can be recorded).",
    ["active", "closed"]
);

/// Every measure the domain parses, written as it writes them: the fixed ones and
/// `activities_held:<kind>` for every kind.
fn measures() -> Vec<String> {
    [
        DomainMeasure::ParticipantsTotal,
        DomainMeasure::ActivitiesHeld,
        DomainMeasure::DistinctInstitutions,
        DomainMeasure::Partners,
        DomainMeasure::FeedbackReceived,
        DomainMeasure::Manual,
    ]
    .into_iter()
    .chain(
        DomainActivityKind::ALL
            .into_iter()
            .map(DomainMeasure::ActivitiesHeldOfKind),
    )
    .map(|m| m.to_string())
    .collect()
}

/// A planned date as a request may give it: the JSON form, or the text Polish schedules
/// write.
pub struct PlannedDateOrText;

impl PartialSchema for PlannedDateOrText {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(Ref::from_schema_name(PlannedDate::name()))
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .pattern(Some(r"\S"))
                    .description(Some(
                        "The date as Polish schedules write it, the year included: `7.02.2020`, `7-8.05.2020`, `30.04-2.05.2020`, `3 lutego 2014 r.`, `Luty 2020`, `02.2020`, `Koniec września 2020`, `w połowie lipca 2022`, `początek marca 2020` (month names in any case, with or without diacritics).",
                    ))
                    .examples(["Koniec września 2020"]),
            )
            .description(Some(
                "A planned date: its JSON form (`PlannedDate`), or the text a schedule writes.",
            ))
            .into()
    }
}

impl ToSchema for PlannedDateOrText {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PlannedDate::name().into_owned(), PlannedDate::schema()));
        <PlannedDate as ToSchema>::schemas(schemas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::cooperation_program::{Channel, FeedbackChannel as Fc};

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
    fn every_value_of_a_closed_set_is_one_the_domain_parses() {
        for v in values::<ProgramKind>() {
            assert_eq!(DomainProgramKind::parse(&v).map(|k| k.as_str()), Ok(&*v));
        }
        for v in values::<PartnerChannel>() {
            assert_eq!(Channel::parse(&v).map(|c| c.as_str()), Ok(&*v));
        }
        for v in values::<Verdict>() {
            assert_eq!(DomainVerdict::parse(&v).map(|c| c.as_str()), Ok(&*v));
        }
        assert_eq!(values::<FeedbackChannel>().len(), Fc::ALL.len());
        assert_eq!(
            values::<ActivityKind>().len(),
            DomainActivityKind::ALL.len()
        );
        let measures = values::<Measure>();
        assert_eq!(measures.len(), 6 + DomainActivityKind::ALL.len());
        for m in &measures {
            assert_eq!(
                DomainMeasure::parse(m).map(|p| p.to_string()).as_ref(),
                Ok(m),
                "{m}"
            );
        }
        assert!(measures.contains(&"activities_held:training".to_owned()));
    }
}
