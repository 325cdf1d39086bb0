//! Re-computes every hash and every seal and names the first event that was altered,
//! removed or inserted — by anyone, including someone who bypassed the triggers.
//!
//! The walk reads the whole store in commit order in pages (constant memory apart from one
//! small entry per stream) inside one read-only REPEATABLE READ transaction, so writes
//! going on meanwhile neither disturb it nor are half-checked. (A read-only transaction
//! takes no transaction id, so it does not hold back the projections' horizon.)

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};

use crate::chain::{self, Hash, Link, GENESIS};
use crate::seal::{self, Seal};

const PAGE: i64 = 5_000;
/// How many problems a report lists (the count covers them all).
const LISTED: usize = 20;

/// What kind of tampering a problem points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The event's content no longer matches the hash written with it, or its successor
    /// recorded another hash for it.
    Altered,
    /// Events are missing: a gap in a stream's sequence, or fewer events than a seal counted.
    Removed,
    /// An event the service did not write: no hash, out of order, or not counted by a seal.
    Inserted,
    /// A seal itself does not match its content or its predecessor.
    SealBroken,
}

/// One finding, located as precisely as the evidence allows.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The position of the event concerned (for a removal: of the event after the gap).
    pub position: Option<i64>,
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    /// The sequence concerned (for a removal: the first missing one).
    pub sequence: Option<i64>,
    /// The seal that revealed it, when a seal did.
    pub seal_no: Option<i64>,
    pub detail: String,
}

/// The outcome of a full check.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Events re-computed.
    pub verified: u64,
    /// Seals re-computed.
    pub seals_verified: u64,
    pub intact: bool,
    /// The first problem in commit order, if any.
    pub first_broken: Option<Problem>,
    /// How many problems were found in all.
    pub problem_count: u64,
    /// The first few problems, in the order found.
    pub problems: Vec<Problem>,
    /// The newest seal checked: its hash is the fingerprint to hand to outsiders.
    pub latest_seal: Option<serde_json::Value>,
    /// Events written after the newest seal: the chain protects them, a seal not yet.
    pub unsealed: u64,
}

#[derive(Default, Clone, Copy)]
struct StreamState {
    sequence: i64,
    position: i64,
    hash: Hash,
}

struct Walk {
    streams: HashMap<(String, String), StreamState>,
    /// Streams changed since the last seal, with the first position that changed them.
    touched: HashMap<(String, String), i64>,
    count: u64,
    seals: u64,
    prev_seal: Hash,
    last_seal_no: i64,
    problems: Vec<Problem>,
    problem_count: u64,
    latest_seal: Option<Seal>,
    since_seal: u64,
}

impl Walk {
    fn report(&mut self, p: Problem) {
        self.problem_count += 1;
        if self.problems.len() < LISTED {
            self.problems.push(p);
        }
    }

    fn event(&mut self, e: &Row5) {
        let key = (e.aggregate_type.clone(), e.aggregate_id.clone());
        let state = self.streams.get(&key).copied().unwrap_or_default();
        let at = |kind, sequence, detail: String| Problem {
            kind,
            position: Some(e.position),
            aggregate_type: Some(e.aggregate_type.clone()),
            aggregate_id: Some(e.aggregate_id.clone()),
            sequence: Some(sequence),
            seal_no: None,
            detail,
        };
        let recomputed = Link {
            aggregate_type: &e.aggregate_type,
            aggregate_id: &e.aggregate_id,
            sequence: e.sequence,
            event_type: &e.event_type,
            event_version: &e.event_version,
            payload: &e.payload,
            metadata: &e.metadata,
            recorded_at: e.recorded_at,
        }
        .hash(&e.prev_hash.unwrap_or(GENESIS));
        if e.sequence > state.sequence + 1 {
            self.report(at(
                ProblemKind::Removed,
                state.sequence + 1,
                format!(
                    "sequence {}..{} of this stream is missing before the event at position {}",
                    state.sequence + 1,
                    e.sequence - 1,
                    e.position
                ),
            ));
        } else if e.sequence <= state.sequence {
            self.report(at(
                ProblemKind::Inserted,
                e.sequence,
                format!(
                    "sequence {} was committed after sequence {} of the same stream: it was \
                     written in place of a removed event",
                    e.sequence, state.sequence
                ),
            ));
        }
        match e.hash {
            None => self.report(at(
                ProblemKind::Inserted,
                e.sequence,
                "the event has no hash: it was not written by the service".to_owned(),
            )),
            Some(stored) if stored != recomputed => self.report(at(
                ProblemKind::Altered,
                e.sequence,
                "the event's content does not match the hash written with it".to_owned(),
            )),
            Some(_) => {
                if e.sequence == state.sequence + 1 && e.prev_hash != Some(state.hash) {
                    // The content matches its own hash, but the predecessor is not the one
                    // this event was chained to: the predecessor was changed (hash and all).
                    let altered = Problem {
                        position: (state.position > 0).then_some(state.position),
                        sequence: Some(state.sequence),
                        ..at(
                            ProblemKind::Altered,
                            state.sequence,
                            format!(
                                "event {} of this stream differs from the one event {} was \
                                 chained to when it was written",
                                state.sequence, e.sequence
                            ),
                        )
                    };
                    self.report(altered);
                }
            }
        }
        self.streams.insert(
            key.clone(),
            StreamState {
                sequence: e.sequence.max(state.sequence),
                position: e.position,
                hash: e.hash.unwrap_or(recomputed),
            },
        );
        self.touched.entry(key).or_insert(e.position);
        self.count += 1;
        self.since_seal += 1;
    }

    fn seal(&mut self, s: Seal) {
        let broken = |detail: String| Problem {
            kind: ProblemKind::SealBroken,
            position: None,
            aggregate_type: None,
            aggregate_id: None,
            sequence: None,
            seal_no: Some(s.seal_no),
            detail,
        };
        if s.seal_no != self.last_seal_no + 1 {
            self.report(broken(format!(
                "seal {} follows seal {}: seals are missing",
                s.seal_no, self.last_seal_no
            )));
        }
        if s.prev_seal != self.prev_seal || s.expected_hash() != s.seal_hash {
            self.report(broken(
                "the seal does not match its content or its predecessor".to_owned(),
            ));
        }
        let listed: HashSet<(String, String)> = s
            .heads
            .iter()
            .map(|h| (h.aggregate_type.clone(), h.aggregate_id.clone()))
            .collect();
        for head in &s.heads {
            let key = (head.aggregate_type.clone(), head.aggregate_id.clone());
            let now = self.streams.get(&key).copied().unwrap_or_default();
            let sealed_hash = chain::from_hex(&head.hash);
            let locate = |kind, sequence, detail| Problem {
                kind,
                position: (now.position > 0).then_some(now.position),
                aggregate_type: Some(head.aggregate_type.clone()),
                aggregate_id: Some(head.aggregate_id.clone()),
                sequence: Some(sequence),
                seal_no: Some(s.seal_no),
                detail,
            };
            if now.sequence < head.sequence {
                self.report(locate(
                    ProblemKind::Removed,
                    now.sequence + 1,
                    format!(
                        "seal {} recorded this stream up to sequence {}; the store ends at {}",
                        s.seal_no, head.sequence, now.sequence
                    ),
                ));
            } else if now.sequence > head.sequence {
                self.report(locate(
                    ProblemKind::Inserted,
                    head.sequence + 1,
                    format!(
                        "seal {} recorded this stream up to sequence {}; the store has events up \
                         to {} in the period it sealed",
                        s.seal_no, head.sequence, now.sequence
                    ),
                ));
            } else if sealed_hash.is_some_and(|h| h != now.hash) {
                self.report(locate(
                    ProblemKind::Altered,
                    now.sequence,
                    format!(
                        "the stream's newest event differs from the one seal {} recorded",
                        s.seal_no
                    ),
                ));
            }
        }
        let mut unlisted: Vec<((String, String), i64)> = self
            .touched
            .iter()
            .filter(|(key, _)| !listed.contains(*key))
            .map(|(key, position)| (key.clone(), *position))
            .collect();
        unlisted.sort_by_key(|(_, position)| *position);
        for (key, position) in unlisted {
            {
                let p = Problem {
                    kind: ProblemKind::Inserted,
                    position: Some(position),
                    aggregate_type: Some(key.0.clone()),
                    aggregate_id: Some(key.1.clone()),
                    sequence: None,
                    seal_no: Some(s.seal_no),
                    detail: format!(
                        "this stream changed in the period of seal {}, which does not list it",
                        s.seal_no
                    ),
                };
                self.report(p);
            }
        }
        if self.count as i64 != s.events_total {
            let kind = if (self.count as i64) < s.events_total {
                ProblemKind::Removed
            } else {
                ProblemKind::Inserted
            };
            let mut p = broken(format!(
                "seal {} counted {} events up to it; the store holds {}",
                s.seal_no, s.events_total, self.count
            ));
            p.kind = kind;
            self.report(p);
        }
        self.touched.clear();
        self.prev_seal = s.seal_hash;
        self.last_seal_no = s.seal_no;
        self.seals += 1;
        self.since_seal = 0;
        self.latest_seal = Some(s);
    }
}

struct Row5 {
    position: i64,
    tx_id: i64,
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: serde_json::Value,
    metadata: serde_json::Value,
    recorded_at: DateTime<Utc>,
    prev_hash: Option<Hash>,
    hash: Option<Hash>,
}

/// Checks the whole store; `progress` is called after each page with the events done.
pub async fn verify(
    pool: &PgPool,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Report, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let mut walk = Walk {
        streams: HashMap::new(),
        touched: HashMap::new(),
        count: 0,
        seals: 0,
        prev_seal: GENESIS,
        last_seal_no: 0,
        problems: Vec::new(),
        problem_count: 0,
        latest_seal: None,
        since_seal: 0,
    };
    let mut next_seal = seal::load(&mut *tx, 1).await?;
    let mut after = (0i64, 0i64);
    loop {
        let rows = sqlx::query(
            "SELECT position, tx_id::text::bigint AS tx_id, aggregate_type, aggregate_id, sequence,
                    event_type, event_version, payload, metadata, recorded_at, prev_hash, hash
               FROM events
              WHERE (tx_id, position) > ($1::text::xid8, $2)
              ORDER BY events.tx_id, events.position
              LIMIT $3",
        )
        .bind(after.0.to_string())
        .bind(after.1)
        .bind(PAGE)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let e = Row5 {
                position: row.try_get("position")?,
                tx_id: row.try_get("tx_id")?,
                aggregate_type: row.try_get("aggregate_type")?,
                aggregate_id: row.try_get("aggregate_id")?,
                sequence: row.try_get("sequence")?,
                event_type: row.try_get("event_type")?,
                event_version: row.try_get("event_version")?,
                payload: row.try_get("payload")?,
                metadata: row.try_get("metadata")?,
                recorded_at: row.try_get("recorded_at")?,
                prev_hash: chain::from_column(row.try_get("prev_hash")?),
                hash: chain::from_column(row.try_get("hash")?),
            };
            while let Some(s) = next_seal.take_if(|s| e.tx_id >= s.horizon) {
                let no = s.seal_no;
                walk.seal(s);
                next_seal = seal::load(&mut *tx, no + 1).await?;
            }
            walk.event(&e);
            after = (e.tx_id, e.position);
        }
        progress(walk.count);
    }
    while let Some(s) = next_seal.take() {
        let no = s.seal_no;
        walk.seal(s);
        next_seal = seal::load(&mut *tx, no + 1).await?;
    }
    tx.commit().await?;
    Ok(Report {
        verified: walk.count,
        seals_verified: walk.seals,
        intact: walk.problem_count == 0,
        first_broken: walk.problems.first().cloned(),
        problem_count: walk.problem_count,
        problems: walk.problems,
        latest_seal: walk.latest_seal.as_ref().map(Seal::summary),
        unsealed: walk.since_seal,
    })
}
