//! Command handling: each command checked against the state and turned into the events to
//! record. Pure: "today" (the service's date in Europe/Warsaw) is passed in.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use uuid::Uuid;

use super::commands::{CooperationProgramCommand, Measure, PlannedActivity};
use super::events::CooperationProgramEvent;
use super::{Activity, ActivityStatus, CooperationProgram, ProgramDetails};
use crate::error::DomainError;
use crate::values::Institution;

fn duplicate_id(what: &str, id: Uuid) -> DomainError {
    DomainError::conflict(
        "duplicate_id",
        format!("This programme already has a {what} with id {id}."),
    )
}

fn planned_event(a: PlannedActivity) -> CooperationProgramEvent {
    CooperationProgramEvent::ActivityPlanned {
        activity_id: a.activity_id,
        kind: a.kind,
        title: a.title,
        planned: a.planned,
        location: a.location,
        co_organizer: a.co_organizer,
    }
}

/// One entry per NIP, first one kept, order kept.
fn distinct_institutions(institutions: Vec<Institution>) -> Vec<Institution> {
    let mut seen = BTreeSet::new();
    institutions
        .into_iter()
        .filter(|i| seen.insert(i.nip.clone()))
        .collect()
}

impl CooperationProgram {
    fn require_open(&self) -> Result<&ProgramDetails, DomainError> {
        let details = self.details.as_ref().ok_or_else(|| {
            DomainError::not_found("program_not_found", "There is no such programme.")
        })?;
        if let Some(closed_on) = self.closed_on {
            return Err(DomainError::conflict(
                "program_closed",
                format!("This programme was closed on {closed_on}; nothing more can be recorded."),
            ));
        }
        Ok(details)
    }

    fn require_activity(&self, activity_id: Uuid) -> Result<&Activity, DomainError> {
        self.activities.get(&activity_id).ok_or_else(|| {
            DomainError::not_found(
                "activity_not_found",
                format!("This programme has no activity {activity_id}."),
            )
        })
    }

    /// The activity, refused when it was already held or cancelled.
    fn require_planned_activity(&self, activity_id: Uuid) -> Result<&Activity, DomainError> {
        let a = self.require_activity(activity_id)?;
        match a.status {
            ActivityStatus::Planned => Ok(a),
            ActivityStatus::Held => Err(DomainError::conflict(
                "activity_held",
                "This activity has already been recorded as held.",
            )),
            ActivityStatus::Cancelled => Err(DomainError::conflict(
                "activity_cancelled",
                "This activity has been cancelled.",
            )),
        }
    }

    /// Decides what a command records, given today's date in Europe/Warsaw. The
    /// aggregate's `handle` writes these events; nothing is changed by deciding.
    pub fn decide(
        &self,
        command: CooperationProgramCommand,
        today: NaiveDate,
    ) -> Result<Vec<CooperationProgramEvent>, DomainError> {
        use CooperationProgramCommand as C;
        use CooperationProgramEvent as E;

        if let C::CreateProgram {
            program_id,
            organizer,
            title,
            kind,
            period,
            goals,
            indicators,
            partner_application_deadline,
        } = command
        {
            if self.details.is_some() {
                return Err(DomainError::conflict(
                    "already_created",
                    "This programme has already been created.",
                ));
            }
            if period.end < period.start {
                return Err(DomainError::invalid(
                    "period.end",
                    "ends_before_start",
                    format!(
                        "The period cannot end ({}) before it starts ({}).",
                        period.end, period.start
                    ),
                ));
            }
            let mut codes = BTreeSet::new();
            for (i, ind) in indicators.iter().enumerate() {
                if !codes.insert(ind.code.clone()) {
                    return Err(DomainError::invalid(
                        format!("indicators[{i}].code"),
                        "duplicate_indicator",
                        format!("The indicator code '{}' is used twice.", ind.code),
                    ));
                }
            }
            return Ok(vec![E::ProgramCreated {
                program_id,
                organizer,
                title,
                kind,
                period,
                goals,
                indicators,
                partner_application_deadline,
            }]);
        }

        let details = self.require_open()?;
        let event = match command {
            C::CreateProgram { .. } => {
                return Err(DomainError::conflict(
                    "already_created",
                    "This programme has already been created.",
                ))
            }
            C::JoinPartner {
                partner_id,
                institution,
                card,
            } => {
                if self.partners.contains_key(&partner_id) {
                    return Err(duplicate_id("partner", partner_id));
                }
                let field = card.channel.counting_field();
                let counted_on = card.counted_on().ok_or_else(|| {
                    DomainError::invalid(
                        field,
                        "date_required",
                        format!(
                            "An application card sent by {} needs its {field}: that is the date that counts.",
                            card.channel.as_str()
                        ),
                    )
                })?;
                for (name, earlier) in [
                    ("sent_on", card.sent_on),
                    ("postmarked_on", card.postmarked_on),
                ] {
                    if let (Some(e), Some(d)) = (earlier, card.delivered_on) {
                        if d < e {
                            return Err(DomainError::invalid(
                                "delivered_on",
                                "delivered_before_sent",
                                format!(
                                    "The card cannot be delivered ({d}) before its {name} ({e})."
                                ),
                            ));
                        }
                    }
                }
                if let Some(deadline) = details.partner_application_deadline {
                    if counted_on > deadline {
                        return Err(DomainError::conflict(
                            "application_late",
                            format!(
                                "Application cards had to be sent by {deadline}; by {} the {field} counts, and it is {counted_on}.",
                                card.channel.as_str()
                            ),
                        ));
                    }
                }
                if self.partners.values().any(|n| *n == institution.nip) {
                    return Err(DomainError::conflict(
                        "already_partner",
                        format!(
                            "The institution with NIP {} is already a partner of this programme.",
                            institution.nip
                        ),
                    ));
                }
                vec![E::PartnerJoined {
                    partner_id,
                    institution,
                    channel: card.channel,
                    sent_on: card.sent_on,
                    postmarked_on: card.postmarked_on,
                    delivered_on: card.delivered_on,
                    counted_on,
                }]
            }
            C::PlanActivity(a) => {
                if self.activities.contains_key(&a.activity_id) {
                    return Err(duplicate_id("activity", a.activity_id));
                }
                vec![planned_event(a)]
            }
            C::ImportSchedule { activities } => {
                if activities.is_empty() {
                    return Err(DomainError::invalid(
                        "activities",
                        "empty_schedule",
                        "A schedule import needs at least one activity.",
                    ));
                }
                let mut ids = BTreeSet::new();
                for a in &activities {
                    if self.activities.contains_key(&a.activity_id) || !ids.insert(a.activity_id) {
                        return Err(duplicate_id("activity", a.activity_id));
                    }
                }
                activities.into_iter().map(planned_event).collect()
            }
            C::RescheduleActivity {
                activity_id,
                planned,
            } => {
                self.require_planned_activity(activity_id)?;
                vec![E::ActivityRescheduled {
                    activity_id,
                    planned,
                }]
            }
            C::RecordActivityHeld {
                activity_id,
                starts_on,
                ends_on,
                participants_total,
                institutions,
                notes,
            } => {
                self.require_planned_activity(activity_id)?;
                if ends_on < starts_on {
                    return Err(DomainError::invalid(
                        "ends_on",
                        "ends_before_start",
                        format!(
                            "The activity cannot end ({ends_on}) before it starts ({starts_on})."
                        ),
                    ));
                }
                vec![E::ActivityHeld {
                    activity_id,
                    starts_on,
                    ends_on,
                    participants_total,
                    institutions: distinct_institutions(institutions),
                    notes,
                }]
            }
            C::CancelActivity {
                activity_id,
                reason,
            } => {
                self.require_planned_activity(activity_id)?;
                vec![E::ActivityCancelled {
                    activity_id,
                    reason,
                }]
            }
            C::RecordFeedback {
                feedback_id,
                channel,
                received_on,
                text,
                rating,
                institution,
            } => {
                if self.feedback_ids.contains(&feedback_id) {
                    return Err(duplicate_id("feedback", feedback_id));
                }
                if let Some(r) = rating {
                    if !(1..=5).contains(&r) {
                        return Err(DomainError::invalid(
                            "rating",
                            "rating_out_of_range",
                            "A rating must be between 1 and 5.",
                        ));
                    }
                }
                vec![E::FeedbackReceived {
                    feedback_id,
                    channel,
                    received_on,
                    text,
                    rating,
                    institution,
                }]
            }
            C::SetTestingPeriod { ends_on } => {
                if let Some(on) = self.evaluated_on {
                    return Err(DomainError::conflict(
                        "already_evaluated",
                        format!("The programme was evaluated on {on}; its testing period can no longer change."),
                    ));
                }
                vec![E::TestingPeriodSet { ends_on }]
            }
            C::OpenConsultation {
                consultation_id,
                subject,
                opens_on,
                closes_on,
            } => {
                if self.consultations.contains_key(&consultation_id) {
                    return Err(duplicate_id("consultation", consultation_id));
                }
                if closes_on < opens_on {
                    return Err(DomainError::invalid(
                        "closes_on",
                        "closes_before_opening",
                        format!("The consultation cannot close ({closes_on}) before it opens ({opens_on})."),
                    ));
                }
                vec![E::ConsultationOpened {
                    consultation_id,
                    subject,
                    opens_on,
                    closes_on,
                }]
            }
            C::SubmitConsultationComment {
                comment_id,
                consultation_id,
                institution,
                text,
                submitted_on,
            } => {
                let window = self.consultations.get(&consultation_id).ok_or_else(|| {
                    DomainError::not_found(
                        "consultation_not_found",
                        format!("This programme has no consultation {consultation_id}."),
                    )
                })?;
                if self.comment_ids.contains(&comment_id) {
                    return Err(duplicate_id("comment", comment_id));
                }
                if submitted_on < window.opens_on || submitted_on > window.closes_on {
                    return Err(DomainError::conflict(
                        "outside_consultation_window",
                        format!(
                            "Comments are accepted from {} to {}; this one was submitted on {submitted_on}.",
                            window.opens_on, window.closes_on
                        ),
                    ));
                }
                vec![E::ConsultationCommentSubmitted {
                    comment_id,
                    consultation_id,
                    institution,
                    text,
                    submitted_on,
                }]
            }
            C::Evaluate {
                verdict,
                summary,
                manual_values,
                recommendations,
            } => {
                if let Some(on) = self.evaluated_on {
                    return Err(DomainError::conflict(
                        "already_evaluated",
                        format!("The programme was already evaluated on {on}."),
                    ));
                }
                let Some(ends_on) = self.testing_ends_on else {
                    return Err(DomainError::conflict(
                        "testing_period_not_set",
                        "The evaluation follows the testing period, and none has been set.",
                    ));
                };
                if today <= ends_on {
                    let from = ends_on.checked_add_days(Days::new(1)).unwrap_or(ends_on);
                    return Err(DomainError::conflict(
                        "testing_period_not_over",
                        format!(
                            "The testing period runs until {ends_on}; the evaluation can be recorded from {from} (today is {today})."
                        ),
                    ));
                }
                for code in manual_values.keys() {
                    let manual = details
                        .indicators
                        .iter()
                        .any(|i| i.code == *code && i.measure == Measure::Manual);
                    if !manual {
                        return Err(DomainError::invalid(
                            format!("manual_values.{code}"),
                            "not_a_manual_indicator",
                            format!("The programme has no indicator '{code}' measured by hand."),
                        ));
                    }
                }
                vec![E::ProgramEvaluated {
                    verdict,
                    summary,
                    manual_values,
                    recommendations,
                    evaluated_on: today,
                }]
            }
            C::Close { reason } => vec![E::ProgramClosed {
                closed_on: today,
                reason,
            }],
        };
        Ok(event)
    }
}
