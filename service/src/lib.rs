//! Koordynator's HTTP service and command line: routes, authentication, the error boundary,
//! idempotency, the deadline watcher and start-up.

pub mod audit_cli;
pub mod audit_log;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod dashboard;
pub mod demo;
pub mod extract;
pub mod idempotency;
pub mod limits;
pub mod personal_data_cli;
pub mod problem;
pub mod progress;
pub mod request;
pub mod routes;
pub mod sealer;
pub mod server;
pub mod spreadsheet;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validate;
pub mod watcher;
