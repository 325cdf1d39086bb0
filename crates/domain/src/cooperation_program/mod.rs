//! The `CooperationProgram` aggregate (placeholder until its issue lands; replaced wholesale).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::services::AggregateServices;
use crate::values::OrganizerId;

/// The aggregate.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CooperationProgram {
    organizer: Option<OrganizerId>,
}

impl CooperationProgram {
    /// The organizer that owns it, once it exists.
    pub fn organizer(&self) -> Option<&OrganizerId> {
        self.organizer.as_ref()
    }
}

/// Its commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CooperationProgramCommand {}

/// Its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CooperationProgramEvent {}

impl DomainEvent for CooperationProgramEvent {
    fn event_type(&self) -> String {
        match *self {}
    }

    fn event_version(&self) -> String {
        match *self {}
    }
}

impl Aggregate for CooperationProgram {
    const TYPE: &'static str = "CooperationProgram";
    type Command = CooperationProgramCommand;
    type Event = CooperationProgramEvent;
    type Error = DomainError;
    type Services = AggregateServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &Self::Services,
        _: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {}
    }

    fn apply(&mut self, event: Self::Event) {
        match event {}
    }
}
