//! PostgreSQL stopped (as abruptly as a crash: `pg_ctl stop -m immediate`) and started again
//! while the service runs under a load of submissions. Meanwhile the service answers, and
//! answers 503 with `Retry-After` — never a hang, never a 500; it recovers by itself; every
//! submission, retried by its client with the same `Idempotency-Key` until acknowledged, is
//! stored exactly once with its personal data; the history stays intact and each term closes
//! once.
//!
//! The test runs its own PostgreSQL cluster (initdb into a temporary directory, a free port),
//! so stopping it disturbs no other test.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use std::process::Command;

use crate::common::{self, coordinator_token, open_term, serve, BIN};
use tests::{application_body, nip};

const CLIENTS: u32 = 8;
const OUTAGE: Duration = Duration::from_secs(8);

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Submission key → the application id of its 201.
    acknowledged: HashMap<String, String>,
    /// Answers by status, during the whole run.
    statuses: HashMap<u16, usize>,
    /// Answers received while the database was down: (status, seconds the request took).
    during_outage: Vec<(u16, f64)>,
    /// Keys whose command was carried out but whose answer was lost in the outage.
    answer_lost: Vec<String>,
    /// A 503 without Retry-After, if any.
    missing_retry_after: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn database_outage_answers_503_and_recovers_losing_nothing() {
    let _alone = common::alone().await;
    let cluster = Cluster::create();
    cluster.start();
    let db = cluster.url();
    let token = coordinator_token(&db);
    let port = common::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut child = serve(&db, port);
    common::wait_healthy(&http, &base).await;
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(22);
    let (visit, term) = open_term(&http, &base, &token, 10, deadline).await;
    let url = format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications");

    // Each client submits one application after another; each is retried with its own
    // Idempotency-Key until it is acknowledged, as a careful client would.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..CLIENTS {
        let (http, url) = (http.clone(), url.clone());
        let (seen, down, stop) = (seen.clone(), down.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let key = format!("c{c}-{i}");
                let body =
                    application_body(&format!("{key}@example.org"), &nip(c * 7 + i % 7), "JST");
                loop {
                    let started = Instant::now();
                    let res = http
                        .post(&url)
                        .header("idempotency-key", &key)
                        .json(&body)
                        .send()
                        .await
                        .expect("the service answers while its database is down");
                    let took = started.elapsed().as_secs_f64();
                    let status = res.status().as_u16();
                    let retry_after = res.headers().contains_key("retry-after");
                    let v: serde_json::Value = res.json().await.unwrap_or_default();
                    let done = {
                        let mut s = seen.lock().unwrap();
                        *s.statuses.entry(status).or_default() += 1;
                        if down.load(Ordering::Relaxed) {
                            s.during_outage.push((status, took));
                        }
                        if status == 503 && !retry_after {
                            s.missing_retry_after += 1;
                        }
                        match status {
                            201 => {
                                let id = v["application_id"].as_str().unwrap().to_owned();
                                s.acknowledged.insert(key.clone(), id);
                                true
                            }
                            // The database went away between the commit and its
                            // acknowledgement: carried out, and the client is told so.
                            409 if v["type"] == "/problems/idempotency_answer_lost" => {
                                s.answer_lost.push(key.clone());
                                true
                            }
                            // Down, or the first attempt with this key is still finishing.
                            503 => false,
                            409 if v["type"] == "/problems/idempotency_in_progress" => false,
                            _ => panic!("unexpected answer {status}: {v}"),
                        }
                    };
                    if done {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = seen.lock().unwrap().acknowledged.len();
    cluster.crash();
    down.store(true, Ordering::Relaxed);
    // Health says so, promptly.
    let started = Instant::now();
    let health = http.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(OUTAGE).await;
    down.store(false, Ordering::Relaxed);
    cluster.start();
    let restarted = Instant::now();
    // It recovers by itself: the next acknowledgement comes without any help.
    let mut recovered = None;
    while restarted.elapsed() < Duration::from_secs(20) {
        let acks = seen.lock().unwrap().acknowledged.len();
        if acks > before + CLIENTS as usize {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovered = recovered.expect("submissions are acknowledged again after the restart");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();

    // While down: answered, with 503 (or a replay/409 of a key), never 5xx otherwise, fast.
    assert!(
        seen.during_outage.iter().any(|(s, _)| *s == 503),
        "503 while down: {:?}",
        seen.statuses
    );
    assert!(
        seen.statuses.keys().all(|s| *s < 500 || *s == 503),
        "no 500: {:?}",
        seen.statuses
    );
    assert_eq!(seen.missing_retry_after, 0, "every 503 says when to retry");
    let slowest = seen
        .during_outage
        .iter()
        .map(|(_, t)| *t)
        .fold(0.0, f64::max);
    assert!(
        slowest < 8.0,
        "no hang: slowest answer while down {slowest:.1} s: {:?}",
        seen.during_outage
    );

    // Nothing acknowledged is lost, nothing is doubled, nothing is half-written.
    let pool = sqlx::PgPool::connect(&db).await.unwrap();
    let acknowledged: HashSet<String> = seen.acknowledged.values().cloned().collect();
    assert_eq!(
        acknowledged.len(),
        seen.acknowledged.len(),
        "one application per key"
    );
    let stored = common::stored_once(&pool, &acknowledged).await;
    assert_eq!(
        stored.len(),
        acknowledged.len() + seen.answer_lost.len(),
        "every stored application was acknowledged, or its client told it was carried out"
    );
    let without_personal_data: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events e WHERE event_type = 'ApplicationSubmitted' AND NOT EXISTS \
         (SELECT 1 FROM personal_data p WHERE p.application_id::text = e.payload -> 'ApplicationSubmitted' ->> 'application_id')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let personal_without_event: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM personal_data p WHERE NOT EXISTS (SELECT 1 FROM events e \
         WHERE e.event_type = 'ApplicationSubmitted' AND e.payload -> 'ApplicationSubmitted' ->> 'application_id' = p.application_id::text)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (without_personal_data, personal_without_event),
        (0, 0),
        "no half-written submission"
    );

    // The term closes once after the deadline, the read models converge, the history is intact.
    common::term_converges_and_closes_once(&pool, &term, stored.len()).await;
    common::audit_verifies(&db);
    println!(
        "database down {:.0} s under load: answers {:?}; {} answers while down, slowest {slowest:.2} s; \
         first acknowledgement {:.2} s after the restart; {} submissions acknowledged and stored once \
         ({} more carried out with the answer lost), 0 lost",
        OUTAGE.as_secs_f64(),
        seen.statuses,
        seen.during_outage.len(),
        recovered.as_secs_f64(),
        acknowledged.len(),
        seen.answer_lost.len()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    pool.close().await;
}

/// Nothing listening where `DATABASE_URL` points (a port nobody serves, a socket directory
/// without a server): every command that needs the database says so in one sentence that
/// names the address and what to do, instead of the driver's error chain three times over.
#[test]
fn an_unreachable_database_is_one_plain_sentence() {
    let port = common::free_port();
    for (url, place) in [
        (
            format!("postgres://127.0.0.1:{port}/koordynator"),
            format!("127.0.0.1:{port}"),
        ),
        (
            "postgres:///koordynator?host=/nonexistent-koordynator".to_owned(),
            "/nonexistent-koordynator".to_owned(),
        ),
    ] {
        for command in [&["migrate"][..], &["demo"], &["audit", "verify"]] {
            let out = Command::new(BIN)
                .args(command)
                .env("DATABASE_URL", &url)
                .env_remove("RUST_LOG")
                .output()
                .unwrap();
            assert!(!out.status.success(), "{command:?} {out:?}");
            let stderr = String::from_utf8(out.stderr).unwrap();
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            assert_eq!(lines.len(), 1, "{command:?}: {stderr}");
            assert!(
                lines[0].contains("PostgreSQL does not answer at") && lines[0].contains(&place),
                "{command:?}: {stderr}"
            );
            assert!(lines[0].contains("DATABASE_URL"), "{stderr}");
            assert!(!stderr.contains("os error"), "{command:?}: {stderr}");
        }
    }
}
