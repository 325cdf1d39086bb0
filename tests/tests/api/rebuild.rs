//! A read model rebuilt from zero equals the one built incrementally.
#![allow(clippy::unwrap_used)]

#[tokio::test]
async fn rebuilding_every_read_model_gives_the_same_rosters() {
    let mut app = tests::spawn().await;
    let (visit, term) = app.open_recruitment(Some(1), 3).await;
    let mut last = 0;
    for i in 0..6u32 {
        last = app
            .apply(
                &visit,
                &term,
                &format!("r{i}@example.org"),
                &tests::nip(i % 3),
                "OWES",
            )
            .await
            .position();
    }
    let close = app.close(&visit, &term).await;
    last = last.max(close.position());
    let before = app.roster(&visit, &term, last).await.body;
    let detail_before = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position={last}"),
            &app.coordinator,
        )
        .await
        .body;

    // Rebuild while the service is down (as `koordynator projections rebuild` would), then restart.
    let (database_url, pool) = (app.database_url.clone(), app.pool.clone());
    app.running.abort();
    // The database outlives this app: the test restarts on it.
    let _database = app.owned_database.take();
    drop(app);
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    for p in projections::all() {
        let applied = projections::runner::rebuild(&pool, p.as_ref())
            .await
            .unwrap();
        assert_eq!(applied as i64, events, "{} replays every event", p.name());
    }
    let app = tests::spawn_with(tests::Options {
        database_url: Some(database_url),
        ..Default::default()
    })
    .await;
    let after = app.roster(&visit, &term, last).await.body;
    let detail_after = app
        .get(
            &format!("/api/v1/study-visits/{visit}?min_position={last}"),
            &app.coordinator,
        )
        .await
        .body;
    for list in ["allocated", "waitlist", "passed_over"] {
        assert_eq!(before[list], after[list], "{list}");
    }
    assert_eq!(before["allocated"].as_array().unwrap().len(), 3);
    assert_eq!(detail_before["terms"], detail_after["terms"]);
}
