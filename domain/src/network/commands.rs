//! What a coordinator can ask of a network. Every id arrives from outside so a retried
//! command names the same things; officers' names never enter a command (only the id of
//! the record that holds them).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::values::{Institution, InstitutionType, NonEmptyText, OrganizerId, PlannedDate};

/// A request to change a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NetworkCommand {
    /// Establishes the network with the institution types it admits.
    Establish {
        /// The new network's id (the aggregate id).
        network_id: Uuid,
        /// The organizer (ROPS) that coordinates it.
        organizer: OrganizerId,
        /// Its name.
        name: NonEmptyText,
        /// The region (voivodeship) it covers.
        region: NonEmptyText,
        /// Types of institution it admits (non-empty; PES admits its kinds).
        member_types: Vec<InstitutionType>,
        /// Day it was established.
        established_on: NaiveDate,
    },
    /// Adopts a version of the regulations (*regulamin*).
    AdoptRegulations {
        /// Version label, unique within the network (e.g. `1.0`).
        version: NonEmptyText,
        /// Title of the document.
        title: NonEmptyText,
        /// Day it was adopted.
        adopted_on: NaiveDate,
        /// Reference to the document (file name, register number).
        document_ref: NonEmptyText,
    },
    /// Admits an institution that signed a declaration of accession.
    JoinMember {
        /// The new membership's id.
        member_id: Uuid,
        /// The institution joining.
        institution: Institution,
        /// Its declaration of accession.
        declaration: Declaration,
    },
    /// Records that a member left the network.
    LeaveMember {
        /// Which membership.
        member_id: Uuid,
        /// Day it left.
        left_on: NaiveDate,
        /// Why.
        reason: NonEmptyText,
    },
    /// Elects an officer from an active member for a term.
    ElectOfficer {
        /// Id of the officer record (the person's name is kept under it, outside events).
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
    /// Records a meeting of the network.
    RecordMeeting {
        /// The new meeting's id.
        meeting_id: Uuid,
        /// Title.
        title: NonEmptyText,
        /// When, at the precision known.
        when: PlannedDate,
        /// Where, when known.
        location: Option<NonEmptyText>,
        /// How many took part.
        participants_total: u32,
        /// Topics discussed.
        topics: Vec<NonEmptyText>,
    },
}

impl NetworkCommand {
    /// The command's name, for metadata and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Establish { .. } => "EstablishNetwork",
            Self::AdoptRegulations { .. } => "AdoptRegulations",
            Self::JoinMember { .. } => "JoinMember",
            Self::LeaveMember { .. } => "LeaveMember",
            Self::ElectOfficer { .. } => "ElectOfficer",
            Self::RecordMeeting { .. } => "RecordMeeting",
        }
    }
}

/// A declaration of accession (*deklaracja przystąpienia*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    /// Day it was signed (the member's joining day).
    pub signed_on: NaiveDate,
    /// Reference to the signed document, when there is one.
    pub document_ref: Option<NonEmptyText>,
}

/// The offices of a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OfficerRole {
    /// *Przewodniczący*.
    Chair,
    /// *Wiceprzewodniczący*.
    ViceChair,
    /// The network's coordinator.
    Coordinator,
    /// *Sekretarz*.
    Secretary,
}

impl OfficerRole {
    /// Every role, in the order of the API documentation.
    pub const ALL: [OfficerRole; 4] = [
        Self::Chair,
        Self::ViceChair,
        Self::Coordinator,
        Self::Secretary,
    ];

    /// The API spelling, e.g. `vice_chair`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chair => "chair",
            Self::ViceChair => "vice_chair",
            Self::Coordinator => "coordinator",
            Self::Secretary => "secretary",
        }
    }

    /// Parses the API spelling.
    pub fn parse(s: &str) -> Result<Self, crate::values::ValueError> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                crate::values::ValueError::new(
                    "officer_role_unknown",
                    "must be one of chair, vice_chair, coordinator, secretary",
                )
            })
    }
}

impl std::fmt::Display for OfficerRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
