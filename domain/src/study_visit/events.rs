//! What happened to a study visit. Events carry ids and institutional data, never a
//! person's name or contact (those are erasable and live elsewhere).

use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{CloseTrigger, Funding, Preference, TermDates, TermSchedule, Withdrawer};
use super::consent::ConsentRecord;
use crate::values::{Institution, InstitutionType, Nip, NonEmptyText, OrganizerId, PreferenceCode};

/// An event of the `StudyVisit` aggregate; stored as `{"VariantName": {...}}`.
///
/// `VariantNames` lists every event type without an instance, so the catalogue test can
/// hold docs/events.md to the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
pub enum StudyVisitEvent {
    /// The visit was created with its policy.
    VisitAnnounced {
        /// The visit (aggregate) id.
        visit_id: Uuid,
        /// Organizer (tenant).
        organizer: OrganizerId,
        /// Title.
        title: NonEmptyText,
        /// Destination.
        destination: NonEmptyText,
        /// Description.
        description: String,
        /// Eligible institution types.
        eligible_institution_types: Vec<InstitutionType>,
        /// Cap per institution, None = no cap.
        max_per_institution: Option<u32>,
        /// Preferences.
        preferences: Vec<Preference>,
        /// Funding reference.
        funding: Option<Funding>,
    },
    /// The information clause (RODO art. 13) shown to applicants from now on was set.
    InformationClauseSet {
        /// Its version id, recorded by every application that accepts it.
        version: NonEmptyText,
        /// Its full text.
        text: NonEmptyText,
    },
    /// How long a freed seat is offered was set (None: promotions allocate at once).
    OfferHoursSet {
        /// Hours, or None.
        offer_hours: Option<u32>,
    },
    /// A seat freed after the close was offered to the person the promotion rule picks;
    /// it is held for them until `expires_at`.
    SeatOffered {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// The earlier of the offer's hours and 00:00 Europe/Warsaw of the term's first day.
        expires_at: DateTime<Utc>,
        /// Why this person (the promotion's basis).
        basis: DecisionBasis,
    },
    /// The offer was accepted (a `SeatAllocated` follows).
    OfferAccepted {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Server time of the acceptance.
        accepted_at: DateTime<Utc>,
    },
    /// The offer was declined; the person waits where they were.
    OfferDeclined {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Server time of the refusal.
        declined_at: DateTime<Utc>,
    },
    /// The offer's time ran out; the person waits where they were.
    OfferExpired {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Server time the expiry was recorded (at or after `expires_at`).
        expired_at: DateTime<Utc>,
    },
    /// A preference's institution list was replaced.
    PreferenceListReplaced {
        /// Which preference.
        code: PreferenceCode,
        /// The new list.
        nips: Vec<Nip>,
    },
    /// A term was added.
    TermScheduled {
        /// Term id.
        term_id: Uuid,
        /// Label.
        label: NonEmptyText,
        /// Seats.
        seats: u32,
        /// Dated or planned.
        schedule: TermSchedule,
    },
    /// A term's dates were fixed or changed.
    TermDatesFixed {
        /// Term id.
        term_id: Uuid,
        /// The dates.
        dates: TermDates,
    },
    /// Recruitment opened for a term.
    RecruitmentOpened {
        /// Term id.
        term_id: Uuid,
        /// Server time it opened.
        opened_at: DateTime<Utc>,
    },
    /// An application was recorded; its position in the stream is its submission order.
    /// Version 2: `consent` records the information clause and legal basis (version 1 had
    /// `consent: true`; `upcasting` brings it to this shape).
    ApplicationSubmitted {
        /// Application id.
        application_id: Uuid,
        /// Term applied for.
        term_id: Uuid,
        /// Opaque person id.
        subject_id: Uuid,
        /// Institution represented.
        institution: Institution,
        /// The information clause the applicant accepted and the legal basis of processing.
        consent: ConsentRecord,
        /// Server time of submission.
        submitted_at: DateTime<Utc>,
    },
    /// An application was withdrawn.
    ApplicationWithdrawn {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Who withdrew it.
        by: Withdrawer,
        /// Whether it held a seat (a SeatReleased follows).
        had_seat: bool,
    },
    /// Recruitment closed; the decision events follow in rank order.
    RecruitmentClosed {
        /// Term id.
        term_id: Uuid,
        /// What closed it.
        trigger: CloseTrigger,
        /// Server time it closed.
        closed_at: DateTime<Utc>,
        /// Candidates considered.
        candidates: u32,
        /// Seats on offer.
        seats: u32,
        /// Whether there were more candidates than seats.
        oversubscribed: bool,
    },
    /// An application got a seat (at close, or by promotion).
    SeatAllocated {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Why.
        basis: DecisionBasis,
    },
    /// An application was put on the waiting list at close.
    ApplicantWaitlisted {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Position on the list at close, from 1.
        waitlist_position: u32,
        /// Why.
        basis: DecisionBasis,
    },
    /// An application was passed over at close because of the institution cap.
    ApplicationPassedOver {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Machine reason, `institution_cap`.
        reason: String,
        /// Why.
        basis: DecisionBasis,
    },
    /// A seat was given back (withdrawal or release).
    SeatReleased {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// Withdrawal, or a coordinator's release with reason.
        cause: ReleaseCause,
    },
    /// Attendance of an allocated participant was recorded (version 2: by day).
    AttendanceRecorded {
        /// Application id.
        application_id: Uuid,
        /// Its term.
        term_id: Uuid,
        /// The day; null: every day of the term (what version 1 always meant).
        #[serde(default)]
        day: Option<NaiveDate>,
        /// Attended or not.
        attended: bool,
    },
    /// A term was cancelled.
    TermCancelled {
        /// Term id.
        term_id: Uuid,
        /// Why.
        reason: NonEmptyText,
    },
}

impl StudyVisitEvent {
    /// The variant name, also the stored event type.
    pub fn name(&self) -> &'static str {
        match self {
            Self::VisitAnnounced { .. } => "VisitAnnounced",
            Self::InformationClauseSet { .. } => "InformationClauseSet",
            Self::OfferHoursSet { .. } => "OfferHoursSet",
            Self::SeatOffered { .. } => "SeatOffered",
            Self::OfferAccepted { .. } => "OfferAccepted",
            Self::OfferDeclined { .. } => "OfferDeclined",
            Self::OfferExpired { .. } => "OfferExpired",
            Self::PreferenceListReplaced { .. } => "PreferenceListReplaced",
            Self::TermScheduled { .. } => "TermScheduled",
            Self::TermDatesFixed { .. } => "TermDatesFixed",
            Self::RecruitmentOpened { .. } => "RecruitmentOpened",
            Self::ApplicationSubmitted { .. } => "ApplicationSubmitted",
            Self::ApplicationWithdrawn { .. } => "ApplicationWithdrawn",
            Self::RecruitmentClosed { .. } => "RecruitmentClosed",
            Self::SeatAllocated { .. } => "SeatAllocated",
            Self::ApplicantWaitlisted { .. } => "ApplicantWaitlisted",
            Self::ApplicationPassedOver { .. } => "ApplicationPassedOver",
            Self::SeatReleased { .. } => "SeatReleased",
            Self::AttendanceRecorded { .. } => "AttendanceRecorded",
            Self::TermCancelled { .. } => "TermCancelled",
        }
    }

    /// The term the event concerns, when it concerns one.
    pub fn term_id(&self) -> Option<Uuid> {
        match self {
            Self::VisitAnnounced { .. }
            | Self::InformationClauseSet { .. }
            | Self::OfferHoursSet { .. }
            | Self::PreferenceListReplaced { .. } => None,
            Self::SeatOffered { term_id, .. }
            | Self::OfferAccepted { term_id, .. }
            | Self::OfferDeclined { term_id, .. }
            | Self::OfferExpired { term_id, .. } => Some(*term_id),
            Self::TermScheduled { term_id, .. }
            | Self::TermDatesFixed { term_id, .. }
            | Self::RecruitmentOpened { term_id, .. }
            | Self::ApplicationSubmitted { term_id, .. }
            | Self::ApplicationWithdrawn { term_id, .. }
            | Self::RecruitmentClosed { term_id, .. }
            | Self::SeatAllocated { term_id, .. }
            | Self::ApplicantWaitlisted { term_id, .. }
            | Self::ApplicationPassedOver { term_id, .. }
            | Self::SeatReleased { term_id, .. }
            | Self::AttendanceRecorded { term_id, .. }
            | Self::TermCancelled { term_id, .. } => Some(*term_id),
        }
    }

    /// The application the event concerns, when it concerns one.
    pub fn application_id(&self) -> Option<Uuid> {
        match self {
            Self::ApplicationSubmitted { application_id, .. }
            | Self::ApplicationWithdrawn { application_id, .. }
            | Self::SeatAllocated { application_id, .. }
            | Self::ApplicantWaitlisted { application_id, .. }
            | Self::ApplicationPassedOver { application_id, .. }
            | Self::SeatReleased { application_id, .. }
            | Self::AttendanceRecorded { application_id, .. }
            | Self::SeatOffered { application_id, .. }
            | Self::OfferAccepted { application_id, .. }
            | Self::OfferDeclined { application_id, .. }
            | Self::OfferExpired { application_id, .. } => Some(*application_id),
            _ => None,
        }
    }
}

impl StudyVisitEvent {
    /// The version `event_type` is written in today. A new shape of an event gets a new
    /// version and an upcaster from the old one (docs/events.md, "Versions and upcasting").
    pub fn current_version(event_type: &str) -> &'static str {
        match event_type {
            "ApplicationSubmitted" | "AttendanceRecorded" => "2",
            _ => "1",
        }
    }
}

impl DomainEvent for StudyVisitEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::current_version(self.name()).to_owned()
    }
}

/// Why a seat was given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseCause {
    /// The holder withdrew.
    Withdrawn,
    /// A coordinator released it.
    Released {
        /// Why.
        reason: NonEmptyText,
        /// Actor id.
        by: String,
    },
}

/// The allocation rule a decision follows, named so an evaluator can check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisRule {
    /// Rule 1: no more candidates than seats, everyone gets one, no cap.
    AllWithinSeats,
    /// Rule 2: seat given walking the candidates in rank order.
    RankOrder,
    /// Rule 3: a capped candidate filled a seat left over after the walk.
    CapFill,
    /// Rule 4: no seat left; on the waiting list.
    Waitlist,
    /// Rule 4: capped and no seat left over; passed over.
    InstitutionCap,
    /// Promotion: first waiting whose institution is below the cap.
    PromotionBelowCap,
    /// Promotion: nobody waiting was below the cap, so the first in line.
    PromotionFirstInLine,
    /// A coordinator's decision by hand after the close, naming who and why.
    Manual,
}

impl BasisRule {
    /// The serialized spelling, e.g. `rank_order`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllWithinSeats => "all_within_seats",
            Self::RankOrder => "rank_order",
            Self::CapFill => "cap_fill",
            Self::Waitlist => "waitlist",
            Self::InstitutionCap => "institution_cap",
            Self::PromotionBelowCap => "promotion_below_cap",
            Self::PromotionFirstInLine => "promotion_first_in_line",
            Self::Manual => "manual",
        }
    }
}

/// Everything an evaluator needs to check one allocation decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionBasis {
    /// The rule applied.
    pub rule: BasisRule,
    /// 1-based rank among the term's candidates at close.
    pub rank: u32,
    /// Number of preferences met.
    pub score: u32,
    /// Which preferences were met.
    pub preferences_met: Vec<PreferenceCode>,
    /// Seats the institution held (other closed terms + allocated so far) at the decision.
    pub institution_seats_before: u32,
    /// The visit's cap at the decision.
    pub max_per_institution: Option<u32>,
    /// For a promotion, the application whose seat was freed.
    #[serde(default)]
    pub promoted_for: Option<Uuid>,
    /// For a manual decision, why (as the coordinator wrote it). Absent from automatic
    /// decisions, so their stored shape is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a manual decision, who took it: the actor id (a token id), never a name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
}

impl DecisionBasis {
    /// A short English sentence for rosters and evaluators, e.g.
    /// "rank 3: 2 preferences met (cus_declared, new_to_project); seat in rank order; institution held 1 of 2".
    pub fn describe(&self) -> String {
        let prefs = match self.preferences_met.len() {
            0 => "no preferences met".to_owned(),
            n => {
                let codes: Vec<&str> = self.preferences_met.iter().map(|c| c.as_str()).collect();
                let noun = if n == 1 { "preference" } else { "preferences" };
                format!("{n} {noun} met ({})", codes.join(", "))
            }
        };
        let promoted = |rest: &str| match self.promoted_for {
            Some(id) => format!("promoted to the seat freed by application {id}, {rest}"),
            None => format!("promoted to a freed seat, {rest}"),
        };
        let what = match self.rule {
            BasisRule::AllWithinSeats => "seat: no more candidates than seats".to_owned(),
            BasisRule::RankOrder => "seat in rank order".to_owned(),
            BasisRule::CapFill => {
                "seat left over after the walk, filled despite the institution cap".to_owned()
            }
            BasisRule::Waitlist => "waiting list: no seat left in rank order".to_owned(),
            BasisRule::InstitutionCap => "passed over: institution cap reached".to_owned(),
            BasisRule::PromotionBelowCap => promoted("first in line below the institution cap"),
            BasisRule::PromotionFirstInLine => {
                promoted("first in line (nobody waiting was below the cap)")
            }
            BasisRule::Manual => format!(
                "seat granted by hand by {}: {}",
                self.decided_by.as_deref().unwrap_or("(unknown)"),
                self.reason.as_deref().unwrap_or("(no reason given)")
            ),
        };
        let held = match self.max_per_institution {
            Some(max) => format!(
                "institution held {} of {max}",
                self.institution_seats_before
            ),
            None => format!(
                "institution held {} (no cap)",
                self.institution_seats_before
            ),
        };
        format!("rank {}: {prefs}; {what}; {held}", self.rank)
    }
}
