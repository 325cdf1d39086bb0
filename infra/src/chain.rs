//! The hash chain that makes a changed, removed or inserted event evident.
//!
//! The hash of an event is the SHA-256 of one canonical JSON text:
//!
//! ```text
//! {"aggregate_id":…,"aggregate_type":…,"event_type":…,"event_version":…,"metadata":{…},
//!  "payload":{…},"prev_hash":"<hex of the previous event's hash in this stream>",
//!  "recorded_at":"2026-11-22T10:15:00.123456Z","sequence":N}
//! ```
//!
//! Canonical means: object keys sorted by their UTF-8 bytes at every level, no whitespace,
//! strings escaped as serde_json and Python's `json.dumps(..., ensure_ascii=False)` both do.
//! So anyone holding an export can recompute every hash with a few lines of any language
//! (docs/audit.md shows Python), without this program and without trusting its operator.
//! The first event of a stream has `prev_hash` = 64 zeros.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// The predecessor of a stream's first event.
pub const GENESIS: Hash = [0; 32];

/// What an event's hash covers, borrowed from wherever the event currently is.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
    pub recorded_at: DateTime<Utc>,
}

impl Link<'_> {
    /// The event's hash given its predecessor's.
    pub fn hash(&self, prev: &Hash) -> Hash {
        let mut text = String::with_capacity(256);
        text.push_str("{\"aggregate_id\":");
        push_string(&mut text, self.aggregate_id);
        text.push_str(",\"aggregate_type\":");
        push_string(&mut text, self.aggregate_type);
        text.push_str(",\"event_type\":");
        push_string(&mut text, self.event_type);
        text.push_str(",\"event_version\":");
        push_string(&mut text, self.event_version);
        text.push_str(",\"metadata\":");
        push_canonical(&mut text, self.metadata);
        text.push_str(",\"payload\":");
        push_canonical(&mut text, self.payload);
        text.push_str(",\"prev_hash\":\"");
        text.push_str(&hex::encode(prev));
        text.push_str("\",\"recorded_at\":");
        push_string(&mut text, &instant(self.recorded_at));
        text.push_str(",\"sequence\":");
        text.push_str(&self.sequence.to_string());
        text.push('}');
        Sha256::digest(text.as_bytes()).into()
    }
}

/// The one text form of an instant inside hashes and exports: UTC, microseconds (what
/// PostgreSQL's `timestamptz` keeps), e.g. `2026-11-22T10:15:00.123456Z`.
pub fn instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// `at` cut to the microsecond, so that what is hashed before the INSERT equals what
/// PostgreSQL gives back afterwards.
pub fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    let micros = at.timestamp_micros();
    DateTime::from_timestamp_micros(micros).unwrap_or(at)
}

/// The canonical JSON text of `value` (sorted keys, no whitespace).
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    push_canonical(&mut out, value);
    out
}

fn push_canonical(out: &mut String, value: &Value) {
    match value {
        Value::Object(map) => {
            // serde_json may keep insertion order (its `preserve_order` feature is switched on
            // by other crates in the build), so sort explicitly.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_string(out, k);
                out.push(':');
                push_canonical(out, v);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_canonical(out, v);
            }
            out.push(']');
        }
        // Scalars: serde_json's own compact text (strings escaped, numbers as written).
        other => out.push_str(&other.to_string()),
    }
}

fn push_string(out: &mut String, s: &str) {
    out.push_str(&Value::String(s.to_owned()).to_string());
}

/// Hex of a hash, for APIs and exports.
pub fn to_hex(hash: &Hash) -> String {
    hex::encode(hash)
}

/// A hash from its hex form, or None when it is not 64 hex digits.
pub fn from_hex(text: &str) -> Option<Hash> {
    let bytes = hex::decode(text).ok()?;
    bytes.try_into().ok()
}

/// A hash from a database column (bytea), or None when absent or of the wrong length.
pub fn from_column(bytes: Option<Vec<u8>>) -> Option<Hash> {
    bytes.and_then(|b| b.try_into().ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_level_and_drops_whitespace() {
        let v = json!({"b": 1, "a": {"z": [3, {"y": "ą\"\n", "x": null}], "c": true}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":true,"z":[3,{"x":null,"y":"ą\"\n"}]},"b":1}"#
        );
    }

    fn link<'a>(payload: &'a Value, metadata: &'a Value) -> Link<'a> {
        Link {
            aggregate_type: "StudyVisit",
            aggregate_id: "a",
            sequence: 1,
            event_type: "VisitAnnounced",
            event_version: "1",
            payload,
            metadata,
            recorded_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap(),
        }
    }

    #[test]
    fn the_hash_is_sha256_of_the_documented_text() {
        let payload = json!({"VisitAnnounced": {"title": "Wizyta"}});
        let metadata = json!({"actor": "t1"});
        let expected_text = concat!(
            r#"{"aggregate_id":"a","aggregate_type":"StudyVisit","event_type":"VisitAnnounced","#,
            r#""event_version":"1","metadata":{"actor":"t1"},"payload":{"VisitAnnounced":{"title":"Wizyta"}},"#,
            r#""prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","#,
            r#""recorded_at":"2023-11-14T22:13:20.123456Z","sequence":1}"#
        );
        let expected: Hash = Sha256::digest(expected_text.as_bytes()).into();
        assert_eq!(link(&payload, &metadata).hash(&GENESIS), expected);
    }

    #[test]
    fn any_change_or_another_predecessor_changes_the_hash() {
        let payload = json!({"X": {"n": 1}});
        let other = json!({"X": {"n": 2}});
        let metadata = json!({});
        let base = link(&payload, &metadata).hash(&GENESIS);
        assert_ne!(base, link(&other, &metadata).hash(&GENESIS));
        assert_ne!(base, link(&payload, &metadata).hash(&[1; 32]));
        let mut later = link(&payload, &metadata);
        later.sequence = 2;
        assert_ne!(base, later.hash(&GENESIS));
    }

    #[test]
    fn instants_keep_microseconds_in_utc() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap();
        assert_eq!(instant(at), "2023-11-14T22:13:20.000001Z");
        let nanos = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        assert_eq!(
            instant(truncate_to_micros(nanos)),
            "2023-11-14T22:13:20.123456Z"
        );
    }
}
