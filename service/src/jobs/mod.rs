//! Background jobs of `serve`: each runs in one instance at a time across every process on
//! the database (a lease), and keeps no state of its own, so a restart or another instance
//! picks up where it stopped.

pub mod deadlines;
pub mod mail;
pub mod sealer;
