//! Audit re-derivation: replays a visit's events and checks that every allocation
//! decision recorded is the one the policy gives at that point of the stream: the
//! automatic allocation at each close, each promotion after a seat is given back, and
//! each manual decision (which must name who took it and why, be taken for someone
//! waiting in a closed term, and — when the event's metadata is at hand — be recorded
//! by the actor it names). Every decision is applied as recorded before the next one is
//! re-derived, so later promotions are checked against the state manual decisions left.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::allocation::{Outcome, PASSED_OVER_REASON};
use super::events::{BasisRule, DecisionBasis, StudyVisitEvent};
use super::StudyVisit;

/// The result of [`verify`]: how many decisions were compared and which differed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Decisions compared (one per candidate at each close, one per released seat).
    pub checked: u32,
    /// Every difference found, in stream order.
    pub discrepancies: Vec<Discrepancy>,
    /// Every manual decision met, in stream order, with the outcome of its check.
    #[serde(default)]
    pub manual_decisions: Vec<ManualDecisionCheck>,
}

/// A seat given by hand, as the audit found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualDecisionCheck {
    /// The application given the seat.
    pub application_id: Uuid,
    /// Its term.
    pub term_id: Uuid,
    /// Who the decision names (an actor id); None when it names nobody.
    pub decided_by: Option<String>,
    /// Why, as recorded; None when no reason was recorded.
    pub reason: Option<String>,
    /// The actor the event's metadata names, when known.
    pub recorded_by: Option<String>,
    /// True when the decision names who and why, matches its metadata and fits the state.
    pub consistent: bool,
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
    /// What is wrong, when the two descriptions alone do not say it (manual decisions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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
            StudyVisitEvent::SeatOffered {
                application_id,
                term_id,
                basis,
                ..
            } => Some((
                *term_id,
                Key {
                    event: "SeatOffered",
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
            problem: None,
        });
    }
}

/// Whether `event` is a seat given by hand (never part of a close or a promotion).
fn is_manual(event: &StudyVisitEvent) -> bool {
    matches!(event, StudyVisitEvent::SeatAllocated { basis, .. } if basis.rule == BasisRule::Manual)
}

/// Replays `events` (one visit's stream, in order) and re-derives every allocation
/// decision: at each `RecruitmentClosed` the whole allocation from the state just
/// before it, at each `SeatReleased` the promotion, at each manual decision its basis.
/// Decision events that no close, release or manual decision explains are reported too.
/// Who recorded each event is not known here; see [`verify_with_actors`].
pub fn verify(events: &[StudyVisitEvent]) -> VerifyReport {
    let recorded: Vec<(&StudyVisitEvent, Option<&str>)> =
        events.iter().map(|e| (e, None)).collect();
    run(&recorded)
}

/// [`verify`] over stored events with the actor of each one's metadata, so that a manual
/// decision is also checked to have been recorded by the actor it names.
pub fn verify_with_actors(events: &[(StudyVisitEvent, Option<String>)]) -> VerifyReport {
    let recorded: Vec<(&StudyVisitEvent, Option<&str>)> =
        events.iter().map(|(e, a)| (e, a.as_deref())).collect();
    run(&recorded)
}

fn run(events: &[(&StudyVisitEvent, Option<&str>)]) -> VerifyReport {
    let mut report = VerifyReport::default();
    let mut visit = StudyVisit::default();
    let mut i = 0;
    while let Some(&(event, actor)) = events.get(i) {
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
                while let Some(&(next, _)) = events.get(i) {
                    match Key::of(next) {
                        // A manual decision is never part of a close: checked on its own.
                        Some((t, key)) if t == term_id && !is_manual(next) => {
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
                if visit.offer_hours().is_some() {
                    next_offer(&mut report, &mut visit, events, &mut i, term_id, freed);
                    continue;
                }
                let expected = visit.compute_promotion(term_id, freed).map(|d| Key {
                    event: "SeatAllocated",
                    application_id: d.application_id,
                    waitlist_position: None,
                    reason: None,
                    basis: d.basis,
                });
                let recorded = match events.get(i) {
                    Some(&(next @ StudyVisitEvent::SeatAllocated { .. }, _))
                        if !is_manual(next) =>
                    {
                        let key = Key::of(next).map(|(_, k)| k);
                        visit.apply_event(next.clone());
                        i += 1;
                        key
                    }
                    _ => None,
                };
                compare(&mut report, term_id, expected.as_ref(), recorded.as_ref());
            }
            StudyVisitEvent::SeatAllocated {
                application_id,
                term_id,
                basis,
            } if basis.rule == BasisRule::Manual => {
                check_manual(&mut report, &visit, *application_id, *term_id, basis, actor);
                visit.apply_event(event.clone());
                i += 1;
            }
            StudyVisitEvent::OfferAccepted {
                application_id,
                term_id,
                accepted_at,
            } => {
                let offer = visit
                    .application(*application_id)
                    .and_then(|a| a.offer.clone());
                visit.apply_event(event.clone());
                i += 1;
                check_acceptance(
                    &mut report,
                    &mut visit,
                    events,
                    &mut i,
                    offer,
                    *application_id,
                    *term_id,
                    *accepted_at,
                );
            }
            StudyVisitEvent::OfferDeclined {
                application_id,
                term_id,
                ..
            }
            | StudyVisitEvent::OfferExpired {
                application_id,
                term_id,
                ..
            } => {
                check_lapse(&mut report, &visit, event);
                visit.apply_event(event.clone());
                i += 1;
                next_offer(
                    &mut report,
                    &mut visit,
                    events,
                    &mut i,
                    *term_id,
                    *application_id,
                );
            }
            StudyVisitEvent::ApplicationWithdrawn {
                application_id,
                term_id,
                ..
            } if visit
                .application(*application_id)
                .is_some_and(|a| a.offer.is_some()) =>
            {
                // Withdrawing with an offer standing passes the seat on.
                visit.apply_event(event.clone());
                i += 1;
                next_offer(
                    &mut report,
                    &mut visit,
                    events,
                    &mut i,
                    *term_id,
                    *application_id,
                );
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

/// A decline or an expiry: an offer stood for the application, and an expiry was recorded
/// no earlier than the offer's `expires_at`.
fn check_lapse(report: &mut VerifyReport, visit: &StudyVisit, event: &StudyVisitEvent) {
    let (application_id, term_id, expired_at, name) = match event {
        StudyVisitEvent::OfferDeclined {
            application_id,
            term_id,
            ..
        } => (*application_id, *term_id, None, "OfferDeclined"),
        StudyVisitEvent::OfferExpired {
            application_id,
            term_id,
            expired_at,
        } => (*application_id, *term_id, Some(*expired_at), "OfferExpired"),
        _ => return,
    };
    let expires_at = visit
        .application(application_id)
        .and_then(|a| a.offer.as_ref().map(|o| o.expires_at));
    let Some(expires_at) = expires_at else {
        report.checked += 1;
        report
            .discrepancies
            .push(no_offer(application_id, term_id, name));
        return;
    };
    if let Some(at) = expired_at {
        report.checked += 1;
        if at < expires_at {
            report.discrepancies.push(Discrepancy {
                application_id: Some(application_id),
                term_id,
                expected: format!("the offer expiring at {expires_at}"),
                recorded: format!("OfferExpired at {at}"),
                problem: Some("the expiry was recorded before the offer's time ran out".to_owned()),
            });
        }
    }
}

/// A discrepancy for an offer event about an application that had no offer standing.
fn no_offer(application_id: Uuid, term_id: Uuid, event: &str) -> Discrepancy {
    Discrepancy {
        application_id: Some(application_id),
        term_id,
        expected: "no decision".to_owned(),
        recorded: format!("{event} {application_id}"),
        problem: Some("no offer stood for this application".to_owned()),
    }
}

/// After a seat's hold was freed (`freed` gave it back or let an offer lapse; the freeing
/// event applied): the offer the rule gives, compared with the `SeatOffered` recorded next.
/// No offer recorded is accepted too — the term may have begun, which the events do not
/// time — but a recorded one must be the right person, with the rule's basis, and expire
/// no later than the term's first day begins.
fn next_offer(
    report: &mut VerifyReport,
    visit: &mut StudyVisit,
    events: &[(&StudyVisitEvent, Option<&str>)],
    i: &mut usize,
    term_id: Uuid,
    freed: Uuid,
) {
    let Some(&(next @ StudyVisitEvent::SeatOffered { expires_at, .. }, _)) = events.get(*i) else {
        report.checked += 1;
        return;
    };
    let expected = visit.compute_promotion(term_id, freed).map(|d| Key {
        event: "SeatOffered",
        application_id: d.application_id,
        waitlist_position: None,
        reason: None,
        basis: d.basis,
    });
    let recorded = Key::of(next).map(|(_, k)| k);
    compare(report, term_id, expected.as_ref(), recorded.as_ref());
    if let Some(begins) = visit.term(term_id).and_then(|t| t.begins()) {
        if *expires_at > begins {
            report.discrepancies.push(Discrepancy {
                application_id: recorded.as_ref().map(|k| k.application_id),
                term_id,
                expected: format!("an offer expiring by {begins}, when the term begins"),
                recorded: format!("an offer expiring at {expires_at}"),
                problem: Some("the offer outlasts the start of the term".to_owned()),
            });
        }
    }
    visit.apply_event(next.clone());
    *i += 1;
}

/// An acceptance: it came before the offer's expiry, and the seat recorded next is the
/// offer's, with the promotion's basis marked `offer accepted`.
#[allow(clippy::too_many_arguments)]
fn check_acceptance(
    report: &mut VerifyReport,
    visit: &mut StudyVisit,
    events: &[(&StudyVisitEvent, Option<&str>)],
    i: &mut usize,
    offer: Option<super::StandingOffer>,
    application_id: Uuid,
    term_id: Uuid,
    accepted_at: chrono::DateTime<chrono::Utc>,
) {
    report.checked += 1;
    let Some(offer) = offer else {
        report
            .discrepancies
            .push(no_offer(application_id, term_id, "OfferAccepted"));
        return;
    };
    if accepted_at >= offer.expires_at {
        report.discrepancies.push(Discrepancy {
            application_id: Some(application_id),
            term_id,
            expected: format!("an acceptance before {}", offer.expires_at),
            recorded: format!("OfferAccepted at {accepted_at}"),
            problem: Some("the offer was accepted after its expiry".to_owned()),
        });
    }
    let mut basis = offer.basis;
    basis.reason = Some(super::OFFER_ACCEPTED.to_owned());
    let expected = Key {
        event: "SeatAllocated",
        application_id,
        waitlist_position: None,
        reason: None,
        basis,
    };
    let recorded = match events.get(*i) {
        Some(&(next @ StudyVisitEvent::SeatAllocated { .. }, _)) => {
            let key = Key::of(next).map(|(_, k)| k);
            visit.apply_event(next.clone());
            *i += 1;
            key
        }
        _ => None,
    };
    compare(report, term_id, Some(&expected), recorded.as_ref());
}

/// Checks one manual decision against the state just before it: it names who decided and
/// why, the actor who recorded it (when known) is the one it names, the application was
/// waiting in a closed term, and its basis is the one [`StudyVisit::manual_decision`]
/// gives (rank, score, preferences, the institution's seats, the cap).
fn check_manual(
    report: &mut VerifyReport,
    visit: &StudyVisit,
    application_id: Uuid,
    term_id: Uuid,
    basis: &DecisionBasis,
    actor: Option<&str>,
) {
    report.checked += 1;
    let reason = basis
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let decided_by = basis
        .decided_by
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let mut problems = Vec::new();
    if reason.is_none() {
        problems.push("the manual decision records no reason".to_owned());
    }
    if decided_by.is_none() {
        problems.push("the manual decision does not name who took it".to_owned());
    }
    if let (Some(actor), Some(by)) = (actor, decided_by) {
        if actor != by {
            problems.push(format!(
                "the manual decision names {by} but was recorded by {actor}"
            ));
        }
    }
    let recorded = Key {
        event: "SeatAllocated",
        application_id,
        waitlist_position: None,
        reason: None,
        basis: basis.clone(),
    };
    let expected = match visit.manual_decision(
        application_id,
        basis.reason.as_deref().unwrap_or_default(),
        basis.decided_by.as_deref().unwrap_or_default(),
    ) {
        Ok(b) => Some(Key {
            basis: b,
            ..recorded.clone()
        }),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    if visit.application(application_id).map(|a| a.term_id) != Some(term_id) {
        problems.push(format!(
            "application {application_id} is not an application of term {term_id}"
        ));
    }
    if let Some(expected) = &expected {
        if *expected != recorded {
            problems.push("its basis differs from the application's standing then".to_owned());
        }
    }
    let consistent = problems.is_empty();
    report.manual_decisions.push(ManualDecisionCheck {
        application_id,
        term_id,
        decided_by: basis.decided_by.clone(),
        reason: basis.reason.clone(),
        recorded_by: actor.map(str::to_owned),
        consistent,
    });
    if !consistent {
        report.discrepancies.push(Discrepancy {
            application_id: Some(application_id),
            term_id,
            expected: expected.as_ref().map_or_else(
                || "a manual decision for an application waiting in a closed term, naming who and why".to_owned(),
                Key::describe,
            ),
            recorded: recorded.describe(),
            problem: Some(problems.join("; ")),
        });
    }
}
