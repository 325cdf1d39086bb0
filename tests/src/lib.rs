//! Test harness: each test gets its own PostgreSQL database and its own running service
//! (in-process, on a random port), and talks to it over HTTP like a real client.
//!
//! One place for what the tests share, so that a fixture means the same thing everywhere:
//! the end-to-end tests (`tests/tests/api`) and the tests of the real binary
//! (`service/tests/process`, a dev-dependency) both take it from here.
//!
//! - [`app`]: a running service ([`TestApp`], [`spawn`]) and its answers ([`Answer`]).
//! - [`database`]: where test databases are created and how they are named.
//! - [`fixtures`]: invented data: valid and invalid NIPs, request bodies, instants.
//! - [`commands`]: domain commands and a command bus, for tests that bypass HTTP.
//! - [`poll`]: waiting for what happens in the background.
//! - [`contract`]: every answer held to the OpenAPI document the service serves.
//! - [`smtp`]: a real SMTP server on loopback ([`MailServer`]) and what it received ([`Received`]).
//!
//! Everything is re-exported at the crate root (`tests::nip`, `tests::spawn`, …).

pub mod app;
pub mod commands;
pub mod console;
pub mod contract;
pub mod database;
pub mod fixtures;
pub mod poll;
pub mod smtp;

pub use app::{
    event_count, expect, spawn, spawn_at, spawn_at_seed_000, spawn_with, Answer, Options, TestApp,
};
pub use commands::{study_visit_bus, submission};
pub use database::{database_url, fresh_database_url, server_url, DropDatabase};
pub use fixtures::{application_body, bad_nip, instant, institution, nip, visit_body};
pub use poll::eventually;
pub use smtp::{MailServer, Received};
