//! The JSON forms the audit answers carry from lower layers (stored events' metadata and
//! payloads, the domain's verification reports, an aggregate's state), described for the
//! OpenAPI document. The answers serialize those values themselves; fields holding them
//! point here with `#[schema(value_type = …)]` or `schema_with`, and the tests below hold
//! each description to what a real value serializes to.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::schema::{AdditionalProperties, SchemaType};
use utoipa::openapi::{ObjectBuilder, Schema, Type};
use utoipa::ToSchema;
use uuid::Uuid;

/// What the service records with every event it writes (`infra::pipeline`): who, for which
/// organizer, in which business request, caused by what, through which command.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct EventMetadata {
    /// The token id (`token:…`), `public` for a public submission, `applicant:<id>` for an
    /// applicant acting with their key, `system:…` for the service itself (e.g. a deadline).
    pub actor: String,
    /// The organizer (slug) that owns the aggregate.
    pub organizer: String,
    /// Ties together everything one business request caused (`X-Correlation-Id`).
    pub correlation_id: String,
    /// What directly caused the command (`request:<request id>`, a deadline, …).
    pub causation_id: String,
    /// The command's name, e.g. `SubmitApplication`.
    pub command: String,
    /// The client's `Idempotency-Key`, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub idempotency_key: Option<String>,
    /// Any further entry is text as well.
    #[serde(flatten)]
    pub other: BTreeMap<String, String>,
}

/// `payload`: the event as stored, an object whose single key is the event type (the same
/// as `event_type`) and whose value holds the event's fields in the version
/// `event_version` (docs/events.md describes each), e.g.
/// `{"SeatAllocated": {"application_id": "…", "term_id": "…", "basis": {…}}}`.
pub fn payload() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The event as stored: an object whose single key is the event type (the same as `event_type`) and whose value holds the event's fields in the version `event_version` (docs/events.md describes each), e.g. `{\"SeatAllocated\": {\"application_id\": \"…\", \"term_id\": \"…\", \"basis\": {…}}}`.",
        ))
        .min_properties(Some(1))
        .max_properties(Some(1))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^[A-Z][A-Za-z0-9]*$")),
        ))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some("The event's fields."))
                .additional_properties(Some(AdditionalProperties::FreeForm(true))),
        ))
        .into()
}

/// `state`: the aggregate as replayed, in the domain's own serialization.
pub fn aggregate_state() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(
            "The aggregate after the last event replayed, in the domain's own serialization (for evaluators; not a stable interface). Every aggregate has `details` (what was announced, created or established; null before that) and its collections: a `StudyVisit` `preference_lists`, `terms`, `applications` (by id) and `next_order`; a `CooperationProgram` `partners`, `activities`, `feedback`, `feedback_ids`, `consultations`, `comment_ids`, `testing_ends_on`, `evaluated_on` and `closed_on`; a `Network` `regulations`, `members`, `officers` and `meetings`.",
        ))
        .property(
            "details",
            ObjectBuilder::new()
                .schema_type(SchemaType::Array(vec![Type::Object, Type::Null]))
                .description(Some(
                    "What was announced, created or established (title, organizer, policy, …).",
                ))
                .additional_properties(Some(AdditionalProperties::FreeForm(true))),
        )
        .required("details")
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .into()
}

/// A recorded allocation decision that differs from the one the policy gives at that
/// point of the stream (`domain::study_visit::Discrepancy`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct AllocationDiscrepancy {
    /// The application concerned (the recorded one, else the expected one); null when
    /// neither names one.
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    /// The term concerned.
    pub term_id: Uuid,
    /// What the policy gives, in words (`no decision` when none is due).
    pub expected: String,
    /// What the stream records, in words (`no decision` when none is recorded).
    pub recorded: String,
    /// What is wrong, when the two descriptions alone do not say it (manual decisions).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub problem: Option<String>,
}

/// A seat given by hand, as the audit found it (`domain::study_visit::ManualDecisionCheck`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct ManualDecision {
    /// The application given the seat.
    pub application_id: Uuid,
    /// Its term.
    pub term_id: Uuid,
    /// Who the decision names (an actor id); null when it names nobody.
    #[schema(required = true)]
    pub decided_by: Option<String>,
    /// Why, as recorded; null when no reason was recorded.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The actor the event's metadata names; null when unknown.
    #[schema(required = true)]
    pub recorded_by: Option<String>,
    /// True when the decision names who and why, matches its metadata and fits the state.
    pub consistent: bool,
}

/// One value of a programme's evaluation that the events and the read model disagree on
/// (`domain::cooperation_program::evaluation::EvaluationDiscrepancy`): an indicator's
/// actual value (`indicator`) or a figure of the evaluation (`figure`).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct EvaluationDiscrepancy {
    /// The indicator's code, when an indicator's actual value differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub indicator: Option<String>,
    /// The figure that differs (`participants_total`, `activities.held`,
    /// `activities.by_kind.<kind>`, `feedback.average_rating`, `verdict`, …), when it is
    /// not an indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub figure: Option<String>,
    /// The value recomputed from the events (see [`from_events`]).
    #[schema(schema_with = from_events)]
    pub from_events: serde_json::Value,
    /// The value the read model gives (see [`read_model`]).
    #[schema(schema_with = read_model)]
    pub read_model: serde_json::Value,
}

/// `from_events`: any JSON value, as the figure has it.
fn from_events() -> Schema {
    any_value("The value recomputed from the events: a number, text (a verdict), an object of totals (`activities.by_kind.…`), or null when unknown or absent there.")
}

/// `read_model`: any JSON value, as the figure has it.
fn read_model() -> Schema {
    any_value(
        "The value the read model gives, of the same kind; null when unknown or absent there.",
    )
}

/// Any JSON value, described.
fn any_value(description: &str) -> Schema {
    ObjectBuilder::new()
        .schema_type(SchemaType::AnyValue)
        .description(Some(description))
        .into()
}

#[cfg(test)]
mod tests {
    use domain::cooperation_program::evaluation::EvaluationDiscrepancy;
    use domain::study_visit::{Discrepancy, ManualDecisionCheck};
    use serde_json::{json, Value};
    use uuid::Uuid;

    fn holds(schema: &str, value: Value) {
        tests::contract::check_schema(schema, &value).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn verification_reports_serialize_as_described() {
        let (a, t) = (Uuid::now_v7(), Uuid::now_v7());
        for d in [
            Discrepancy {
                application_id: Some(a),
                term_id: t,
                expected: "SeatAllocated … [rank_order] rank 1".into(),
                recorded: "no decision".into(),
                problem: None,
            },
            Discrepancy {
                application_id: None,
                term_id: t,
                expected: "no decision".into(),
                recorded: "no decision".into(),
                problem: Some("the decision names nobody".into()),
            },
        ] {
            holds(
                "AllocationDiscrepancy",
                serde_json::to_value(&d).expect("json"),
            );
        }
        for m in [
            ManualDecisionCheck {
                application_id: a,
                term_id: t,
                decided_by: Some("token:01".into()),
                reason: Some("a seat for the host".into()),
                recorded_by: Some("token:01".into()),
                consistent: true,
            },
            ManualDecisionCheck {
                application_id: a,
                term_id: t,
                decided_by: None,
                reason: None,
                recorded_by: None,
                consistent: false,
            },
        ] {
            holds("ManualDecision", serde_json::to_value(&m).expect("json"));
        }
        for e in [
            EvaluationDiscrepancy {
                indicator: Some("trainings".into()),
                figure: None,
                from_events: json!(3),
                read_model: Value::Null,
            },
            EvaluationDiscrepancy {
                indicator: None,
                figure: Some("activities.by_kind.training".into()),
                from_events: json!({"planned": 3, "held": 2}),
                read_model: json!("achieved"),
            },
        ] {
            holds(
                "EvaluationDiscrepancy",
                serde_json::to_value(&e).expect("json"),
            );
        }
    }

    #[test]
    fn metadata_written_by_the_pipeline_is_described() {
        holds(
            "EventMetadata",
            json!({"actor": "token:01", "organizer": "rops-torun", "correlation_id": "c",
                   "causation_id": "request:r", "command": "Announce", "idempotency_key": "k"}),
        );
        let missing_actor = json!({"organizer": "rops-torun", "correlation_id": "c",
                                   "causation_id": "request:r", "command": "Announce"});
        assert!(tests::contract::check_schema("EventMetadata", &missing_actor).is_err());
    }
}
