//! What happened to a cooperation programme. Events carry ids and institutions, never a
//! person's name or contact.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{
    ActivityKind, Channel, FeedbackChannel, Indicator, Period, ProgramKind, Verdict,
};
use crate::values::{Institution, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode};

/// An event of the `CooperationProgram` aggregate; stored as `{"VariantName": {...}}`.
///
/// `VariantNames` lists every event type without an instance, so the catalogue test can
/// hold docs/events.md to the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
pub enum CooperationProgramEvent {
    /// The programme was created.
    ProgramCreated {
        /// The programme (aggregate) id.
        program_id: Uuid,
        /// Organizer (tenant).
        organizer: OrganizerId,
        /// Title.
        title: NonEmptyText,
        /// Programme of cooperation or project.
        kind: ProgramKind,
        /// Period covered.
        period: Period,
        /// Goals.
        goals: Vec<NonEmptyText>,
        /// Indicators with targets.
        indicators: Vec<Indicator>,
        /// Deadline for partners' application cards (None = none).
        partner_application_deadline: Option<NaiveDate>,
    },
    /// An institution joined as a partner.
    PartnerJoined {
        /// Partner id.
        partner_id: Uuid,
        /// The institution.
        institution: Institution,
        /// How its card came.
        channel: Channel,
        /// Sending date (e-mail), when given.
        sent_on: Option<NaiveDate>,
        /// Postmark date (post), when given.
        postmarked_on: Option<NaiveDate>,
        /// Delivery date, when given.
        delivered_on: Option<NaiveDate>,
        /// The date that counted for the channel.
        counted_on: NaiveDate,
    },
    /// An activity was planned (one by one or by a schedule import).
    ActivityPlanned {
        /// Activity id.
        activity_id: Uuid,
        /// Kind.
        kind: ActivityKind,
        /// Title.
        title: NonEmptyText,
        /// When, at the precision known.
        planned: PlannedDate,
        /// Where.
        location: Option<String>,
        /// Co-organizer.
        co_organizer: Option<String>,
    },
    /// A planned activity was moved to another date.
    ActivityRescheduled {
        /// Activity id.
        activity_id: Uuid,
        /// The new date.
        planned: PlannedDate,
    },
    /// An activity took place.
    ActivityHeld {
        /// Activity id.
        activity_id: Uuid,
        /// First day.
        starts_on: NaiveDate,
        /// Last day.
        ends_on: NaiveDate,
        /// Participants.
        participants_total: u32,
        /// Institutions that took part (one entry per NIP).
        institutions: Vec<Institution>,
        /// Notes.
        notes: String,
    },
    /// A planned activity was cancelled.
    ActivityCancelled {
        /// Activity id.
        activity_id: Uuid,
        /// Why.
        reason: NonEmptyText,
    },
    /// An opinion, proposal or suggestion came in.
    FeedbackReceived {
        /// Feedback id.
        feedback_id: Uuid,
        /// How it came.
        channel: FeedbackChannel,
        /// When.
        received_on: NaiveDate,
        /// What it says.
        text: NonEmptyText,
        /// Rating 1..=5, when given.
        rating: Option<u8>,
        /// The institution it came from, when known.
        institution: Option<Institution>,
    },
    /// The end of the testing period was set or moved.
    TestingPeriodSet {
        /// Last day of testing.
        ends_on: NaiveDate,
    },
    /// A consultation was opened with its window.
    ConsultationOpened {
        /// Consultation id.
        consultation_id: Uuid,
        /// Subject.
        subject: NonEmptyText,
        /// First day comments are accepted.
        opens_on: NaiveDate,
        /// Last day comments are accepted.
        closes_on: NaiveDate,
    },
    /// An institution commented in a consultation, within its window.
    ConsultationCommentSubmitted {
        /// Comment id.
        comment_id: Uuid,
        /// Consultation id.
        consultation_id: Uuid,
        /// Who commented.
        institution: Institution,
        /// The comment.
        text: NonEmptyText,
        /// The day it was submitted.
        submitted_on: NaiveDate,
    },
    /// The evaluation was recorded.
    ProgramEvaluated {
        /// Verdict.
        verdict: Verdict,
        /// Summary.
        summary: String,
        /// Values of manual indicators by code.
        manual_values: BTreeMap<PreferenceCode, u64>,
        /// Recommendations.
        recommendations: Vec<NonEmptyText>,
        /// The service's date (Europe/Warsaw) when it was recorded.
        evaluated_on: NaiveDate,
    },
    /// The programme was closed.
    ProgramClosed {
        /// The service's date (Europe/Warsaw) when it was closed.
        closed_on: NaiveDate,
        /// Why or how, when said.
        reason: Option<NonEmptyText>,
    },
}

impl CooperationProgramEvent {
    /// The variant name, also the stored event type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ProgramCreated { .. } => "ProgramCreated",
            Self::PartnerJoined { .. } => "PartnerJoined",
            Self::ActivityPlanned { .. } => "ActivityPlanned",
            Self::ActivityRescheduled { .. } => "ActivityRescheduled",
            Self::ActivityHeld { .. } => "ActivityHeld",
            Self::ActivityCancelled { .. } => "ActivityCancelled",
            Self::FeedbackReceived { .. } => "FeedbackReceived",
            Self::TestingPeriodSet { .. } => "TestingPeriodSet",
            Self::ConsultationOpened { .. } => "ConsultationOpened",
            Self::ConsultationCommentSubmitted { .. } => "ConsultationCommentSubmitted",
            Self::ProgramEvaluated { .. } => "ProgramEvaluated",
            Self::ProgramClosed { .. } => "ProgramClosed",
        }
    }

    /// The activity the event concerns, when it concerns one.
    pub fn activity_id(&self) -> Option<Uuid> {
        match self {
            Self::ActivityPlanned { activity_id, .. }
            | Self::ActivityRescheduled { activity_id, .. }
            | Self::ActivityHeld { activity_id, .. }
            | Self::ActivityCancelled { activity_id, .. } => Some(*activity_id),
            _ => None,
        }
    }
}

impl CooperationProgramEvent {
    /// The version `event_type` is written in today. A new shape of an event gets a new
    /// version and an upcaster from the old one (docs/events.md, "Versions and upcasting").
    pub fn current_version(_event_type: &str) -> &'static str {
        // Every event of this aggregate still has its first shape.
        "1"
    }
}

impl DomainEvent for CooperationProgramEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::current_version(self.name()).to_owned()
    }
}
