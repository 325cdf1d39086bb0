//! What a coordinator, an applicant or the deadline watcher can ask of a study visit.
//! Every id arrives from outside so a retried command names the same things.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::consent::{ConsentRecord, InformationClause};
use crate::values::{
    Institution, InstitutionType, Nip, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode,
};

/// A request to change a study visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StudyVisitCommand {
    /// Creates the visit with its policy (eligible types, cap, preferences, funding).
    Announce {
        /// The new visit's id (the aggregate id).
        visit_id: Uuid,
        /// The organizer (tenant) that runs it.
        organizer: OrganizerId,
        /// Title shown to applicants.
        title: NonEmptyText,
        /// Where the visit goes.
        destination: NonEmptyText,
        /// Free description.
        description: String,
        /// Types of institution that may apply (non-empty).
        eligible_institution_types: Vec<InstitutionType>,
        /// Cap on seats per institution across the visit when demand is high; None = no cap.
        max_per_institution: Option<u32>,
        /// Preferences that raise an application's score (unique codes).
        preferences: Vec<Preference>,
        /// EU funding reference, when the visit is project-funded.
        funding: Option<Funding>,
    },
    /// Replaces the list of institutions (by NIP) a preference refers to.
    ReplacePreferenceList {
        /// Which preference.
        code: PreferenceCode,
        /// The new list (duplicates removed).
        nips: Vec<Nip>,
    },
    /// Adds a term (session) to the visit, dated or only planned.
    ScheduleTerm {
        /// The new term's id.
        term_id: Uuid,
        /// Label such as "I termin".
        label: NonEmptyText,
        /// Seats on offer (≥ 1).
        seats: u32,
        /// Fixed dates with a deadline, or a planned date at some precision.
        schedule: TermSchedule,
    },
    /// Fixes (or changes) the dates and deadline of a term not yet open.
    FixTermDates {
        /// Which term.
        term_id: Uuid,
        /// The dates.
        dates: TermDates,
    },
    /// Sets the information clause (RODO art. 13) applicants are shown from now on; each
    /// application records the version its applicant accepted. A version id already used
    /// for another text is refused; the same clause again changes nothing.
    SetInformationClause {
        /// The clause.
        clause: InformationClause,
    },
    /// Sets how many hours a seat freed after the close is offered to the person the
    /// promotion rule picks (DOMAIN.md "Seat offers"); None: a promotion allocates at once.
    SetOfferHours {
        /// 1 to 720 hours, or None.
        offer_hours: Option<u32>,
    },
    /// The applicant accepts the seat offered to them, before it expires.
    AcceptOffer {
        /// Which application.
        application_id: Uuid,
    },
    /// The applicant declines the seat offered to them: the next person is offered it.
    DeclineOffer {
        /// Which application.
        application_id: Uuid,
    },
    /// Records that an offer's time ran out (the service's clock, like a deadline): the
    /// next person is offered the seat.
    ExpireOffer {
        /// Which application.
        application_id: Uuid,
    },
    /// Opens recruitment for a dated term.
    OpenRecruitment {
        /// Which term.
        term_id: Uuid,
    },
    /// Records an application for a term; personal data lives outside the events.
    SubmitApplication {
        /// The new application's id.
        application_id: Uuid,
        /// The term applied for.
        term_id: Uuid,
        /// Opaque id of the person (their data is kept elsewhere, erasable).
        subject_id: Uuid,
        /// The institution the person represents.
        institution: Institution,
        /// The information clause the applicant accepted, with the legal basis of processing;
        /// None when they did not accept it (refused: the clause is required).
        consent: Option<ConsentRecord>,
    },
    /// Withdraws an application (by the applicant or a coordinator).
    WithdrawApplication {
        /// Which application.
        application_id: Uuid,
        /// Who withdrew it.
        by: Withdrawer,
    },
    /// Closes recruitment and records the allocation.
    CloseRecruitment {
        /// Which term.
        term_id: Uuid,
        /// A coordinator, or the deadline watcher.
        trigger: CloseTrigger,
    },
    /// Takes a seat back from an allocated application; the next in line is promoted.
    ReleaseSeat {
        /// Which application.
        application_id: Uuid,
        /// Why, for the record.
        reason: NonEmptyText,
        /// Actor id, for the record.
        by: String,
    },
    /// Gives a seat by hand to an application waiting in a closed term (waiting list or
    /// passed over), outside the policy's order: a decision a coordinator answers for, so
    /// it names who took it and why. It may take the term above its seat count.
    AllocateSeatManually {
        /// Which application.
        application_id: Uuid,
        /// Why, for the record.
        reason: NonEmptyText,
        /// Actor id of the coordinator (a token id, never a name), for the record.
        by: String,
    },
    /// Records whether an allocated participant was present, on one day of the term or
    /// (without a day) on every day.
    RecordAttendance {
        /// Which application.
        application_id: Uuid,
        /// The day; None: every day of the term.
        day: Option<NaiveDate>,
        /// Attended or not.
        attended: bool,
    },
    /// Cancels a term that has not closed.
    CancelTerm {
        /// Which term.
        term_id: Uuid,
        /// Why.
        reason: NonEmptyText,
    },
}

impl StudyVisitCommand {
    /// The command's name, for metadata and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Announce { .. } => "Announce",
            Self::SetInformationClause { .. } => "SetInformationClause",
            Self::SetOfferHours { .. } => "SetOfferHours",
            Self::AcceptOffer { .. } => "AcceptOffer",
            Self::DeclineOffer { .. } => "DeclineOffer",
            Self::ExpireOffer { .. } => "ExpireOffer",
            Self::ReplacePreferenceList { .. } => "ReplacePreferenceList",
            Self::ScheduleTerm { .. } => "ScheduleTerm",
            Self::FixTermDates { .. } => "FixTermDates",
            Self::OpenRecruitment { .. } => "OpenRecruitment",
            Self::SubmitApplication { .. } => "SubmitApplication",
            Self::WithdrawApplication { .. } => "WithdrawApplication",
            Self::CloseRecruitment { .. } => "CloseRecruitment",
            Self::ReleaseSeat { .. } => "ReleaseSeat",
            Self::AllocateSeatManually { .. } => "AllocateSeatManually",
            Self::RecordAttendance { .. } => "RecordAttendance",
            Self::CancelTerm { .. } => "CancelTerm",
        }
    }
}

/// One of a visit's preferences: institutions meeting it rank higher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preference {
    /// Stable code, e.g. `cus_declared`.
    pub code: PreferenceCode,
    /// Human label.
    pub label: NonEmptyText,
    /// Whether being on the list or being off it meets the preference.
    pub kind: PreferenceKind,
}

/// How a preference's list is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceKind {
    /// Met by institutions on the list (e.g. JST that declared a CUS).
    Listed,
    /// Met by institutions not on the list (e.g. new to the earlier project).
    NotListed,
}

/// The EU funding reference a project-funded visit must report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Funding {
    /// Project title.
    #[serde(default)]
    pub project: String,
    /// Programme.
    #[serde(default)]
    pub programme: String,
    /// Priority axis.
    #[serde(default)]
    pub priority_axis: String,
    /// Measure.
    #[serde(default)]
    pub measure: String,
    /// Sub-measure.
    #[serde(default)]
    pub sub_measure: String,
}

/// When a term takes place: fixed dates, or only a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermSchedule {
    /// Fixed dates and recruitment deadline.
    Dated(TermDates),
    /// Only planned (e.g. "mid-July"); cannot open until dates are fixed.
    Planned(PlannedDate),
}

/// The fixed dates of a term and its recruitment deadline (hour precision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermDates {
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (≥ `starts_on`).
    pub ends_on: NaiveDate,
    /// Applications are accepted strictly before this instant.
    pub recruitment_deadline: DateTime<Utc>,
}

/// Who withdrew an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Withdrawer {
    /// A coordinator of the organizer.
    Coordinator,
    /// The applicant, with their applicant key.
    Applicant,
}

/// What closed a recruitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CloseTrigger {
    /// A coordinator closed it.
    Manual,
    /// The deadline watcher closed it when the deadline passed.
    Deadline,
}
