//! Reading stored events of any version as today's event types.
//!
//! Events are facts and are never rewritten, so an event stored under an old shape stays in
//! that shape forever. Everything that reads stored events (the command pipeline, the
//! projections, the audit replays) goes through [`decode`], which first brings the payload
//! to the current version with the aggregate's upcasters, then deserializes it.

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The upcasters of `aggregate_type`, oldest shape first (empty when every event is current).
pub fn upcasters(aggregate_type: &str) -> Vec<Box<dyn EventUpcaster>> {
    let _ = aggregate_type;
    Vec::new()
}

/// Decodes a stored event of `aggregate_type` (any version) into today's event type `E`.
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
