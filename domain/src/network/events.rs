//! What happened to a network. Events carry ids and institutional data, never a person's
//! name: an officer is the id of a record kept outside the events (erasable).

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{Declaration, OfficerRole};
use crate::values::{Institution, InstitutionType, NonEmptyText, OrganizerId, PlannedDate};

/// An event of the `Network` aggregate; stored as `{"VariantName": {...}}`.
///
/// `VariantNames` lists every event type without an instance, so the catalogue test can
/// hold docs/events.md to the code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::VariantNames)]
pub enum NetworkEvent {
    /// The network was established.
    NetworkEstablished {
        /// The network (aggregate) id.
        network_id: Uuid,
        /// Organizer (tenant).
        organizer: OrganizerId,
        /// Name.
        name: NonEmptyText,
        /// Region.
        region: NonEmptyText,
        /// Admitted institution types (deduplicated, as given).
        member_types: Vec<InstitutionType>,
        /// Day of establishment.
        established_on: NaiveDate,
    },
    /// A version of the regulations was adopted.
    RegulationsAdopted {
        /// Version label.
        version: NonEmptyText,
        /// Title.
        title: NonEmptyText,
        /// Day adopted.
        adopted_on: NaiveDate,
        /// Document reference.
        document_ref: NonEmptyText,
    },
    /// An institution joined by a declaration of accession.
    MemberJoined {
        /// Membership id.
        member_id: Uuid,
        /// The institution.
        institution: Institution,
        /// Its declaration.
        declaration: Declaration,
    },
    /// A member left.
    MemberLeft {
        /// Membership id.
        member_id: Uuid,
        /// Day it left.
        left_on: NaiveDate,
        /// Why.
        reason: NonEmptyText,
    },
    /// An officer was elected for a term.
    OfficerElected {
        /// Officer record id (the name is kept outside the events).
        officer_id: Uuid,
        /// The office.
        role: OfficerRole,
        /// The member institution the officer comes from.
        member_id: Uuid,
        /// First day of the term.
        term_starts_on: NaiveDate,
        /// Last day of the term, when fixed.
        term_ends_on: Option<NaiveDate>,
    },
    /// An officer's term ended.
    OfficerTermEnded {
        /// Officer record id.
        officer_id: Uuid,
        /// The office.
        role: OfficerRole,
        /// Day the term ended.
        ended_on: NaiveDate,
        /// Why it ended.
        reason: TermEndReason,
    },
    /// A meeting of the network was recorded.
    MeetingHeld {
        /// Meeting id.
        meeting_id: Uuid,
        /// Title.
        title: NonEmptyText,
        /// When, at the precision known.
        when: PlannedDate,
        /// Where, when known.
        location: Option<NonEmptyText>,
        /// Participants.
        participants_total: u32,
        /// Topics.
        topics: Vec<NonEmptyText>,
    },
}

/// Why an officer's term ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermEndReason {
    /// A new holder of the office was elected.
    Succeeded,
    /// The officer's member institution left the network.
    MemberLeft,
}

impl TermEndReason {
    /// The API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::MemberLeft => "member_left",
        }
    }
}

impl NetworkEvent {
    /// The variant's name (the stored `event_type`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::NetworkEstablished { .. } => "NetworkEstablished",
            Self::RegulationsAdopted { .. } => "RegulationsAdopted",
            Self::MemberJoined { .. } => "MemberJoined",
            Self::MemberLeft { .. } => "MemberLeft",
            Self::OfficerElected { .. } => "OfficerElected",
            Self::OfficerTermEnded { .. } => "OfficerTermEnded",
            Self::MeetingHeld { .. } => "MeetingHeld",
        }
    }
}

impl NetworkEvent {
    /// The version `event_type` is written in today. A new shape of an event gets a new
    /// version and an upcaster from the old one (docs/events.md, "Versions and upcasting").
    pub fn current_version(_event_type: &str) -> &'static str {
        // Every event of this aggregate still has its first shape.
        "1"
    }
}

impl DomainEvent for NetworkEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        Self::current_version(self.name()).to_owned()
    }
}
