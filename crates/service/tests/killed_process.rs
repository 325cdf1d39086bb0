//! The real binary killed with SIGKILL in the middle of a load of submissions, then restarted:
//! every acknowledged submission is stored exactly once, the read models converge on the
//! events, and the deadline watcher closes the term exactly once.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_koordynator");

fn database_url() -> String {
    let server = std::env::var("KOORDYNATOR_TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    format!("{server}/kdn_kill_{}", uuid::Uuid::new_v4().simple())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn serve(db: &str, port: u16) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--deadline-poll-secs",
            "1",
            // The load comes from one address; the public form's rate limit would refuse it.
            "--submission-rate-limit",
            "0",
        ])
        .env("DATABASE_URL", db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_healthy(http: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{base}/health")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("service did not become healthy");
}

fn nip(seed: u32) -> String {
    let mut n = seed;
    loop {
        let digits: Vec<u32> = format!("{:09}", 200_000_000 + n)
            .chars()
            .filter_map(|c| c.to_digit(10))
            .collect();
        let sum: u32 = digits
            .iter()
            .zip([6, 5, 7, 2, 3, 4, 5, 6, 7])
            .map(|(d, w)| d * w)
            .sum();
        if sum % 11 < 10 {
            return digits.iter().map(|d| d.to_string()).collect::<String>()
                + &(sum % 11).to_string();
        }
        n += 1;
    }
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> Result<(u16, Value), reqwest::Error> {
    let mut req = http.post(url).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_submissions_loses_nothing_acknowledged() {
    let db = database_url();
    let out = Command::new(BIN)
        .args([
            "token",
            "issue",
            "--role",
            "coordinator",
            "--organizer",
            "rops-torun",
        ])
        .env("DATABASE_URL", &db)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut child = serve(&db, port);
    wait_healthy(&http, &base).await;

    let (_, visit) = post(&http, format!("{base}/api/v1/study-visits"), Some(&token), json!({
        "title": "Wizyta", "destination": "Poznań", "eligible_institution_types": ["JST", "PES"],
        "max_per_institution": 2, "preferences": []
    })).await.unwrap();
    let visit = visit["id"].as_str().unwrap().to_owned();
    let deadline = chrono::Utc::now() + chrono::Duration::seconds(6);
    let (_, term) = post(
        &http,
        format!("{base}/api/v1/study-visits/{visit}/terms"),
        Some(&token),
        json!({
            "label": "I termin", "starts_on": "2030-06-27", "ends_on": "2030-06-28", "seats": 10,
            "recruitment_deadline": deadline.to_rfc3339()
        }),
    )
    .await
    .unwrap();
    let term = term["term_id"].as_str().unwrap().to_owned();
    let (s, _) = post(
        &http,
        format!("{base}/api/v1/study-visits/{visit}/terms/{term}/open"),
        Some(&token),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(s, 200);

    // 16 clients submit in a loop; the process is killed while they do.
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..16u32 {
        let (http, base, visit, term) = (http.clone(), base.clone(), visit.clone(), term.clone());
        let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let body = json!({
                    "person": {"first_name": "Jan", "last_name": "Testowy", "email": format!("k{c}-{i}@example.org")},
                    "institution": {"name": "Gmina", "type": "JST", "nip": nip(c * 7 + i % 7)},
                    "consent": true
                });
                match post(&http, format!("{base}/api/v1/study-visits/{visit}/terms/{term}/applications"), None, body).await {
                    Ok((201, v)) => {
                        acknowledged.lock().unwrap().insert(v["application_id"].as_str().unwrap().to_owned());
                    }
                    Ok((status, v)) => assert!(status < 500 || status == 503, "unexpected {status}: {v}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await, // the process is down
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 10,
        "the load ran: {}",
        acknowledged.len()
    );

    let mut child = serve(&db, port);
    wait_healthy(&http, &base).await;
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

    // The deadline passes after the restart: the term closes exactly once, and the read models
    // converge on the events (one row per submission, counters applied once).
    let mut converged = false;
    for _ in 0..200 {
        let (rows, candidates, status): (i64, i32, String) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM rm_applications), candidates, status FROM rm_study_visit_terms WHERE term_id = $1::uuid",
        )
        .bind(&term)
        .fetch_one(&pool)
        .await
        .unwrap();
        if rows == stored.len() as i64 && candidates as usize == stored.len() && status == "closed"
        {
            converged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(converged, "read models converge and the term closes");
    tokio::time::sleep(Duration::from_secs(2)).await; // a few more watcher cycles
    let closes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'RecruitmentClosed'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(closes, 1, "closed exactly once");
    let allocated: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'SeatAllocated'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(allocated, 10.min(stored.len() as i64));
    child.kill().unwrap();
    child.wait().unwrap();
}
