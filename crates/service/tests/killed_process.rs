//! The real binary killed with SIGKILL in the middle of a load of submissions, twice, and
//! restarted each time: every acknowledged submission is stored exactly once, the read models
//! converge on the events, and the deadline watcher closes each term exactly once.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{application, coordinator_token, database_url, nip, open_term, post, serve};

const TERMS: usize = 3;
const CLIENTS: u32 = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_submissions_loses_nothing_acknowledged() {
    let db = database_url("kdn_kill");
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
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (http, base, terms) = (http.clone(), base.clone(), terms.clone());
        let (acknowledged, attempts, stop) = (acknowledged.clone(), attempts.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let (visit, term) = &terms[(c + i) as usize % TERMS];
                let body = application(&format!("k{c}-{i}@example.org"), &nip(c * 7 + i % 7));
                attempts.fetch_add(1, Ordering::Relaxed);
                let url = format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications");
                match post(&http, url, None, &[], body).await {
                    Ok((201, v)) => {
                        let id = v["application_id"].as_str().unwrap().to_owned();
                        acknowledged.lock().unwrap().insert(id);
                    }
                    Ok((status, v)) => {
                        assert!(status < 500 || status == 503, "unexpected {status}: {v}")
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await, // down
                }
            }
        }));
    }
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1200)).await;
        child.kill().unwrap(); // SIGKILL, wherever the process was
        child.wait().unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        child = serve(&db, port);
        common::wait_healthy(&http, &base).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 30,
        "the load ran: {}",
        acknowledged.len()
    );

    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    // Every acknowledged submission is stored, once.
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT payload -> 'ApplicationSubmitted' ->> 'application_id' FROM events WHERE event_type = 'ApplicationSubmitted'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let unique: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(unique.len(), stored.len(), "no submission doubled");
    assert!(
        acknowledged.is_subset(&unique),
        "lost: {:?}",
        acknowledged.difference(&unique).collect::<Vec<_>>()
    );

    // The deadlines pass after the restarts: each term closes exactly once, and the read
    // models converge on the events (one row per submission, counters applied once).
    let mut converged = false;
    for _ in 0..300 {
        let (rows, candidates, closed): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM rm_applications), sum(candidates)::bigint, \
                    count(*) FILTER (WHERE status = 'closed') FROM rm_study_visit_terms",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if rows == stored.len() as i64 && candidates == rows && closed == TERMS as i64 {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
        attempts.load(Ordering::Relaxed),
        acknowledged.len(),
        stored.len(),
        TERMS
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
