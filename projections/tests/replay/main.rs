//! A read model replayed as of a moment (`projections::replay`, what `?at=` answers) holds
//! the same rows as the live read model after the same events, read through the same
//! queries: one module per read model drives its aggregate through the command bus (real
//! PostgreSQL, a database per test), lets the live projections catch up, and compares the
//! live answer of each `read` query with the answer over the aggregate's replayed events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod networks;
mod programs;
mod study_visits;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::services::{Clock, FixedClock};
use domain::values::{Institution, InstitutionType, Nip, NonEmptyText, PlannedDate};
use infra::StoredEvent;
use sqlx::migrate::MigrateDatabase;
use sqlx::{PgPool, Postgres};
use uuid::Uuid;

/// The server the tests create their databases on.
fn server_url() -> String {
    std::env::var("KOORDYNATOR_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh, migrated database with every read model set up; dropped by [`Database::drop_now`].
pub struct Database {
    url: String,
    pub pool: PgPool,
}

impl Database {
    pub async fn fresh() -> Database {
        let url = format!("{}/kdn_replay_{}", server_url(), Uuid::new_v4().simple());
        let pool = infra::connect_and_migrate(&url, 4).await.unwrap();
        projections::runner::setup(&pool, &projections::all())
            .await
            .unwrap();
        Database { url, pool }
    }

    /// Applies every stored event to every live read model. Waits first until the newest
    /// event lies below the feed's horizon: a transaction open anywhere on the server (another
    /// test's) holds the horizon back, and `catch_up` applies only what is below it.
    pub async fn catch_up(&self) {
        let newest: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        if let Some(position) = newest {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
            while !infra::feed::is_settled(&self.pool, position).await.unwrap() {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "position {position} did not settle"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        for p in projections::all() {
            projections::runner::catch_up(&self.pool, p.as_ref())
                .await
                .unwrap();
        }
    }

    /// The stored events of one aggregate, in sequence order.
    pub async fn events_of(&self, aggregate_type: &str, id: Uuid) -> Vec<StoredEvent> {
        infra::feed::aggregate_events(&self.pool, aggregate_type, &id.to_string(), None, None)
            .await
            .unwrap()
    }

    pub async fn drop_now(self) {
        self.pool.close().await;
        let _ = Postgres::force_drop_database(&self.url).await;
    }
}

/// Trimmed non-empty text (a literal of the test).
pub fn text(s: &str) -> NonEmptyText {
    NonEmptyText::parse(s).unwrap()
}

/// A `YYYY-MM-DD` day.
pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A PlannedDate from its JSON form (`{"day": …}`, `{"month": …, "part": …}`, …).
pub fn planned(v: serde_json::Value) -> PlannedDate {
    serde_json::from_value(v).unwrap()
}

/// A valid NIP: nine digits from `seed` and their check digit (skipping nine-digit numbers
/// whose check digit would be 10).
pub fn nip(seed: u32) -> Nip {
    (seed..)
        .find_map(|n| Nip::completing(100_000_000 + n % 800_000_000))
        .unwrap()
}

/// An institution of `kind` named `name`, with the NIP `nip(seed)`.
pub fn institution(kind: InstitutionType, name: &str, seed: u32) -> Institution {
    Institution {
        name: text(name),
        kind,
        nip: nip(seed),
        regon: None,
    }
}

/// A clock standing at 2 March 2026, 08:00 UTC plus `minutes`; move it with `set`.
pub fn clock(minutes: i64) -> Arc<FixedClock> {
    Arc::new(FixedClock::new(at(minutes)))
}

/// `clock` as the services of an aggregate take it.
pub fn shared(clock: &Arc<FixedClock>) -> Arc<dyn Clock> {
    clock.clone()
}

pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap() + chrono::Duration::minutes(minutes)
}

/// The metadata a command carries (actor, organizer, ids), as a coordinator's would; the
/// first command of an aggregate has no organizer to be scoped by yet (`None`).
pub fn context(command: &str, organizer_scope: Option<&str>) -> infra::CommandContext {
    infra::CommandContext {
        actor: "token:test".into(),
        organizer_scope: organizer_scope.map(str::to_owned),
        correlation_id: Uuid::new_v4().to_string(),
        causation_id: Uuid::new_v4().to_string(),
        command: command.to_owned(),
        idempotency_key: None,
    }
}
