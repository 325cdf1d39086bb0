//! Reading stored events of any version as today's event types.
//!
//! Events are facts and are never rewritten, so an event stored under an old shape stays in
//! that shape forever. Everything that reads stored events (the command pipeline, the
//! projections, the audit replays) goes through [`decode`], which first brings the payload
//! to the current version with the aggregate's upcasters, then deserializes it.
//!
//! The rule (docs/events.md, "Versions and upcasting"): a new shape of an event gets a new
//! version number; an upcaster turns the previous version's payload into the next one on
//! read. Upcasters run in order, each taking one version to the next, so a version-1 event
//! passes every step up to the current one. Each upcaster writes the literal shape of the
//! version it produces, never today's Rust type: a later version then only adds a step.
//! Upcasting happens in memory; the stored bytes, which the integrity hash chain covers,
//! stay as written.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::Aggregate;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use strum::VariantNames;

use crate::cooperation_program::{CooperationProgram, CooperationProgramEvent};
use crate::network::{Network, NetworkEvent};
use crate::study_visit::{StudyVisit, StudyVisitEvent, UNRECORDED_V1_CLAUSE};

/// The upcasters of `aggregate_type`, oldest shape first (empty when every event is current).
pub fn upcasters(aggregate_type: &str) -> Vec<Box<dyn EventUpcaster>> {
    if aggregate_type == StudyVisit::TYPE {
        vec![
            Box::new(ApplicationSubmittedV1ToV2),
            Box::new(AttendanceRecordedV1ToV2),
        ]
    } else {
        Vec::new()
    }
}

/// Decodes a stored event of `aggregate_type` (any version) into today's event type `E`.
///
/// `E` may be `serde_json::Value` for readers that pick fields by name: they then see the
/// current shape too.
pub fn decode<E: DeserializeOwned>(
    aggregate_type: &str,
    event_type: &str,
    event_version: &str,
    payload: Value,
) -> Result<E, serde_json::Error> {
    let mut event = SerializedEvent {
        aggregate_id: String::new(),
        sequence: 0,
        aggregate_type: aggregate_type.to_owned(),
        event_type: event_type.to_owned(),
        event_version: event_version.to_owned(),
        payload,
        metadata: Value::Null,
    };
    for upcaster in upcasters(aggregate_type) {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    serde_json::from_value(event.payload)
}

/// One row of the event catalogue: an event type of an aggregate and the version it is
/// written in today.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CatalogueEntry {
    /// The aggregate type, e.g. `StudyVisit`.
    pub aggregate_type: &'static str,
    /// The event type (the variant name), e.g. `ApplicationSubmitted`.
    pub event_type: &'static str,
    /// The version new events of this type are written in.
    pub current_version: &'static str,
}

/// Every event type of every aggregate with its current version, taken from the code (the
/// enums' variant names), so docs/events.md can be checked against it.
pub fn catalogue() -> Vec<CatalogueEntry> {
    fn entries(
        aggregate_type: &'static str,
        names: &'static [&'static str],
        version: fn(&str) -> &'static str,
    ) -> impl Iterator<Item = CatalogueEntry> {
        names.iter().map(move |name| CatalogueEntry {
            aggregate_type,
            event_type: name,
            current_version: version(name),
        })
    }
    entries(
        StudyVisit::TYPE,
        StudyVisitEvent::VARIANTS,
        StudyVisitEvent::current_version,
    )
    .chain(entries(
        CooperationProgram::TYPE,
        CooperationProgramEvent::VARIANTS,
        CooperationProgramEvent::current_version,
    ))
    .chain(entries(
        Network::TYPE,
        NetworkEvent::VARIANTS,
        NetworkEvent::current_version,
    ))
    .collect()
}

/// `ApplicationSubmitted` 1 → 2: `consent: true` becomes the structured record of the
/// information clause and legal basis (RODO).
///
/// Version 1 could only ever hold `consent: true` (the aggregate refused anything else), and
/// the form then asked for consent, so the legal basis is art. 6(1)(a), `consent`. Which
/// clause text the applicant saw was not recorded, and inventing a version id would be a
/// false record: the clause becomes the explicit marker [`UNRECORDED_V1_CLAUSE`].
///
/// A payload not of that shape is left as it is, still version 1, so decoding fails and
/// names the field instead of this step making up a consent nobody gave.
pub struct ApplicationSubmittedV1ToV2;

impl EventUpcaster for ApplicationSubmittedV1ToV2 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "ApplicationSubmitted" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        let body = event
            .payload
            .get_mut("ApplicationSubmitted")
            .and_then(Value::as_object_mut);
        if let Some(body) = body {
            if body.get("consent") == Some(&Value::Bool(true)) {
                // The literal version-2 shape (see the module comment).
                body.insert(
                    "consent".to_owned(),
                    json!({"information_clause": UNRECORDED_V1_CLAUSE, "legal_basis": "consent"}),
                );
                event.event_version = "2".to_owned();
            }
        }
        event
    }
}

/// `AttendanceRecorded` 1 → 2: attendance became a record per day; version 1 recorded the
/// whole term at once, which version 2 writes as `"day": null` (every day of the term).
pub struct AttendanceRecordedV1ToV2;

impl EventUpcaster for AttendanceRecordedV1ToV2 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == "AttendanceRecorded" && event_version == "1"
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        let body = event
            .payload
            .get_mut("AttendanceRecorded")
            .and_then(Value::as_object_mut);
        if let Some(body) = body {
            // The literal version-2 shape; a v1 body never had a day.
            body.entry("day").or_insert(Value::Null);
            event.event_version = "2".to_owned();
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::study_visit::{ConsentRecord, LegalBasis};

    fn v1_payload(consent: Value) -> Value {
        json!({"ApplicationSubmitted": {
            "application_id": "01a203e3-c550-71c5-99a2-d8fb9fffa86d",
            "consent": consent,
            "institution": {"name": "Instytucja 1000000012", "nip": "1000000012", "type": "JST"},
            "subject_id": "01a203e3-c555-7563-b2c6-7d20eaccccbc",
            "submitted_at": "2022-06-15T08:52:00Z",
            "term_id": "01a203e3-c4e7-75aa-a5ef-750e0b2adf24"
        }})
    }

    fn serialized(version: &str, payload: Value) -> SerializedEvent {
        SerializedEvent {
            aggregate_id: "01a203e3-c49e-70ed-b10a-530e05dd6266".into(),
            sequence: 7,
            aggregate_type: "StudyVisit".into(),
            event_type: "ApplicationSubmitted".into(),
            event_version: version.into(),
            payload,
            metadata: json!({"organizer": "rops-torun"}),
        }
    }

    #[test]
    fn v1_consent_becomes_the_unrecorded_clause_with_consent_as_basis() {
        let up = ApplicationSubmittedV1ToV2.upcast(serialized("1", v1_payload(json!(true))));
        assert_eq!(up.event_version, "2");
        let mut expected = v1_payload(json!(true));
        expected["ApplicationSubmitted"]["consent"] =
            json!({"information_clause": "unrecorded-v1", "legal_basis": "consent"});
        assert_eq!(up.payload, expected);
        // Everything but the payload and version passes through untouched.
        assert_eq!(
            (up.aggregate_id.as_str(), up.sequence, up.metadata),
            (
                "01a203e3-c49e-70ed-b10a-530e05dd6266",
                7,
                json!({"organizer": "rops-torun"})
            )
        );
    }

    #[test]
    fn only_application_submitted_v1_is_upcast() {
        let u = ApplicationSubmittedV1ToV2;
        assert!(u.can_upcast("ApplicationSubmitted", "1"));
        assert!(!u.can_upcast("ApplicationSubmitted", "2"));
        assert!(!u.can_upcast("SeatAllocated", "1"));
    }

    #[test]
    fn decode_reads_v1_and_v2_as_the_same_event() {
        let from_v1: StudyVisitEvent = decode(
            "StudyVisit",
            "ApplicationSubmitted",
            "1",
            v1_payload(json!(true)),
        )
        .expect("v1 decodes");
        let StudyVisitEvent::ApplicationSubmitted { consent, .. } = &from_v1 else {
            panic!("not an ApplicationSubmitted: {from_v1:?}");
        };
        assert_eq!(*consent, ConsentRecord::unrecorded_v1());
        assert_eq!(consent.legal_basis, LegalBasis::Consent);
        assert!(!consent.clause_recorded());
        // Written today, the same event is version 2 and reads back unchanged.
        let v2 = serde_json::to_value(&from_v1).expect("serializes");
        let from_v2: StudyVisitEvent =
            decode("StudyVisit", "ApplicationSubmitted", "2", v2).expect("v2 decodes");
        assert_eq!(from_v1, from_v2);
    }

    #[test]
    fn a_recorded_clause_is_kept() {
        let mut payload = v1_payload(Value::Null);
        payload["ApplicationSubmitted"]["consent"] =
            json!({"information_clause": "2026-01", "legal_basis": "public_task"});
        let e: StudyVisitEvent =
            decode("StudyVisit", "ApplicationSubmitted", "2", payload).expect("v2 decodes");
        let StudyVisitEvent::ApplicationSubmitted { consent, .. } = e else {
            panic!("not an ApplicationSubmitted");
        };
        assert!(consent.clause_recorded());
        assert_eq!(consent.legal_basis, LegalBasis::PublicTask);
    }

    #[test]
    fn a_v1_payload_without_consent_is_not_made_up_and_fails_to_decode() {
        for odd in [json!(false), Value::Null] {
            let up = ApplicationSubmittedV1ToV2.upcast(serialized("1", v1_payload(odd.clone())));
            assert_eq!(up.event_version, "1", "{odd}");
            assert_eq!(up.payload, v1_payload(odd.clone()));
            let decoded: Result<StudyVisitEvent, _> = decode(
                "StudyVisit",
                "ApplicationSubmitted",
                "1",
                v1_payload(odd.clone()),
            );
            assert!(decoded.is_err(), "{odd} must not decode");
        }
    }

    #[test]
    fn other_aggregates_have_no_upcasters_yet() {
        assert!(upcasters("CooperationProgram").is_empty());
        assert!(upcasters("Network").is_empty());
        assert_eq!(upcasters("StudyVisit").len(), 2);
    }

    #[test]
    fn v1_attendance_is_every_day() {
        let body = json!({"AttendanceRecorded": {
            "application_id": "01a203e3-c550-71c5-99a2-d8fb9fffa86d",
            "term_id": "01a203e3-c4e7-75aa-a5ef-750e0b2adf24",
            "attended": true
        }});
        let mut ev = serialized("1", body.clone());
        ev.event_type = "AttendanceRecorded".into();
        let up = AttendanceRecordedV1ToV2.upcast(ev);
        assert_eq!(up.event_version, "2");
        assert_eq!(up.payload["AttendanceRecorded"]["day"], Value::Null);
        let e: StudyVisitEvent =
            decode("StudyVisit", "AttendanceRecorded", "1", body).expect("v1 decodes");
        let StudyVisitEvent::AttendanceRecorded { day, attended, .. } = e else {
            panic!("not an AttendanceRecorded: {e:?}");
        };
        assert_eq!((day, attended), (None, true));
        // A day recorded in version 2 is kept.
        let v2 = json!({"AttendanceRecorded": {
            "application_id": "01a203e3-c550-71c5-99a2-d8fb9fffa86d",
            "term_id": "01a203e3-c4e7-75aa-a5ef-750e0b2adf24",
            "day": "2027-05-28",
            "attended": false
        }});
        let e: StudyVisitEvent =
            decode("StudyVisit", "AttendanceRecorded", "2", v2).expect("v2 decodes");
        let StudyVisitEvent::AttendanceRecorded { day, .. } = e else {
            panic!("not an AttendanceRecorded");
        };
        assert_eq!(day, chrono::NaiveDate::from_ymd_opt(2027, 5, 28));
        assert!(!AttendanceRecordedV1ToV2.can_upcast("AttendanceRecorded", "2"));
    }

    #[test]
    fn events_are_written_in_their_current_version() {
        use cqrs_es::DomainEvent;
        let e: StudyVisitEvent = decode(
            "StudyVisit",
            "ApplicationSubmitted",
            "1",
            v1_payload(json!(true)),
        )
        .expect("v1 decodes");
        assert_eq!(e.event_version(), "2");
        assert_eq!(StudyVisitEvent::current_version("SeatAllocated"), "1");
    }
}
