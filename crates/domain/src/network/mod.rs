//! The `Network` aggregate (placeholder until its issue lands; replaced wholesale).

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::services::AggregateServices;
use crate::values::OrganizerId;

/// The aggregate.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Network {
    organizer: Option<OrganizerId>,
}

impl Network {
    /// The organizer that owns it, once it exists.
    pub fn organizer(&self) -> Option<&OrganizerId> {
        self.organizer.as_ref()
    }
}

/// Its commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NetworkCommand {}

/// Its events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum NetworkEvent {}

impl DomainEvent for NetworkEvent {
    fn event_type(&self) -> String {
        match *self {}
    }

    fn event_version(&self) -> String {
        match *self {}
    }
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
        _: &Self::Services,
        _: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {}
    }

    fn apply(&mut self, event: Self::Event) {
        match event {}
    }
}
