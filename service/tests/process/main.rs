//! The tests that run the real `koordynator` binary, as one test binary.
//!
//! Why here: `env!("CARGO_BIN_EXE_koordynator")` is set only for the integration tests of the
//! package that builds the binary, so these tests live in `service/tests/` and not with the
//! end-to-end tests of the `tests` crate. Why one binary: each file under `tests/` is linked
//! as an executable of its own; as modules of this one they are compiled and linked once.
//!
//! What they start is a process, not an in-process service: a `serve` under load, killed,
//! stopped with SIGTERM or left without its database, and the command line (`demo`, `bench`,
//! `audit export`/`import`). [`common`] holds what only they need (the binary's path,
//! starting `serve`, a load of submitting clients), [`cluster`] PostgreSQL clusters and replicas of a test's own; fixtures shared with the end-to-end tests
//! (NIPs, request bodies, database names, polling) come from the `tests` crate.
//!
//! - [`bench_smoke`]: `koordynator bench` at tiny sizes reports every section, loses nothing.
//! - [`db_outage`]: PostgreSQL crashed and restarted under load: 503 meanwhile, nothing lost.
//! - [`demo_cli`]: `demo` prints only the token; `serve --demo` loads an empty database.
//! - [`export_large`]: 100,000 events exported in bounded memory and re-imported intact.
//! - [`failover`]: Patroni in synchronous mode behind HAProxy, the primary killed: nothing lost
//!   (ignored by plain `cargo test`; `scripts/failover.sh` runs it).
//! - [`graceful_shutdown`]: SIGTERM finishes the requests in flight and exits 0; JSON logs.
//! - [`instances`]: two `serve` processes share the work; one takes over when the other dies.
//! - [`killed_process`]: SIGKILL under load, twice: nothing acknowledged is lost or doubled.
//! - [`local_postgres`]: no DATABASE_URL: a private PostgreSQL, started, shared, stopped, recovered.
//! - [`mail_crash`]: SIGKILL while a mail is sent: it goes again, with the same Message-ID.
//! - [`replica`]: `--read-database-url`: reads from a streaming replica, read-your-writes, fallback.
//! - [`user_cli`]: `user add | list | disable`, the password from standard input.

mod cluster;
mod common;

mod bench_smoke;
mod db_outage;
mod demo_cli;
mod export_large;
mod failover;
mod graceful_shutdown;
mod instances;
mod killed_process;
mod local_postgres;
mod mail_crash;
mod replica;
mod user_cli;
