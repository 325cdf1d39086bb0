//! Koordynator's HTTP service and command line: routes, authentication, the error boundary,
//! idempotency, the deadline watcher and start-up.

pub mod auth;
pub mod cli;
pub mod extract;
pub mod idempotency;
pub mod problem;
pub mod request;
pub mod routes;
pub mod startup;
pub mod state;
pub mod validate;
pub mod watcher;
