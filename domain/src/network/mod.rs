//! The `Network` aggregate (*sieć* / *platforma współpracy*): a network a ROPS coordinates,
//! the institution types it admits, its versioned regulations, members joining by a
//! declaration of accession and leaving, officers elected from active members for a term,
//! and its meetings.

pub mod commands;
pub mod events;
pub mod state;

mod decide;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use commands::{Declaration, NetworkCommand, OfficerRole};
pub use events::{NetworkEvent, TermEndReason};
pub use state::{Meeting, Member, NetworkDetails, OfficerTerm, RegulationsVersion};

use crate::error::DomainError;
use crate::services::AggregateServices;
use crate::values::OrganizerId;

/// The network aggregate. Collections keep the order events added things in, so replays
/// serialize identically.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    details: Option<NetworkDetails>,
    regulations: Vec<RegulationsVersion>,
    members: Vec<Member>,
    officers: Vec<OfficerTerm>,
    meetings: Vec<Meeting>,
}

impl Aggregate for Network {
    const TYPE: &'static str = "Network";
    type Command = NetworkCommand;
    type Event = NetworkEvent;
    type Error = DomainError;
    type Services = AggregateServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.decide(command)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.apply_event(event);
    }
}

impl Network {
    /// The founding details (None before `NetworkEstablished`).
    pub fn details(&self) -> Option<&NetworkDetails> {
        self.details.as_ref()
    }

    /// The organizer that owns it, once it exists.
    pub fn organizer(&self) -> Option<&OrganizerId> {
        self.details.as_ref().map(|d| &d.organizer)
    }

    /// Every adopted version of the regulations, in adoption order.
    pub fn regulations(&self) -> &[RegulationsVersion] {
        &self.regulations
    }

    /// The regulations in force: the latest by adoption day (the later adopted on a tie).
    pub fn current_regulations(&self) -> Option<&RegulationsVersion> {
        self.regulations
            .iter()
            .enumerate()
            .max_by_key(|(i, r)| (r.adopted_on, *i))
            .map(|(_, r)| r)
    }

    /// Every membership, in joining order (left ones included).
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// One membership.
    pub fn member(&self, member_id: Uuid) -> Option<&Member> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    /// The active members.
    pub fn active_members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| m.is_active())
    }

    /// Every officer's term, in election order (ended ones included).
    pub fn officer_terms(&self) -> &[OfficerTerm] {
        &self.officers
    }

    /// The officers holding office now.
    pub fn current_officers(&self) -> impl Iterator<Item = &OfficerTerm> {
        self.officers.iter().filter(|o| o.is_current())
    }

    /// Who holds `role` now.
    pub fn holder_of(&self, role: OfficerRole) -> Option<&OfficerTerm> {
        self.current_officers().find(|o| o.role == role)
    }

    /// The recorded meetings, in recording order.
    pub fn meetings(&self) -> &[Meeting] {
        &self.meetings
    }

    /// Applies one event. Total: an event that does not fit the state (possible only in a
    /// tampered stream) changes nothing it cannot.
    fn apply_event(&mut self, event: NetworkEvent) {
        use NetworkEvent as E;
        match event {
            E::NetworkEstablished {
                network_id,
                organizer,
                name,
                region,
                member_types,
                established_on,
            } => {
                self.details = Some(NetworkDetails {
                    network_id,
                    organizer,
                    name,
                    region,
                    member_types,
                    established_on,
                });
            }
            E::RegulationsAdopted {
                version,
                title,
                adopted_on,
                document_ref,
            } => self.regulations.push(RegulationsVersion {
                version,
                title,
                adopted_on,
                document_ref,
            }),
            E::MemberJoined {
                member_id,
                institution,
                declaration,
            } => self.members.push(Member {
                member_id,
                institution,
                declaration,
                left: None,
            }),
            E::MemberLeft {
                member_id,
                left_on,
                reason,
            } => {
                if let Some(m) = self.members.iter_mut().find(|m| m.member_id == member_id) {
                    m.left = Some((left_on, reason));
                }
            }
            E::OfficerElected {
                officer_id,
                role,
                member_id,
                term_starts_on,
                term_ends_on,
            } => self.officers.push(OfficerTerm {
                officer_id,
                role,
                member_id,
                term_starts_on,
                term_ends_on,
                ended: None,
            }),
            E::OfficerTermEnded {
                officer_id,
                ended_on,
                reason,
                ..
            } => {
                if let Some(o) = self
                    .officers
                    .iter_mut()
                    .find(|o| o.officer_id == officer_id)
                {
                    o.ended = Some((ended_on, reason));
                }
            }
            E::MeetingHeld {
                meeting_id,
                title,
                when,
                location,
                participants_total,
                topics,
            } => self.meetings.push(Meeting {
                meeting_id,
                title,
                when,
                location,
                participants_total,
                topics,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
