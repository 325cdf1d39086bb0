//! The parts of a study visit's state: its announced policy, its terms and its
//! applications. Read-only to the outside (the aggregate changes them by events).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::attendance::Attendance;
use super::commands::{CloseTrigger, Funding, Preference, TermDates, TermSchedule, Withdrawer};
use super::consent::ConsentRecord;
use super::events::{DecisionBasis, ReleaseCause};
use crate::values::{
    DateRange, Institution, InstitutionType, NonEmptyText, OrganizerId, PlannedDate,
};

/// What was announced about the visit: its identity and its allocation policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitDetails {
    /// The visit (aggregate) id.
    pub visit_id: Uuid,
    /// Organizer (tenant).
    pub organizer: OrganizerId,
    /// Title.
    pub title: NonEmptyText,
    /// Destination.
    pub destination: NonEmptyText,
    /// Description.
    pub description: String,
    /// Eligible institution types.
    pub eligible_institution_types: Vec<InstitutionType>,
    /// Cap per institution across the visit; None = no cap.
    pub max_per_institution: Option<u32>,
    /// Preferences in their declared order.
    pub preferences: Vec<Preference>,
    /// Funding reference.
    pub funding: Option<Funding>,
}

/// Where a term stands in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermStatus {
    /// Only a planned date; cannot open yet.
    Planned,
    /// Dated, recruitment not yet open.
    Scheduled,
    /// Recruitment open.
    Open,
    /// Recruitment closed and allocated.
    Closed,
    /// Cancelled before closing.
    Cancelled,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Recorded, term not closed yet.
    Submitted,
    /// Holds a seat.
    Allocated,
    /// On the waiting list.
    Waitlisted,
    /// Passed over because of the institution cap (still waiting behind the list).
    PassedOver,
    /// Withdrawn.
    Withdrawn,
    /// Its seat was released by a coordinator.
    Released,
    /// A freed seat is offered to it until the offer's expiry (visits with `offer_hours`).
    Offered,
}

impl ApplicationStatus {
    /// Whether the application still counts (for the one-live-application rule).
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Withdrawn | Self::Released)
    }

    /// The serialized spelling, e.g. `offered`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Allocated => "allocated",
            Self::Waitlisted => "waitlisted",
            Self::PassedOver => "passed_over",
            Self::Withdrawn => "withdrawn",
            Self::Released => "released",
            Self::Offered => "offered",
        }
    }

    /// Whether it is waiting for a freed seat (waiting list or passed over).
    pub fn is_waiting(self) -> bool {
        matches!(self, Self::Waitlisted | Self::PassedOver)
    }
}

/// One term (session) of the visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// Term id.
    pub term_id: Uuid,
    /// Label.
    pub label: NonEmptyText,
    /// Seats on offer.
    pub seats: u32,
    /// Dated or planned.
    pub schedule: TermSchedule,
    /// Life-cycle status.
    pub status: TermStatus,
    /// When recruitment opened.
    pub opened_at: Option<DateTime<Utc>>,
    /// When recruitment closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// What closed it.
    pub close_trigger: Option<CloseTrigger>,
    /// Why it was cancelled.
    pub cancel_reason: Option<NonEmptyText>,
}

impl Term {
    /// 00:00 Europe/Warsaw of the term's first day, once it has dates: no seat is offered
    /// from then on.
    pub fn begins(&self) -> Option<DateTime<Utc>> {
        use chrono::TimeZone;
        let midnight = self.dates()?.starts_on.and_hms_opt(0, 0, 0)?;
        chrono_tz::Europe::Warsaw
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The fixed dates, once there are some.
    pub fn dates(&self) -> Option<&TermDates> {
        match &self.schedule {
            TermSchedule::Dated(d) => Some(d),
            TermSchedule::Planned(_) => None,
        }
    }

    /// The recruitment deadline, once dates are fixed.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        self.dates().map(|d| d.recruitment_deadline)
    }

    /// When the term takes place at the precision known (for the schedule).
    pub fn when(&self) -> PlannedDate {
        match &self.schedule {
            TermSchedule::Planned(p) => *p,
            TermSchedule::Dated(d) if d.starts_on == d.ends_on => PlannedDate::Day(d.starts_on),
            TermSchedule::Dated(d) => match DateRange::new(d.starts_on, d.ends_on) {
                Ok(r) => PlannedDate::Range(r),
                Err(_) => PlannedDate::Day(d.starts_on),
            },
        }
    }
}

/// One application as the visit knows it (no personal data: the person is `subject_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// Application id.
    pub application_id: Uuid,
    /// Term applied for.
    pub term_id: Uuid,
    /// Opaque person id.
    pub subject_id: Uuid,
    /// Institution represented.
    pub institution: Institution,
    /// The information clause accepted and the legal basis of processing.
    pub consent: ConsentRecord,
    /// Server time of submission.
    pub submitted_at: DateTime<Utc>,
    /// Submission order within the visit's stream (0, 1, 2, ...).
    pub order: u64,
    /// Current status.
    pub status: ApplicationStatus,
    /// The latest decision's basis (at close, or the promotion).
    pub decision: Option<DecisionBasis>,
    /// Waiting-list position recorded at close.
    pub waitlist_position_at_close: Option<u32>,
    /// Reason recorded when passed over.
    pub passed_over_reason: Option<String>,
    /// Presence by day, as recorded.
    #[serde(default)]
    pub attendance: Attendance,
    /// Who withdrew it, when withdrawn.
    pub withdrawn_by: Option<Withdrawer>,
    /// Why its seat was given back, when it was.
    pub release: Option<ReleaseCause>,
    /// The seat offered to it, while the offer stands.
    #[serde(default)]
    pub offer: Option<StandingOffer>,
}

/// A seat offered and not yet accepted, declined or expired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandingOffer {
    /// Until when it may be accepted.
    pub expires_at: DateTime<Utc>,
    /// The promotion's basis (the seat's basis once accepted).
    pub basis: DecisionBasis,
    /// Where the person waited, and waits again when the offer lapses.
    pub returns_to: ApplicationStatus,
}

impl Application {
    /// The rank recorded at close (None before close or when withdrawn before it).
    pub fn rank(&self) -> Option<u32> {
        self.decision.as_ref().map(|b| b.rank)
    }
}
