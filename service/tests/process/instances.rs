//! Two `serve` processes on one database share the work: commands through
//! either stay consistent, each projection, the deadline watcher and the sealer run in one
//! instance at a time, and when the instance holding them is killed (SIGKILL) the other
//! takes them over: a deadline passing after the kill closes its term exactly once, the read
//! models converge, and no acknowledged submission is lost or doubled.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use serde_json::json;

use tests::{database_url, eventually};

use crate::common::{self, coordinator_token, free_port, open_term_of, post, wait_healthy};

/// A `serve` with a small pool: two of them share one database.
fn serve(db: &str, port: u16) -> std::process::Child {
    common::serve_with(db, port, &["--max-connections", "8"])
}

/// Every lease an instance takes: one per projection, the deadline watcher, the sealer.
const LEASES: [&str; 7] = [
    "projection.study_visits",
    "projection.applications",
    "projection.programs",
    "projection.networks",
    "projection.schedule",
    "deadline-watcher",
    "sealer",
];

/// How many of the leases are held right now (by any session on this database).
async fn leases_held(pool: &sqlx::PgPool) -> i64 {
    let names: Vec<String> = LEASES.iter().map(|s| s.to_string()).collect();
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) IN
                (SELECT hashtext('koordynator.lease.' || n)::bigint FROM unnest($1::text[]) n)",
    )
    .bind(&names)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits (10 s at most) until every lease is held.
async fn eventually_leases(pool: &sqlx::PgPool, what: &str) {
    let all_held = eventually(Duration::from_secs(10), || async {
        (leases_held(pool).await == LEASES.len() as i64).then_some(())
    })
    .await;
    if all_held.is_none() {
        panic!(
            "{what}: {} of {} leases held",
            leases_held(pool).await,
            LEASES.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_the_work_and_one_takes_over_when_the_other_is_killed() {
    let _alone = common::alone().await;
    let db = database_url("kdn_instances");
    let _drop_db = tests::DropDatabase::new(&db);
    let token = coordinator_token(&db);
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // A first: it takes every lease. Then B, which must wait for them.
    let (port_a, port_b) = (free_port(), free_port());
    let (base_a, base_b) = (
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    );
    let mut a = serve(&db, port_a);
    wait_healthy(&http, &base_a).await;
    eventually_leases(&pool, "instance A took the leases").await;
    let mut b = serve(&db, port_b);
    wait_healthy(&http, &base_b).await;
    tokio::time::sleep(Duration::from_millis(1500)).await; // B tried and failed at least once
    assert_eq!(
        leases_held(&pool).await,
        LEASES.len() as i64,
        "each lease held once, not twice"
    );

    // The visit is announced through A, its term scheduled and opened through B.
    let (s, visit) = post(
        &http,
        format!("{base_a}/api/v1/study-visits"),
        Some(&token),
        &[],
        json!({
            "title": "Wizyta", "destination": "Toruń", "eligible_institution_types": ["JST", "PES"],
            "max_per_institution": null, "preferences": []
        }),
    )
    .await
    .unwrap();
    assert_eq!(s, 201, "{visit}");
    let visit = visit["id"].as_str().unwrap().to_owned();
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(7);
    let term = open_term_of(&http, &base_b, &token, &visit, 5, deadline).await;

    // 12 clients submit to the same term through both instances (the two race on one
    // aggregate: optimistic concurrency and retries keep it consistent); A dies meanwhile.
    let path = format!("/api/v1/study-visits/{visit}/terms/{term}/applications");
    let (url_a, url_b) = (format!("{base_a}{path}"), format!("{base_b}{path}"));
    let load = common::Load::start(&http, 12, move |c, _| {
        if c % 2 == 0 {
            url_a.clone()
        } else {
            url_b.clone()
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    a.kill().unwrap(); // SIGKILL: A's sessions end, PostgreSQL releases its leases
    a.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await; // B alone keeps serving
    let (acknowledged, _) = load.stop().await;
    assert!(
        acknowledged.len() >= 10,
        "the load ran: {}",
        acknowledged.len()
    );
    assert!(
        chrono::Utc::now() < deadline,
        "the deadline must pass after the kill; the load took too long"
    );

    // B takes over every lease.
    eventually_leases(&pool, "instance B took over the leases").await;

    // Every acknowledged submission is stored, once.
    let stored = common::stored_once(&pool, &acknowledged).await;

    // B's projections converge on the events, and B's watcher closes the term at its
    // deadline, which passes after A died.
    common::term_converges_and_closes_once(&pool, &term, stored.len()).await;
    let allocated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'SeatAllocated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(allocated, 5.min(stored.len() as i64));
    // Every projection's checkpoint stands at the newest event: nothing skipped.
    let behind: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM projection_checkpoints
          WHERE (last_tx_id, last_position) < (SELECT tx_id, position FROM events ORDER BY tx_id DESC, position DESC LIMIT 1)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(behind, 0, "every projection caught up");
    b.kill().unwrap();
    b.wait().unwrap();
}
