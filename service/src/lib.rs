//! Koordynator's one binary, `koordynator`: the HTTP service (API and pages), the command
//! line and the background jobs, over the `domain`, `infra` and `projections` crates.
//!
//! # Layout
//!
//! - [`http`]: everything that answers a request. The router and OpenAPI document
//!   (`http/mod.rs`), what every resource shares (state, auth, extractors, the problem+json
//!   boundary, idempotency, limits, telemetry), and one folder per resource with its
//!   request types, commands and reads. A resource folder never imports another: what two
//!   of them need lives in a shared module of `http` (consistency waits, history and replay,
//!   institution input, the command path) or below, in `infra` and `projections`. The HTTP
//!   layer writes no SQL: reads go through `projections::<read model>::read`, the rest
//!   through `infra`.
//! - [`documents`]: the files people print or hand on (sign-in sheets and certificates as
//!   PDF, the EU participant report as CSV/ZIP and XLSX), made in memory from plain data;
//!   no database, no clock, no HTTP. `http` gathers the data and calls it.
//! - [`cli`]: the command line (`serve`, `migrate`, `token`, `audit`, `projections`,
//!   `personal-data`, `demo`, `bench`), and which PostgreSQL a command uses (`cli::database`:
//!   `DATABASE_URL`, the server at the default address, or a private one it starts).
//! - [`jobs`]: what `serve` runs beside the HTTP server (the deadline watcher, the sealer).
//! - [`startup`]: builds the application from its settings and runs it: migrations,
//!   projections, jobs, the server, graceful shutdown. The command line and the tests start
//!   the service through it.
//!
//! Dependencies point down this list's reverse: `startup` uses `http` and `jobs`; `cli`
//! uses `startup`; `jobs` uses only `http::state`; nothing in `http` uses `cli`, `jobs` or
//! `startup`.

pub mod cli;
pub mod documents;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod startup;

#[cfg(test)]
mod layout;
