//! Events committed while the projections were not running (stopped mid-way, as by a crash)
//! reach the read models exactly once after a restart.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use infra::CommandContext;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_models_catch_up_exactly_once_after_the_projections_were_stopped() {
    let mut app = tests::spawn().await;
    let (visit, term) = app.open_recruitment(Some(2), 10).await;
    for i in 0..5 {
        assert_eq!(
            app.apply(
                &visit,
                &term,
                &format!("przed{i}@example.org"),
                &tests::nip(i),
                "PES"
            )
            .await
            .status,
            201
        );
    }
    let database_url = app.database_url.clone();
    // The "crash": HTTP server, projections and watcher stop at once, wherever they were.
    app.running.abort();
    // The database outlives this app: the test restarts on it.
    let _database = app.owned_database.take();
    drop(app);

    // Meanwhile commands keep committing (another instance, or commits whose projection never ran).
    let pool = infra::connect(&database_url, 5).await.unwrap();
    let bus = tests::study_visit_bus(pool.clone());
    let term_id = Uuid::parse_str(&term).unwrap();
    let ctx = CommandContext {
        actor: "test".into(),
        organizer_scope: None,
        correlation_id: "crash-test".into(),
        causation_id: "crash-test".into(),
        command: "SubmitApplication".into(),
        idempotency_key: None,
    };
    for i in 5..30u32 {
        let cmd = tests::submission(Uuid::now_v7(), term_id, i);
        bus.execute(&visit, cmd, &ctx).await.unwrap();
    }

    // Restart on the same database: the read models catch up, each event applied once.
    let app = tests::spawn_with(tests::Options {
        database_url: Some(database_url),
        ..Default::default()
    })
    .await;
    let caught_up = tests::eventually(Duration::from_secs(10), || async {
        // The term's row may not be projected yet right after the restart: keep polling.
        let row: Option<(i32,)> =
            sqlx::query_as("SELECT candidates FROM rm_study_visit_terms WHERE term_id = $1")
                .bind(term_id)
                .fetch_optional(&app.pool)
                .await
                .unwrap();
        let (candidates,) = row?;
        (candidates >= 30).then_some(candidates)
    })
    .await;
    // `candidates` is incremented once per ApplicationSubmitted: a doubled event would show as 31+.
    assert_eq!(caught_up, Some(30));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM rm_applications")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'ApplicationSubmitted'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let candidates: i32 =
        sqlx::query_scalar("SELECT candidates FROM rm_study_visit_terms WHERE term_id = $1")
            .bind(term_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((rows, events, candidates), (30, 30, 30));
}
