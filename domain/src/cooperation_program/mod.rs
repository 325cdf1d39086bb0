//! The `CooperationProgram` aggregate (*program współpracy* / project): its period, goals
//! and indicators; partners joining by application card; activities planned at any
//! precision, then held, cancelled or rescheduled; feedback; consultations with a window;
//! a testing period and the evaluation that may only follow it; closing.
//!
//! Decisions are taken by the pure [`CooperationProgram::decide`]; "today" is the service
//! clock's date in Europe/Warsaw.

pub mod commands;
pub mod evaluation;
pub mod events;

mod decide;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Europe::Warsaw;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use commands::{
    ActivityKind, ApplicationCard, Channel, CooperationProgramCommand, FeedbackChannel, Indicator,
    Measure, Period, PlannedActivity, ProgramKind, Verdict,
};
pub use evaluation::{evaluate, Evaluation, EvaluationCheck, EvaluationFacts};
pub use events::CooperationProgramEvent;

use crate::error::DomainError;
use crate::services::AggregateServices;
use crate::values::{Nip, NonEmptyText, OrganizerId, PlannedDate};

/// What was declared when the programme was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramDetails {
    /// The programme (aggregate) id.
    pub program_id: Uuid,
    /// Organizer (tenant).
    pub organizer: OrganizerId,
    /// Title.
    pub title: NonEmptyText,
    /// Kind.
    pub kind: ProgramKind,
    /// Period.
    pub period: Period,
    /// Indicators.
    pub indicators: Vec<Indicator>,
    /// Partners' deadline.
    pub partner_application_deadline: Option<NaiveDate>,
}

/// Where an activity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityStatus {
    /// Planned, not yet held.
    Planned,
    /// Took place.
    Held,
    /// Cancelled.
    Cancelled,
}

impl ActivityStatus {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Held => "held",
            Self::Cancelled => "cancelled",
        }
    }
}

/// An activity as the aggregate keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Kind.
    pub kind: ActivityKind,
    /// Current planned date.
    pub planned: PlannedDate,
    /// Status.
    pub status: ActivityStatus,
}

/// A consultation's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationWindow {
    /// First day comments are accepted.
    pub opens_on: NaiveDate,
    /// Last day comments are accepted.
    pub closes_on: NaiveDate,
}

/// The cooperation programme aggregate, in ordered collections so replays serialize
/// identically.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CooperationProgram {
    details: Option<ProgramDetails>,
    partners: BTreeMap<Uuid, Nip>,
    activities: BTreeMap<Uuid, Activity>,
    feedback: u32,
    feedback_ids: Vec<Uuid>,
    consultations: BTreeMap<Uuid, ConsultationWindow>,
    comment_ids: Vec<Uuid>,
    testing_ends_on: Option<NaiveDate>,
    evaluated_on: Option<NaiveDate>,
    closed_on: Option<NaiveDate>,
}

impl Aggregate for CooperationProgram {
    const TYPE: &'static str = "CooperationProgram";
    type Command = CooperationProgramCommand;
    type Event = CooperationProgramEvent;
    type Error = DomainError;
    type Services = AggregateServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let today = services.clock.now().with_timezone(&Warsaw).date_naive();
        let events = self.decide(command, today)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_event(event);
    }
}

impl CooperationProgram {
    /// The organizer that owns it, once it exists.
    pub fn organizer(&self) -> Option<&OrganizerId> {
        self.details.as_ref().map(|d| &d.organizer)
    }

    /// What was declared at creation (None before `ProgramCreated`).
    pub fn details(&self) -> Option<&ProgramDetails> {
        self.details.as_ref()
    }

    /// One activity.
    pub fn activity(&self, activity_id: Uuid) -> Option<&Activity> {
        self.activities.get(&activity_id)
    }

    /// The activities by id.
    pub fn activities(&self) -> &BTreeMap<Uuid, Activity> {
        &self.activities
    }

    /// Partners' NIPs by partner id.
    pub fn partners(&self) -> &BTreeMap<Uuid, Nip> {
        &self.partners
    }

    /// The last day of testing, once set.
    pub fn testing_ends_on(&self) -> Option<NaiveDate> {
        self.testing_ends_on
    }

    /// The day the evaluation was recorded.
    pub fn evaluated_on(&self) -> Option<NaiveDate> {
        self.evaluated_on
    }

    /// The day the programme was closed.
    pub fn closed_on(&self) -> Option<NaiveDate> {
        self.closed_on
    }

    /// Applies one event. Total: an event that does not fit the state changes nothing it
    /// cannot.
    fn apply_event(&mut self, event: CooperationProgramEvent) {
        use CooperationProgramEvent as E;
        match event {
            E::ProgramCreated {
                program_id,
                organizer,
                title,
                kind,
                period,
                indicators,
                partner_application_deadline,
                ..
            } => {
                self.details = Some(ProgramDetails {
                    program_id,
                    organizer,
                    title,
                    kind,
                    period,
                    indicators,
                    partner_application_deadline,
                });
            }
            E::PartnerJoined {
                partner_id,
                institution,
                ..
            } => {
                self.partners.insert(partner_id, institution.nip);
            }
            E::ActivityPlanned {
                activity_id,
                kind,
                planned,
                ..
            } => {
                self.activities.insert(
                    activity_id,
                    Activity {
                        kind,
                        planned,
                        status: ActivityStatus::Planned,
                    },
                );
            }
            E::ActivityRescheduled {
                activity_id,
                planned,
            } => {
                if let Some(a) = self.activities.get_mut(&activity_id) {
                    a.planned = planned;
                }
            }
            E::ActivityHeld { activity_id, .. } => {
                if let Some(a) = self.activities.get_mut(&activity_id) {
                    a.status = ActivityStatus::Held;
                }
            }
            E::ActivityCancelled { activity_id, .. } => {
                if let Some(a) = self.activities.get_mut(&activity_id) {
                    a.status = ActivityStatus::Cancelled;
                }
            }
            E::FeedbackReceived { feedback_id, .. } => {
                self.feedback += 1;
                self.feedback_ids.push(feedback_id);
            }
            E::TestingPeriodSet { ends_on } => self.testing_ends_on = Some(ends_on),
            E::ConsultationOpened {
                consultation_id,
                opens_on,
                closes_on,
                ..
            } => {
                self.consultations.insert(
                    consultation_id,
                    ConsultationWindow {
                        opens_on,
                        closes_on,
                    },
                );
            }
            E::ConsultationCommentSubmitted { comment_id, .. } => {
                self.comment_ids.push(comment_id);
            }
            E::ProgramEvaluated { evaluated_on, .. } => self.evaluated_on = Some(evaluated_on),
            E::ProgramClosed { closed_on, .. } => self.closed_on = Some(closed_on),
        }
    }
}

#[cfg(test)]
mod tests;
