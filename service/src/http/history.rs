//! An aggregate's history from the event store, decoded through the upcasters (so events
//! of any version read alike) and replayed into the aggregate: what the audit answers
//! (the state at a moment, the re-derivation of decisions) are computed from, never from
//! read-model rows. Scoped like every read: another organizer's aggregate is not there.

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use domain::cooperation_program::CooperationProgram;
use domain::network::Network;
use domain::study_visit::StudyVisit;
use infra::feed::{self, StoredEvent};
use uuid::Uuid;

use crate::http::auth::Auth;
use crate::http::problem::ApiError;
use crate::http::state::AppState;

/// The aggregate types the audit routes accept.
pub const AGGREGATE_TYPES: &[&str] = &["StudyVisit", "CooperationProgram", "Network"];

/// An aggregate the audit replays: who owns it, and how to name it in a 404.
pub trait Audited: Aggregate {
    /// "study visit", "programme", "network".
    const NOUN: &'static str;
    /// The organizer that owns it (None before its first event).
    fn owner(&self) -> Option<String>;
}

impl Audited for StudyVisit {
    const NOUN: &'static str = "study visit";
    fn owner(&self) -> Option<String> {
        self.organizer().map(|o| o.as_str().to_owned())
    }
}

impl Audited for CooperationProgram {
    const NOUN: &'static str = "programme";
    fn owner(&self) -> Option<String> {
        self.organizer().map(|o| o.as_str().to_owned())
    }
}

impl Audited for Network {
    const NOUN: &'static str = "network";
    fn owner(&self) -> Option<String> {
        self.organizer().map(|o| o.as_str().to_owned())
    }
}

/// A stored event decoded into today's event type, with what the audit needs of its record.
#[derive(Debug, Clone)]
pub struct Decoded<E> {
    pub event: E,
    pub sequence: i64,
    pub position: i64,
    /// The writing transaction: with `position`, the event's place in commit order.
    pub tx_id: i64,
    pub recorded_at: DateTime<Utc>,
    /// The actor named in the event's metadata.
    pub actor: Option<String>,
}

impl<E> Decoded<E> {
    /// Whether the event is part of the history as it stood at `at` / up to `sequence`:
    /// recorded at or before the instant, at or before the sequence (the same rule as
    /// `infra::feed::aggregate_events`).
    pub fn within(&self, at: Option<DateTime<Utc>>, sequence: Option<i64>) -> bool {
        at.is_none_or(|at| self.recorded_at <= at) && sequence.is_none_or(|s| self.sequence <= s)
    }
}

/// The stored events of one aggregate on `pool` in sequence order (only those recorded up to `at` and
/// up to `sequence`, when given), each decoded through the upcasters.
pub async fn history<A: Aggregate>(
    pool: &sqlx::PgPool,
    id: &str,
    at: Option<DateTime<Utc>>,
    sequence: Option<i64>,
) -> Result<Vec<Decoded<A::Event>>, ApiError> {
    let stored = feed::aggregate_events(pool, A::TYPE, id, at, sequence).await?;
    stored.into_iter().map(decode::<A>).collect()
}

fn decode<A: Aggregate>(e: StoredEvent) -> Result<Decoded<A::Event>, ApiError> {
    let actor = e
        .metadata
        .get("actor")
        .and_then(|a| a.as_str())
        .map(str::to_owned);
    let event = domain::upcasting::decode::<A::Event>(
        &e.aggregate_type,
        &e.event_type,
        &e.event_version,
        e.payload,
    )
    .map_err(|err| {
        ApiError::Internal(format!(
            "stored event at position {} ({} v{}) does not decode: {err}",
            e.position, e.event_type, e.event_version
        ))
    })?;
    Ok(Decoded {
        event,
        sequence: e.sequence,
        position: e.position,
        tx_id: e.tx_id,
        recorded_at: e.recorded_at,
        actor,
    })
}

/// An aggregate replayed from (part of) its history.
pub struct Replayed<A> {
    pub aggregate: A,
    /// Events replayed.
    pub count: usize,
    /// Sequence of the last event replayed (0 when none).
    pub sequence: i64,
    /// Global position of the last event replayed (0 when none).
    pub position: i64,
    /// When the last event replayed was recorded.
    pub recorded_at: Option<DateTime<Utc>>,
}

/// Applies `events` in order to a fresh aggregate.
pub fn replay<'a, A: Aggregate + 'a>(
    events: impl IntoIterator<Item = &'a Decoded<A::Event>>,
) -> Replayed<A> {
    let mut out = Replayed {
        aggregate: A::default(),
        count: 0,
        sequence: 0,
        position: 0,
        recorded_at: None,
    };
    for e in events {
        out.aggregate.apply(e.event.clone());
        out.count += 1;
        out.sequence = e.sequence;
        out.position = out.position.max(e.position);
        out.recorded_at = Some(e.recorded_at);
    }
    out
}

/// The whole history of an aggregate the caller may read. Its owner is taken from the
/// whole history (so a question about a moment before it existed is scoped too); an
/// unknown id and another organizer's aggregate both answer 404, alike.
pub async fn visible_history<A: Audited>(
    state: &AppState,
    auth: &Auth,
    id: Uuid,
) -> Result<Vec<Decoded<A::Event>>, ApiError> {
    // An audit read: the replica when there is one.
    let events = history::<A>(state.reads(), &id.to_string(), None, None).await?;
    match replay::<A>(&events).aggregate.owner() {
        Some(owner) if auth.can_read(&owner) => Ok(events),
        _ => Err(ApiError::NotFound(format!("No such {}.", A::NOUN))),
    }
}

/// The 404 for a moment before an aggregate's first event.
pub fn not_yet<A: Audited>(at: Option<DateTime<Utc>>, sequence: Option<i64>) -> ApiError {
    let when = match (at, sequence) {
        (Some(at), _) => format!("at {}", at.to_rfc3339()),
        (None, Some(s)) => format!("at sequence {s}"),
        (None, None) => "then".to_owned(),
    };
    ApiError::NotFound(format!(
        "The {} did not exist yet {when}: no event of it had been recorded.",
        A::NOUN
    ))
}
