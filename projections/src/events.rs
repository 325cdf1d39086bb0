//! Decoding stored events into the domain's event types, for the projections.

use std::sync::OnceLock;

use domain::cooperation_program::CooperationProgramEvent;
use domain::network::NetworkEvent;
use domain::study_visit::StudyVisitEvent;
use infra::StoredEvent;
use uuid::Uuid;

use crate::runner::ProjectionError;

/// The aggregate type under which study-visit events are stored.
pub const STUDY_VISIT: &str = "StudyVisit";
/// The aggregate type under which programme events are stored.
pub const COOPERATION_PROGRAM: &str = "CooperationProgram";
/// The aggregate type under which network events are stored.
pub const NETWORK: &str = "Network";

/// A stored event with its domain event, decoded (upcasters applied) at most once however
/// many projections read it: a batch or a page of the feed is handed to every projection as
/// these, so deserializing a payload is paid once per event, not once per projection.
///
/// Decoding is lazy: a projection that never asks for an aggregate's events (or a batch fed
/// to one projection only) does not pay for them. An event that does not decode keeps its
/// error, and every projection asking for it gets that error at that event, as when each
/// decoded it itself.
pub struct DecodedEvent {
    stored: StoredEvent,
    domain: OnceLock<Result<DomainEvent, String>>,
}

/// The domain event of a stored event, by aggregate type.
enum DomainEvent {
    StudyVisit(StudyVisitEvent),
    CooperationProgram(CooperationProgramEvent),
    Network(NetworkEvent),
    /// An aggregate no projection decodes into a Rust type.
    Other,
}

impl DecodedEvent {
    /// Wraps `stored`; nothing is decoded yet.
    pub fn new(stored: StoredEvent) -> DecodedEvent {
        DecodedEvent {
            stored,
            domain: OnceLock::new(),
        }
    }

    /// Wraps every event of a page or batch, in order.
    pub fn all(stored: Vec<StoredEvent>) -> Vec<DecodedEvent> {
        stored.into_iter().map(DecodedEvent::new).collect()
    }

    /// The event as stored.
    pub fn stored(&self) -> &StoredEvent {
        &self.stored
    }

    /// Decodes now (e.g. on a task reading ahead, so the work overlaps the applying of the
    /// previous page); an error is kept for the projections that ask.
    pub fn decode_now(&self) {
        let _ = self.domain();
    }

    fn domain(&self) -> Result<&DomainEvent, ProjectionError> {
        self.domain
            .get_or_init(|| {
                let e = &self.stored;
                let decoded = match e.aggregate_type.as_str() {
                    STUDY_VISIT => {
                        read(e, StudyVisitEvent::current_version).map(DomainEvent::StudyVisit)
                    }
                    COOPERATION_PROGRAM => read(e, CooperationProgramEvent::current_version)
                        .map(DomainEvent::CooperationProgram),
                    NETWORK => read(e, NetworkEvent::current_version).map(DomainEvent::Network),
                    _ => Ok(DomainEvent::Other),
                };
                // Only the message is kept: the error is rebuilt for each projection asking.
                decoded.map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|message| ProjectionError::Deserialize {
                position: self.stored.position,
                event_type: self.stored.event_type.clone(),
                message: message.clone(),
            })
    }

    /// The study-visit event, or None for events of other aggregates.
    pub fn study_visit(&self) -> Result<Option<&StudyVisitEvent>, ProjectionError> {
        if self.stored.aggregate_type != STUDY_VISIT {
            return Ok(None);
        }
        match self.domain()? {
            DomainEvent::StudyVisit(e) => Ok(Some(e)),
            _ => Ok(None),
        }
    }

    /// The programme event, or None for events of other aggregates.
    pub fn program(&self) -> Result<Option<&CooperationProgramEvent>, ProjectionError> {
        if self.stored.aggregate_type != COOPERATION_PROGRAM {
            return Ok(None);
        }
        match self.domain()? {
            DomainEvent::CooperationProgram(e) => Ok(Some(e)),
            _ => Ok(None),
        }
    }

    /// The network event, or None for events of other aggregates.
    pub fn network(&self) -> Result<Option<&NetworkEvent>, ProjectionError> {
        if self.stored.aggregate_type != NETWORK {
            return Ok(None);
        }
        match self.domain()? {
            DomainEvent::Network(e) => Ok(Some(e)),
            _ => Ok(None),
        }
    }
}

/// The stored event's fields (`position`, `aggregate_id`, `metadata` …) read through the
/// decoded one, so the helpers below and the projections' SQL binds take either.
impl std::ops::Deref for DecodedEvent {
    type Target = StoredEvent;

    fn deref(&self) -> &StoredEvent {
        &self.stored
    }
}

/// The stored `event`, of whatever version, as today's shape `E` (`domain::upcasting`), so
/// a projection built from old events ends up as one built from events written today.
pub fn decode<E: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<E, ProjectionError> {
    upcast(event).map_err(|e| ProjectionError::Deserialize {
        position: event.position,
        event_type: event.event_type.clone(),
        message: e.to_string(),
    })
}

/// `event` as `E`, whose events are written today in `current(event_type)`: an event stored
/// in that version is already today's shape (upcasters only take older versions forward), so
/// it is read straight from the stored payload instead of from a copy made for upcasting.
fn read<E: serde::de::DeserializeOwned>(
    event: &StoredEvent,
    current: fn(&str) -> &'static str,
) -> Result<E, serde_json::Error> {
    if event.event_version == current(&event.event_type) {
        E::deserialize(&event.payload)
    } else {
        upcast(event)
    }
}

fn upcast<E: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<E, serde_json::Error> {
    domain::upcasting::decode(
        &event.aggregate_type,
        &event.event_type,
        &event.event_version,
        event.payload.clone(),
    )
}

/// The aggregate id as a UUID (all Koordynator aggregates are keyed by UUID).
pub fn aggregate_uuid(event: &StoredEvent) -> Result<Uuid, ProjectionError> {
    Uuid::parse_str(&event.aggregate_id).map_err(|e| ProjectionError::Deserialize {
        position: event.position,
        event_type: event.event_type.clone(),
        message: format!("aggregate id is not a UUID: {e}"),
    })
}

/// The name an enum value is stored and shown under (its serde string), for text columns.
pub fn api_str<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The organizer stamped on the event by the command pipeline.
pub fn organizer(event: &StoredEvent) -> String {
    event
        .metadata
        .get("organizer")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn stored(
        aggregate_type: &str,
        event_type: &str,
        version: &str,
        payload: serde_json::Value,
    ) -> StoredEvent {
        StoredEvent {
            position: 7,
            tx_id: 1,
            aggregate_type: aggregate_type.into(),
            aggregate_id: Uuid::nil().to_string(),
            sequence: 1,
            event_type: event_type.into(),
            event_version: version.into(),
            payload,
            metadata: json!({}),
            recorded_at: chrono::DateTime::UNIX_EPOCH,
        }
    }

    fn submitted(consent: serde_json::Value) -> serde_json::Value {
        json!({"ApplicationSubmitted": {
            "application_id": "01a203e3-c550-71c5-99a2-d8fb9fffa86d",
            "term_id": "01a203e3-c4e7-75aa-a5ef-750e0b2adf24",
            "subject_id": "01a203e3-c555-7563-b2c6-7d20eaccccbc",
            "institution": {"name": "Instytucja", "nip": "1000000012", "type": "JST"},
            "consent": consent,
            "submitted_at": "2022-06-15T08:52:00Z"
        }})
    }

    #[test]
    fn decoded_as_the_upcasting_decode_does_old_and_current_versions() {
        for (version, consent) in [
            ("1", json!(true)),
            (
                "2",
                json!({"information_clause": "2026-01", "legal_basis": "public_task"}),
            ),
        ] {
            let e = stored(
                STUDY_VISIT,
                "ApplicationSubmitted",
                version,
                submitted(consent),
            );
            let expected: StudyVisitEvent = decode(&e).unwrap();
            let d = DecodedEvent::new(e);
            assert_eq!(
                d.study_visit().unwrap(),
                Some(&expected),
                "version {version}"
            );
            assert!(d.network().unwrap().is_none());
            assert!(d.program().unwrap().is_none());
        }
    }

    #[test]
    fn an_event_that_does_not_decode_fails_every_reader_of_its_aggregate() {
        let d = DecodedEvent::new(stored(
            STUDY_VISIT,
            "SeatAllocated",
            "1",
            json!({"SeatAllocated": {"application_id": "not a uuid"}}),
        ));
        d.decode_now();
        for _ in 0..2 {
            match d.study_visit() {
                Err(ProjectionError::Deserialize {
                    position,
                    event_type,
                    ..
                }) => assert_eq!((position, event_type.as_str()), (7, "SeatAllocated")),
                other => panic!("{other:?}"),
            }
        }
        // Readers of other aggregates never see it.
        assert!(d.network().unwrap().is_none());
        assert!(d.program().unwrap().is_none());
        assert!(
            DecodedEvent::new(stored("Other", "Anything", "1", json!(null)))
                .study_visit()
                .unwrap()
                .is_none()
        );
    }
}
