//! Audit re-derivation: replays a visit's events and checks that every allocation
//! decision recorded is the one the policy gives at that point of the stream.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::allocation::{Outcome, PASSED_OVER_REASON};
use super::events::{DecisionBasis, StudyVisitEvent};
use super::StudyVisit;

/// The result of [`verify`]: how many decisions were compared and which differed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Decisions compared (one per candidate at each close, one per released seat).
    pub checked: u32,
    /// Every difference found, in stream order.
    pub discrepancies: Vec<Discrepancy>,
}

impl VerifyReport {
    /// True when every recorded decision matches the policy.
    pub fn consistent(&self) -> bool {
        self.discrepancies.is_empty()
    }
}

/// One recorded decision that differs from the re-derived one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discrepancy {
    /// The application concerned (the recorded one, else the expected one).
    pub application_id: Option<Uuid>,
    /// The term concerned.
    pub term_id: Uuid,
    /// What the policy gives, in words ("no decision" when none is due).
    pub expected: String,
    /// What the stream records, in words ("no decision" when none is recorded).
    pub recorded: String,
}

/// A decision reduced to what is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    event: &'static str,
    application_id: Uuid,
    waitlist_position: Option<u32>,
    reason: Option<String>,
    basis: DecisionBasis,
}

impl Key {
    fn of(event: &StudyVisitEvent) -> Option<(Uuid, Key)> {
        match event {
            StudyVisitEvent::SeatAllocated {
                application_id,
                term_id,
                basis,
            } => Some((
                *term_id,
                Key {
                    event: "SeatAllocated",
                    application_id: *application_id,
                    waitlist_position: None,
                    reason: None,
                    basis: basis.clone(),
                },
            )),
            StudyVisitEvent::ApplicantWaitlisted {
                application_id,
                term_id,
                waitlist_position,
                basis,
            } => Some((
                *term_id,
                Key {
                    event: "ApplicantWaitlisted",
                    application_id: *application_id,
                    waitlist_position: Some(*waitlist_position),
                    reason: None,
                    basis: basis.clone(),
                },
            )),
            StudyVisitEvent::ApplicationPassedOver {
                application_id,
                term_id,
                reason,
                basis,
            } => Some((
                *term_id,
                Key {
                    event: "ApplicationPassedOver",
                    application_id: *application_id,
                    waitlist_position: None,
                    reason: Some(reason.clone()),
                    basis: basis.clone(),
                },
            )),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        let mut s = format!("{} {}", self.event, self.application_id);
        if let Some(p) = self.waitlist_position {
            s.push_str(&format!(" at waiting-list position {p}"));
        }
        if let Some(r) = &self.reason {
            s.push_str(&format!(" ({r})"));
        }
        s.push_str(&format!(
            " [{}] {}",
            self.basis.rule.as_str(),
            self.basis.describe()
        ));
        s
    }
}

fn describe(key: Option<&Key>) -> String {
    key.map(Key::describe)
        .unwrap_or_else(|| "no decision".to_owned())
}

fn compare(
    report: &mut VerifyReport,
    term_id: Uuid,
    expected: Option<&Key>,
    recorded: Option<&Key>,
) {
    report.checked += 1;
    if expected != recorded {
        report.discrepancies.push(Discrepancy {
            application_id: recorded.or(expected).map(|k| k.application_id),
            term_id,
            expected: describe(expected),
            recorded: describe(recorded),
        });
    }
}

/// Replays `events` (one visit's stream, in order) and re-derives every allocation
/// decision: at each `RecruitmentClosed` the whole allocation from the state just
/// before it, at each `SeatReleased` the promotion. Decision events that no close or
/// release explains are reported too.
pub fn verify(events: &[StudyVisitEvent]) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut visit = StudyVisit::default();
    let mut i = 0;
    while i < events.len() {
        let event = &events[i];
        match event {
            StudyVisitEvent::RecruitmentClosed { term_id, .. } => {
                let term_id = *term_id;
                let expected: Vec<Key> = visit
                    .compute_allocation(term_id)
                    .map(|a| {
                        a.in_rank_order()
                            .into_iter()
                            .map(|(outcome, d)| Key {
                                event: match outcome {
                                    Outcome::Allocated => "SeatAllocated",
                                    Outcome::Waitlisted(_) => "ApplicantWaitlisted",
                                    Outcome::PassedOver => "ApplicationPassedOver",
                                },
                                application_id: d.application_id,
                                waitlist_position: match outcome {
                                    Outcome::Waitlisted(p) => Some(p),
                                    _ => None,
                                },
                                reason: (outcome == Outcome::PassedOver)
                                    .then(|| PASSED_OVER_REASON.to_owned()),
                                basis: d.basis.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                visit.apply_event(event.clone());
                i += 1;
                let mut recorded = Vec::new();
                while let Some(next) = events.get(i) {
                    match Key::of(next) {
                        Some((t, key)) if t == term_id => {
                            recorded.push(key);
                            visit.apply_event(next.clone());
                            i += 1;
                        }
                        _ => break,
                    }
                }
                for k in 0..expected.len().max(recorded.len()) {
                    compare(&mut report, term_id, expected.get(k), recorded.get(k));
                }
            }
            StudyVisitEvent::SeatReleased {
                application_id,
                term_id,
                ..
            } => {
                let (freed, term_id) = (*application_id, *term_id);
                visit.apply_event(event.clone());
                i += 1;
                let expected = visit.compute_promotion(term_id, freed).map(|d| Key {
                    event: "SeatAllocated",
                    application_id: d.application_id,
                    waitlist_position: None,
                    reason: None,
                    basis: d.basis,
                });
                let recorded = match events.get(i) {
                    Some(next @ StudyVisitEvent::SeatAllocated { .. }) => {
                        let key = Key::of(next).map(|(_, k)| k);
                        visit.apply_event(next.clone());
                        i += 1;
                        key
                    }
                    _ => None,
                };
                compare(&mut report, term_id, expected.as_ref(), recorded.as_ref());
            }
            other => {
                if let Some((term_id, key)) = Key::of(other) {
                    // A decision no close or release accounts for.
                    compare(&mut report, term_id, None, Some(&key));
                }
                visit.apply_event(other.clone());
                i += 1;
            }
        }
    }
    report
}
