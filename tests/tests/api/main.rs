//! The end-to-end tests through HTTP, as one test binary.
//!
//! Why one binary: every file under `tests/tests/` is linked by Cargo as an executable of its
//! own, each carrying the whole service, sqlx and the HTTP stack; 22 of them spent most of a
//! test build linking. As modules of this one binary they are compiled and linked once. Each
//! test still starts its own service over its own database (see the `tests` crate), so tests
//! of different modules running side by side share nothing but the PostgreSQL server.
//!
//! A test is named by its module: `cargo test -p tests --test api recruitment::` runs one
//! module, `cargo test -p tests --test api -- --list` lists them all.
//!
//! - [`abuse`]: the per-client submission limit, oversized and deeply nested bodies, answers
//!   that reveal nothing about other recruitments.
//! - [`access`]: roles and organizers kept apart, revoked and expired tokens.
//! - [`after_visit`]: attendance by day, the sign-in sheet, certificates and their
//!   verification, the EU participant report.
//! - [`audit_replay`]: `?at=` answers what the live read models showed then; state at an
//!   instant; programme checks; seats given by hand.
//! - [`concurrency`]: a crowd on one term, every acknowledged submission recorded once.
//! - [`crash`]: events committed while the projections were down reach them exactly once.
//! - [`dashboard`]: the page at `/` and the demo data loaded through the command path.
//! - [`errors`]: every error status as an RFC 9457 problem document; a refusal writes nothing.
//! - [`event_versions`]: old stored events load and replay identically.
//! - [`exports`]: CSV and iCalendar exports read back with real parsers.
//! - [`group_commit`]: commands decided together, each keeping its own answer.
//! - [`idempotency_recovery`]: an `Idempotency-Key` left behind is never carried out twice.
//! - [`integrity`]: tamper evidence, the export and the access log.
//! - [`isolation`]: organizers and roles kept apart on every route of the OpenAPI document.
//! - [`language`]: refusals in English or, asked with `Accept-Language: pl`, in Polish.
//! - [`networks`]: networks of seed 004 and 002, from founding day to succession.
//! - [`operations`]: `/metrics`, `/ready`, request and correlation ids.
//! - [`personal_data`]: what is held about a person, erasure and the retention purge.
//! - [`programs`]: cooperation programmes of seeds 001, 002 and 003 and their evaluation.
//! - [`rebuild`]: a read model rebuilt from zero equals the incremental one.
//! - [`recruitment`]: a whole recruitment of seed 000.
//! - [`schedule`]: the shared schedule by month, precision kept.
//! - [`smoke`]: `/health` answers.
//! - [`store`]: the event store's guarantees, checked against PostgreSQL itself.

mod abuse;
mod access;
mod after_visit;
mod audit_replay;
mod concurrency;
mod console;
mod console_audit;
mod console_networks;
mod console_programs;
mod crash;
mod dashboard;
mod errors;
mod event_versions;
mod exports;
mod group_commit;
mod idempotency_recovery;
mod integrity;
mod isolation;
mod language;
mod mail;
mod networks;
mod offers;
mod operations;
mod pages;
mod personal_data;
mod programs;
mod rebuild;
mod recruitment;
mod schedule;
mod smoke;
mod store;
