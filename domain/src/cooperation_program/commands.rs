//! What a coordinator can ask of a cooperation programme. Every id arrives from outside so a
//! retried command names the same things.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{
    Institution, NonEmptyText, OrganizerId, PlannedDate, PreferenceCode, ValueError,
};

/// A request to change a cooperation programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CooperationProgramCommand {
    /// Creates the programme with its period, goals and indicators.
    CreateProgram {
        /// The new programme's id (the aggregate id).
        program_id: Uuid,
        /// The organizer (tenant) that runs it.
        organizer: OrganizerId,
        /// Title.
        title: NonEmptyText,
        /// Programme of cooperation or project.
        kind: ProgramKind,
        /// The period it covers.
        period: Period,
        /// Its goals.
        goals: Vec<NonEmptyText>,
        /// Indicators with targets (unique codes).
        indicators: Vec<Indicator>,
        /// Last day an application card may count for partners joining; None = no deadline.
        partner_application_deadline: Option<NaiveDate>,
    },
    /// An institution joins as a partner by its application card.
    JoinPartner {
        /// The new partner's id.
        partner_id: Uuid,
        /// The institution.
        institution: Institution,
        /// How the card came and its dates.
        card: ApplicationCard,
    },
    /// Plans one activity.
    PlanActivity(PlannedActivity),
    /// Plans many activities at once (a schedule import): all or nothing.
    ImportSchedule {
        /// The activities, in the schedule's order (at least one).
        activities: Vec<PlannedActivity>,
    },
    /// Moves a planned activity to another date.
    RescheduleActivity {
        /// Which activity.
        activity_id: Uuid,
        /// The new date.
        planned: PlannedDate,
    },
    /// Records that a planned activity took place.
    RecordActivityHeld {
        /// Which activity.
        activity_id: Uuid,
        /// First day.
        starts_on: NaiveDate,
        /// Last day (≥ `starts_on`).
        ends_on: NaiveDate,
        /// Number of participants.
        participants_total: u32,
        /// Institutions that took part (identified by NIP).
        institutions: Vec<Institution>,
        /// Notes.
        notes: String,
    },
    /// Cancels a planned activity.
    CancelActivity {
        /// Which activity.
        activity_id: Uuid,
        /// Why.
        reason: NonEmptyText,
    },
    /// Records an opinion, proposal or suggestion about the programme.
    RecordFeedback {
        /// The new feedback's id.
        feedback_id: Uuid,
        /// How it came.
        channel: FeedbackChannel,
        /// When it came.
        received_on: NaiveDate,
        /// What it says.
        text: NonEmptyText,
        /// Optional rating 1..=5.
        rating: Option<u8>,
        /// The institution it came from, when known.
        institution: Option<Institution>,
    },
    /// Sets (or moves) the end of the testing period.
    SetTestingPeriod {
        /// Last day of testing; the evaluation may follow from the next day.
        ends_on: NaiveDate,
    },
    /// Opens a consultation with its window.
    OpenConsultation {
        /// The new consultation's id.
        consultation_id: Uuid,
        /// What is consulted.
        subject: NonEmptyText,
        /// First day comments are accepted.
        opens_on: NaiveDate,
        /// Last day comments are accepted.
        closes_on: NaiveDate,
    },
    /// Records an institution's comment in a consultation.
    SubmitConsultationComment {
        /// The new comment's id.
        comment_id: Uuid,
        /// Which consultation.
        consultation_id: Uuid,
        /// Who comments.
        institution: Institution,
        /// The comment.
        text: NonEmptyText,
        /// The day it was submitted (must fall in the window).
        submitted_on: NaiveDate,
    },
    /// Records the evaluation (after the testing period).
    Evaluate {
        /// The verdict.
        verdict: Verdict,
        /// Summary.
        summary: String,
        /// Values of indicators measured by hand, by indicator code.
        manual_values: BTreeMap<PreferenceCode, u64>,
        /// Recommendations.
        recommendations: Vec<NonEmptyText>,
    },
    /// Closes the programme: nothing changes afterwards.
    Close {
        /// Why or how, when said.
        reason: Option<NonEmptyText>,
    },
}

impl CooperationProgramCommand {
    /// The command's name, for metadata and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::CreateProgram { .. } => "CreateProgram",
            Self::JoinPartner { .. } => "JoinPartner",
            Self::PlanActivity(_) => "PlanActivity",
            Self::ImportSchedule { .. } => "ImportSchedule",
            Self::RescheduleActivity { .. } => "RescheduleActivity",
            Self::RecordActivityHeld { .. } => "RecordActivityHeld",
            Self::CancelActivity { .. } => "CancelActivity",
            Self::RecordFeedback { .. } => "RecordFeedback",
            Self::SetTestingPeriod { .. } => "SetTestingPeriod",
            Self::OpenConsultation { .. } => "OpenConsultation",
            Self::SubmitConsultationComment { .. } => "SubmitConsultationComment",
            Self::Evaluate { .. } => "Evaluate",
            Self::Close { .. } => "Close",
        }
    }
}

/// One activity to plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedActivity {
    /// The new activity's id.
    pub activity_id: Uuid,
    /// Its kind.
    pub kind: ActivityKind,
    /// Title.
    pub title: NonEmptyText,
    /// When, at the precision known.
    pub planned: PlannedDate,
    /// Where.
    pub location: Option<String>,
    /// Who co-organizes it (an institution's name, e.g. "ROPS Lublin").
    pub co_organizer: Option<String>,
}

/// Programme of cooperation or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// *Program współpracy*.
    CooperationProgramme,
    /// A (usually EU-funded) project.
    Project,
}

impl ProgramKind {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CooperationProgramme => "cooperation_programme",
            Self::Project => "project",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "cooperation_programme" => Ok(Self::CooperationProgramme),
            "project" => Ok(Self::Project),
            _ => Err(ValueError::new(
                "program_kind_unknown",
                "must be cooperation_programme or project",
            )),
        }
    }
}

/// The period a programme covers, `start` ≤ `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

/// The kinds of activity (API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// Consultations (individual or on a document).
    Consultation,
    /// A forum.
    Forum,
    /// A study visit.
    StudyVisit,
    /// A training.
    Training,
    /// A conference.
    Conference,
    /// A meeting.
    Meeting,
    /// A sitting of a committee.
    CommitteeSitting,
    /// A monitoring meeting (e.g. of OWES).
    MonitoringMeeting,
    /// A publication (bulletin).
    Publication,
    /// A gala.
    Gala,
    /// Anything else.
    Other,
}

impl ActivityKind {
    /// Every kind, in the order of the API documentation.
    pub const ALL: [ActivityKind; 11] = [
        Self::Consultation,
        Self::Forum,
        Self::StudyVisit,
        Self::Training,
        Self::Conference,
        Self::Meeting,
        Self::CommitteeSitting,
        Self::MonitoringMeeting,
        Self::Publication,
        Self::Gala,
        Self::Other,
    ];

    /// The API spelling, e.g. `monitoring_meeting`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consultation => "consultation",
            Self::Forum => "forum",
            Self::StudyVisit => "study_visit",
            Self::Training => "training",
            Self::Conference => "conference",
            Self::Meeting => "meeting",
            Self::CommitteeSitting => "committee_sitting",
            Self::MonitoringMeeting => "monitoring_meeting",
            Self::Publication => "publication",
            Self::Gala => "gala",
            Self::Other => "other",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            ValueError::new(
                "activity_kind_unknown",
                format!(
                    "activity kind must be one of consultation, forum, study_visit, training, conference, meeting, committee_sitting, monitoring_meeting, publication, gala, other; got '{s}'"
                ),
            )
        })
    }
}

impl fmt::Display for ActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an indicator's actual value is measured from what was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Measure {
    /// Sum of participants of held activities.
    ParticipantsTotal,
    /// Number of held activities.
    ActivitiesHeld,
    /// Number of held activities of one kind (`activities_held:training`).
    ActivitiesHeldOfKind(ActivityKind),
    /// Institutions (by NIP) that took part in held activities, each counted once.
    DistinctInstitutions,
    /// Partners that joined.
    Partners,
    /// Feedback received.
    FeedbackReceived,
    /// Given by hand in the evaluation.
    Manual,
}

impl Measure {
    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "participants_total" => Ok(Self::ParticipantsTotal),
            "activities_held" => Ok(Self::ActivitiesHeld),
            "distinct_institutions" => Ok(Self::DistinctInstitutions),
            "partners" => Ok(Self::Partners),
            "feedback_received" => Ok(Self::FeedbackReceived),
            "manual" => Ok(Self::Manual),
            other => match other.strip_prefix("activities_held:") {
                Some(kind) => ActivityKind::parse(kind).map(Self::ActivitiesHeldOfKind),
                None => Err(ValueError::new(
                    "measure_unknown",
                    "measure must be participants_total, activities_held, activities_held:<kind>, distinct_institutions, partners, feedback_received or manual",
                )),
            },
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ParticipantsTotal => f.write_str("participants_total"),
            Self::ActivitiesHeld => f.write_str("activities_held"),
            Self::ActivitiesHeldOfKind(k) => write!(f, "activities_held:{k}"),
            Self::DistinctInstitutions => f.write_str("distinct_institutions"),
            Self::Partners => f.write_str("partners"),
            Self::FeedbackReceived => f.write_str("feedback_received"),
            Self::Manual => f.write_str("manual"),
        }
    }
}

impl TryFrom<String> for Measure {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Measure> for String {
    fn from(m: Measure) -> String {
        m.to_string()
    }
}

/// An indicator with its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    /// Stable code, e.g. `trainings`.
    pub code: PreferenceCode,
    /// Label.
    pub label: NonEmptyText,
    /// Target value.
    pub target: u64,
    /// How its actual value is measured.
    pub measure: Measure,
}

/// How a partner's application card came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// By e-mail: the sending date counts.
    Email,
    /// By post: the postmark date counts.
    Post,
    /// In person: the delivery date counts.
    InPerson,
}

impl Channel {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Post => "post",
            Self::InPerson => "in_person",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "email" => Ok(Self::Email),
            "post" => Ok(Self::Post),
            "in_person" => Ok(Self::InPerson),
            _ => Err(ValueError::new(
                "channel_unknown",
                "must be email, post or in_person",
            )),
        }
    }

    /// The name of the date that counts for this channel.
    pub fn counting_field(self) -> &'static str {
        match self {
            Self::Email => "sent_on",
            Self::Post => "postmarked_on",
            Self::InPerson => "delivered_on",
        }
    }
}

/// A partner's application card: its channel and the dates known about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationCard {
    /// How it came.
    pub channel: Channel,
    /// When it was sent (e-mail).
    pub sent_on: Option<NaiveDate>,
    /// Its postmark (post).
    pub postmarked_on: Option<NaiveDate>,
    /// When it was delivered.
    pub delivered_on: Option<NaiveDate>,
}

impl ApplicationCard {
    /// The date that counts for the channel, when given.
    pub fn counted_on(&self) -> Option<NaiveDate> {
        match self.channel {
            Channel::Email => self.sent_on,
            Channel::Post => self.postmarked_on,
            Channel::InPerson => self.delivered_on,
        }
    }
}

/// How feedback came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedbackChannel {
    /// E-mail.
    Email,
    /// Post.
    Post,
    /// In person.
    InPerson,
    /// Telephone.
    Phone,
    /// A web form or the programme's platform.
    OnlineForm,
    /// A survey.
    Survey,
    /// Said at a meeting or event.
    Meeting,
    /// Anything else.
    Other,
}

impl FeedbackChannel {
    /// Every channel.
    pub const ALL: [FeedbackChannel; 8] = [
        Self::Email,
        Self::Post,
        Self::InPerson,
        Self::Phone,
        Self::OnlineForm,
        Self::Survey,
        Self::Meeting,
        Self::Other,
    ];

    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Post => "post",
            Self::InPerson => "in_person",
            Self::Phone => "phone",
            Self::OnlineForm => "online_form",
            Self::Survey => "survey",
            Self::Meeting => "meeting",
            Self::Other => "other",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                ValueError::new(
                    "feedback_channel_unknown",
                    "must be email, post, in_person, phone, online_form, survey, meeting or other",
                )
            })
    }
}

/// The evaluation's answer to "did it achieve its intended effects?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Yes.
    Achieved,
    /// In part.
    PartiallyAchieved,
    /// No.
    NotAchieved,
}

impl Verdict {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Achieved => "achieved",
            Self::PartiallyAchieved => "partially_achieved",
            Self::NotAchieved => "not_achieved",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s {
            "achieved" => Ok(Self::Achieved),
            "partially_achieved" => Ok(Self::PartiallyAchieved),
            "not_achieved" => Ok(Self::NotAchieved),
            _ => Err(ValueError::new(
                "verdict_unknown",
                "must be achieved, partially_achieved or not_achieved",
            )),
        }
    }
}
