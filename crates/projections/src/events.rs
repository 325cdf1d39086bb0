//! Decoding stored events into the domain's event types, for the projections.

use domain::study_visit::StudyVisitEvent;
use infra::StoredEvent;
use uuid::Uuid;

use crate::runner::ProjectionError;

/// The aggregate type under which study-visit events are stored.
pub const STUDY_VISIT: &str = "StudyVisit";

/// The study-visit event in `event`, or None for events of other aggregates.
pub fn study_visit_event(event: &StoredEvent) -> Result<Option<StudyVisitEvent>, ProjectionError> {
    if event.aggregate_type != STUDY_VISIT {
        return Ok(None);
    }
    decode(event).map(Some)
}

/// The stored `event`, of whatever version, as today's shape `E` (`domain::upcasting`), so
/// a projection built from old events ends up as one built from events written today.
pub fn decode<E: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<E, ProjectionError> {
    domain::upcasting::decode(
        &event.aggregate_type,
        &event.event_type,
        &event.event_version,
        event.payload.clone(),
    )
    .map_err(|e| ProjectionError::Deserialize {
        position: event.position,
        event_type: event.event_type.clone(),
        message: e.to_string(),
    })
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
