//! Command handling: each command checked against the state and turned into the events to
//! record. Pure: nothing is changed here, and no clock is needed (every date is given).

use super::commands::NetworkCommand;
use super::events::{NetworkEvent, TermEndReason};
use super::state::{Member, NetworkDetails};
use super::Network;
use crate::error::DomainError;
use uuid::Uuid;

impl Network {
    fn require_details(&self) -> Result<&NetworkDetails, DomainError> {
        self.details()
            .ok_or_else(|| DomainError::not_found("network_not_found", "There is no such network."))
    }

    fn require_member(&self, member_id: Uuid) -> Result<&Member, DomainError> {
        self.member(member_id).ok_or_else(|| {
            DomainError::not_found(
                "member_not_found",
                format!("This network has no member {member_id}."),
            )
        })
    }

    /// Decides what a command records. The aggregate's `handle` writes these events;
    /// nothing is changed by deciding.
    pub fn decide(&self, command: NetworkCommand) -> Result<Vec<NetworkEvent>, DomainError> {
        use NetworkCommand as C;
        use NetworkEvent as E;

        if let C::Establish {
            network_id,
            organizer,
            name,
            region,
            member_types,
            established_on,
        } = command
        {
            if self.details().is_some() {
                return Err(DomainError::conflict(
                    "already_established",
                    "This network has already been established.",
                ));
            }
            if member_types.is_empty() {
                return Err(DomainError::invalid(
                    "member_types",
                    "required",
                    "At least one admitted institution type is required.",
                ));
            }
            let mut types = Vec::new();
            for t in member_types {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
            return Ok(vec![E::NetworkEstablished {
                network_id,
                organizer,
                name,
                region,
                member_types: types,
                established_on,
            }]);
        }

        let details = self.require_details()?;
        match command {
            // Handled above, before the network has to exist.
            C::Establish { .. } => Ok(Vec::new()),
            C::AdoptRegulations {
                version,
                title,
                adopted_on,
                document_ref,
            } => {
                if self.regulations().iter().any(|r| r.version == version) {
                    return Err(DomainError::conflict(
                        "regulations_version_exists",
                        format!("Version '{version}' of the regulations has already been adopted."),
                    ));
                }
                if adopted_on < details.established_on {
                    return Err(DomainError::invalid(
                        "adopted_on",
                        "before_establishment",
                        format!(
                            "Regulations cannot be adopted ({adopted_on}) before the network was established ({}).",
                            details.established_on
                        ),
                    ));
                }
                Ok(vec![E::RegulationsAdopted {
                    version,
                    title,
                    adopted_on,
                    document_ref,
                }])
            }
            C::JoinMember {
                member_id,
                institution,
                declaration,
            } => {
                if self.member(member_id).is_some() {
                    return Err(DomainError::conflict(
                        "member_id_taken",
                        format!("The membership id {member_id} is already used."),
                    ));
                }
                if !institution.kind.is_covered_by(&details.member_types) {
                    let admitted: Vec<&str> =
                        details.member_types.iter().map(|t| t.as_str()).collect();
                    return Err(DomainError::invalid(
                        "institution.type",
                        "type_not_admitted",
                        format!(
                            "This network admits only {}; an institution of type {} cannot join it.",
                            admitted.join(", "),
                            institution.kind
                        ),
                    ));
                }
                if self
                    .active_members()
                    .any(|m| m.institution.nip == institution.nip)
                {
                    return Err(DomainError::conflict(
                        "already_member",
                        format!(
                            "The institution with NIP {} is already a member of this network.",
                            institution.nip
                        ),
                    ));
                }
                Ok(vec![E::MemberJoined {
                    member_id,
                    institution,
                    declaration,
                }])
            }
            C::LeaveMember {
                member_id,
                left_on,
                reason,
            } => {
                let member = self.require_member(member_id)?;
                if !member.is_active() {
                    return Err(DomainError::conflict(
                        "member_not_active",
                        "This member has already left the network.",
                    ));
                }
                if left_on < member.joined_on() {
                    return Err(DomainError::invalid(
                        "left_on",
                        "before_joining",
                        format!(
                            "A member cannot leave ({left_on}) before it joined ({}).",
                            member.joined_on()
                        ),
                    ));
                }
                let mut events = vec![E::MemberLeft {
                    member_id,
                    left_on,
                    reason,
                }];
                // Its officers lose their offices with it.
                events.extend(
                    self.current_officers()
                        .filter(|o| o.member_id == member_id)
                        .map(|o| E::OfficerTermEnded {
                            officer_id: o.officer_id,
                            role: o.role,
                            ended_on: left_on,
                            reason: TermEndReason::MemberLeft,
                        }),
                );
                Ok(events)
            }
            C::ElectOfficer {
                officer_id,
                role,
                member_id,
                term_starts_on,
                term_ends_on,
            } => {
                if self
                    .officer_terms()
                    .iter()
                    .any(|o| o.officer_id == officer_id)
                {
                    return Err(DomainError::conflict(
                        "officer_id_taken",
                        format!("The officer id {officer_id} is already used."),
                    ));
                }
                if let Some(end) = term_ends_on {
                    if end < term_starts_on {
                        return Err(DomainError::invalid(
                            "term_ends_on",
                            "ends_before_start",
                            format!(
                                "A term cannot end ({end}) before it starts ({term_starts_on})."
                            ),
                        ));
                    }
                }
                if term_starts_on < details.established_on {
                    return Err(DomainError::invalid(
                        "term_starts_on",
                        "before_establishment",
                        format!(
                            "A term cannot start ({term_starts_on}) before the network was established ({}).",
                            details.established_on
                        ),
                    ));
                }
                if !self.member(member_id).is_some_and(Member::is_active) {
                    return Err(DomainError::conflict(
                        "not_an_active_member",
                        format!(
                            "Officers are elected from active members; {member_id} is not one."
                        ),
                    ));
                }
                let mut events = Vec::new();
                if let Some(previous) = self.holder_of(role) {
                    if term_starts_on < previous.term_starts_on {
                        return Err(DomainError::conflict(
                            "election_predates_current_term",
                            format!(
                                "The current {role}'s term started on {}; a successor's term cannot start earlier ({term_starts_on}).",
                                previous.term_starts_on
                            ),
                        ));
                    }
                    events.push(E::OfficerTermEnded {
                        officer_id: previous.officer_id,
                        role,
                        ended_on: term_starts_on,
                        reason: TermEndReason::Succeeded,
                    });
                }
                events.push(E::OfficerElected {
                    officer_id,
                    role,
                    member_id,
                    term_starts_on,
                    term_ends_on,
                });
                Ok(events)
            }
            C::RecordMeeting {
                meeting_id,
                title,
                when,
                location,
                participants_total,
                topics,
            } => {
                if self.meetings().iter().any(|m| m.meeting_id == meeting_id) {
                    return Err(DomainError::conflict(
                        "meeting_id_taken",
                        format!("The meeting id {meeting_id} is already used."),
                    ));
                }
                if when.last_day() < details.established_on {
                    return Err(DomainError::invalid(
                        "when",
                        "before_establishment",
                        format!(
                            "A meeting ({when}) cannot be before the network was established ({}).",
                            details.established_on
                        ),
                    ));
                }
                Ok(vec![E::MeetingHeld {
                    meeting_id,
                    title,
                    when,
                    location,
                    participants_total,
                    topics,
                }])
            }
        }
    }
}
