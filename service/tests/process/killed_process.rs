//! The real binary killed with SIGKILL in the middle of a load of submissions, twice, and
//! restarted each time: every acknowledged submission is stored exactly once, the read models
//! converge on the events, and the deadline watcher closes each term exactly once.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use tests::{database_url, eventually};

use crate::common::{self, coordinator_token, open_term, serve};

const TERMS: usize = 3;
const CLIENTS: u32 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_submissions_loses_nothing_acknowledged() {
    let _alone = common::alone().await;
    let db = database_url("kdn_kill");
    let _drop_db = tests::DropDatabase::new(&db);
    let token = coordinator_token(&db);
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut child = serve(&db, port);
    common::wait_healthy(&http, &base).await;

    // Three terms (of three visits) whose deadlines pass after the second restart.
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(9);
    let mut terms = Vec::new();
    for _ in 0..TERMS {
        terms.push(open_term(&http, &base, &token, 10, deadline).await);
    }

    // 16 clients submit in a loop, round the terms; the process is killed twice meanwhile.
    let urls: Vec<String> = terms
        .iter()
        .map(|(visit, term)| {
            format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications")
        })
        .collect();
    let load = common::Load::start(&http, CLIENTS, move |c, i| {
        urls[(c + i) as usize % TERMS].clone()
    });
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        child.kill().unwrap(); // SIGKILL, wherever the process was
        child.wait().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        child = serve(&db, port);
        common::wait_healthy(&http, &base).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (acknowledged, attempts) = load.stop().await;
    assert!(
        acknowledged.len() >= 30,
        "the load ran: {}",
        acknowledged.len()
    );

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    // Every acknowledged submission is stored, once.
    let stored = common::stored_once(&pool, &acknowledged).await;

    // The deadlines pass after the restarts: each term closes exactly once, and the read
    // models converge on the events (one row per submission, counters applied once).
    let converged = eventually(Duration::from_secs(30), || async {
        let (rows, candidates, closed): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM rm_applications), sum(candidates)::bigint, \
                    count(*) FILTER (WHERE status = 'closed') FROM rm_study_visit_terms",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        (rows == stored.len() as i64 && candidates == rows && closed == TERMS as i64).then_some(())
    })
    .await
    .is_some();
    assert!(converged, "read models converge and every term closes");
    tokio::time::sleep(Duration::from_secs(2)).await; // a few more watcher cycles
    let closes: Vec<(String, i64)> = sqlx::query_as(
        "SELECT aggregate_id, count(*) FROM events WHERE event_type = 'RecruitmentClosed' GROUP BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(closes.len(), TERMS, "every term closed: {closes:?}");
    assert!(closes.iter().all(|(_, n)| *n == 1), "each once: {closes:?}");
    let allocated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'SeatAllocated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let mut expected = 0;
    for (visit, _) in &terms {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events WHERE aggregate_id = $1 AND event_type = 'ApplicationSubmitted'",
        )
        .bind(visit)
        .fetch_one(&pool)
        .await
        .unwrap();
        expected += n.min(10);
    }
    assert_eq!(allocated, expected, "seats allocated once per term");
    println!(
        "killed twice under load: {} requests sent, {} acknowledged, {} stored, 0 lost, 0 doubled; {} terms closed once each",
        attempts,
        acknowledged.len(),
        stored.len(),
        TERMS
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
