//! PostgreSQL for Koordynator: the schema and its migrations, the event store on postgres-es,
//! the command pipeline, the ordered event feed, and the tables that must stay out of events
//! (tokens, personal data, idempotency records).

pub mod access_log;
pub mod accounts;
pub mod applications;
pub mod certificates;
pub mod chain;
pub mod checkpoints;
pub mod db;
pub mod erasure;
pub mod export;
pub mod feed;
pub mod idempotency;
pub mod import;
pub mod integrity;
pub mod local_cluster;
pub mod locks;
pub mod officers;
pub mod outbox;
pub mod personal_data;
pub mod pipeline;
pub mod replica;
pub mod seal;
pub mod secrets;
pub mod state_cache;
pub mod store;
pub mod subject_access;
pub mod tokens;

pub use db::{connect, connect_and_migrate, migrate, DbError};
pub use feed::{Checkpoint, StoredEvent};
pub use pipeline::{CommandBus, CommandContext, Committed, OrganizerOf, PipelineError};
