//! The roster of a term: who has a seat, who waits and who was passed over, in rank
//! order, with the basis of each decision. Computed from the aggregate's state, so
//! the read side can answer "as it stood at" any past moment by replaying to it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::allocation::{Decision, PASSED_OVER_REASON};
use super::commands::TermDates;
use super::events::BasisRule;
use super::state::{Application, ApplicationStatus, TermStatus};
use super::StudyVisit;
use crate::values::{Institution, Nip, PreferenceCode};

/// A term's roster: allocated, waiting list and passed over, each in rank order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Roster {
    /// The visit.
    pub visit_id: Uuid,
    /// The term.
    pub term_id: Uuid,
    /// Seats on offer.
    pub seats: u32,
    /// The term's status.
    pub status: TermStatus,
    /// True while the term is not closed: the ranking is what a close would record now.
    pub provisional: bool,
    /// Holding a seat, in rank order.
    pub allocated: Vec<RosterEntry>,
    /// Waiting, in rank order; positions 1, 2, ...
    pub waitlist: Vec<RosterEntry>,
    /// Passed over because of the institution cap, in rank order.
    pub passed_over: Vec<RosterEntry>,
    /// How many of the term's applications were withdrawn.
    pub withdrawn: u32,
}

impl Roster {
    /// Seats not (yet) taken.
    pub fn seats_left(&self) -> u32 {
        let taken = u32::try_from(self.allocated.len()).unwrap_or(u32::MAX);
        self.seats.saturating_sub(taken)
    }

    /// Seats held per institution (by NIP) in this term.
    pub fn allocated_per_institution(&self) -> BTreeMap<Nip, u32> {
        let mut counts = BTreeMap::new();
        for e in &self.allocated {
            *counts.entry(e.institution.nip.clone()).or_insert(0) += 1;
        }
        counts
    }
}

/// One line of a roster. The person is only `subject_id`; the service joins their
/// (erasable) personal data for readers entitled to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RosterEntry {
    /// Application id.
    pub application_id: Uuid,
    /// Opaque person id.
    pub subject_id: Uuid,
    /// Rank among the term's candidates (at close, or provisional).
    pub rank: u32,
    /// Institution represented.
    pub institution: Institution,
    /// Preferences met.
    pub preferences_met: Vec<PreferenceCode>,
    /// The decision's basis as a sentence.
    pub basis: String,
    /// The rule behind the decision.
    pub rule: BasisRule,
    /// `institution_cap` for the passed over; the coordinator's reason for a seat given
    /// by hand.
    pub reason: Option<String>,
    /// Who gave the seat, for a manual decision (an actor id).
    pub decided_by: Option<String>,
    /// Current position on the waiting list.
    pub waitlist_position: Option<u32>,
    /// Attendance, once recorded: present on at least one day.
    pub attended: Option<bool>,
    /// The days of the term the person was present on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_present: Vec<NaiveDate>,
    /// The days of the term the person was recorded absent on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days_absent: Vec<NaiveDate>,
    /// The application's status.
    pub status: ApplicationStatus,
    /// Until when the seat offered to it stands (status `offered` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
}

/// How an applicant's application stands, for the applicant's own status page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationStanding {
    /// Current status.
    pub status: ApplicationStatus,
    /// The term applied for.
    pub term_id: Uuid,
    /// Rank (provisional while the term is open; None when withdrawn before close).
    pub rank: Option<u32>,
    /// Current waiting-list position (only while waitlisted).
    pub waitlist_position: Option<u32>,
    /// Until when the seat offered stands (status `offered` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
}

fn entry(app: &Application, decision: &Decision, dates: Option<&TermDates>) -> RosterEntry {
    RosterEntry {
        application_id: app.application_id,
        subject_id: app.subject_id,
        rank: decision.basis.rank,
        institution: app.institution.clone(),
        preferences_met: decision.basis.preferences_met.clone(),
        basis: decision.basis.describe(),
        rule: decision.basis.rule,
        // Only a manual decision carries a reason; the passed over get theirs below.
        reason: decision.basis.reason.clone(),
        decided_by: decision.basis.decided_by.clone(),
        waitlist_position: None,
        attended: dates.and_then(|d| app.attendance.attended_in(d)),
        days_present: dates
            .map(|d| app.attendance.days_present_in(d))
            .unwrap_or_default(),
        days_absent: dates
            .map(|d| app.attendance.days_absent(d.starts_on, d.ends_on))
            .unwrap_or_default(),
        status: app.status,
        offer_expires_at: app.offer.as_ref().map(|o| o.expires_at),
    }
}

impl StudyVisit {
    /// The roster of a term: provisional while it is not closed, from the recorded
    /// decisions once it is. None for an unknown term or visit.
    pub fn roster(&self, term_id: Uuid) -> Option<Roster> {
        let visit_id = self.visit_id()?;
        let term = self.term(term_id)?;
        let apps = self.applications_of(term_id);
        let withdrawn = apps
            .iter()
            .filter(|a| a.status == ApplicationStatus::Withdrawn)
            .count();
        let mut roster = Roster {
            visit_id,
            term_id,
            seats: term.seats,
            status: term.status,
            provisional: term.status != TermStatus::Closed,
            allocated: Vec::new(),
            waitlist: Vec::new(),
            passed_over: Vec::new(),
            withdrawn: u32::try_from(withdrawn).unwrap_or(u32::MAX),
        };

        if roster.provisional {
            let allocation = self.compute_allocation(term_id)?;
            let lookup = |d: &Decision| {
                self.application(d.application_id)
                    .map(|a| entry(a, d, term.dates()))
            };
            roster.allocated = allocation.allocated.iter().filter_map(lookup).collect();
            roster.waitlist = allocation.waitlist.iter().filter_map(lookup).collect();
            roster.passed_over = allocation.passed_over.iter().filter_map(lookup).collect();
        } else {
            let mut decided: Vec<(&Application, Decision)> = apps
                .iter()
                .filter_map(|a| {
                    a.decision.as_ref().map(|b| {
                        (
                            *a,
                            Decision {
                                application_id: a.application_id,
                                basis: b.clone(),
                            },
                        )
                    })
                })
                .collect();
            decided.sort_by_key(|(a, d)| (d.basis.rank, a.order));
            for (app, d) in &decided {
                let e = entry(app, d, term.dates());
                match app.status {
                    ApplicationStatus::Allocated => roster.allocated.push(e),
                    ApplicationStatus::Waitlisted => roster.waitlist.push(e),
                    ApplicationStatus::PassedOver => roster.passed_over.push(e),
                    // An offer stands: listed where the person waits, marked offered.
                    ApplicationStatus::Offered => match app.offer.as_ref().map(|o| o.returns_to) {
                        Some(ApplicationStatus::PassedOver) => roster.passed_over.push(e),
                        _ => roster.waitlist.push(e),
                    },
                    _ => {}
                }
            }
        }
        for (e, pos) in roster.waitlist.iter_mut().zip(1u32..) {
            e.waitlist_position = Some(pos);
        }
        for e in &mut roster.passed_over {
            e.reason = Some(
                self.application(e.application_id)
                    .and_then(|a| a.passed_over_reason.clone())
                    .unwrap_or_else(|| PASSED_OVER_REASON.to_owned()),
            );
        }
        Some(roster)
    }

    /// Seats not yet taken in a term (None for an unknown term).
    pub fn seats_left(&self, term_id: Uuid) -> Option<u32> {
        self.roster(term_id).map(|r| r.seats_left())
    }

    /// How an application stands now: status, term, rank and waiting-list position.
    pub fn standing(&self, application_id: Uuid) -> Option<ApplicationStanding> {
        let app = self.application(application_id)?;
        let mut standing = ApplicationStanding {
            status: app.status,
            term_id: app.term_id,
            rank: app.rank(),
            waitlist_position: None,
            offer_expires_at: app.offer.as_ref().map(|o| o.expires_at),
        };
        if app.status == ApplicationStatus::Submitted || app.status == ApplicationStatus::Waitlisted
        {
            let roster = self.roster(app.term_id)?;
            let all = roster
                .allocated
                .iter()
                .chain(&roster.waitlist)
                .chain(&roster.passed_over);
            if let Some(e) = all.clone().find(|e| e.application_id == application_id) {
                standing.rank = Some(e.rank);
                if app.status == ApplicationStatus::Waitlisted {
                    standing.waitlist_position = e.waitlist_position;
                }
            }
        }
        Some(standing)
    }
}
