//! The event store's guarantees, checked against PostgreSQL itself.
#![allow(clippy::unwrap_used)]

use infra::feed::{self, Checkpoint};
use serde_json::json;
use sqlx::PgPool;

/// A migrated database of the test's own, dropped with the guard.
async fn fresh_pool() -> (PgPool, tests::DropDatabase) {
    let url = tests::fresh_database_url();
    let pool = infra::connect_and_migrate(&url, 5).await.expect("database");
    (pool, tests::DropDatabase::new(&url))
}

async fn insert(db: impl sqlx::PgExecutor<'_>, id: &str, seq: i64) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Test', $1, $2, 'Happened', '1', $3, '{}')",
    )
    .bind(id)
    .bind(seq)
    .bind(json!({"Happened": {"n": seq}}))
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn the_database_refuses_to_change_or_remove_events() {
    let (pool, _database) = fresh_pool().await;
    insert(&pool, "a", 1).await;
    for sql in [
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn events_carry_position_transaction_and_time() {
    let (pool, _database) = fresh_pool().await;
    let mut tx = pool.begin().await.unwrap();
    insert(&mut *tx, "a", 1).await;
    insert(&mut *tx, "a", 2).await;
    tx.commit().await.unwrap();
    let rows: Vec<(i64, String, chrono::DateTime<chrono::Utc>)> =
        sqlx::query_as("SELECT position, tx_id::text, recorded_at FROM events ORDER BY position")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows[0].0 < rows[1].0);
    assert_eq!(rows[0].1, rows[1].1, "one command, one transaction");
    assert_eq!(rows[0].2, rows[1].2, "one command, one recorded_at");
}

/// A transaction that took its position first but commits last must not be skipped by a
/// reader that already moved past later positions (STACK.md, "Reading events in commit order").
#[tokio::test]
async fn the_feed_never_skips_a_late_commit() {
    let (pool, _database) = fresh_pool().await;
    let mut slow = pool.begin().await.unwrap();
    insert(&mut *slow, "slow", 1).await; // lower position, still open
    insert(&pool, "fast", 1).await; // higher position, committed

    // While the slow transaction is open, nothing past it is handed out.
    let seen = feed::read_after(&pool, Checkpoint::default(), 100)
        .await
        .unwrap();
    assert!(
        seen.is_empty(),
        "the reader must wait for the open transaction: {seen:?}"
    );

    slow.commit().await.unwrap();
    let seen = feed::read_after(&pool, Checkpoint::default(), 100)
        .await
        .unwrap();
    let ids: Vec<&str> = seen.iter().map(|e| e.aggregate_id.as_str()).collect();
    assert_eq!(
        ids,
        ["slow", "fast"],
        "commit order: the slow transaction began first"
    );

    // A reader resuming from its checkpoint gets nothing twice.
    let after = seen.last().unwrap().checkpoint();
    assert!(feed::read_after(&pool, after, 100)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_projection_batch_and_its_checkpoint_commit_together() {
    use projections::runner;
    let (pool, _database) = fresh_pool().await;
    let all = projections::all();
    runner::setup(&pool, &all).await.unwrap();
    for i in 1..=3 {
        insert(&pool, "x", i).await;
    }
    for p in &all {
        // Transactions of other databases on the server can hold the feed's horizon back a
        // moment, so catch up until all three are in; the total must be exactly three.
        let mut applied = 0;
        for _ in 0..800 {
            applied += runner::catch_up(&pool, p.as_ref()).await.unwrap();
            if applied >= 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert_eq!(applied, 3, "{}", p.name());
        assert_eq!(
            runner::catch_up(&pool, p.as_ref()).await.unwrap(),
            0,
            "nothing applied twice"
        );
    }
    let positions: Vec<i64> =
        sqlx::query_scalar("SELECT last_position FROM projection_checkpoints ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    let last: i64 = sqlx::query_scalar("SELECT max(position) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        positions.iter().all(|p| *p == last),
        "{positions:?} vs {last}"
    );
}

/// The pipeline writes its own INSERT (one per command, with the hash chain) but keeps the
/// table postgres-es reads: postgres-es 0.5 still loads the aggregate we wrote, so the store
/// stays usable with the standard cqrs-es tooling.
#[tokio::test]
async fn postgres_es_loads_what_the_pipeline_wrote() {
    use cqrs_es::persist::PersistedEventStore;
    use cqrs_es::EventStore;
    use domain::StudyVisit;

    let app = tests::spawn().await;
    let visit = app.announce_visit(Some(2)).await;
    let term = app
        .schedule_term(
            &visit,
            "Termin I",
            3,
            "2030-06-27",
            "2030-06-23T12:00:00+02:00",
        )
        .await;
    let store = PersistedEventStore::<_, StudyVisit>::new_event_store(
        postgres_es::PostgresEventRepository::new(app.pool.clone()),
    )
    .with_upcasters(domain::upcasting::upcasters("StudyVisit"));
    let loaded = store.load_aggregate(&visit).await.unwrap();
    assert_eq!(loaded.current_sequence, 2);
    assert_eq!(
        loaded.aggregate.organizer().map(|o| o.as_str()),
        Some("rops-torun")
    );
    assert_eq!(
        loaded
            .aggregate
            .terms()
            .map(|t| t.term_id.to_string())
            .collect::<Vec<_>>(),
        vec![term]
    );
}
