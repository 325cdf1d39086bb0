//! The `StudyVisit` aggregate (*wizyta studyjna*): a visit's terms, recruitment,
//! applications and the allocation of seats, decided by the pure policy in
//! [`allocation`] so that anyone can replay the events and get the same roster.

pub mod allocation;
pub mod attendance;
pub mod commands;
pub mod consent;
pub mod events;
pub mod roster;
pub mod state;
pub mod verify;

mod decide;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use allocation::{
    Allocation, Candidate, Decision, Outcome, OFFER_ACCEPTED, PASSED_OVER_REASON,
};
pub use attendance::Attendance;
pub use commands::{
    CloseTrigger, Funding, Preference, PreferenceKind, StudyVisitCommand, TermDates, TermSchedule,
    Withdrawer,
};
pub use consent::{ConsentRecord, InformationClause, LegalBasis, UNRECORDED_V1_CLAUSE};
pub use events::{BasisRule, DecisionBasis, ReleaseCause, StudyVisitEvent};
pub use roster::{ApplicationStanding, Roster, RosterEntry};
pub use state::{Application, ApplicationStatus, StandingOffer, Term, TermStatus, VisitDetails};
pub use verify::{verify, verify_with_actors, Discrepancy, ManualDecisionCheck, VerifyReport};

use crate::error::DomainError;
use crate::services::StudyVisitServices;
use crate::values::{Nip, OrganizerId, PreferenceCode};

/// The study visit aggregate. Its state is everything the policy needs, in
/// deterministic (ordered) collections so replays serialize identically.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StudyVisit {
    details: Option<VisitDetails>,
    preference_lists: BTreeMap<PreferenceCode, BTreeSet<Nip>>,
    terms: Vec<Term>,
    applications: BTreeMap<Uuid, Application>,
    next_order: u64,
    /// Every information clause set for the visit, oldest first; the last one is shown to
    /// applicants now. Empty: the service's default clause applies.
    #[serde(default)]
    information_clauses: Vec<InformationClause>,
    /// Hours a freed seat is offered (None: promotions allocate at once).
    #[serde(default)]
    offer_hours: Option<u32>,
    /// Per term, who let an offer lapse (declined or expired) since a seat was last freed
    /// or taken: the next offer goes past them.
    #[serde(default)]
    passed_offers: BTreeMap<Uuid, BTreeSet<Uuid>>,
}

impl Aggregate for StudyVisit {
    const TYPE: &'static str = "StudyVisit";
    type Command = StudyVisitCommand;
    type Event = StudyVisitEvent;
    type Error = DomainError;
    type Services = StudyVisitServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.decide(command, services.clock.now())?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_event(event);
    }
}

impl StudyVisit {
    /// The announced details and policy (None before `VisitAnnounced`).
    pub fn details(&self) -> Option<&VisitDetails> {
        self.details.as_ref()
    }

    /// The visit id (None before it was announced).
    pub fn visit_id(&self) -> Option<Uuid> {
        self.details.as_ref().map(|d| d.visit_id)
    }

    /// The organizer (tenant) running the visit.
    pub fn organizer(&self) -> Option<&OrganizerId> {
        self.details.as_ref().map(|d| &d.organizer)
    }

    /// The cap per institution (None when there is none or before announcement).
    pub fn max_per_institution(&self) -> Option<u32> {
        self.details.as_ref().and_then(|d| d.max_per_institution)
    }

    /// The visit's preferences in their declared order.
    pub fn preferences(&self) -> &[Preference] {
        self.details
            .as_ref()
            .map(|d| d.preferences.as_slice())
            .unwrap_or(&[])
    }

    /// The current institution list of a preference.
    pub fn preference_list(&self, code: &PreferenceCode) -> Option<&BTreeSet<Nip>> {
        self.preference_lists.get(code)
    }

    /// The information clause applicants are shown now (None: the service's default).
    pub fn information_clause(&self) -> Option<&InformationClause> {
        self.information_clauses.last()
    }

    /// Hours a freed seat is offered (None: promotions allocate at once).
    pub fn offer_hours(&self) -> Option<u32> {
        self.offer_hours
    }

    /// The terms, in the order they were scheduled.
    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.terms.iter()
    }

    /// One term.
    pub fn term(&self, term_id: Uuid) -> Option<&Term> {
        self.terms.iter().find(|t| t.term_id == term_id)
    }

    /// One application.
    pub fn application(&self, application_id: Uuid) -> Option<&Application> {
        self.applications.get(&application_id)
    }

    /// All applications in submission order.
    pub fn applications(&self) -> Vec<&Application> {
        let mut apps: Vec<&Application> = self.applications.values().collect();
        apps.sort_by_key(|a| a.order);
        apps
    }

    /// The applications of one term, in submission order.
    pub fn applications_of(&self, term_id: Uuid) -> Vec<&Application> {
        let mut apps: Vec<&Application> = self
            .applications
            .values()
            .filter(|a| a.term_id == term_id)
            .collect();
        apps.sort_by_key(|a| a.order);
        apps
    }

    /// Whether any term of the visit has closed (preference lists are frozen then).
    pub fn any_term_closed(&self) -> bool {
        self.terms.iter().any(|t| t.status == TermStatus::Closed)
    }

    /// A term's current candidates (submitted, not withdrawn) for the policy, with
    /// preferences evaluated against the lists as they stand now.
    pub fn candidates(&self, term_id: Uuid) -> Vec<Candidate> {
        self.applications_of(term_id)
            .into_iter()
            .filter(|a| a.status == ApplicationStatus::Submitted)
            .map(|a| Candidate {
                application_id: a.application_id,
                nip: a.institution.nip.clone(),
                order: a.order,
                preferences_met: allocation::preferences_met(
                    &a.institution.nip,
                    self.preferences(),
                    &self.preference_lists,
                ),
            })
            .collect()
    }

    /// Seats each institution holds in the visit's other closed terms (`held`).
    pub fn held_in_other_terms(&self, term_id: Uuid) -> HashMap<Nip, u32> {
        self.seats_held(|a| a.term_id != term_id)
    }

    /// Seats each institution holds across all closed terms of the visit.
    pub fn held_total(&self) -> HashMap<Nip, u32> {
        self.seats_held(|_| true)
    }

    fn seats_held(&self, include: impl Fn(&Application) -> bool) -> HashMap<Nip, u32> {
        let mut held = HashMap::new();
        for a in self.applications.values() {
            // A seat offered is held for its person (visits with offers only).
            let holds = matches!(
                a.status,
                ApplicationStatus::Allocated | ApplicationStatus::Offered
            );
            if holds && include(a) {
                *held.entry(a.institution.nip.clone()).or_insert(0) += 1;
            }
        }
        held
    }

    /// The allocation the policy gives a term's current candidates now: what a close
    /// would record, and the provisional ranking while the term is open.
    pub fn compute_allocation(&self, term_id: Uuid) -> Option<Allocation> {
        let term = self.term(term_id)?;
        let ranked = allocation::rank(self.candidates(term_id));
        Some(allocation::allocate(
            &ranked,
            term.seats,
            self.max_per_institution(),
            &self.held_in_other_terms(term_id),
        ))
    }

    /// Who waits for a freed seat in a closed term: the waiting list, then the passed
    /// over, each in rank order (withdrawn ones are no longer waiting).
    pub fn promotion_queue(&self, term_id: Uuid) -> Vec<&Application> {
        let mut waiting: Vec<&Application> = self
            .applications
            .values()
            .filter(|a| a.term_id == term_id && a.status.is_waiting())
            .filter(|a| {
                !self
                    .passed_offers
                    .get(&term_id)
                    .is_some_and(|passed| passed.contains(&a.application_id))
            })
            .collect();
        waiting.sort_by_key(|a| {
            (
                a.status == ApplicationStatus::PassedOver,
                a.rank().unwrap_or(u32::MAX),
                a.order,
            )
        });
        waiting
    }

    /// The promotion owed when `freed` gives its seat in `term_id` back: None when
    /// nobody waits. `freed` is left out of the seat counts whether or not its
    /// release has been applied yet.
    ///
    /// A release promotes only when it leaves fewer holders than seats: after a manual
    /// decision has taken the term above its seat count, the first seats given back only
    /// bring it down to that count. (Without manual decisions a term never holds more
    /// than its seats, so this changes nothing for the automatic policy.)
    pub fn compute_promotion(&self, term_id: Uuid, freed: Uuid) -> Option<Decision> {
        let seats = self.term(term_id)?.seats;
        let holders = self
            .applications
            .values()
            .filter(|a| {
                a.term_id == term_id
                    && a.application_id != freed
                    && matches!(
                        a.status,
                        ApplicationStatus::Allocated | ApplicationStatus::Offered
                    )
            })
            .count();
        if holders >= seats as usize {
            return None;
        }
        let queue_apps = self.promotion_queue(term_id);
        let queue: Vec<Candidate> = queue_apps
            .iter()
            .map(|a| Candidate {
                application_id: a.application_id,
                nip: a.institution.nip.clone(),
                order: a.order,
                preferences_met: a
                    .decision
                    .as_ref()
                    .map(|b| b.preferences_met.clone())
                    .unwrap_or_default(),
            })
            .collect();
        let held = self.seats_held(|a| a.application_id != freed);
        let max = self.max_per_institution();
        let (idx, rule) = allocation::choose_promotion(&queue, &held, max)?;
        let chosen = queue_apps.get(idx)?;
        let recorded = chosen.decision.as_ref();
        Some(Decision {
            application_id: chosen.application_id,
            basis: DecisionBasis {
                rule,
                rank: recorded.map(|b| b.rank).unwrap_or(0),
                score: recorded.map(|b| b.score).unwrap_or(0),
                preferences_met: recorded
                    .map(|b| b.preferences_met.clone())
                    .unwrap_or_default(),
                institution_seats_before: held.get(&chosen.institution.nip).copied().unwrap_or(0),
                max_per_institution: max,
                promoted_for: Some(freed),
                reason: None,
                decided_by: None,
            },
        })
    }

    /// The offer owed when `freed` no longer holds a seat of `term_id` (given back, or an
    /// offer that lapsed), on this state with that already applied: None when offers are
    /// off, the term has begun at `now` (a seat freed then stays free), or nobody waits.
    /// It expires after the visit's `offer_hours`, or when the term begins if that is
    /// sooner.
    pub fn compute_offer(
        &self,
        term_id: Uuid,
        freed: Uuid,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<StudyVisitEvent> {
        let hours = self.offer_hours?;
        let begins = self.term(term_id)?.begins()?;
        if now >= begins {
            return None;
        }
        let d = self.compute_promotion(term_id, freed)?;
        let expires_at = (now + chrono::Duration::hours(i64::from(hours))).min(begins);
        Some(StudyVisitEvent::SeatOffered {
            application_id: d.application_id,
            term_id,
            expires_at,
            basis: d.basis,
        })
    }

    /// The basis of a seat given by hand to `application_id`: the rule `manual` with who
    /// decided and why, and the application's recorded rank, score and preferences (from
    /// its decision at close) so the roster keeps its place; the seats its institution
    /// held across the visit just before. Refused unless the application waits (waiting
    /// list or passed over) in a closed term. Takes `reason` and `decided_by` as given:
    /// the command checks they are not empty, the audit re-derivation reports it if not.
    pub fn manual_decision(
        &self,
        application_id: Uuid,
        reason: &str,
        decided_by: &str,
    ) -> Result<DecisionBasis, DomainError> {
        let app = self.application(application_id).ok_or_else(|| {
            DomainError::not_found(
                "application_not_found",
                format!("This study visit has no application {application_id}."),
            )
        })?;
        let closed = self
            .term(app.term_id)
            .is_some_and(|t| t.status == TermStatus::Closed);
        if !closed || !app.status.is_waiting() {
            return Err(DomainError::conflict(
                "not_waiting",
                "A seat can be given by hand only to an application on the waiting list or \
                 passed over in a closed term.",
            ));
        }
        let recorded = app.decision.as_ref();
        Ok(DecisionBasis {
            rule: BasisRule::Manual,
            rank: recorded.map(|b| b.rank).unwrap_or(0),
            score: recorded.map(|b| b.score).unwrap_or(0),
            preferences_met: recorded
                .map(|b| b.preferences_met.clone())
                .unwrap_or_default(),
            institution_seats_before: self
                .held_total()
                .get(&app.institution.nip)
                .copied()
                .unwrap_or(0),
            max_per_institution: self.max_per_institution(),
            promoted_for: None,
            reason: Some(reason.to_owned()),
            decided_by: Some(decided_by.to_owned()),
        })
    }

    fn term_mut(&mut self, term_id: Uuid) -> Option<&mut Term> {
        self.terms.iter_mut().find(|t| t.term_id == term_id)
    }

    /// Applies one event. Total: an event that does not fit the state (possible only
    /// in a tampered stream) changes nothing it cannot.
    fn apply_event(&mut self, event: StudyVisitEvent) {
        use StudyVisitEvent as E;
        match event {
            E::VisitAnnounced {
                visit_id,
                organizer,
                title,
                destination,
                description,
                eligible_institution_types,
                max_per_institution,
                preferences,
                funding,
            } => {
                for p in &preferences {
                    self.preference_lists.entry(p.code.clone()).or_default();
                }
                self.details = Some(VisitDetails {
                    visit_id,
                    organizer,
                    title,
                    destination,
                    description,
                    eligible_institution_types,
                    max_per_institution,
                    preferences,
                    funding,
                });
            }
            E::InformationClauseSet { version, text } => {
                self.information_clauses
                    .push(InformationClause { version, text });
            }
            E::OfferHoursSet { offer_hours } => {
                self.offer_hours = offer_hours;
            }
            E::SeatOffered {
                application_id,
                expires_at,
                basis,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.offer = Some(StandingOffer {
                        expires_at,
                        basis,
                        returns_to: a.status,
                    });
                    a.status = ApplicationStatus::Offered;
                }
            }
            E::OfferAccepted { .. } => {}
            E::OfferDeclined {
                application_id,
                term_id,
                ..
            }
            | E::OfferExpired {
                application_id,
                term_id,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    if let Some(offer) = a.offer.take() {
                        a.status = offer.returns_to;
                    }
                }
                self.passed_offers
                    .entry(term_id)
                    .or_default()
                    .insert(application_id);
            }
            E::PreferenceListReplaced { code, nips } => {
                self.preference_lists
                    .insert(code, nips.into_iter().collect());
            }
            E::TermScheduled {
                term_id,
                label,
                seats,
                schedule,
            } => {
                let status = match schedule {
                    TermSchedule::Dated(_) => TermStatus::Scheduled,
                    TermSchedule::Planned(_) => TermStatus::Planned,
                };
                self.terms.push(Term {
                    term_id,
                    label,
                    seats,
                    schedule,
                    status,
                    opened_at: None,
                    closed_at: None,
                    close_trigger: None,
                    cancel_reason: None,
                });
            }
            E::TermDatesFixed { term_id, dates } => {
                if let Some(t) = self.term_mut(term_id) {
                    t.schedule = TermSchedule::Dated(dates);
                    if t.status == TermStatus::Planned {
                        t.status = TermStatus::Scheduled;
                    }
                }
            }
            E::RecruitmentOpened { term_id, opened_at } => {
                if let Some(t) = self.term_mut(term_id) {
                    t.status = TermStatus::Open;
                    t.opened_at = Some(opened_at);
                }
            }
            E::ApplicationSubmitted {
                application_id,
                term_id,
                subject_id,
                institution,
                consent,
                submitted_at,
            } => {
                let order = self.next_order;
                self.next_order += 1;
                self.applications.insert(
                    application_id,
                    Application {
                        application_id,
                        term_id,
                        subject_id,
                        institution,
                        consent,
                        submitted_at,
                        order,
                        status: ApplicationStatus::Submitted,
                        decision: None,
                        waitlist_position_at_close: None,
                        passed_over_reason: None,
                        attendance: Attendance::default(),
                        withdrawn_by: None,
                        release: None,
                        offer: None,
                    },
                );
            }
            E::ApplicationWithdrawn {
                application_id, by, ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.status = ApplicationStatus::Withdrawn;
                    a.withdrawn_by = Some(by);
                    a.offer = None;
                }
            }
            E::RecruitmentClosed {
                term_id,
                trigger,
                closed_at,
                ..
            } => {
                if let Some(t) = self.term_mut(term_id) {
                    t.status = TermStatus::Closed;
                    t.closed_at = Some(closed_at);
                    t.close_trigger = Some(trigger);
                }
            }
            E::SeatAllocated {
                application_id,
                basis,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.status = ApplicationStatus::Allocated;
                    a.decision = Some(basis);
                    a.offer = None;
                    // A seat taken ends the round of offers for it.
                    self.passed_offers.remove(&a.term_id);
                }
            }
            E::ApplicantWaitlisted {
                application_id,
                waitlist_position,
                basis,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.status = ApplicationStatus::Waitlisted;
                    a.waitlist_position_at_close = Some(waitlist_position);
                    a.decision = Some(basis);
                }
            }
            E::ApplicationPassedOver {
                application_id,
                reason,
                basis,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.status = ApplicationStatus::PassedOver;
                    a.passed_over_reason = Some(reason);
                    a.decision = Some(basis);
                }
            }
            E::SeatReleased {
                application_id,
                term_id,
                cause,
            } => {
                // A seat freed is a new chance for everyone waiting.
                self.passed_offers.remove(&term_id);
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.status = match cause {
                        ReleaseCause::Withdrawn => ApplicationStatus::Withdrawn,
                        ReleaseCause::Released { .. } => ApplicationStatus::Released,
                    };
                    a.release = Some(cause);
                }
            }
            E::AttendanceRecorded {
                application_id,
                day,
                attended,
                ..
            } => {
                if let Some(a) = self.applications.get_mut(&application_id) {
                    a.attendance.record(day, attended);
                }
            }
            E::TermCancelled { term_id, reason } => {
                if let Some(t) = self.term_mut(term_id) {
                    t.status = TermStatus::Cancelled;
                    t.cancel_reason = Some(reason);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
