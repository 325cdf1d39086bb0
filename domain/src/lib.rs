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
pub use services::{Clock, FixedClock, StudyVisitServices};
pub use study_visit::{StudyVisit, StudyVisitCommand, StudyVisitEvent};
