//! Command handling: each command checked against the state and turned into the
//! events to record. Pure: "now" is passed in, nothing is changed here.

use std::collections::HashSet;

use chrono::{DateTime, Days, TimeZone, Utc};
use chrono_tz::Europe::Warsaw;
use uuid::Uuid;

use super::allocation::{Outcome, OFFER_ACCEPTED, PASSED_OVER_REASON};
use super::commands::{StudyVisitCommand, TermDates, TermSchedule};
use super::events::{ReleaseCause, StudyVisitEvent};
use super::state::{Application, ApplicationStatus, StandingOffer, Term, TermStatus, VisitDetails};
use super::StudyVisit;
use crate::error::DomainError;

/// Formats an instant as people in Poland read it: "2022-06-23 11:00 (Europe/Warsaw)".
pub(crate) fn warsaw_time(at: DateTime<Utc>) -> String {
    format!(
        "{} (Europe/Warsaw)",
        at.with_timezone(&Warsaw).format("%Y-%m-%d %H:%M")
    )
}

fn deadline_passed(deadline: DateTime<Utc>) -> DomainError {
    DomainError::conflict(
        "deadline_passed",
        format!(
            "The recruitment deadline for this term passed at {}.",
            warsaw_time(deadline)
        ),
    )
}

/// Checks a term's dates: it may not end before it starts, and its recruitment
/// deadline may not fall after the end of its last day (Warsaw time).
fn check_dates(dates: &TermDates, prefix: &str) -> Result<(), DomainError> {
    if dates.ends_on < dates.starts_on {
        return Err(DomainError::invalid(
            format!("{prefix}ends_on"),
            "ends_before_start",
            format!(
                "The term cannot end ({}) before it starts ({}).",
                dates.ends_on, dates.starts_on
            ),
        ));
    }
    let end_of_term = dates
        .ends_on
        .checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| Warsaw.from_local_datetime(&t).earliest())
        .map(|t| t.with_timezone(&Utc));
    if let Some(end) = end_of_term {
        if dates.recruitment_deadline > end {
            return Err(DomainError::invalid(
                format!("{prefix}recruitment_deadline"),
                "deadline_after_term",
                format!(
                    "The recruitment deadline ({}) cannot be after the term ends on {}.",
                    warsaw_time(dates.recruitment_deadline),
                    dates.ends_on
                ),
            ));
        }
    }
    Ok(())
}

impl StudyVisit {
    fn require_details(&self) -> Result<&VisitDetails, DomainError> {
        self.details().ok_or_else(|| {
            DomainError::not_found("visit_not_found", "There is no such study visit.")
        })
    }

    fn require_term(&self, term_id: Uuid) -> Result<&Term, DomainError> {
        self.term(term_id).ok_or_else(|| {
            DomainError::not_found(
                "term_not_found",
                format!("This study visit has no term {term_id}."),
            )
        })
    }

    fn require_application(&self, application_id: Uuid) -> Result<&Application, DomainError> {
        self.application(application_id).ok_or_else(|| {
            DomainError::not_found(
                "application_not_found",
                format!("This study visit has no application {application_id}."),
            )
        })
    }

    /// Events for a seat given back in a closed term: the release, then the promotion
    /// of the first eligible person waiting (if anyone waits).
    fn release_and_promote(
        &self,
        app: &Application,
        cause: ReleaseCause,
        now: DateTime<Utc>,
    ) -> Vec<StudyVisitEvent> {
        let released = StudyVisitEvent::SeatReleased {
            application_id: app.application_id,
            term_id: app.term_id,
            cause,
        };
        if self.offer_hours().is_some() {
            return self.then_offer(released, app.term_id, app.application_id, now);
        }
        let mut events = vec![released];
        if let Some(d) = self.compute_promotion(app.term_id, app.application_id) {
            events.push(StudyVisitEvent::SeatAllocated {
                application_id: d.application_id,
                term_id: app.term_id,
                basis: d.basis,
            });
        }
        events
    }

    /// `event` (which frees `freed`'s hold on a seat of `term_id`), then the offer of that
    /// seat to the next person, decided on the state with `event` applied (as the audit
    /// re-derives it).
    fn then_offer(
        &self,
        event: StudyVisitEvent,
        term_id: Uuid,
        freed: Uuid,
        now: DateTime<Utc>,
    ) -> Vec<StudyVisitEvent> {
        let mut after = self.clone();
        after.apply_event(event.clone());
        let mut events = vec![event];
        events.extend(after.compute_offer(term_id, freed, now));
        events
    }

    /// The standing offer of `application_id`, or 409 `no_offer`.
    fn require_offer(
        &self,
        application_id: Uuid,
    ) -> Result<(&Application, &StandingOffer), DomainError> {
        let app = self.require_application(application_id)?;
        match (&app.offer, app.status) {
            (Some(offer), ApplicationStatus::Offered) => Ok((app, offer)),
            _ => Err(DomainError::conflict(
                "no_offer",
                "No seat is offered to this application now.",
            )),
        }
    }

    /// Decides what a command records, given the current instant. The aggregate's
    /// `handle` writes these events; nothing is changed by deciding.
    pub fn decide(
        &self,
        command: StudyVisitCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<StudyVisitEvent>, DomainError> {
        use StudyVisitCommand as C;
        use StudyVisitEvent as E;

        if let C::Announce {
            visit_id,
            organizer,
            title,
            destination,
            description,
            eligible_institution_types,
            max_per_institution,
            preferences,
            funding,
        } = command
        {
            if self.details().is_some() {
                return Err(DomainError::conflict(
                    "already_announced",
                    "This study visit has already been announced.",
                ));
            }
            if eligible_institution_types.is_empty() {
                return Err(DomainError::invalid(
                    "eligible_institution_types",
                    "required",
                    "At least one eligible institution type is required.",
                ));
            }
            if max_per_institution == Some(0) {
                return Err(DomainError::invalid(
                    "max_per_institution",
                    "out_of_range",
                    "The limit per institution must be at least 1, or null for no limit.",
                ));
            }
            let mut codes = HashSet::new();
            for (i, p) in preferences.iter().enumerate() {
                if !codes.insert(p.code.clone()) {
                    return Err(DomainError::invalid(
                        format!("preferences[{i}].code"),
                        "duplicate",
                        format!("The preference code '{}' is used twice.", p.code),
                    ));
                }
            }
            let mut types = Vec::new();
            for t in eligible_institution_types {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            return Ok(vec![E::VisitAnnounced {
                visit_id,
                organizer,
                title,
                destination,
                description,
                eligible_institution_types: types,
                max_per_institution,
                preferences,
                funding,
            }]);
        }

        let details = self.require_details()?;
        match command {
            // Handled above, before the visit has to exist.
            C::Announce { .. } => Ok(Vec::new()),
            C::SetInformationClause { clause } => {
                if let Some(used) = self
                    .information_clauses
                    .iter()
                    .find(|c| c.version == clause.version)
                {
                    if used.text != clause.text {
                        return Err(DomainError::invalid(
                            "information_clause.version",
                            "information_clause_version_taken",
                            format!(
                                "The version '{}' of the information clause already names another text; give the changed text a new version.",
                                clause.version
                            ),
                        ));
                    }
                    if self.information_clause() == Some(&clause) {
                        return Ok(Vec::new());
                    }
                }
                Ok(vec![E::InformationClauseSet {
                    version: clause.version,
                    text: clause.text,
                }])
            }
            C::SetOfferHours { offer_hours } => {
                if offer_hours.is_some_and(|h| !(1..=720).contains(&h)) {
                    return Err(DomainError::invalid(
                        "offer_hours",
                        "out_of_range",
                        "An offer lasts 1 to 720 hours, or null for promotions that allocate at once.",
                    ));
                }
                if offer_hours == self.offer_hours() {
                    return Ok(Vec::new());
                }
                Ok(vec![E::OfferHoursSet { offer_hours }])
            }
            C::AcceptOffer { application_id } => {
                let (app, offer) = self.require_offer(application_id)?;
                if now >= offer.expires_at {
                    return Err(DomainError::conflict(
                        "offer_expired",
                        format!("The offer expired at {}.", warsaw_time(offer.expires_at)),
                    ));
                }
                let mut basis = offer.basis.clone();
                basis.reason = Some(OFFER_ACCEPTED.to_owned());
                Ok(vec![
                    E::OfferAccepted {
                        application_id,
                        term_id: app.term_id,
                        accepted_at: now,
                    },
                    E::SeatAllocated {
                        application_id,
                        term_id: app.term_id,
                        basis,
                    },
                ])
            }
            C::DeclineOffer { application_id } => {
                let (app, _) = self.require_offer(application_id)?;
                let declined = E::OfferDeclined {
                    application_id,
                    term_id: app.term_id,
                    declined_at: now,
                };
                Ok(self.then_offer(declined, app.term_id, application_id, now))
            }
            C::ExpireOffer { application_id } => {
                let (app, offer) = self.require_offer(application_id)?;
                if now < offer.expires_at {
                    return Err(DomainError::conflict(
                        "offer_not_expired",
                        format!("The offer stands until {}.", warsaw_time(offer.expires_at)),
                    ));
                }
                let expired = E::OfferExpired {
                    application_id,
                    term_id: app.term_id,
                    expired_at: now,
                };
                Ok(self.then_offer(expired, app.term_id, application_id, now))
            }
            C::ReplacePreferenceList { code, nips } => {
                if !details.preferences.iter().any(|p| p.code == code) {
                    return Err(DomainError::not_found(
                        "preference_not_found",
                        format!("This study visit has no preference '{code}'."),
                    ));
                }
                if self.any_term_closed() {
                    return Err(DomainError::conflict(
                        "preferences_frozen",
                        "Preference lists cannot change once a term of the visit has closed.",
                    ));
                }
                let mut seen = HashSet::new();
                let nips = nips
                    .into_iter()
                    .filter(|n| seen.insert(n.clone()))
                    .collect();
                Ok(vec![E::PreferenceListReplaced { code, nips }])
            }
            C::ScheduleTerm {
                term_id,
                label,
                seats,
                schedule,
            } => {
                if seats == 0 {
                    return Err(DomainError::invalid(
                        "seats",
                        "out_of_range",
                        "A term needs at least one seat.",
                    ));
                }
                if let TermSchedule::Dated(dates) = &schedule {
                    check_dates(dates, "")?;
                }
                if self.term(term_id).is_some() {
                    return Err(DomainError::conflict(
                        "duplicate_term",
                        format!("A term with id {term_id} already exists."),
                    ));
                }
                Ok(vec![E::TermScheduled {
                    term_id,
                    label,
                    seats,
                    schedule,
                }])
            }
            C::FixTermDates { term_id, dates } => {
                let term = self.require_term(term_id)?;
                check_dates(&dates, "")?;
                if !matches!(term.status, TermStatus::Planned | TermStatus::Scheduled) {
                    return Err(DomainError::conflict(
                        "term_not_editable",
                        "The dates of a term can only change before its recruitment opens.",
                    ));
                }
                Ok(vec![E::TermDatesFixed { term_id, dates }])
            }
            C::OpenRecruitment { term_id } => {
                let term = self.require_term(term_id)?;
                match term.status {
                    TermStatus::Scheduled => {}
                    TermStatus::Planned => return Err(DomainError::conflict(
                        "dates_not_fixed",
                        "Recruitment cannot open before the term's dates and deadline are fixed.",
                    )),
                    TermStatus::Open => {
                        return Err(DomainError::conflict(
                            "recruitment_already_open",
                            "Recruitment for this term is already open.",
                        ))
                    }
                    TermStatus::Closed => {
                        return Err(DomainError::conflict(
                            "recruitment_closed",
                            "Recruitment for this term has already closed.",
                        ))
                    }
                    TermStatus::Cancelled => {
                        return Err(DomainError::conflict(
                            "term_cancelled",
                            "This term has been cancelled.",
                        ))
                    }
                }
                if let Some(deadline) = term.deadline() {
                    if now >= deadline {
                        return Err(deadline_passed(deadline));
                    }
                }
                Ok(vec![E::RecruitmentOpened {
                    term_id,
                    opened_at: now,
                }])
            }
            C::SubmitApplication {
                application_id,
                term_id,
                subject_id,
                institution,
                consent,
            } => {
                let term = self.require_term(term_id)?;
                let Some(consent) = consent else {
                    return Err(DomainError::invalid(
                        "consent",
                        "consent_required",
                        "Consent to the processing of the application is required.",
                    ));
                };
                if let Some(shown) = self.information_clause() {
                    if consent.information_clause != shown.version {
                        return Err(DomainError::conflict(
                            "information_clause_changed",
                            format!(
                                "The information clause of this visit is now version {}; the applicant must read and accept it.",
                                shown.version
                            ),
                        ));
                    }
                }
                if !institution
                    .kind
                    .is_covered_by(&details.eligible_institution_types)
                {
                    let eligible: Vec<&str> = details
                        .eligible_institution_types
                        .iter()
                        .map(|t| t.as_str())
                        .collect();
                    return Err(DomainError::invalid(
                        "institution.type",
                        "institution_type_not_eligible",
                        format!(
                            "Institutions of type {} cannot take part in this visit; eligible types: {}.",
                            institution.kind,
                            eligible.join(", ")
                        ),
                    ));
                }
                if self.application(application_id).is_some() {
                    return Err(DomainError::conflict(
                        "duplicate_application_id",
                        format!("An application with id {application_id} already exists."),
                    ));
                }
                if term.status != TermStatus::Open {
                    return Err(DomainError::conflict(
                        "recruitment_not_open",
                        "Recruitment for this term is not open.",
                    ));
                }
                if let Some(deadline) = term.deadline() {
                    if now >= deadline {
                        return Err(deadline_passed(deadline));
                    }
                }
                if self
                    .applications
                    .values()
                    .any(|a| a.subject_id == subject_id && a.status.is_live())
                {
                    return Err(DomainError::conflict(
                        "duplicate_application",
                        "This person already has an application for this study visit.",
                    ));
                }
                Ok(vec![E::ApplicationSubmitted {
                    application_id,
                    term_id,
                    subject_id,
                    institution,
                    consent,
                    submitted_at: now,
                }])
            }
            C::WithdrawApplication { application_id, by } => {
                let app = self.require_application(application_id)?;
                if !app.status.is_live() {
                    return Err(DomainError::conflict(
                        "already_withdrawn",
                        "This application has already been withdrawn or its seat released.",
                    ));
                }
                let had_seat = app.status == ApplicationStatus::Allocated;
                let mut events = vec![E::ApplicationWithdrawn {
                    application_id,
                    term_id: app.term_id,
                    by,
                    had_seat,
                }];
                if had_seat {
                    events.extend(self.release_and_promote(app, ReleaseCause::Withdrawn, now));
                } else if app.status == ApplicationStatus::Offered {
                    // The seat held for them goes to the next person.
                    let withdrawn = events.remove(0);
                    return Ok(self.then_offer(withdrawn, app.term_id, application_id, now));
                }
                Ok(events)
            }
            C::CloseRecruitment { term_id, trigger } => {
                let term = self.require_term(term_id)?;
                if term.status != TermStatus::Open {
                    return Err(DomainError::conflict(
                        "recruitment_not_open",
                        "Recruitment for this term is not open.",
                    ));
                }
                if trigger == super::CloseTrigger::Deadline {
                    if let Some(deadline) = term.deadline() {
                        if now < deadline {
                            return Err(DomainError::conflict(
                                "deadline_not_reached",
                                format!(
                                    "The recruitment deadline for this term is {}; it has not passed yet.",
                                    warsaw_time(deadline)
                                ),
                            ));
                        }
                    }
                }
                let Some(allocation) = self.compute_allocation(term_id) else {
                    return Ok(Vec::new());
                };
                let decisions = allocation.in_rank_order();
                let candidates = u32::try_from(decisions.len()).unwrap_or(u32::MAX);
                let mut events = vec![E::RecruitmentClosed {
                    term_id,
                    trigger,
                    closed_at: now,
                    candidates,
                    seats: term.seats,
                    oversubscribed: candidates > term.seats,
                }];
                events.extend(decisions.into_iter().map(|(outcome, d)| {
                    let application_id = d.application_id;
                    let basis = d.basis.clone();
                    match outcome {
                        Outcome::Allocated => E::SeatAllocated {
                            application_id,
                            term_id,
                            basis,
                        },
                        Outcome::Waitlisted(waitlist_position) => E::ApplicantWaitlisted {
                            application_id,
                            term_id,
                            waitlist_position,
                            basis,
                        },
                        Outcome::PassedOver => E::ApplicationPassedOver {
                            application_id,
                            term_id,
                            reason: PASSED_OVER_REASON.to_owned(),
                            basis,
                        },
                    }
                }));
                Ok(events)
            }
            C::ReleaseSeat {
                application_id,
                reason,
                by,
            } => {
                let app = self.require_application(application_id)?;
                if app.status != ApplicationStatus::Allocated {
                    return Err(DomainError::conflict(
                        "no_seat",
                        "This application does not hold a seat.",
                    ));
                }
                Ok(self.release_and_promote(app, ReleaseCause::Released { reason, by }, now))
            }
            C::AllocateSeatManually {
                application_id,
                reason,
                by,
            } => {
                if by.trim().is_empty() {
                    return Err(DomainError::invalid(
                        "decided_by",
                        "required",
                        "A manual decision must name who took it.",
                    ));
                }
                let term_id = self.require_application(application_id)?.term_id;
                let basis = self.manual_decision(application_id, reason.as_str(), &by)?;
                Ok(vec![E::SeatAllocated {
                    application_id,
                    term_id,
                    basis,
                }])
            }
            C::RecordAttendance {
                application_id,
                day,
                attended,
            } => {
                let app = self.require_application(application_id)?;
                let term = self
                    .term(app.term_id)
                    .filter(|t| t.status == TermStatus::Closed);
                let (Some(term), ApplicationStatus::Allocated) = (term, app.status) else {
                    return Err(DomainError::conflict(
                        "no_seat",
                        "Attendance can only be recorded for someone holding a seat in a closed term.",
                    ));
                };
                if let (Some(day), Some(dates)) = (day, term.dates()) {
                    if day < dates.starts_on || day > dates.ends_on {
                        return Err(DomainError::invalid(
                            "day",
                            "day_outside_term",
                            format!(
                                "The term lasts from {} to {}; {day} is not one of its days.",
                                dates.starts_on, dates.ends_on
                            ),
                        ));
                    }
                }
                Ok(vec![E::AttendanceRecorded {
                    application_id,
                    term_id: app.term_id,
                    day,
                    attended,
                }])
            }
            C::CancelTerm { term_id, reason } => {
                let term = self.require_term(term_id)?;
                match term.status {
                    TermStatus::Closed => Err(DomainError::conflict(
                        "recruitment_closed",
                        "A term whose recruitment has closed cannot be cancelled.",
                    )),
                    TermStatus::Cancelled => Err(DomainError::conflict(
                        "term_cancelled",
                        "This term has already been cancelled.",
                    )),
                    _ => Ok(vec![E::TermCancelled { term_id, reason }]),
                }
            }
        }
    }
}
