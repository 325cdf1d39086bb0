//! The parts of a network's state: its founding details, regulations, members, officers'
//! terms and meetings. Read-only to the outside (the aggregate changes them by events).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::commands::{Declaration, OfficerRole};
use super::events::TermEndReason;
use crate::values::{Institution, InstitutionType, NonEmptyText, OrganizerId, PlannedDate};

/// What was recorded when the network was established.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkDetails {
    /// The network (aggregate) id.
    pub network_id: Uuid,
    /// Organizer (tenant).
    pub organizer: OrganizerId,
    /// Name.
    pub name: NonEmptyText,
    /// Region.
    pub region: NonEmptyText,
    /// Admitted institution types.
    pub member_types: Vec<InstitutionType>,
    /// Day of establishment.
    pub established_on: NaiveDate,
}

/// One adopted version of the regulations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegulationsVersion {
    /// Version label.
    pub version: NonEmptyText,
    /// Title.
    pub title: NonEmptyText,
    /// Day adopted.
    pub adopted_on: NaiveDate,
    /// Document reference.
    pub document_ref: NonEmptyText,
}

/// One membership of an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Membership id.
    pub member_id: Uuid,
    /// The institution.
    pub institution: Institution,
    /// Its declaration of accession.
    pub declaration: Declaration,
    /// When it left, and why (None while active).
    pub left: Option<(NaiveDate, NonEmptyText)>,
}

impl Member {
    /// Whether the member is still in the network.
    pub fn is_active(&self) -> bool {
        self.left.is_none()
    }

    /// The day it joined (the declaration's signing day).
    pub fn joined_on(&self) -> NaiveDate {
        self.declaration.signed_on
    }
}

/// One officer's term of office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerTerm {
    /// Officer record id.
    pub officer_id: Uuid,
    /// The office.
    pub role: OfficerRole,
    /// The member institution.
    pub member_id: Uuid,
    /// First day of the term.
    pub term_starts_on: NaiveDate,
    /// Last day of the term, when fixed.
    pub term_ends_on: Option<NaiveDate>,
    /// When and why the term ended (None while current).
    pub ended: Option<(NaiveDate, TermEndReason)>,
}

impl OfficerTerm {
    /// Whether the officer still holds the office.
    pub fn is_current(&self) -> bool {
        self.ended.is_none()
    }
}

/// A recorded meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    /// Meeting id.
    pub meeting_id: Uuid,
    /// Title.
    pub title: NonEmptyText,
    /// When.
    pub when: PlannedDate,
    /// Where.
    pub location: Option<NonEmptyText>,
    /// Participants.
    pub participants_total: u32,
    /// Topics.
    pub topics: Vec<NonEmptyText>,
}
