//! Koordynator's domain: the aggregates, their commands and events, the value types
//! they are made of, and the allocation policy of study visits.
//!
//! The crate is pure: no I/O, no database, no clock and no randomness. The clock
//! arrives through [`services`]; every id arrives in a command.

#![warn(missing_docs)]

pub mod cooperation_program;
pub mod error;
pub mod network;
pub mod services;
pub mod study_visit;
pub mod upcasting;
pub mod values;

pub use error::{DomainError, ErrorKind};

/// A command that knows its own name, for the metadata of the events it writes and for
/// metrics, so the command path can be written once for every aggregate.
pub trait NamedCommand {
    /// The command's name, e.g. `SubmitApplication`.
    fn name(&self) -> &'static str;
}

impl NamedCommand for StudyVisitCommand {
    fn name(&self) -> &'static str {
        StudyVisitCommand::name(self)
    }
}

impl NamedCommand for cooperation_program::CooperationProgramCommand {
    fn name(&self) -> &'static str {
        cooperation_program::CooperationProgramCommand::name(self)
    }
}

impl NamedCommand for network::NetworkCommand {
    fn name(&self) -> &'static str {
        network::NetworkCommand::name(self)
    }
}
pub use services::{Clock, FixedClock, StudyVisitServices};
pub use study_visit::{StudyVisit, StudyVisitCommand, StudyVisitEvent};
